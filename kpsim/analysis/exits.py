"""Observers that walked out: per rule, how often each left (with its 95% interval; the range across draws under
--uncertainty parameters or full) and when."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpsim.analysis.outputs import table
from kpsim.analysis.summary import wilson
from kpsim.analysis.survival import by_rule
from kpsim.analysis.uncertainty import draw_range, from_draws

NO_EXITS = (np.array([], dtype=np.int64), np.array([], dtype=np.int64))  # (meetings, counts) of nobody
COLUMNS = ["rule", "observer", "replications", "left", "left_lo", "left_hi", "median_exit_meeting", "first_exit_meeting", "last_exit_meeting"]


def exit_meetings(runs: pd.DataFrame) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """(rule, observer) -> (meetings it walked out at, how many replications each): runs.csv's `exits` column ('csc@2;gw@5') unpacked.

    Many replications share a pattern: each rule's patterns are counted on their
    codes and each distinct one is split once, so the table is never copied.
    """
    exits = runs["exits"]
    codes, names = (exits.cat.codes.to_numpy(), exits.cat.categories) if isinstance(exits.dtype, pd.CategoricalDtype) else pd.factorize(exits)
    found: dict[tuple[str, str], dict[int, int]] = {}
    for rule, g in by_rule(pd.DataFrame({"rule": runs["rule"], "code": codes}, copy=False), ["code"]):
        code = g["code"]
        counts = np.bincount(code[code >= 0], minlength=len(names))  # -1: no exit (an empty cell read back)
        for k in np.flatnonzero(counts):
            for item in filter(None, str(names[k]).split(";")):
                who, when = item.rsplit("@", 1)
                at = found.setdefault((rule, who), {})
                at[int(when)] = at.get(int(when), 0) + int(counts[k])
    return {key: (np.fromiter(at, dtype=np.int64), np.fromiter(at.values(), dtype=np.int64)) for key, at in found.items()}


@table("exits.csv")
def exits_table(results) -> pd.DataFrame:
    """Empty unless some observer has `patience` (runs.csv then has an `exits` column); replications per rule as the summary counted them."""
    runs = results.runs
    if "exits" not in runs:
        return pd.DataFrame(columns=COLUMNS)
    observers = [a.id for a in results.scenario.actors if a.patience is not None]
    left = exit_meetings(runs)
    by_draw = _left_by_draw(runs, observers) if from_draws(runs) else {}
    out = []
    for rule, n in zip(results.summary["rule"], map(int, results.summary["replications"])):
        for obs in observers:
            meetings, counts = left.get((rule, obs), NO_EXITS)
            share, lo, hi = wilson(int(counts.sum()), n)
            lo, hi = by_draw.get((rule, obs), (lo, hi))
            when = (float(np.median(np.repeat(meetings, counts))), int(meetings.min()), int(meetings.max())) if len(meetings) else (np.nan, np.nan, np.nan)
            out.append([rule, obs, n, share, lo, hi, *when])
    return pd.DataFrame(out, columns=COLUMNS)


def _left_by_draw(runs: pd.DataFrame, observers: list[str]) -> dict[tuple[str, str], tuple[float, float]]:
    """(rule, observer) -> the range across draws of the share that walked out (uncertainty.draw_range over each draw's
    Wilson interval), for runs of several draws (--uncertainty parameters or full), as summary.csv's intervals."""
    bounds: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _, g in runs.groupby("draw", sort=True):
        left = exit_meetings(g)
        for rule, n in g["rule"].value_counts(sort=False).items():
            for obs in observers if n else ():
                bounds.setdefault((rule, obs), []).append(wilson(int(left.get((rule, obs), NO_EXITS)[1].sum()), int(n))[1:])
    return {key: draw_range(*zip(*b)) for key, b in bounds.items()}


def format_exits(exits: pd.DataFrame) -> str:
    """One line per rule and observer, for the terminal."""
    lines = []
    for r in exits.itertuples(index=False):
        when = f", median meeting {r.median_exit_meeting:g} (range {r.first_exit_meeting:g}–{r.last_exit_meeting:g})" if r.left > 0 else ""
        lines.append(f"  {r.rule}: {r.observer} walked out in {r.left:.0%} [{r.left_lo:.0%}, {r.left_hi:.0%}] of replications{when}")
    return "\n".join(lines)
