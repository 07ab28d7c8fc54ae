"""Observers that walked out: per rule, how often each left (with its 95% interval) and when."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpsim.analysis.outputs import table
from kpsim.analysis.summary import wilson
COLUMNS = ["rule", "observer", "replications", "left", "left_lo", "left_hi", "median_exit_meeting", "first_exit_meeting", "last_exit_meeting"]


def exit_meetings(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (rule, observer) exit: runs.csv's `exits` column ('csc@2;gw@5') unpacked.

    Many replications share a pattern: each distinct one is split once and repeated by its count
    (rows grouped by pattern, not in replication order; the callers only aggregate)."""
    exits = runs["exits"].astype(object).where(runs["exits"].notna(), "")
    counts = runs.groupby([runs["rule"].astype(object), exits], sort=False).size()
    rules, observers, meetings, repeats = [], [], [], []
    for (rule, text), k in counts.items():
        for item in filter(None, text.split(";")):
            who, when = item.rsplit("@", 1)
            rules.append(rule), observers.append(who), meetings.append(int(when)), repeats.append(k)
    r = np.asarray(repeats, dtype=np.int64)
    return pd.DataFrame({"rule": np.repeat(np.asarray(rules, dtype=object), r), "observer": np.repeat(np.asarray(observers, dtype=object), r),
                         "meeting": np.repeat(np.asarray(meetings, dtype=np.int64), r)})


@table("exits.csv")
def exits_table(results) -> pd.DataFrame:
    """Empty unless some observer has `patience` (runs.csv then has an `exits` column)."""
    runs = results.runs
    if "exits" not in runs:
        return pd.DataFrame(columns=COLUMNS)
    observers = [a.id for a in results.scenario.actors if a.patience is not None]
    left = exit_meetings(runs).groupby(["rule", "observer"])["meeting"]
    meetings = {key: g.to_numpy() for key, g in left}
    out = []
    for rule, n in runs.groupby("rule", sort=False).size().items():
        for obs in observers:
            m = meetings.get((rule, obs), np.array([], dtype=int))
            share, lo, hi = wilson(len(m), n)
            when = (float(np.median(m)), int(m.min()), int(m.max())) if len(m) else (np.nan, np.nan, np.nan)
            out.append([rule, obs, n, share, lo, hi, *when])
    return pd.DataFrame(out, columns=COLUMNS)


def format_exits(exits: pd.DataFrame) -> str:
    """One line per rule and observer, for the terminal."""
    lines = []
    for r in exits.itertuples(index=False):
        when = f", median meeting {r.median_exit_meeting:g} (range {r.first_exit_meeting:g}–{r.last_exit_meeting:g})" if r.left > 0 else ""
        lines.append(f"  {r.rule}: {r.observer} walked out in {r.left:.0%} [{r.left_lo:.0%}, {r.left_hi:.0%}] of replications{when}")
    return "\n".join(lines)
