"""What the charts read of a comparison: its summary, its scenario, and its runs counted by how they ended.

A worker process drawing charts is sent this rather than the Results: the
runs table grows with the replications (about 40 bytes each), their endings
do not (at most rules × horizon × 8 rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpsim.analysis.results import Results
from kpsim.scenario.schema import Scenario

ENDING = ("meetings", "adopted", "censored", "abandoned")  # how a replication ended: all the charts read of the runs


def endings(results) -> pd.DataFrame:
    """Replications (n) per rule and ending: a row per distinct ending, so at most rules × horizon × 8 rows whatever the replications.

    Counted over one integer key per replication, a million at a time, rather
    than grouped by five columns: a few megabytes at any number of replications.
    """
    if isinstance(results, ChartData):
        return results.endings
    runs, rules = results.runs, results.rules
    top = int(runs["meetings"].max()) + 1
    n = np.zeros(len(rules) * top * 8, dtype=np.int64)
    for a in range(0, len(runs), 2**20):
        part = runs.iloc[a : a + 2**20]
        key = pd.Categorical(part["rule"], categories=rules).codes.astype(np.int64)
        key *= top
        key += part["meetings"].to_numpy()
        for col in ENDING[1:]:
            key *= 2
            key += part[col].to_numpy()
        n += np.bincount(key, minlength=len(n))
    at = np.flatnonzero(n)
    flags = {col: (at >> (2 - i) & 1).astype(bool) for i, col in enumerate(ENDING[1:])}
    return pd.DataFrame({"rule": np.asarray(rules, dtype=object)[at // (top * 8)], "meetings": at // 8 % top, **flags, "n": n[at]})


@dataclass
class ChartData:
    """What the charts read of a comparison, in place of its Results: what a worker process drawing charts is sent.

    The runs are reduced to their endings, so that it stays a few kilobytes
    (plus the scenario) at any number of replications; `rules`, `replications`
    and the fields mirror Results', so every chart draws from either.
    """

    scenario: Scenario
    summary: pd.DataFrame
    meta: dict
    run_id: str
    endings: pd.DataFrame

    rules = Results.rules
    replications = Results.replications

    @classmethod
    def of(cls, results) -> ChartData:
        if isinstance(results, ChartData):
            return results
        return cls(results.scenario, results.summary, results.meta, results.run_id, endings(results))
