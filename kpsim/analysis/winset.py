"""The win-set before any simulation: which texts in the chair's mandate each rule passes against the status quo.

The static model (Tsebelis): noise 0, the positions as tabled, nothing moves
(no influence, lobbying, acquiescence, exit, events or position noise); the
members are those of the first meeting. A text passes when the rule passes
the stance profile every actor takes on it by its own stance rule (salience,
reluctance, red line). The stances change only where a text crosses an
actor's indifference points, so the texts tried are those points (and their
neighbours) plus a fine grid: the answer is exact, not a grid search.

A rule whose win-set is empty cannot adopt the text by bargaining alone:
whatever it adopts in a simulation comes from the dynamics (noise, moving
positions, acquiescence). That is the line between a *structural* result
and a *dynamic* one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kpsim.errors import InputError
from kpsim.model.actors import objection_cut
from kpsim.model.plenary import PlenaryModel
from kpsim.rules import ABSTAIN, OBJECT, SUPPORT
from kpsim.scenario.schema import Scenario

GRID = 2001  # evenly spaced texts across the mandate, besides every indifference point
ASSUMPTIONS = (
    "static model: noise 0, positions as tabled, no influence, lobbying, acquiescence, exit, events or position noise; "
    "members of the first meeting"
)


@dataclass
class WinSet:
    """One rule's win-set within the mandate."""

    rule: str
    passable: bool
    best_text: float | None  # the passing text closest to the proposal
    texts: np.ndarray = field(repr=False)  # every text tried, ascending
    passes: np.ndarray = field(repr=False)  # does the rule pass each text?
    veto_players: list[str]  # voters whose objection alone sinks any text
    pivotal: list[str]  # at the best text (or, where nothing passes, at the most acceptable one): whose stance alone decides it
    evaluated_text: float

    def record(self) -> dict:
        return {
            "rule": self.rule,
            "passable": self.passable,
            "best_text": None if self.best_text is None else round(self.best_text, 6),
            "veto_players": self.veto_players,
            "pivotal": self.pivotal,
        }


def static_scenario(scenario: Scenario) -> Scenario:
    """The scenario with nothing moving: the model the win-set describes (noise 0; no influence, lobbying, acquiescence, events, exits)."""
    if scenario.dynamics.mode != "agents":
        raise InputError(f"{scenario.name}: the win-set needs actors' positions (dynamics mode 'agents'), not the null model")
    dyn = scenario.dynamics.model_copy(
        update={"noise": 0.0, "influence": False, "lobbying": 0.0, "acquiescence_isolation": 0.0, "acquiescence_time": 0.0, "position_noise": 0.0}
    )
    actors = [a.model_copy(update={"patience": None}) if a.patience is not None else a for a in scenario.actors]
    return scenario.model_copy(update={"dynamics": dyn, "events": [], "actors": actors})


def _texts(m: PlenaryModel) -> np.ndarray:
    """A fine grid over the mandate plus every text where some actor's stance changes, and its two neighbours."""
    lo, hi = m.text_bounds
    x = m.positions[0]
    sq, s = m.status_quo, np.maximum(m.salience, 1e-12)
    gap = np.abs(sq - x)
    points = [np.linspace(lo, hi, GRID)]
    for cut in (m.dynamics.reluctance / s, objection_cut(m) / s):  # gain = |sq − x| − |t − x| crosses cut
        reach = gap - cut
        ok = reach >= 0
        points += [(x - reach)[ok], (x + reach)[ok]]
    if m.red_line is not None:
        points.append(m.red_values)
    t = np.concatenate(points)
    eps = 1e-9 * max(hi - lo, 1.0)
    t = np.concatenate([t - eps, t, t + eps])
    return np.unique(np.clip(t, lo, hi))


def win_set(scenario: Scenario, rule: str, texts: np.ndarray | None = None) -> WinSet:
    """The win-set of `rule` (a rule name in the scenario) in the static model; `texts` replaces the texts tried."""
    m = PlenaryModel(static_scenario(scenario), rule, 1, record=False)
    members = m.members_now()
    texts = _texts(m) if texts is None else np.sort(np.asarray(texts, dtype=float))
    stances = m.stances_for(m.positions, texts[:, None])
    passes = m.decide(stances, members)
    target = scenario.proposal.position
    passable = bool(passes.any())
    if passable:
        k = int(np.flatnonzero(passes)[np.argmin(np.abs(texts[passes] - target))])
    else:  # the most acceptable text: fewest objectors, then the most watered down (the chair's last resort)
        objecting = (stances == OBJECT) & _voting(m, members)
        k = int(np.lexsort((np.abs(texts - scenario.proposal.status_quo), objecting.sum(axis=1)))[0])
    return WinSet(
        rule=m.rule.label,
        passable=passable,
        best_text=float(texts[k]) if passable else None,
        texts=texts,
        passes=passes,
        veto_players=_veto_players(m, members),
        pivotal=_pivotal(m, stances[k], members, passable),
        evaluated_text=float(texts[k]),
    )


def win_sets(scenario: Scenario, rules: list[str] | None = None) -> list[WinSet]:
    return [win_set(scenario, r) for r in (rules or [r.label for r in scenario.rules])]


def _voting(m: PlenaryModel, members) -> np.ndarray:
    """Which actors' stances the rule counts (its voter kinds, members only)."""
    kinds = m.rule.voter_kinds()
    voting = np.array([k in kinds for k in m.kinds])
    return voting if members is None else voting & members


def _veto_players(m: PlenaryModel, members) -> list[str]:
    """Voters whose objection sinks a text every other actor supports."""
    voters = np.flatnonzero(_voting(m, members))
    profiles = np.full((len(voters), len(m.kinds)), SUPPORT, dtype=np.int8)
    profiles[np.arange(len(voters)), voters] = OBJECT
    fails = ~m.decide(profiles, members)
    return [m.actor_ids[j] for j in voters[fails]]


def _pivotal(m: PlenaryModel, profile: np.ndarray, members, passable: bool) -> list[str]:
    """Whose one change of stance flips the decision: a non-objector whose objection sinks a passing text,
    or an objector whose abstention passes a failing one."""
    voters = np.flatnonzero(_voting(m, members) & ((profile != OBJECT) if passable else (profile == OBJECT)))
    trial = np.repeat(profile[None, :], len(voters), axis=0)
    trial[np.arange(len(voters)), voters] = OBJECT if passable else ABSTAIN
    flips = m.decide(trial, members) != passable
    return [m.actor_ids[j] for j in voters[flips]]


def format_win_sets(scenario: Scenario, sets: list[WinSet]) -> str:
    """The console table: per rule, whether any text passes, the best one, veto players, pivotal actors."""
    prop = scenario.proposal
    lo, hi = sorted((prop.floor, prop.position))
    lines = [
        f"{scenario.name}: win-set of each rule within the mandate [{lo:g}, {hi:g}] against the status quo {prop.status_quo:g}",
        f"({ASSUMPTIONS})",
        "",
    ]
    width = max(len(w.rule) for w in sets)
    for w in sets:
        verdict = f"a text passes; the best for the proposer: {w.best_text:.3g}" if w.passable else "empty: no text in the mandate passes"
        lines.append(f"  {w.rule:<{width}}  {verdict}")
        lines.append(f"  {'':<{width}}  veto players: {_names(w.veto_players)}")
        at = f"at {w.evaluated_text:.3g}" + ("" if w.passable else " (the most acceptable text)")
        lines.append(f"  {'':<{width}}  pivotal {at}: {_names(w.pivotal)}")
    return "\n".join(lines)


def _names(ids: list[str], most: int = 12) -> str:
    if not ids:
        return "none"
    shown = ", ".join(ids[:most])
    return shown + (f" and {len(ids) - most} more ({len(ids)} in all)" if len(ids) > most else "")


STRUCTURAL_SHARE = 0.01  # adopted in under 1% (or over 99%) of replications: the win-set's verdict, not the dynamics'


def decided_by(passable: bool, adopted: float, median_meetings: float) -> str:
    """'structural' when the simulated result is the win-set's verdict (nothing passes and nothing is adopted, or a
    text passes and is adopted at once); 'dynamic' when noise, moving positions or time make the difference."""
    if not passable and adopted < STRUCTURAL_SHARE:
        return "structural"
    if passable and adopted > 1 - STRUCTURAL_SHARE and median_meetings <= 1:
        return "structural"
    return "dynamic"


def label_summary(summary, scenario: Scenario):
    """The summary with `win_set` (passable | empty) and `decided_by` (structural | dynamic) per rule; unchanged for the null model."""
    if scenario.dynamics.mode != "agents":
        return summary
    sets = {w.rule: w for w in win_sets(scenario, list(summary["rule"]))}
    passable = [sets[r].passable for r in summary["rule"]]
    return summary.assign(
        win_set=["passable" if p else "empty" for p in passable],
        decided_by=[decided_by(p, a, m) for p, a, m in zip(passable, summary["adopted"], summary["median_meetings"])],
    )
