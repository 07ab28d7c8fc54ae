"""One row per rule: the figures a comparison reports, each with a 95% interval.

A replication ends adopted, withdrawn (abandoned after `abandon_after` failed
meetings, or by a withdraw event) or still open at the horizon. Withdrawn and
open ones are censored at their last meeting held, so the median comes from
the Kaplan–Meier curve and the mean is the restricted mean; neither treats a
censored replication as adopted, and none is taken to run past its
withdrawal. Shares use Wilson intervals; the surviving share of the text is
averaged over adopted replications only.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy.special import ndtri

from kpsim.analysis.survival import (
    by_rule,
    kaplan_meier,
    median_deadlock,
    restricted_mean,
    restricted_mean_se,
)

Z = ndtri(0.975)


def wilson(k: int, n: int) -> tuple[float, float, float]:
    """k/n with its Wilson score interval: scipy.stats.binomtest's "wilson", in its arithmetic (see kpsim.survival on why written out)."""
    p = k / n
    denom = 2 * (n + Z**2)
    centre = (2 * n * p + Z**2) / denom
    half = Z / denom * math.sqrt(4 * n * p * (1 - p) + Z**2)
    return p, 0.0 if k == 0 else centre - half, 1.0 if k == n else centre + half


def _nan(x):
    return math.nan if x is None else float(x)


SUMMARISED = ["rule", "adopted", "abandoned", "censored", "meetings", "surviving_share", "n_objectors"]  # the columns summarise reads


def mean_window(km, horizon: int) -> float:
    """How far the restricted mean can honestly reach: the horizon, unless the curve stops before it.

    It stops early when every replication still open was withdrawn: past that
    meeting nothing is observed, and holding the curve flat would count the
    withdrawn as deadlocked to the horizon.
    """
    last = float(km.times[-1])
    return float(horizon) if last >= horizon or km.survival[-1] == 0 else last


def summarise(runs: pd.DataFrame, horizon: int, meetings_per_year: float) -> pd.DataFrame:
    rows = []
    for rule, g in by_rule(runs, SUMMARISED[1:]):
        n = len(g["adopted"])
        adopted = g["adopted"]
        withdrawn = g["abandoned"]
        km = kaplan_meier(g["meetings"], g["censored"])
        med = median_deadlock(km)
        within = mean_window(km, horizon)
        # withdrawn before any meeting was held (an event at meeting 1): nothing observed, no mean to give
        rmst, se = (restricted_mean(km, within), restricted_mean_se(km, within)) if within > 0 else (math.nan, math.nan)
        at_horizon = int(((~adopted) & ~withdrawn).sum())
        share = g["surviving_share"][adopted]
        s_mean = share.mean() if share.size else math.nan
        s_half = Z * share.std(ddof=1) / math.sqrt(share.size) if share.size > 1 else math.nan
        row = {"rule": rule, "replications": n}
        row["adopted"], row["adopted_lo"], row["adopted_hi"] = wilson(adopted.sum(), n)
        row["median_meetings"], row["median_lo"], row["median_hi"] = _nan(med.value), _nan(med.lower), _nan(med.upper)
        # a mean within the horizon lies between the first meeting and the horizon: its normal interval is clipped there
        row["mean_meetings"], row["mean_lo"], row["mean_hi"] = rmst, max(rmst - Z * se, min(1.0, within)), min(rmst + Z * se, within)
        row["mean_within"] = within
        for key in ("median", "mean"):
            for suffix, src in (("", f"{key}_meetings"), ("_lo", f"{key}_lo"), ("_hi", f"{key}_hi")):
                row[f"{key}_years{suffix}"] = row[src] / meetings_per_year
        row["deadlocked_at_horizon"], row["deadlocked_lo"], row["deadlocked_hi"] = wilson(at_horizon, n)
        row["withdrawn"], row["withdrawn_lo"], row["withdrawn_hi"] = wilson(int(withdrawn.sum()), n)
        after = g["meetings"][withdrawn]
        row["withdrawn_after_min"], row["withdrawn_after_max"] = (float(after.min()), float(after.max())) if after.size else (math.nan, math.nan)
        # a share of the proposed change lies in [0, 1]: a normal interval from few adoptions must not leave it
        row["surviving_share"], row["surviving_lo"], row["surviving_hi"] = s_mean, max(0.0, s_mean - s_half), min(1.0, s_mean + s_half)
        row["outvoted_at_adoption"] = float(g["n_objectors"][adopted].mean()) if adopted.any() else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _withdrawn_when(row) -> str:
    """"16", or "12–16" when replications were withdrawn after different meetings."""
    lo, hi = int(row.withdrawn_after_min), int(row.withdrawn_after_max)
    return f"{lo}" if lo == hi else f"{lo}–{hi}"


def withdrawal_phrase(row) -> str:
    """"withdrawn after meeting 16 in 100%" (or "after meetings 12–16"); "" when nothing was withdrawn or the summary predates the column."""
    share = getattr(row, "withdrawn", math.nan)
    if not share > 0:
        return ""
    when = _withdrawn_when(row)
    return f"withdrawn after meeting{'s' if '–' in when else ''} {when} in {PCT.format(share)}"


class _Percent:
    """Whole percentages, but one decimal near 0% and 100%, so 0.07% is not printed as 0%."""

    @staticmethod
    def format(x: float) -> str:
        if 0.01 <= x <= 0.99 or x in (0.0, 1.0):
            return f"{x:.0%}"
        text = f"{x:.1%}"
        return {"0.0%": "<0.1%", "100.0%": ">99.9%"}.get(text, text)


PCT = _Percent()


def format_ci(v, lo, hi, fmt="{:.2f}", nr="not reached") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return nr
    hi_s = nr if hi is None or (isinstance(hi, float) and math.isnan(hi)) else fmt.format(hi)
    lo_s = "—" if lo is None or (isinstance(lo, float) and math.isnan(lo)) else fmt.format(lo)
    return f"{fmt.format(v)} [{lo_s}, {hi_s}]"


def _window(row, horizon: int, per_year: float = 1.0) -> str:
    """" (≤16)" after a mean whose curve stopped at a withdrawal before the horizon; "" otherwise."""
    within = getattr(row, "mean_within", horizon)
    if within == 0:
        return " (withdrawn before the first meeting)"
    return f" (≤{within / per_year:g})" if within < horizon else ""


def format_summary(summary: pd.DataFrame, horizon: int) -> str:
    """A plain-text table for the terminal, one line per rule; a "withdrawn" column when any rule had withdrawals."""
    withdrawals = "withdrawn" in summary and bool((summary["withdrawn"] > 0).any())
    short = any(_window(r, horizon) for r in summary.itertuples(index=False))
    cols = {
        "rule": [],
        "adopted": [],
        "median deadlock (meetings)": [],
        f"mean ≤{horizon} (meetings)": [],
        "median (years)": [],
        "mean (years)": [],
        "deadlocked at horizon": [],
    }
    if withdrawals:
        cols["withdrawn (after meeting)"] = []
    cols["text surviving"] = []
    labelled = "decided_by" in summary
    if labelled:
        cols["win-set: result"] = []
    for r in summary.itertuples(index=False):
        per_year = r.mean_meetings / r.mean_years  # the summary holds both; the calendar is not passed here
        cols["rule"].append(r.rule)
        cols["adopted"].append(format_ci(r.adopted, r.adopted_lo, r.adopted_hi, PCT))
        cols["median deadlock (meetings)"].append(format_ci(r.median_meetings, r.median_lo, r.median_hi, "{:g}"))
        cols[f"mean ≤{horizon} (meetings)"].append(format_ci(r.mean_meetings, r.mean_lo, r.mean_hi, "{:.1f}") + _window(r, horizon))
        cols["median (years)"].append(format_ci(r.median_years, r.median_years_lo, r.median_years_hi, "{:g}"))
        cols["mean (years)"].append(format_ci(r.mean_years, r.mean_years_lo, r.mean_years_hi, "{:.1f}") + _window(r, horizon, per_year))
        cols["deadlocked at horizon"].append(format_ci(r.deadlocked_at_horizon, r.deadlocked_lo, r.deadlocked_hi, PCT))
        if withdrawals:
            when = f" after {_withdrawn_when(r)}" if r.withdrawn > 0 else ""
            cols["withdrawn (after meeting)"].append(format_ci(r.withdrawn, r.withdrawn_lo, r.withdrawn_hi, PCT) + when)
        cols["text surviving"].append(format_ci(r.surviving_share, r.surviving_lo, r.surviving_hi, PCT, nr="—"))
        if labelled:
            cols["win-set: result"].append(f"{r.win_set}: {r.decided_by}")
    widths = {k: max(len(k), *(len(v) for v in vals)) for k, vals in cols.items()}
    lines = ["  ".join(k.ljust(widths[k]) for k in cols).rstrip()]  # (no padding after the last column)
    lines.append("  ".join("-" * widths[k] for k in cols))
    for i in range(len(summary)):
        lines.append("  ".join(cols[k][i].ljust(widths[k]) for k in cols).rstrip())
    if withdrawals:
        lines.append("withdrawn: taken off the table before adoption (abandon_after or a withdraw event), censored at its last meeting; "
                     "deadlocked at horizon counts only replications still open at the horizon")
    if short:
        lines.append("(≤N): the mean within the first N meetings (years in the years column): every replication still open was withdrawn "
                     "then, so nothing after it is observed")
    if labelled:
        lines.append("win-set: whether any text in the mandate passes in the static model (kpsim winset); structural: the simulation "
                     "gives its verdict (nothing adopted, or adopted at once); dynamic: noise, moving positions or time decide")
    return "\n".join(lines)


def format_ties(rules) -> str | None:
    """One line saying what each rule does with a tie (supporters exactly at its threshold); None if no rule has one.

    `ties (supporters exactly at the threshold): pass — two_thirds, tripartite; fail — simple_majority`,
    and chambers whose ties differ as `by chamber — tripartite (pass in governments, fail in industry)`.
    """
    groups = {"pass": [], "fail": [], "mixed": []}
    for r in rules:
        if r.tie_rule() is not None:
            groups[r.tie_rule()].append(r.label if r.tie_rule() != "mixed" else f"{r.label} ({r.tie_phrase().removeprefix('a tie ')})")
    parts = [f"{'by chamber' if t == 'mixed' else t} — {', '.join(labels)}" for t, labels in groups.items() if labels]
    return f"ties (supporters exactly at the threshold): {'; '.join(parts)}" if parts else None
