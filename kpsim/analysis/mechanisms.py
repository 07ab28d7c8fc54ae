"""What each mechanism does at a scenario's own dynamics: every rule run again with one mechanism switched off.

A mechanism that the fitted parameters switch off is a defect that no rule
table shows, so this module measures each one where it matters: at the
scenario's own settings. For each mechanism in MECHANISMS (influence,
lobbying, chair amendment, acquiescence, exit) every rule is run with that
mechanism alone switched off, on the same random draws as the baseline
(replication i draws from the stream keyed by (seed, i), so run i with the
mechanism and run i without it are a pair), and reported as off minus on:

- the change in the share adopted: the mean over replications of
  adopted_off − adopted_on, with a normal 95% interval from the standard error
  of those paired differences (0 wide when the two runs are identical);
- the change in the Kaplan–Meier median deadlock, median_off − median_on,
  with the interval [lo_off − hi_on, hi_off − lo_on] built from the two
  medians' own 95% intervals. That interval is conservative: it ignores the
  pairing (which makes the two medians move together) and adds the two
  uncertainties at their extremes, so it is wider than a 95% interval of the
  difference. It is null (NaN) where either median is not reached; a limit
  is NaN where the upper limit of a median is not reached (unbounded there).

A mechanism that cannot act in the scenario (a zero setting, nobody for it to
act on, or the null model) is not run: its row says `active` False and its
changes are 0 by construction, and `why_off` says why.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.analysis.summary import PCT, Z, summarise
from kpsim.fields import PARTICIPANT
from kpsim.run.pool import default_jobs, process_pool
from kpsim.run.runner import batch_size, run
from kpsim.scenario.load import load_scenario
from kpsim.scenario.schema import Scenario

__all__ = [
    "ADOPTED_EFFECT",
    "COLUMNS",
    "MECHANISMS",
    "MEDIAN_EFFECT",
    "Mechanism",
    "format_mechanisms",
    "mechanism_effects",
    "mechanism_records",
    "switched_off_in_effect",
]

ADOPTED_EFFECT = 0.05  # a change in the share adopted of at least 5 points is an effect
MEDIAN_EFFECT = 2.0  # and so is a change in a median deadlock of at least 2 meetings

COLUMNS = [
    "mechanism", "rule", "active",
    "adopted_on", "adopted_off", "adopted_change", "adopted_change_lo", "adopted_change_hi",
    "median_on", "median_off", "median_change", "median_change_lo", "median_change_hi",
]


# ------------------------------------------------------------------ the mechanisms


@dataclass(frozen=True)
class Mechanism:
    """One mechanism: how to switch it off in a scenario, and whether it can act there at all.

    `off(scenario)` is the scenario with this mechanism alone switched off;
    `why_off(scenario)` is None where it can act, else the reason it cannot
    (then switching it off changes nothing by construction): the null model
    has none of the agent mechanisms, and `check` says the rest.
    """

    name: str
    does: str  # what it does, in a few words
    off: Callable[[Scenario], Scenario]
    check: Callable[[Scenario], str | None]
    agents_only: bool = True  # a mechanism of the agent-based dynamics (exit also acts in the null model)

    @property
    def label(self) -> str:  # as the terminal prints it
        return self.name.replace("_", " ")

    def why_off(self, scenario: Scenario) -> str | None:
        if self.agents_only and scenario.dynamics.mode == "null":
            return "dynamics.mode = null: the null model has none"
        return self.check(scenario)

    def is_on(self, scenario: Scenario) -> bool:
        return self.why_off(scenario) is None


def _dynamics(scenario: Scenario, **values) -> Scenario:
    return scenario.model_copy(update={"dynamics": scenario.dynamics.model_copy(update=values)})


def _participants(scenario: Scenario):
    return [a for a in scenario.actors if a.kind == PARTICIPANT]


def _lobbying_off(scenario: Scenario) -> str | None:
    if scenario.dynamics.lobbying == 0:
        return "dynamics.lobbying = 0"
    if not any(a.lobbying > 0 for a in scenario.actors if a.kind != PARTICIPANT):
        return "no observer lobbies: every observer's lobbying is 0"
    if not any(a.stubbornness < 1 for a in _participants(scenario)):
        return "every participant has stubbornness 1: nobody can be moved"
    return None


def _influence_off(scenario: Scenario) -> str | None:
    """Friedkin–Johnsen influence moves a participant toward its bloc and anchors it to its initial view; without
    a bloc of two or more open participants and without lobbying, every position stays where it started."""
    if not scenario.dynamics.influence:
        return "dynamics.influence = false"
    blocs: dict[str, list] = {}
    for a in _participants(scenario):
        if a.bloc is not None:
            blocs.setdefault(a.bloc, []).append(a)
    open_bloc = any(len(m) > 1 and any(a.stubbornness < 1 for a in m) for m in blocs.values())
    if not open_bloc and _lobbying_off(scenario) is not None:
        return "no bloc of two or more participants that can move, and no lobbying to anchor against"
    return None


def _amendment_off(scenario: Scenario) -> str | None:
    prop = scenario.proposal
    if prop.floor == prop.position:
        return "the chair has no mandate to amend: proposal.reservation is not set, so the text stays as tabled"
    setter = scenario.chair is not None and scenario.chair.strategy == "setter"
    if scenario.dynamics.amendment_step == 0 and not setter:
        return "dynamics.amendment_step = 0 and no setter chair"
    return None


def _acquiescence_off(scenario: Scenario) -> str | None:
    dyn = scenario.dynamics
    if dyn.acquiescence_isolation == 0 and dyn.acquiescence_time == 0:
        return "dynamics.acquiescence_isolation = 0 and acquiescence_time = 0"
    return None


def _exit_off(scenario: Scenario) -> str | None:
    # an observer leaves after `patience` failed meetings: only a patience below the horizon leaves a meeting without it
    horizon = scenario.calendar.horizon
    patient = [a.patience for a in scenario.actors if a.patience is not None]
    if not patient:
        return "no observer has a patience"
    if min(patient) >= horizon:
        return f"every observer's patience is at least the horizon, {horizon} meetings: nobody leaves before the end"
    return None


MECHANISMS: dict[str, Mechanism] = {
    m.name: m
    for m in (
        Mechanism(
            "influence", "participants move toward their bloc",
            lambda sc: _dynamics(sc, influence=False), _influence_off,
        ),
        Mechanism(
            "lobbying", "observers pull participants toward them",
            lambda sc: _dynamics(sc, lobbying=0.0), _lobbying_off,
        ),
        Mechanism(
            "chair_amendment", "the chair redrafts the text",
            lambda sc: _dynamics(sc, amendment_step=0.0).model_copy(update={"chair": None}), _amendment_off,
        ),
        Mechanism(
            "acquiescence", "holdouts give way when isolated or with time",
            lambda sc: _dynamics(sc, acquiescence_isolation=0.0, acquiescence_time=0.0), _acquiescence_off,
        ),
        Mechanism(
            "exit", "observers walk out after their patience",
            lambda sc: sc.model_copy(update={"actors": [a.model_copy(update={"patience": None}) for a in sc.actors]}),
            _exit_off,
            agents_only=False,
        ),
    )
}


# ------------------------------------------------------------------ the runs


def mechanism_effects(
    scenario: Scenario | str | Path,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    *,
    mechanisms: list[str] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """One row per mechanism and rule: adopted share and median deadlock with it on and off, and the change (off − on).

    Runs `reps` replications (default: the scenario's) of every rule on `seed`
    (default: the scenario's), once as the scenario is and once per active
    mechanism switched off, all on the same draws. Results do not depend on
    `jobs` (default: every core). `mechanisms` picks names of MECHANISMS
    (default: all). Columns: COLUMNS, plus `why_off` (None where active).
    `table.attrs` holds the scenario's name, replications, seed, horizon and mode.
    `scenario` is a Scenario or a scenario file.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    update = {k: v for k, v in {"seed": seed, "replications": reps}.items() if v is not None}
    scenario = scenario.model_copy(update=update)
    names = list(mechanisms) if mechanisms is not None else list(MECHANISMS)
    unknown = [n for n in names if n not in MECHANISMS]
    if unknown:
        raise ValueError(f"unknown mechanisms {unknown}; known: {', '.join(MECHANISMS)}")
    rules = [r.label for r in scenario.rules]
    why = {n: MECHANISMS[n].why_off(scenario) for n in names}
    active = [n for n in names if why[n] is None]
    jobs = jobs or default_jobs()
    n = scenario.replications
    tasks = len(rules) * -(-n // batch_size(n, jobs))
    pool = process_pool(jobs) if jobs > 1 and tasks > 1 else None

    def runs_of(sc: Scenario, label: str) -> pd.DataFrame:
        if progress:
            print(f"  {label} …", file=sys.stderr, flush=True)
        return run(sc, rules, jobs=jobs, executor=pool, progress=progress, start_here=True)[0]

    try:
        base = runs_of(scenario, "as the scenario is")
        off = {m: runs_of(MECHANISMS[m].off(scenario), f"{MECHANISMS[m].label} switched off") for m in active}
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    cal = scenario.calendar
    base_summary = summarise(base, cal.horizon, cal.meetings_per_year).set_index("rule")
    rows = []
    for m in names:
        runs_off = off.get(m, base)
        summary_off = base_summary if m not in off else summarise(runs_off, cal.horizon, cal.meetings_per_year).set_index("rule")
        for rule in rules:
            row = {"mechanism": m, "rule": rule, "active": why[m] is None}
            row |= _adopted_change(base[base["rule"] == rule], runs_off[runs_off["rule"] == rule])
            row |= _median_change(base_summary.loc[rule], summary_off.loc[rule])
            if m not in off:  # not run: the same runs on both sides, so the change is exactly 0 (or not reached)
                row["median_change_lo"] = row["median_change_hi"] = row["median_change"]
            row["why_off"] = why[m]
            rows.append(row)
    table = pd.DataFrame(rows, columns=[*COLUMNS, "why_off"])
    table.attrs.update(
        scenario=scenario.name, replications=n, seed=scenario.seed, horizon=cal.horizon, mode=scenario.dynamics.mode,
    )
    return table


def _adopted_change(on: pd.DataFrame, off: pd.DataFrame) -> dict:
    """The paired change in the share adopted: mean of adopted_off − adopted_on by replication, normal 95% interval."""
    pair = on[["replication", "adopted"]].merge(off[["replication", "adopted"]], on="replication", suffixes=("_on", "_off"))
    if len(pair) != len(on):
        raise ValueError("the runs with and without the mechanism do not pair up by replication")
    a_on = pair["adopted_on"].to_numpy(dtype=float)
    a_off = pair["adopted_off"].to_numpy(dtype=float)
    diff = a_off - a_on
    change = float(diff.mean())
    half = Z * float(diff.std(ddof=1)) / math.sqrt(len(diff)) if len(diff) > 1 else math.nan
    return {
        "adopted_on": float(a_on.mean()), "adopted_off": float(a_off.mean()),
        "adopted_change": change, "adopted_change_lo": change - half, "adopted_change_hi": change + half,
    }


def _median_change(on: pd.Series, off: pd.Series) -> dict:
    """median_off − median_on, with the conservative interval [lo_off − hi_on, hi_off − lo_on]; NaN where not reached."""
    m_on, m_off = on["median_meetings"], off["median_meetings"]
    out = {"median_on": m_on, "median_off": m_off}
    if math.isnan(m_on) or math.isnan(m_off):
        return out | {"median_change": math.nan, "median_change_lo": math.nan, "median_change_hi": math.nan}
    return out | {
        "median_change": m_off - m_on,
        "median_change_lo": off["median_lo"] - on["median_hi"],  # NaN when the upper limit with it on is not reached
        "median_change_hi": off["median_hi"] - on["median_lo"],  # NaN when the upper limit with it off is not reached
    }


# ------------------------------------------------------------------ reading the table


def _median_moves(row, horizon: int | None) -> bool:
    on, off = row.median_on, row.median_off
    if math.isnan(on) and math.isnan(off):
        return False
    if math.isnan(on) or math.isnan(off):
        # one median beyond the horizon, the other at m: the change is at least horizon + 1 − m
        reached = off if math.isnan(on) else on
        return horizon is None or horizon + 1 - reached >= MEDIAN_EFFECT
    return abs(off - on) >= MEDIAN_EFFECT


def switched_off_in_effect(table: pd.DataFrame) -> list[str]:
    """The mechanisms that move no rule's adopted share by ≥ 5 points (ADOPTED_EFFECT) nor any median by ≥ 2 meetings
    (MEDIAN_EFFECT), in the table's order; those off in the scenario are among them.

    A median reached on one side and not on the other moves by at least horizon + 1 − the one reached.
    """
    horizon = table.attrs.get("horizon")
    out = []
    for m, g in table.groupby("mechanism", sort=False):
        moves = any(
            abs(r.adopted_change) >= ADOPTED_EFFECT - 1e-12 or _median_moves(r, horizon) for r in g.itertuples(index=False)
        )
        if not moves:
            out.append(m)
    return out


def _none(x):
    if isinstance(x, (float, np.floating)) and math.isnan(x):
        return None
    return x.item() if isinstance(x, np.generic) else x


def mechanism_records(table: pd.DataFrame) -> list[dict]:
    """The table as plain dicts for JSON: NaN (a median not reached, an unbounded limit) as None."""
    return [{k: _none(v) for k, v in row.items()} for row in table.to_dict(orient="records")]


# ------------------------------------------------------------------ the terminal


def _signed(x: float, fmt: str) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "?"
    text = fmt.format(abs(x)).removesuffix(".0")
    if text.strip("0.") == "":
        return "0"
    return ("−" if x < 0 else "+") + text


def _points(x: float) -> str:
    """Whole points, but one decimal below 1 point, so that 0.4 points is not printed as 0."""
    return _signed(100 * x, "{:.0f}" if abs(100 * x) >= 0.95 else "{:.1f}")


def _limit(x: float, side: str) -> str:
    """A median change's limit; NaN is an upper limit of a median not reached, so unbounded on that side."""
    if math.isnan(x):
        return "−∞" if side == "lo" else "+∞"
    return _signed(x, "{:g}")


def _median_text(x: float) -> str:
    return "not reached" if math.isnan(x) else f"{x:g}"


def _meetings(x: float) -> str:
    return " meeting" if x == 1 else " meetings"


def _line(r, width: int) -> str:
    adopted = f"adopted {PCT.format(r.adopted_on)} → {PCT.format(r.adopted_off)}"
    if r.active:
        lo, hi = r.adopted_change_lo, r.adopted_change_hi
        ci = "" if math.isnan(lo) else f" [{_points(lo)}, {_points(hi)}]"
        adopted += f" ({_points(r.adopted_change)} points{ci})"
    if math.isnan(r.median_on) and math.isnan(r.median_off):
        median = "median not reached either way"
    elif math.isnan(r.median_change):
        median = f"median {_median_text(r.median_on)} → {_median_text(r.median_off)}"
        median += "" if math.isnan(r.median_off) else _meetings(r.median_off)
    else:
        median = f"median {r.median_on:g} → {r.median_off:g}{_meetings(r.median_off)}"
        if r.active:
            median += f" ({_signed(r.median_change, '{:g}')} [{_limit(r.median_change_lo, 'lo')}, {_limit(r.median_change_hi, 'hi')}])"
    return f"  {r.rule:<{width}}  {adopted}; {median}"


def format_mechanisms(table: pd.DataFrame) -> str:
    """Per mechanism a block, one line per rule (off in the scenario: one line saying so); then the closing line
    naming every mechanism switched off in effect."""
    attrs = table.attrs
    lines = []
    if attrs:
        lines.append(
            f"{attrs['scenario']}: each mechanism switched off alone, {attrs['replications']:,} replications per rule "
            f"on the same draws (seed {attrs['seed']}); changes are off − on, 95% Monte-Carlo intervals in brackets, at the scenario's "
            "own dynamics and nominal codings (not the range across posterior/coding draws that `kpsim compare --uncertainty full` gives)"
        )
    if not table["active"].any() and attrs.get("mode") == "null":
        lines.append("null model (dynamics.mode: null): no mechanism applies — nothing moves, so nothing can be switched off")
        return "\n".join(lines)
    width = max(len(str(r)) for r in table["rule"])
    for m, g in table.groupby("mechanism", sort=False):
        mech = MECHANISMS.get(m)
        label = mech.label if mech else m
        first = g.iloc[0]
        if not first["active"]:
            lines.append(f"{label}: off in this scenario ({first['why_off']}) — nothing to switch off; changes 0 by construction")
            continue
        lines.append(f"{label} ({mech.does if mech else 'switched off'}):")
        lines += [_line(r, width) for r in g.itertuples(index=False)]
    lines.append("median intervals are conservative: [low off − high on, high off − low on] from each median's own 95% interval")
    idle = switched_off_in_effect(table)
    inactive = set(table.loc[~table["active"], "mechanism"])
    points, meetings = f"{100 * ADOPTED_EFFECT:g} points", f"{MEDIAN_EFFECT:g} meetings"
    if idle:
        names = ", ".join(
            (MECHANISMS[m].label if m in MECHANISMS else m) + (" (off in this scenario)" if m in inactive else "") for m in idle
        )
        lines.append(f"switched off in effect: {names} — no rule's adopted share moves by ≥ {points} nor any median by ≥ {meetings}")
    else:
        lines.append(f"switched off in effect: none — every mechanism moves some rule's adopted share by ≥ {points} or a median by ≥ {meetings}")
    return "\n".join(lines)
