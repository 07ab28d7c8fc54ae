"""Fit one set of global dynamics parameters to every recorded case at once.

Method: simulated maximum likelihood. For a candidate parameter vector each
case is simulated under the rule it was actually decided by, on common random
numbers (a fixed seed), and scored by the log of the simulated probability
of what happened: adoption within one meeting of the recorded meeting, or
no adoption by the recorded meeting. A Latin-hypercube search over the
parameter box finds the basin; Nelder–Mead refines the best point. Per-case
inputs are only the actors' positions and saliences written in the case
files: the global parameters are never tuned per case.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from kpsim.runner import run
from kpsim.scenario import Scenario, load_scenario
from kpsim.survival import kaplan_meier

# the search box: wide enough to hold every plausible value, documented in scenarios/README.md
BOX = {
    "noise": (0.02, 0.6),
    "reluctance": (0.0, 0.3),
    "amendment_step": (0.0, 0.6),
    "lobbying": (0.0, 0.5),
    "stubbornness_scale": (0.2, 2.0),
}


@dataclass
class Case:
    path: Path
    scenario: Scenario

    @property
    def name(self) -> str:
        return self.scenario.name


def load_cases(paths) -> list[Case]:
    cases = [Case(Path(p), load_scenario(p)) for p in paths]
    return [c for c in cases if c.scenario.record is not None]


def with_dynamics(sc: Scenario, params: dict, replications: int, seed: int) -> Scenario:
    dyn = sc.dynamics.model_copy(update=params)
    return sc.model_copy(update={"dynamics": dyn, "replications": replications, "seed": seed})


def simulate(case: Case, params: dict, replications: int, seed: int) -> pd.DataFrame:
    sc = with_dynamics(case.scenario, params, replications, seed)
    return run(sc, [sc.record.rule], progress=False).runs


def log_likelihood(runs: pd.DataFrame, record) -> float:
    """log P(simulated outcome ≈ recorded outcome), smoothed so a zero count is finite."""
    t, adopted = runs["meetings"].to_numpy(), runs["adopted"].to_numpy()
    if record.adopted:
        hits = (adopted & (np.abs(t - record.meetings) <= 1)).sum()
    else:
        hits = (~(adopted & (t <= record.meetings))).sum()
    return math.log((hits + 0.5) / (len(t) + 1))


def objective(x: np.ndarray, cases: list[Case], replications: int, seed: int) -> float:
    params = dict(zip(BOX, np.clip(x, [b[0] for b in BOX.values()], [b[1] for b in BOX.values()])))
    return -sum(log_likelihood(simulate(c, params, replications, seed), c.scenario.record) for c in cases)


def _evaluate(args):
    x, cases, replications, seed = args
    return objective(np.asarray(x), cases, replications, seed)


def fit(cases, replications=400, candidates=64, iterations=60, seed=2011, executor=None, progress=None):
    """Latin-hypercube search, then Nelder–Mead from the best candidate."""
    lo = np.array([b[0] for b in BOX.values()])
    hi = np.array([b[1] for b in BOX.values()])
    sample = stats.qmc.scale(stats.qmc.LatinHypercube(d=len(BOX), seed=seed).random(candidates), lo, hi)
    jobs = [(x, cases, replications, seed) for x in sample]
    scores = []
    mapper = executor.map if executor is not None else map
    for score in mapper(_evaluate, jobs):
        scores.append(score)
        if progress:
            progress()
    best = sample[int(np.argmin(scores))]
    scale = hi - lo
    res = optimize.minimize(
        lambda z: objective(lo + z * scale, cases, replications, seed),
        (best - lo) / scale,
        method="Nelder-Mead",
        bounds=[(0, 1)] * len(BOX),
        options={"maxfev": iterations, "xatol": 1e-3, "fatol": 1e-2, "initial_simplex": _simplex((best - lo) / scale)},
    )
    x = np.clip(lo + res.x * scale, lo, hi)
    return dict(zip(BOX, (round(float(v), 4) for v in x))), float(res.fun), min(scores)


def _simplex(z0: np.ndarray, step: float = 0.08) -> np.ndarray:
    pts = [z0]
    for i in range(len(z0)):
        z = z0.copy()
        z[i] = z[i] + step if z[i] + step <= 1 else z[i] - step
        pts.append(z)
    return np.array(pts)


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
    horizon = case.scenario.calendar.horizon
    fmt = lambda v: f">{horizon}" if v is None else f"{v:g}"  # noqa: E731
    return {
        "case": case.name,
        "rule": rec.rule,
        "recorded": f"{'adopted at' if rec.adopted else 'not adopted after'} {rec.meetings} meetings",
        "adopted_within_recorded": within_rec,
        "median_meetings": fmt(q[0.5]),
        "interval_80": f"[{fmt(q[0.1])}, {fmt(q[0.9])}]",
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
    return "; ".join(parts) or "—"
