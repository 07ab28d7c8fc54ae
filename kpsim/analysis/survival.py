"""Survival summaries of deadlock durations.

A replication ends either with adoption at meeting ``k`` (deadlocked for
``k`` meetings) or censored after ``k`` observed meetings (horizon reached or
proposal abandoned). Averaging raw durations would treat censored runs as
adoptions and bias every rule towards looking fast; dropping them biases the
other way. The Kaplan-Meier estimator keeps censored runs in the risk set for
as long as they were observed and never counts them as adoptions, so all
estimates here go through it.

The curve and its band are scipy.stats.ecdf's estimator on right-censored
data (Greenwood, or exponential Greenwood "log-log"), written out here in
numpy because every chunk of a sweep summarises its runs and importing
scipy.stats costs each worker a quarter of a second; the tests hold the two
equal. So is the logrank test (scipy's arithmetic, from counts per meeting). This module adapts them to the
simulation's vocabulary and fixes the conventions (step functions, medians,
edge cases).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from kpsim.analysis.outputs import table

__all__ = [
    "Survival",
    "MedianEstimate",
    "kaplan_meier",
    "median_deadlock",
    "restricted_mean",
    "restricted_mean_se",
    "logrank",
    "pairwise_logrank",
    "survival_table",
]


@dataclass(frozen=True, eq=False)
class Survival:
    """Kaplan-Meier curve of the share of proposals still deadlocked.

    Kept as plain arrays (not scipy's result object) so that callers can
    tabulate, plot and pickle it without depending on scipy internals.
    ``times`` holds every distinct observed duration, censored ones included,
    so that the band and risk sets are visible at check times too.
    ``at_risk[i]`` and ``event_counts[i]`` are the risk set and adoptions at
    ``times[i]``; ``n``, ``events`` and ``censored`` are totals.
    """

    times: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    at_risk: np.ndarray
    event_counts: np.ndarray
    n: int
    events: int
    censored: int
    confidence: float = 0.95

    def at(self, t):
        """S(t) as a right-continuous step: adoption at meeting k counts at k.

        Before the first observed time nothing has been adopted, so S=1.
        Beyond the last time the curve stays at its last value (it is not
        identified there; callers should not read past their horizon).
        """
        t_arr = np.asarray(t, dtype=float)
        idx = np.searchsorted(self.times, t_arr, side="right") - 1
        values = np.concatenate(([1.0], self.survival))[idx + 1]
        return float(values) if values.ndim == 0 else values


@dataclass(frozen=True)
class MedianEstimate:
    """Median deadlock with its confidence limits; None means "not reached".

    None rather than NaN or the horizon, because a heavily censored rule has
    no median inside the simulated window and any number would mislead.
    """

    value: float | None
    lower: float | None
    upper: float | None

    def __str__(self) -> str:
        def fmt(x):
            return "not reached" if x is None else f"{x:g}"

        if self.value is None and self.lower is None:
            return "not reached"
        return f"{fmt(self.value)} [{fmt(self.lower)}, {fmt(self.upper)}]"


def _as_inputs(meetings, censored) -> tuple[np.ndarray, np.ndarray]:
    """Validate strictly: a NaN flag silently read as False would turn a
    censored run into an adoption."""
    t = np.asarray(meetings, dtype=float)
    c_raw = np.asarray(censored)
    if t.ndim != 1 or c_raw.ndim != 1 or t.shape != c_raw.shape:
        raise ValueError("meetings and censored must be 1-D and of equal length")
    if t.size == 0:
        raise ValueError("need at least one replication")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("meetings must be finite and non-negative")
    if c_raw.dtype == bool:
        c = c_raw
    elif c_raw.dtype.kind in "iuf" and np.all(np.isin(c_raw, (0, 1))):
        c = c_raw.astype(bool)
    else:
        raise ValueError("censored must be boolean (no missing values)")
    return t, c


def _counts(counts, t: np.ndarray) -> np.ndarray | None:
    """Replications per entry (None: one each), at least one: a zero would add a time nobody was observed at."""
    if counts is None:
        return None
    w = np.asarray(counts)
    if w.shape != t.shape or w.dtype.kind not in "iu" or np.any(w < 1):
        raise ValueError("counts must be positive integers, one per entry of meetings")
    return w


def _steps(t: np.ndarray, c: np.ndarray, w: np.ndarray | None = None):
    """Every distinct observed time, with its risk set and adoptions; `w`: replications per entry (None: one each)."""
    if w is None:
        times, at, removed = np.unique(t, return_inverse=True, return_counts=True)
    else:
        times, at = np.unique(t, return_inverse=True)
        removed = np.bincount(at, weights=w, minlength=len(times)).astype(np.int64)  # whole numbers: exact below 2**53
    events = np.bincount(at, weights=~c if w is None else w * ~c, minlength=len(times)).astype(int)
    at_risk = int(removed.sum()) - np.concatenate(([0], np.cumsum(removed)[:-1]))
    return times, at_risk, events


def _band(surv, at_risk, events, confidence: float, method: str):
    """scipy.stats.ecdf's pointwise band: Greenwood ("linear") or exponential Greenwood ("log-log"); NaN where 0/0."""
    z = ndtri(1 / 2 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        greenwood = np.cumsum(events / (at_risk * (at_risk - events)))
        if method == "linear":
            half = z * np.sqrt(surv**2 * greenwood)
            low, high = surv - half, surv + half
        else:
            half = z * np.sqrt(1 / np.log(surv) ** 2 * greenwood)
            loglog = np.log(-np.log(surv))
            low, high = np.exp(-np.exp(loglog + half)), np.exp(-np.exp(loglog - half))
    return np.clip(low, 0, 1), np.clip(high, 0, 1)


def _fill_band(surv, lower, upper, at_risk, confidence):
    """The band is NaN where the variance formula is 0/0: at S=1 (log-log
    before any adoption) and at S=0 (everyone left adopted). At S=1 nothing
    is uncertain yet, so the band is [1, 1]. At S=0 the lower limit is 0; the
    upper limit is the last finite one times the exact (Clopper–Pearson)
    upper limit of surviving that step when all n at risk adopted,
    1 − (α/2)^(1/n). Carrying the last value forward instead would claim
    that 500 adoptions out of 500 leave the median unbounded."""
    lower = np.array(lower, dtype=float)
    upper = np.array(upper, dtype=float)
    one = surv >= 1.0
    lower[one & np.isnan(lower)] = 1.0
    upper[one & np.isnan(upper)] = 1.0
    lower[np.isnan(lower) & (surv <= 0.0)] = 0.0
    alpha = 1.0 - confidence
    last = 1.0
    for i in range(len(upper)):
        if np.isnan(upper[i]):
            upper[i] = last * (1.0 - (alpha / 2) ** (1.0 / max(at_risk[i], 1))) if surv[i] <= 0.0 else np.nan
        last = upper[i]
    # Guard the band against floating-point rounding around the estimate.
    lower = np.clip(np.minimum(lower, surv), 0.0, 1.0)
    upper = np.clip(np.maximum(upper, surv), 0.0, 1.0)
    return lower, upper


def kaplan_meier(meetings, censored, confidence: float = 0.95, method: str = "log-log", counts=None) -> Survival:
    """Kaplan-Meier curve of deadlock duration with a pointwise band.

    The default band is scipy's "log-log" (exponential Greenwood) because the
    plain Greenwood ("linear") band leaves [0, 1] and undercovers in the
    tails, which is exactly where "not reached" medians are decided.
    `counts` gives the replications that ended as each entry (runs counted by
    their ending): the same curve as each entry repeated that often, without
    building one entry per replication.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be in (0, 1)")
    if method not in ("linear", "log-log"):
        raise ValueError(f"method must be 'linear' or 'log-log', not {method!r}")
    t, c = _as_inputs(meetings, censored)
    w = _counts(counts, t)
    n, n_cens = (len(t), int(c.sum())) if w is None else (int(w.sum()), int(w[c].sum()))
    times, at_risk, event_counts = _steps(t, c, w)
    if n_cens == n:
        # Every run is censored: nobody was ever adopted, so the estimate is
        # S(t)=1 on the whole observed window with no uncertainty to report.
        ones = np.ones_like(times)
        return Survival(times, ones, ones.copy(), ones.copy(), at_risk, event_counts, n, 0, n_cens, confidence)
    if n_cens == 0:
        # scipy's arithmetic for an uncensored sample (1 − F̂, not the product):
        # the two differ in the last bits, enough to move the median a step.
        surv = 1.0 - np.cumsum(event_counts) / n
    else:
        surv = np.cumprod((at_risk - event_counts) / at_risk)
    low, high = _band(surv, at_risk, event_counts, confidence, method)
    lower, upper = _fill_band(surv, low, high, at_risk, confidence)
    return Survival(times, surv, lower, upper, at_risk, event_counts, n, n - n_cens, n_cens, confidence)


def _first_at_or_below(times, curve, level=0.5) -> float | None:
    hit = np.flatnonzero(curve <= level)
    return float(times[hit[0]]) if hit.size else None


def median_deadlock(surv: Survival) -> MedianEstimate:
    """Median as the first time S(t) <= 0.5, CI where the band crosses 0.5.

    "First time <= 0.5" gives the lower median when S sits exactly at 0.5
    (e.g. uncensored [1, 2, 3, 4] -> 2, not 2.5), so the result is always an
    observed meeting count. The limits follow Brookmeyer-Crowley by
    inverting the pointwise band: the lower limit is where the lower band
    first reaches 0.5, the upper limit where the upper band does.
    """
    return MedianEstimate(
        value=_first_at_or_below(surv.times, surv.survival),
        lower=_first_at_or_below(surv.times, surv.lower),
        upper=_first_at_or_below(surv.times, surv.upper),
    )


def _rmst_pieces(surv: Survival, horizon: float):
    """Left ends, widths and heights of the steps of S on [0, horizon]."""
    if not horizon > 0:
        raise ValueError("horizon must be positive")
    inside = surv.times < horizon
    knots = np.concatenate(([0.0], surv.times[inside], [float(horizon)]))
    heights = np.concatenate(([1.0], surv.survival[inside]))
    return knots, np.diff(knots), heights


def restricted_mean(surv: Survival, horizon: float) -> float:
    """Expected meetings deadlocked, capped at ``horizon``: integral of S.

    Unlike the median it always exists, so rules that rarely adopt can still
    be ranked. S is right-continuous with S=1 on [0, first time), so an
    adoption at meeting k contributes k: without censoring and with
    horizon >= max(meetings) this is the sample mean. Past the last observed
    time S is held flat; choose horizon <= the simulation horizon.
    """
    _, widths, heights = _rmst_pieces(surv, horizon)
    return float(np.sum(widths * heights))


def restricted_mean_se(surv: Survival, horizon: float) -> float:
    """Standard error of :func:`restricted_mean` (Greenwood-type).

    scipy exposes no RMST variance, so the usual delta-method formula is
    used: Var = sum_j A_j^2 d_j / (n_j (n_j - d_j)) over adoption times
    t_j < horizon, with A_j the area under S from t_j to the horizon.
    When n_j == d_j the curve is 0 afterwards so A_j = 0 and the term is 0.
    """
    knots, widths, heights = _rmst_pieces(surv, horizon)
    area = widths * heights
    tail = np.cumsum(area[::-1])[::-1]  # tail[i] = area from knots[i] to horizon
    inside = surv.times < horizon
    d = surv.event_counts[inside].astype(float)
    r = surv.at_risk[inside].astype(float)
    a = tail[1:]  # area from each in-window time to the horizon
    keep = (d > 0) & (r > d)
    var = np.sum(a[keep] ** 2 * d[keep] / (r[keep] * (r[keep] - d[keep])))
    return float(math.sqrt(var))


def _tally(meetings, censored) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sample as a log-rank test needs it: its distinct durations, how many lasted at least each, how many adopted at each."""
    return _steps(*_as_inputs(meetings, censored))


def _logrank_tallies(a, b) -> tuple[float, float]:
    """scipy.stats.logrank's statistic and two-sided p-value, from the two samples' tallies.

    Its arithmetic step for step, but the variance's products in exact integers:
    scipy multiplies four risk-set counts in int64, which wraps past 2**63 (from
    about 10⁵ replications a rule here) and gives a wrong statistic without a warning.
    """
    (ta, ra, da), (tb, rb, db) = a, b
    if not da.any() and not db.any():
        return math.nan, math.nan
    times = np.union1d(ta[da > 0], tb[db > 0])  # the pooled sample's adoption times

    def at(t, r, d):  # at risk (duration ≥ time) and adoptions, at each pooled adoption time
        i = np.searchsorted(t, times)
        found = np.append(t, np.inf)[i] == times
        return np.append(r, 0)[i], np.where(found, np.append(d, 0)[i], 0)

    (n_a, d_a), (n_b, d_b) = at(ta, ra, da), at(tb, rb, db)
    n, d = n_a + n_b, d_a + d_b
    big = [np.asarray(x, dtype=object) for x in (n_a, n_b, d, n)]  # Python integers: exact
    num = big[0] * big[1] * big[2] * (big[3] - big[2])
    den = big[3] ** 2 * (big[3] - 1)
    keep = n > 1
    with np.errstate(invalid="ignore"):  # zero variance (every adoption at one meeting): 0/0, nothing to test, NaN says so
        var = np.sum(num[keep].astype(float) / den[keep].astype(float))
        statistic = (int(da.sum()) - np.sum(n_a * (d / n))) / np.sqrt(var)
    return float(statistic), float(2 * ndtr(-np.abs(statistic)))


def logrank(a_meetings, a_censored, b_meetings, b_censored) -> tuple[float, float]:
    """Two-sided logrank test that two rules deadlock equally long.

    Returns scipy's signed z statistic (its square is the usual chi-square
    with 1 df); negative means rule a sees fewer adoptions than expected,
    i.e. longer deadlocks. If neither group ever adopts there is no
    information, and (nan, nan) is returned instead of scipy's 0/0 warning.
    Computed from each sample's counts per meeting (see _logrank_tallies):
    scipy's own sorts and copies every replication of both rules, for each pair.
    """
    return _logrank_tallies(_tally(a_meetings, a_censored), _tally(b_meetings, b_censored))


def pairwise_logrank(groups: dict[str, tuple]) -> pd.DataFrame:
    """Logrank test for every pair of rules, in the dict's order.

    p-values are unadjusted; with many rules, adjust (e.g. Holm) before
    calling a difference real.
    """
    tallies = {name: _tally(m, c) for name, (m, c) in groups.items()}  # once per rule, not once per pair
    rows = []
    for (name_a, a), (name_b, b) in combinations(tallies.items(), 2):
        stat, p = _logrank_tallies(a, b)
        rows.append({"rule_a": name_a, "rule_b": name_b, "statistic": stat, "pvalue": p})
    return pd.DataFrame(rows, columns=["rule_a", "rule_b", "statistic", "pvalue"])


def by_rule(runs: pd.DataFrame, columns: list[str]):
    """(rule, {column: array}) per rule, in order of first appearance, rows in their order: `runs.groupby("rule", sort=False)`.

    The runner writes each rule's rows together, so each rule is a slice: views,
    not the copies a groupby makes of every column (about 250 MB at 10⁶ replications × 8 rules).
    """
    rule = runs["rule"]
    codes = rule.cat.codes.to_numpy() if isinstance(rule.dtype, pd.CategoricalDtype) else pd.factorize(rule)[0]
    starts = np.flatnonzero(np.diff(codes)) + 1 if len(codes) else np.array([], dtype=int)
    if len(codes) and len(np.unique(codes[np.r_[0, starts]])) == len(starts) + 1 and codes.min() >= 0:
        cols = {c: runs[c].to_numpy() for c in columns}
        for a, b in zip(np.r_[0, starts], np.r_[starts, len(codes)]):
            yield rule.iloc[a], {c: v[a:b] for c, v in cols.items()}
        return
    for name, g in runs.groupby("rule", sort=False):  # rules interleaved, or a missing rule (NaN)
        yield name, {c: g[c].to_numpy() for c in columns}


def survival_table(runs: pd.DataFrame, horizon: float, confidence: float = 0.95) -> pd.DataFrame:
    """One row per rule: how many adopted, median deadlock and RMST.

    Rules keep their order of first appearance in ``runs``. Medians not
    reached are NaN in the numeric columns and spelled out in median_text.
    """
    missing = {"rule", "meetings", "censored"} - set(runs.columns)
    if missing:
        raise ValueError(f"runs is missing columns: {sorted(missing)}")
    rows = []
    for rule, g in runs.groupby("rule", sort=False):
        km = kaplan_meier(g["meetings"].to_numpy(), g["censored"].to_numpy(), confidence)
        med = median_deadlock(km)
        nan = lambda x: math.nan if x is None else x  # noqa: E731
        rows.append({
            "rule": rule,
            "n": km.n,
            "adopted": km.events,
            "median": nan(med.value),
            "median_lower": nan(med.lower),
            "median_upper": nan(med.upper),
            "median_text": str(med),
            "rmst": restricted_mean(km, horizon),
            "rmst_se": restricted_mean_se(km, horizon),
        })
    cols = ["rule", "n", "adopted", "median", "median_lower", "median_upper",
            "median_text", "rmst", "rmst_se"]
    return pd.DataFrame(rows, columns=cols)


# ------------------------------------------------------------------ survival between rules


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment: controls the chance of any false difference among all pairs."""
    p = np.asarray(pvalues, dtype=float)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok])]
    m = len(order)
    adjusted = np.full(len(p), np.nan)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return adjusted


@table("logrank.csv")
def logrank_results(results) -> pd.DataFrame:
    return logrank_table(results.runs)


def logrank_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Pairwise log-rank tests between rules, with Holm-adjusted p-values.

    The rules are run on the same random draws, so their samples are
    positively correlated and the (independent-samples) test is conservative.
    """
    groups = {rule: (g["meetings"], g["censored"]) for rule, g in by_rule(runs, ["meetings", "censored"])}
    table = pairwise_logrank(groups)
    return table.assign(pvalue_holm=holm(table["pvalue"]))
