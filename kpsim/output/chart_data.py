"""What the charts read of a comparison: its summary, its scenario, and its runs counted by how they ended.

A worker process drawing charts is sent this rather than the Results: the
runs table grows with the replications (about 40 bytes each), their endings
do not (at most rules × horizon × 8 rows; × draws under --uncertainty
parameters or full, whose bands are ranges across draws).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpsim.analysis.results import Results
from kpsim.analysis.survival import Survival, kaplan_meier
from kpsim.analysis.uncertainty import draw_range, from_draws as runs_from_draws
from kpsim.scenario.schema import Scenario

ENDING = ("meetings", "adopted", "censored", "abandoned")  # how a replication ended: all the charts read of the runs


def endings(results, by_draw: bool = False) -> pd.DataFrame:
    """Replications (n) per rule and ending: a row per distinct ending, so at most rules × horizon × 8 rows whatever the replications.

    `by_draw`: per rule, draw (a `draw` column) and ending, from runs that have a draw column.
    Counted over one integer key per replication, a million at a time, rather
    than grouped by five columns: a few megabytes at any number of replications.
    """
    if isinstance(results, ChartData):
        return results.draw_endings if by_draw else results.endings
    runs, rules = results.runs, results.rules
    top = int(runs["meetings"].max()) + 1
    if by_draw:
        return _endings_by_draw(runs, rules, top)
    n = np.zeros(len(rules) * top * 8, dtype=np.int64)
    for a in range(0, len(runs), 2**20):
        n += np.bincount(_ending_key(runs.iloc[a : a + 2**20], rules, top), minlength=len(n))
    at = np.flatnonzero(n)
    return _from_key(at, rules, top, n[at])


def _ending_key(part: pd.DataFrame, rules: list[str], top: int) -> np.ndarray:
    """One integer per replication: its rule, meetings and the three flags of ENDING."""
    key = pd.Categorical(part["rule"], categories=rules).codes.astype(np.int64)
    key *= top
    key += part["meetings"].to_numpy()
    for col in ENDING[1:]:
        key *= 2
        key += part[col].to_numpy()
    return key


def _from_key(at: np.ndarray, rules: list[str], top: int, n: np.ndarray, **drawn) -> pd.DataFrame:
    """The endings table from _ending_key's keys `at` (each below rules × top × 8) and their counts."""
    flags = {col: (at >> (2 - i) & 1).astype(bool) for i, col in enumerate(ENDING[1:])}
    return pd.DataFrame({"rule": np.asarray(rules, dtype=object)[at // (top * 8)], **drawn, "meetings": at // 8 % top, **flags, "n": n})


def _endings_by_draw(runs: pd.DataFrame, rules: list[str], top: int) -> pd.DataFrame:
    """endings per draw: the draws numbered as they come (any ids, any dtype), the keys counted sparsely, so that
    memory follows the endings that occur, not rules × draws × horizon."""
    codes, ids = pd.factorize(runs["draw"], sort=True)
    span = len(rules) * top * 8
    parts = []
    for a in range(0, len(runs), 2**20):
        key = _ending_key(runs.iloc[a : a + 2**20], rules, top) + codes[a : a + 2**20].astype(np.int64) * span
        parts.append(pd.Series(key).value_counts(sort=False))
    counts = pd.concat(parts).groupby(level=0).sum().sort_index()
    at, n = counts.index.to_numpy(np.int64), counts.to_numpy(np.int64)
    return _from_key(at % span, rules, top, n, draw=np.asarray(ids)[at // span])


def from_draws(results) -> bool:
    """Do the runs come from several draws (--uncertainty parameters or full)? Then every band is a range across draws."""
    if isinstance(results, ChartData):
        return results.draw_endings is not None
    return runs_from_draws(results.runs)


def survival_band(results, rule: str, km: Survival, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The band to shade around `rule`'s survival curve `km` (the pooled replications') at meetings `t`.

    Its 95% Monte-Carlo band; where the runs come from several draws, the 95% range across draws, as
    summary.csv's intervals (analysis.uncertainty.across_draws): 2.5% of the draws' lower bounds to 97.5%
    of their upper bounds (uncertainty.draw_range), each draw's curve with its own Monte-Carlo band. A Monte-Carlo band of the
    pooled replications would hide the spread the draws are there to show.
    """
    if not from_draws(results):
        return _step(km.times, km.lower, t), _step(km.times, km.upper, t)
    per = endings(results, by_draw=True)
    lows, highs = [], []
    for _, g in per[per["rule"] == rule].groupby("draw", sort=True):
        k = kaplan_meier(g["meetings"].to_numpy(), g["censored"].to_numpy(), counts=g["n"].to_numpy())
        lows.append(_step(k.times, k.lower, t))
        highs.append(_step(k.times, k.upper, t))
    return draw_range(lows, highs, axis=0)


def _step(times: np.ndarray, values: np.ndarray, t) -> np.ndarray:
    """A right-continuous step function (1 before its first time, its last value after its last) at t."""
    return np.concatenate(([1.0], values))[np.searchsorted(times, np.asarray(t, dtype=float), side="right")]


@dataclass
class ChartData:
    """What the charts read of a comparison, in place of its Results: what a worker process drawing charts is sent.

    The runs are reduced to their endings (and per draw, for the bands), so that it stays a few kilobytes
    (plus the scenario) at any number of replications; `rules`, `replications`
    and the fields mirror Results', so every chart draws from either.
    """

    scenario: Scenario
    summary: pd.DataFrame
    meta: dict
    run_id: str
    endings: pd.DataFrame
    draw_endings: pd.DataFrame | None = None  # per draw, where the runs come from several (from_draws)

    rules = Results.rules
    replications = Results.replications

    @classmethod
    def of(cls, results) -> ChartData:
        if isinstance(results, ChartData):
            return results
        drawn = endings(results, by_draw=True) if from_draws(results) else None
        return cls(results.scenario, results.summary, results.meta, results.run_id, endings(results), drawn)
