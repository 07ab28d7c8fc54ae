"""The chair: who drafts the text put to the vote, meeting after meeting and round after round.

Two strategies, named by the scenario's `chair.strategy`:

- `toward_objectors` (the default, and kpsim's first chair): after a failed
  poll the text moves a fraction `amendment_step` of the way toward the
  salience-weighted mean position of those who objected (of the abstainers
  when nobody objected), never past the mandate (the proposal's reservation).
- `setter`: an actor chairs and, at the first round of every meeting, puts to
  the vote the text within the mandate that maximises its expected utility,
  P(pass | t)·u(t) + (1 − P(pass | t))·u(status quo), with u(t) = −|t − x_chair|
  (Romer–Rosenthal's agenda setter; Crombez for qualified majorities). P comes
  from the same stance rule the actors use, with the positions, saliences,
  reluctances and red lines the chair knows; it leaves out what no chair can
  know in advance (this replication's noise, and how isolated each holdout
  will feel). At noise 0, P is 0 or 1 and the chair tables the best text the
  rule passes; under a q-majority that is the pivotal voter's, not every
  objector's. For rules that test counts (consensus, its minus-k variant,
  simple and qualified majorities, written procedure) P is exact; where who
  votes matters (weights, chambers) it is estimated on 64 fixed draws. Where
  positions differ by replication (position noise, or observers that walked
  out), the chair plans on their mean. It plans once per meeting, rule and
  draw, so its chances run compiled (kpsim.model.chances); they are the numbers
  of the numpy statements kept here (stance_chances, count_test_chance), to the bit.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np
from scipy.special import ndtr, ndtri

from kpsim.model.actors import CELLS, compiled, objection_cut
from kpsim.rules import ABSTAIN, OBJECT

GRID = 51  # candidate texts evenly spread over the mandate at noise 0 (with every stance's edge)
COARSE = 17  # with noise: a coarse grid, then as many texts around the best of it
DRAWS = 64  # noise draws per actor that estimate P(pass | text) where it has no exact form (weights, chambers)
SAME = 1e-6  # positions that moved less than this since the last draft: the chair's text stands
_PLANS: dict[tuple, float] = {}  # the setter's texts by everything they depend on (SetterChair.planned_text)


class ObjectorChair:
    """An anonymous chair that answers the last poll's objections."""

    def __init__(self, model):
        pass

    @staticmethod
    def draft(model, rows: np.ndarray, round_: int) -> None:
        """Amend after a failed poll: from the second meeting on, and in every later round of a meeting."""
        if model.meeting > 1 or round_ > 0:
            amend_toward_objectors(model, rows)


def amend_toward_objectors(model, rows: np.ndarray) -> None:
    """Move the text toward those who did not support it at the last poll.

    The target is the salience-weighted mean position of the objectors (of
    the abstainers when nobody objected); the text moves a fraction
    `amendment_step` of the way, never past the mandate.
    """
    p = model.n_participants  # the chair answers participants' objections, not observers' (nor non-members')
    sal = model.salience[:p] if model.members is None else np.where(model.members[:p], model.salience[:p], 0.0)
    step = model.dynamics.amendment_step
    block = max(1, CELLS // max(p, 1))  # rows at a time (temporaries in cache); each row's sums are its own: the same numbers
    for a in range(0, len(rows), block):
        part = rows[a : a + block]
        last = model.stances[part, :p]
        x = model.positions_at(part)[:, :p]
        w = np.where(last == OBJECT, sal, 0.0)
        none = w.sum(axis=1) == 0
        if none.any():
            w[none] = np.where(last[none] == ABSTAIN, sal, 0.0)
        total = w.sum(axis=1)
        moving = total > 0
        target = (w * x).sum(axis=1)[moving] / total[moving]
        r = part[moving]
        model.text[r] = np.clip(model.text[r] + step * (target - model.text[r]), *model.text_bounds)


class SetterChair:
    """An actor who tables, at each meeting, the text it expects to serve it best."""

    def __init__(self, model):
        # its own, writable copy: the cached one stays as made, and a read-only array would be another numba signature
        self.draws = planning_draws(model.spec.seed, len(model.actor_ids)).copy()
        self._rule = (None, "", None)  # rule_facts: the last rule, its JSON and count test

    def draft(self, model, rows: np.ndarray, round_: int) -> None:
        who = model.spec.chair.actor_in(model.spec.calendar.year(model.meeting))
        if who is None:  # no chair named for this year: the anonymous chair answers the objections
            ObjectorChair.draft(model, rows, round_)
            return
        if round_ > 0:
            return  # a later round re-polls the same text: the chair learns nothing it did not know
        x = model.positions_at(rows)
        x = x[0] if x.shape[0] == 1 else x.mean(axis=0)
        # what the chair's choice depends on besides the positions; unchanged, with positions within SAME: the same text
        # (the pressure of time on holdouts grows slowly: the chair re-plans for it once a meeting-year, not every meeting)
        year = int((model.meeting - 1) / model.spec.calendar.meetings_per_year) if model.dynamics.acquiescence_time else 0
        members = model.members
        context = (who, model.revision, model.rule, year, None if members is None else members.tobytes())
        last = getattr(self, "_last", None)
        if last is None or last[0] != context or np.abs(last[1] - x).max() > SAME:
            self._last = (context, x.copy(), self.planned_text(model, x, model.actor_ids.index(who)))
        model.text[rows] = self._last[2]

    def planned_text(self, model, x: np.ndarray, column: int) -> float:
        """best_text, remembered across the batches of a run: every batch of a rule plans on the same positions
        until they part, and the plan is a pure function of what the key holds."""
        dyn, e = model.dynamics, model.electorate
        rule_json, _ = self.rule_facts(model.rule)
        key = (
            x.tobytes(), column, model.text_bounds, model.status_quo, float(model.direction), dyn.noise, dyn.reluctance,
            model.salience.tobytes(), model.objection_threshold().tobytes(), model.red_cols.tobytes(),
            model.red_values.tobytes(), rule_json, None if model.members is None else model.members.tobytes(),
            model.spec.seed, len(self.draws[0]), e.kinds, tuple((k, w.tobytes()) for k, w in sorted(e.weights.items())),
        )
        if key not in _PLANS:
            if len(_PLANS) >= 4096:
                _PLANS.clear()
            _PLANS[key] = self.best_text(model, x, column)
        return _PLANS[key]

    def rule_facts(self, rule) -> tuple[str, object]:
        """The rule's JSON (for the plan's key) and count test, made once per rule, not at every plan (pydantic's dump is slow)."""
        if self._rule[0] is not rule:  # rules are frozen: the same object, the same facts
            self._rule = (rule, rule.model_dump_json(), rule.count_test())
        return self._rule[1:]

    def candidates(self, model, x: np.ndarray) -> np.ndarray:
        """The mandate on a grid and, at noise 0, every text at which some actor's stance changes (the exact setter texts)."""
        lo, hi = model.text_bounds
        texts = [grid(lo, hi, GRID)]
        if model.dynamics.noise == 0:
            reach = np.abs(model.status_quo - x)
            sal = np.maximum(model.salience, 1e-12)
            # the gain g(t) = |q − x| − |t − x| crosses c where |t − x| = |q − x| − c: support above r/σ, object below −ρ/σ
            for c in (model.dynamics.reluctance / sal, objection_cut(model) / sal):
                r = reach - c
                ok = r >= 0
                for edge in (x[ok] + r[ok], x[ok] - r[ok]):
                    texts += [edge - 1e-9, edge, edge + 1e-9]  # either side of the edge, whatever the rounding
            if model.red_line is not None:
                texts.append(model.red_values)
        t = np.concatenate(texts)
        return sorted_unique(t[(t >= lo) & (t <= hi)])

    def best_text(self, model, x: np.ndarray, column: int) -> float:
        """The text the chair in `column` tables, given positions x."""
        chair_x = x[column]
        lo, hi = model.text_bounds
        ideal = min(max(chair_x, lo), hi)  # its own ideal is always a candidate
        if model.dynamics.noise == 0:
            return self._best_of(model, x, chair_x, sorted_unique(np.append(self.candidates(model, x), ideal)))
        # the expected utility is smooth in the text: a coarse grid, then a fine one around its best
        step = (hi - lo) / (COARSE - 1)
        best = self._best_of(model, x, chair_x, sorted_unique(np.append(grid(lo, hi, COARSE), ideal)))
        fine = grid(max(lo, best - step), min(hi, best + step), COARSE)
        return self._best_of(model, x, chair_x, sorted_unique(np.append(fine, best)))

    def _best_of(self, model, x, chair_x, t) -> float:
        # order by the chair's own liking, so that among equals it tables the text it likes best
        t = t[np.argsort(np.abs(t - chair_x), kind="stable")]
        members = model.members
        test = self.rule_facts(model.rule)[1]
        p = exact_chance(model, x, t, test, members) if test is not None else self.sampled_chance(model, x, t, members)
        # the first best of p·u(t) + (1 − p)·u(status quo), u(t) = −|t − x_chair| (one compiled loop, not eight numpy calls)
        return float(t[compiled().best_index(p, t, float(chair_x), float(model.status_quo))])

    def sampled_chance(self, model, x, t, members) -> np.ndarray:
        """P(pass | t) over the fixed draws: for rules where who votes matters (weights, chambers). The stances are
        PlenaryModel.stances_for's on a (texts, draws, actors) grid, compiled (chances.stance_grid); the rule decides."""
        draws = self.draws if model.dynamics.noise > 0 else self.draws[:1] * 0.0
        profiles = compiled().stance_grid(
            x, t, draws, float(model.status_quo), float(model.dynamics.noise), model.salience, float(model.dynamics.reluctance),
            objection_cut(model), model.red_cols, model.red_values, float(model.direction),
        )
        passed = model.decide(profiles, members).reshape(len(t), len(draws))
        return passed.mean(axis=1)


@lru_cache(maxsize=64)
def planning_draws(seed: int, n: int) -> np.ndarray:
    """The chair's fixed noise draws (a Latin hypercube of normal quantiles, keyed by the seed): its planning never
    consumes the replications' own streams, so rule comparisons stay paired. Made once per seed and size, not per
    model (under --uncertainty every draw and rule builds one)."""
    rng = np.random.default_rng([seed, 0x5E77E5])
    ranks = np.argsort(rng.random((DRAWS, n)), axis=0)
    return ndtri((ranks + 0.5) / DRAWS)


def grid(lo: float, hi: float, n: int) -> np.ndarray:
    """np.linspace(lo, hi, n), to the bit, without its overhead (the setter builds two grids a plan)."""
    step = (hi - lo) / (n - 1)
    if step == 0:  # linspace's own way with a zero (or underflowing) step
        return np.linspace(lo, hi, n)
    y = _counts(n) * step
    y += lo
    y[-1] = hi
    return y


@cache
def _counts(n: int) -> np.ndarray:
    return np.arange(n, dtype=float)


def sorted_unique(t: np.ndarray) -> np.ndarray:
    """np.unique(t) for floats without NaN, to the bit: its in-place sort and mask, without its overhead."""
    t = t.copy()
    t.sort()
    keep = np.empty(len(t), dtype=bool)
    keep[:1] = True
    np.not_equal(t[1:], t[:-1], out=keep[1:])
    return t[keep]


def stance_chances(model, x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(support) and P(object) of every actor (columns) on every text (rows): the stance rule with ε ~ N(0, 1).
    In numpy, the statement exact_chance's compiled kernels are held to (tests/model/test_chances.py)."""
    gain = np.abs(model.status_quo - x)[None, :] - np.abs(t[:, None] - x[None, :])
    cut = objection_cut(model)  # without isolation: no chair knows how isolated each holdout will feel
    r, eta, sal = model.dynamics.reluctance, model.dynamics.noise, model.salience
    if eta == 0:
        d = sal * gain
        support, objection = (d > r).astype(float), (d < cut).astype(float)
    else:
        # d = σ(g + ηε) > r  ⟺  ε > (r/σ − g)/η; an actor with σ = 0 never takes a side
        with np.errstate(divide="ignore", invalid="ignore"):
            support = np.where(sal > 0, ndtr((gain - r / sal) / eta), 0.0)
            objection = np.where(sal > 0, ndtr((cut / sal - gain) / eta), 0.0)
    if model.red_line is not None:
        below = model.below_red_line(t[:, None])
        support[:, model.red_cols] = np.where(below, 0.0, support[:, model.red_cols])
        objection[:, model.red_cols] = np.where(below, 1.0, objection[:, model.red_cols])
    return support, objection


def exact_chance(model, x, t, test, members) -> np.ndarray:
    """P(pass | t) for a rule that tests the counts of supporters S and objectors O (kpsim.rules.CountTest), exactly.

    Actors take their stances independently, so the law of L = gain·S − loss·O follows by adding one participant at a
    time (a dynamic programme over L, for every text at once); with `veto`, any objection removes the mass. Compiled
    (kpsim.model.chances): the same numbers as stance_chances and count_test_chance on the voters' columns.
    """
    k, p = compiled(), model.n_participants
    voters = np.arange(p) if members is None else np.flatnonzero(members[:p])
    red = np.full(len(voters), np.nan) if model.red_line is None else model.red_line[voters]
    sq, sal, cut, eta = float(model.status_quo), model.salience, objection_cut(model), float(model.dynamics.noise)
    r = float(model.dynamics.reluctance)
    normal = ndtr(k.normal_args(x, t, sq, sal, r, cut, eta, voters)) if eta != 0 else _UNREAD  # as stance_chances tests it
    return k.exact_chance(normal, x, t, sq, sal, r, cut, eta, voters, red, float(model.direction),
                          test.gain, test.loss, test.offset, test.strict, test.veto, test.need_support)


_UNREAD = np.zeros((2, 0, 0))


def count_test_chance(support: np.ndarray, objection: np.ndarray, test) -> np.ndarray:
    """P(pass) per row, for independent voters (columns) who support or object with these chances."""
    abstain = 1.0 - support - objection
    chance = _law_meets(support, objection, abstain, test)
    if test.need_support:  # less the chance that it "passes" with nobody supporting: support's mass dropped, not moved
        if test.offset == 0 and not test.strict and (test.loss or test.veto):  # with S = 0 it holds only where nobody objects
            chance -= abstain.prod(axis=1)
        elif test.offset > 0 or (test.offset == 0 and not test.strict):  # (offset < 0: S = 0 never passes)
            chance -= _law_meets(np.zeros_like(support), objection, abstain, test)
    return np.clip(chance, 0.0, 1.0)


def _law_meets(support, objection, abstain, test) -> np.ndarray:
    """P(L meets the test) per row: the law of L built voter by voter (chances.law_window, compiled), then summed
    from L = 0 up. Its products and sums are the ones numpy's window updates made, in the same order, so the numbers
    are the same to the bit (tests/model/test_core_speed.py); chances.count_chance makes the same ones in one kernel."""
    n = support.shape[1]
    low = test.offset - test.loss * n
    width = test.offset + test.gain * n - low + 1
    args = (np.ascontiguousarray(support, dtype=float), np.ascontiguousarray(objection, dtype=float),
            np.ascontiguousarray(abstain, dtype=float))
    first = -low + (1 if test.strict else 0)  # the index of L = 0 (or 1 where a tie fails)
    law = compiled().law_window(*args, test.gain, 0 if test.veto else test.loss, test.veto, test.offset - low, width, first)
    return law[:, max(first, 0):].sum(axis=1)


CHAIRS = {"toward_objectors": ObjectorChair, "setter": SetterChair}
