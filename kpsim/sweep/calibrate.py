"""The recorded cases the global dynamics are fitted to: the prior box, the record read as a window, the fit table.

The fit itself is ABC-SMC (kpsim.sweep.posterior). Every case is simulated
under the rule it was actually decided by; per-case inputs are only the
actors' positions and saliences written in the case files: the global
parameters are never tuned per case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.analysis.survival import kaplan_meier
from kpsim.errors import InputError
from kpsim.run.runner import run
from kpsim.scenario.load import load_tree, merge, validate_tree
from kpsim.scenario.prior import BOX
from kpsim.scenario.schema import Scenario
from kpsim.scenario.yamlsource import LDict

EDGE = 0.025  # a fitted value within this share of its box's width from an edge is flagged


def at_edge(params: dict[str, float]) -> list[str]:
    """The parameters whose fitted value sits at an edge of the box: the box, not the data, may have decided them."""
    out = []
    for name, (lo, hi) in BOX.items():
        v = params.get(name)
        if v is not None and (v - lo <= EDGE * (hi - lo) or hi - v <= EDGE * (hi - lo)):
            out.append(f"{name} = {v:g} is at the {'lower' if v - lo <= EDGE * (hi - lo) else 'upper'} edge of its box [{lo:g}, {hi:g}]")
    return out


@dataclass
class Case:
    path: Path
    scenario: Scenario

    @property
    def name(self) -> str:
        return self.scenario.name


def load_cases(paths, calibration=None) -> list[Case]:
    """The files that hold a `record:`; fragments such as a roster are skipped, not errors.

    With `calibration` (a file with a `dynamics:` section, such as a `kpsim calibrate
    --out` file), its values replace the dynamics each case extends, as if the case
    extended that file last: how a fit on some cases is scored on others.
    """
    trees = [(Path(p), load_tree(p)) for p in paths]
    if calibration is not None:
        dynamics = calibration_dynamics(calibration)
        for _, t in trees:
            at_dynamics(t, dynamics)
    return [Case(p, validate_tree(t)) for p, t in trees if "record" in t]


def calibration_dynamics(path) -> LDict:
    """The `dynamics:` section of a calibration file (its lines kept, for file:line errors)."""
    tree = load_tree(path)
    if not isinstance(tree.get("dynamics"), LDict):
        raise InputError(f"{path}: no `dynamics:` section — a calibration file holds the fitted dynamics (as `kpsim calibrate --out` writes)")
    return tree["dynamics"]


def at_dynamics(tree: LDict, dynamics: LDict) -> None:
    """Lay `dynamics` over the tree's own, as `extends:` merges a later file (into a new mapping: the trees never share one)."""
    base = tree.get("dynamics")
    tree["dynamics"] = merge(base if isinstance(base, LDict) else LDict(), dynamics)
    tree.lines["dynamics"] = dynamics.origin


def with_dynamics(sc: Scenario, params: dict, replications: int, seed: int) -> Scenario:
    dyn = sc.dynamics.model_copy(update=params)
    return sc.model_copy(update={"dynamics": dyn, "replications": replications, "seed": seed})


def simulate(case: Case, params: dict, replications: int, seed: int) -> pd.DataFrame:
    sc = with_dynamics(case.scenario, params, replications, seed)
    runs, _ = run(sc, [sc.record.rule], progress=False)
    return runs


def observed_window(record) -> tuple[bool, int, int]:
    """The record read as interval-censored data: (adopted?, earliest, latest meeting).

    Meeting counts in the record are coarse (what counts as a meeting,
    decisions taken between meetings), so the duration is taken to lie in
    the case's target band; without one, within a meeting of the record.
    """
    t = record.target
    if not record.adopted:
        return False, 1, t.within or record.meetings
    if t.median_meetings is not None:
        return True, int(math.ceil(t.median_meetings[0])), int(t.median_meetings[1])
    if t.within is not None:
        return True, 1, t.within
    return True, max(1, record.meetings - 1), record.meetings + 1


def check(case: Case, runs: pd.DataFrame) -> dict:
    """The calibration table's row: the record, what the model gives, and whether it meets the target."""
    rec, tgt = case.scenario.record, case.scenario.record.target
    t, adopted = runs["meetings"].to_numpy(), runs["adopted"].to_numpy()
    km = kaplan_meier(t, ~adopted)
    q = {p: _quantile(km, p) for p in (0.1, 0.5, 0.9)}
    within_rec = float((adopted & (t <= rec.meetings)).mean())
    ok = []
    if tgt.median_meetings is not None:
        m = q[0.5]
        ok.append(m is not None and tgt.median_meetings[0] <= m <= tgt.median_meetings[1])
    if tgt.within is not None:
        share = float((adopted & (t <= tgt.within)).mean())
        if tgt.adopted_at_least is not None:
            ok.append(share >= tgt.adopted_at_least)
        if tgt.adopted_at_most is not None:
            ok.append(share <= tgt.adopted_at_most)
    first = float((adopted & (t <= 1)).mean())
    if tgt.adopted_at_first is not None:
        ok.append(tgt.adopted_at_first[0] <= first <= tgt.adopted_at_first[1])
    surviving = runs.loc[runs["adopted"], "surviving_share"]
    text = float(surviving.median()) if len(surviving) else None
    if tgt.surviving_share is not None:
        ok.append(text is not None and tgt.surviving_share[0] <= text <= tgt.surviving_share[1])
    horizon = case.scenario.calendar.horizon
    fmt = lambda v: f">{horizon}" if v is None else f"{v:g}"  # noqa: E731
    return {
        "case": case.name,
        "rule": rec.rule,
        "recorded": f"{'adopted at meeting' if rec.adopted else 'not adopted after meeting'} {rec.meetings}",
        "adopted_within_recorded": within_rec,
        "median_meetings": fmt(q[0.5]),
        "interval_80": f"[{fmt(q[0.1])}, {fmt(q[0.9])}]",
        "adopted_at_first": first,
        "text_surviving": text,
        "target": describe_target(tgt),
        "pass": all(ok) if ok else None,
    }


def _quantile(km, p: float):
    """First meeting by which a share p has been adopted; None if not within the horizon."""
    hit = np.flatnonzero(km.survival <= 1 - p)
    return float(km.times[hit[0]]) if hit.size else None


def describe_target(t) -> str:
    parts = []
    if t.median_meetings is not None:
        parts.append(f"median {t.median_meetings[0]:g}–{t.median_meetings[1]:g}")
    if t.adopted_at_least is not None:
        parts.append(f"≥{t.adopted_at_least:.0%} adopted within {t.within}")
    if t.adopted_at_most is not None:
        parts.append(f"≤{t.adopted_at_most:.0%} adopted within {t.within}")
    if t.adopted_at_first is not None:
        parts.append(f"{t.adopted_at_first[0]:.0%}–{t.adopted_at_first[1]:.0%} adopted at meeting 1")
    if t.surviving_share is not None:
        parts.append(f"text surviving {t.surviving_share[0]:.0%}–{t.surviving_share[1]:.0%}")
    return "; ".join(parts) or "—"


def mechanisms_at(cases: list[Case], params: dict, replications: int, seed: int, jobs: int | None = None) -> list[pd.DataFrame]:
    """kpsim mechanisms for every case at the fitted point: one table per case (rows: mechanism and rule)."""
    from kpsim.analysis.mechanisms import mechanism_effects

    return [mechanism_effects(with_dynamics(c.scenario, params, replications, seed), jobs=jobs).assign(case=c.name) for c in cases]


def strongest_effects(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Per mechanism, where it acts most (the largest change of a share adopted, and of a median, over every case and
    rule), and whether it acts anywhere: not switched off in effect in every case (kpsim.analysis.mechanisms)."""
    from kpsim.analysis.mechanisms import switched_off_in_effect

    idle_everywhere = set.intersection(*(set(switched_off_in_effect(t)) for t in tables))
    table = pd.concat(tables, ignore_index=True)
    rows = []
    for m, g in table.groupby("mechanism", sort=False):
        a = g.loc[g["adopted_change"].abs().idxmax()]
        med = g.dropna(subset=["median_change"])
        b = med.loc[med["median_change"].abs().idxmax()] if len(med) else None
        rows.append({
            "mechanism": m,
            "adopted_change": a.adopted_change, "adopted_where": f"{a.case}, {a.rule}",
            "median_change": np.nan if b is None else b.median_change, "median_where": "" if b is None else f"{b.case}, {b.rule}",
            "acts": m not in idle_everywhere,
        })
    return pd.DataFrame(rows)
