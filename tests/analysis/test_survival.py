"""Tests for kpsim.survival: conventions, hand-checked values, known laws."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kpsim.analysis.survival import (
    MedianEstimate,
    kaplan_meier,
    logrank,
    median_deadlock,
    pairwise_logrank,
    restricted_mean,
    restricted_mean_se,
    survival_table,
)


def geometric_runs(p, n, horizon, seed):
    """Adoption at meeting T ~ Geometric(p) on {1, 2, ...}; censored past the horizon."""
    t = np.random.default_rng(seed).geometric(p, n)
    return np.minimum(t, horizon), t > horizon


# --- medians ---------------------------------------------------------------


def test_median_uncensored_odd_n_equals_sample_median():
    m = np.random.default_rng(0).integers(1, 40, size=101)
    est = median_deadlock(kaplan_meier(m, np.zeros(m.size, bool)))
    assert est.value == np.median(m)


def test_median_uncensored_even_n_is_lower_median():
    # S = 0.75, 0.5, 0.25, 0: the first time S <= 0.5 is 2, the lower median,
    # whereas numpy averages the middle pair to 2.5.
    est = median_deadlock(kaplan_meier([4, 1, 3, 2], [False] * 4))
    assert est.value == 2.0
    assert np.median([1, 2, 3, 4]) == 2.5


def test_heavy_censoring_median_not_reached():
    rng = np.random.default_rng(1)
    n, horizon = 500, 10
    adopted = rng.random(n) < 0.2  # ~80% censored at the horizon
    meetings = np.where(adopted, rng.integers(1, horizon, size=n), horizon)
    assert (~adopted).mean() > 0.75
    est = median_deadlock(kaplan_meier(meetings, ~adopted))
    assert est.value is None
    assert est.upper is None
    assert str(est) == "not reached"


def test_median_estimate_str():
    assert str(MedianEstimate(5.0, 4.0, 6.0)) == "5 [4, 6]"
    assert str(MedianEstimate(12.0, 9.0, None)) == "12 [9, not reached]"
    assert str(MedianEstimate(None, None, None)) == "not reached"


def test_median_ci_brackets_median():
    m, c = geometric_runs(0.2, 400, 30, seed=2)
    est = median_deadlock(kaplan_meier(m, c))
    assert est.lower <= est.value <= est.upper
    # Median of Geometric(0.2): first t with 0.8**t <= 0.5, i.e. 4.
    assert est.lower <= 4 <= est.upper


# --- edge cases ------------------------------------------------------------


def test_all_censored_curve_is_one_and_median_not_reached():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        surv = kaplan_meier([3, 5, 5, 10], [True] * 4)
    assert np.all(surv.survival == 1.0)
    assert np.all(surv.lower == 1.0) and np.all(surv.upper == 1.0)
    assert surv.at(0) == 1.0 and surv.at(100) == 1.0
    assert (surv.events, surv.censored, surv.n) == (0, 4, 4)
    est = median_deadlock(surv)
    assert est.value is None and str(est) == "not reached"


def test_censored_flags_must_be_clean():
    with pytest.raises(ValueError):
        kaplan_meier([1, 2, 3], np.array([False, np.nan, True], dtype=object))
    with pytest.raises(ValueError):
        kaplan_meier([1, 2, 3], [False, True])


# --- Kaplan-Meier against hand computation ---------------------------------


def test_km_hand_computed_example():
    times = [1, 2, 2, 3, 4]
    cens = [False, False, True, False, True]
    surv = kaplan_meier(times, cens)
    # Product limit; a run censored at 2 is still at risk at the adoption at 2.
    # t=1: 5 at risk, 1 adopted -> 4/5
    # t=2: 4 at risk, 1 adopted -> 4/5 * 3/4
    # t=3: 2 at risk, 1 adopted -> 4/5 * 3/4 * 1/2
    # t=4: 1 at risk, censored only -> unchanged
    s1, s2, s3 = 4 / 5, 4 / 5 * 3 / 4, 4 / 5 * 3 / 4 * 1 / 2
    np.testing.assert_allclose(surv.times, [1, 2, 3, 4])
    np.testing.assert_allclose(surv.survival, [s1, s2, s3, s3])
    np.testing.assert_array_equal(surv.at_risk, [5, 4, 2, 1])
    np.testing.assert_array_equal(surv.event_counts, [1, 1, 1, 0])
    assert (surv.n, surv.events, surv.censored) == (5, 3, 2)
    # Step function: S=1 before the first adoption, right-continuous.
    np.testing.assert_allclose(surv.at([0, 0.99, 1, 1.5, 2, 3.5, 4, 9]),
                               [1, 1, s1, s1, s2, s3, s3, s3])
    # Exponential Greenwood band at t=1 by hand:
    # Var(log S) = d / (n (n - d)) = 1/20; se of log(-log S) = sqrt(1/20)/|log S|.
    z = stats.norm.ppf(0.975)
    se = math.sqrt(1 / 20) / abs(math.log(s1))
    assert surv.lower[0] == pytest.approx(s1 ** math.exp(z * se))
    assert surv.upper[0] == pytest.approx(s1 ** math.exp(-z * se))
    # Median: first time S <= 0.5 is 3.
    assert median_deadlock(surv).value == 3.0


@pytest.mark.parametrize("method", ["log-log", "linear"])
def test_km_and_its_band_are_scipy_ecdf(method):
    """kpsim writes the estimator out (summaries need no scipy.stats import); it must be scipy's, ties and censoring included."""
    rng = np.random.default_rng(2026)
    for i in range(400):
        n = int(rng.integers(1, 300))
        t = rng.integers(0, int(rng.integers(1, 40)), n).astype(float)  # many ties, adoptions and censorings at the same meeting
        c = rng.random(n) < rng.random() if i % 2 else np.zeros(n, dtype=bool)  # scipy has a separate path when nothing is censored
        if c.all():
            continue
        ours = kaplan_meier(t, c, method=method)
        sf = stats.ecdf(stats.CensoredData.right_censored(t, c)).sf
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NaN where 0/0, as kpsim's band before it fills them
            ci = sf.confidence_interval(0.95, method=method)
        np.testing.assert_array_equal(ours.times, sf.quantiles)
        np.testing.assert_array_equal(ours.survival, sf.probabilities)  # bit for bit: medians sit on S = 0.5 exactly
        for mine, theirs in ((ours.lower, ci.low.probabilities), (ours.upper, ci.high.probabilities)):
            defined = ~np.isnan(theirs)  # where scipy's formula is 0/0 kpsim fills the band (tested above and below)
            np.testing.assert_allclose(mine[defined], np.clip(theirs[defined], 0, 1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["log-log", "linear"])
def test_counts_give_the_curve_of_the_repeated_sample_bit_for_bit(method):
    """Runs counted by their ending (the charts' input): the same Survival as one entry per replication."""
    rng = np.random.default_rng(7)
    for i in range(300):
        k = int(rng.integers(1, 30))
        t = rng.integers(0, 25, k)  # repeated times, adopted and censored at the same meeting
        c = rng.random(k) < (rng.random() if i % 3 else 0.0)
        w = rng.integers(1, 4 if i % 2 else 1000, k)
        a, b = kaplan_meier(np.repeat(t, w), np.repeat(c, w), method=method), kaplan_meier(t, c, method=method, counts=w)
        for f in ("times", "survival", "lower", "upper", "at_risk", "event_counts"):
            x, y = getattr(a, f), getattr(b, f)
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), f
        assert (a.n, a.events, a.censored) == (b.n, b.events, b.censored)
    for bad in ([1, 0], [1.0, 2.0], [1]):
        with pytest.raises(ValueError):
            kaplan_meier([1, 2], [False, True], counts=bad)


def test_uncensored_median_is_scipys_where_rounding_decides():
    """Ten adoptions, five by meeting 7: S(7) is 0.5 only if computed as 1 − 5/10; the product of the steps lands a bit above."""
    t = np.array([3, 3, 4, 7, 7, 8, 9, 10, 14, 17], dtype=float)
    c = np.zeros(t.size, dtype=bool)
    assert median_deadlock(kaplan_meier(t, c)).value == 7.0
    sf = stats.ecdf(t).sf
    assert sf.quantiles[np.argmax(sf.probabilities <= 0.5)] == 7.0
    assert np.cumprod([8 / 10, 7 / 8, 5 / 7])[-1] > 0.5  # why the product form would say 8


def test_km_geometric_matches_known_survival():
    p, n, horizon = 0.2, 20000, 10
    m, c = geometric_runs(p, n, horizon, seed=12345)
    surv = kaplan_meier(m, c)
    for t in range(1, horizon):
        truth = (1 - p) ** t
        se = math.sqrt(truth * (1 - truth) / n)
        assert abs(surv.at(t) - truth) < 4 * se, t


def test_band_contains_estimate_and_narrows_with_more_data():
    small = kaplan_meier(*geometric_runs(0.2, 100, 15, seed=3))
    large = kaplan_meier(*geometric_runs(0.2, 10000, 15, seed=4))
    for s in (small, large):
        assert np.all(s.lower <= s.survival) and np.all(s.survival <= s.upper)
        assert np.all((s.lower >= 0) & (s.upper <= 1))
    for t in (2, 5, 8):
        i_s = np.searchsorted(small.times, t)
        i_l = np.searchsorted(large.times, t)
        assert small.times[i_s] == t and large.times[i_l] == t
        width_small = small.upper[i_s] - small.lower[i_s]
        width_large = large.upper[i_l] - large.lower[i_l]
        assert width_large < width_small / 5  # ~ sqrt(100) narrower


def test_band_with_linear_method_contains_estimate():
    surv = kaplan_meier(*geometric_runs(0.3, 50, 8, seed=5), method="linear")
    assert np.all(surv.lower <= surv.survival) and np.all(surv.survival <= surv.upper)
    assert not np.any(np.isnan(surv.lower)) and not np.any(np.isnan(surv.upper))


# --- restricted mean -------------------------------------------------------


def test_restricted_mean_uncensored_is_sample_mean():
    m = np.random.default_rng(6).geometric(0.15, 300)
    surv = kaplan_meier(m, np.zeros(m.size, bool))
    assert restricted_mean(surv, m.max()) == pytest.approx(m.mean())
    assert restricted_mean(surv, m.max() + 50) == pytest.approx(m.mean())
    # Greenwood-type SE reduces to sqrt(sum (x - mean)^2) / n without censoring.
    se = math.sqrt(np.sum((m - m.mean()) ** 2)) / m.size
    assert restricted_mean_se(surv, m.max()) == pytest.approx(se)


def test_restricted_mean_hand_computed_with_censoring():
    surv = kaplan_meier([1, 2, 2, 3, 4], [False, False, True, False, True])
    # S = 1 on [0,1), .8 on [1,2), .6 on [2,3), .3 on [3,4)
    assert restricted_mean(surv, 4) == pytest.approx(1 + 0.8 + 0.6 + 0.3)
    assert restricted_mean(surv, 2.5) == pytest.approx(1 + 0.8 + 0.6 * 0.5)


def test_restricted_mean_geometric_truth():
    p, horizon = 0.2, 10
    m, c = geometric_runs(p, 20000, horizon, seed=7)
    surv = kaplan_meier(m, c)
    truth = sum((1 - p) ** k for k in range(horizon))  # E[min(T, horizon)]
    est, se = restricted_mean(surv, horizon), restricted_mean_se(surv, horizon)
    assert abs(est - truth) < 4 * se


# --- logrank ---------------------------------------------------------------


def test_logrank_identical_samples():
    m, c = geometric_runs(0.2, 500, 20, seed=8)
    stat, p = logrank(m, c, m, c)
    assert p > 0.5
    assert stat == pytest.approx(0.0)


def test_logrank_different_samples():
    a, ac = geometric_runs(0.2, 2000, 20, seed=9)
    b, bc = geometric_runs(0.4, 2000, 20, seed=10)
    stat, p = logrank(a, ac, b, bc)
    assert p < 1e-6
    assert stat < 0  # rule a (p=0.2) adopts less often than expected


def test_logrank_no_adoptions_anywhere_is_nan():
    # Explicit (nan, nan), not scipy's 0/0 RuntimeWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stat, p = logrank([5, 5], [True, True], [5, 5], [True, True])
    assert math.isnan(stat) and math.isnan(p)


def test_pairwise_logrank_all_pairs():
    groups = {
        "consensus": geometric_runs(0.1, 300, 20, seed=11),
        "majority": geometric_runs(0.4, 300, 20, seed=12),
        "supermajority": geometric_runs(0.25, 300, 20, seed=13),
    }
    df = pairwise_logrank(groups)
    assert list(df.columns) == ["rule_a", "rule_b", "statistic", "pvalue"]
    assert set(zip(df.rule_a, df.rule_b)) == {
        ("consensus", "majority"),
        ("consensus", "supermajority"),
        ("majority", "supermajority"),
    }
    row = df[(df.rule_a == "consensus") & (df.rule_b == "majority")].iloc[0]
    assert (row.statistic, row.pvalue) == pytest.approx(logrank(*groups["consensus"], *groups["majority"]))


# --- table -----------------------------------------------------------------


def test_survival_table():
    horizon = 10
    m1, c1 = geometric_runs(0.3, 400, horizon, seed=14)
    runs = pd.concat([
        pd.DataFrame({"rule": "majority", "meetings": m1, "censored": c1}),
        pd.DataFrame({"rule": "consensus", "meetings": [horizon] * 50, "censored": [True] * 50}),
    ], ignore_index=True)
    tab = survival_table(runs, horizon).set_index("rule")
    assert list(tab.index) == ["majority", "consensus"]
    assert {"n", "adopted", "median", "median_lower", "median_upper",
            "median_text", "rmst"} <= set(tab.columns)

    maj = tab.loc["majority"]
    assert maj.n == 400 and maj.adopted == int((~c1).sum())
    km = kaplan_meier(m1, c1)
    med = median_deadlock(km)
    assert maj["median"] == med.value and maj.median_text == str(med)
    assert maj.rmst == pytest.approx(restricted_mean(km, horizon))

    con = tab.loc["consensus"]
    assert con.n == 50 and con.adopted == 0  # censored runs never count as adopted
    assert math.isnan(con["median"]) and math.isnan(con.median_lower)
    assert math.isnan(con.median_upper)
    assert con.median_text == "not reached"
    assert con.rmst == pytest.approx(horizon)


def test_everyone_adopted_at_once_has_a_bounded_median():
    """500 adoptions at meeting 1 out of 500: the median is 1 with certainty, not '[1, not reached]'."""
    km = kaplan_meier(np.ones(500), np.zeros(500, dtype=bool))
    med = median_deadlock(km)
    assert (med.value, med.lower, med.upper) == (1.0, 1.0, 1.0)
    # the exact upper limit for 0 survivors out of n: 1 - (alpha/2)^(1/n)
    assert km.upper[0] == pytest.approx(1 - 0.025 ** (1 / 500))


def test_logrank_with_nothing_to_test_is_nan_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stat, p = logrank(np.ones(50), np.zeros(50, bool), np.ones(40), np.zeros(40, bool))
    assert math.isnan(stat) and math.isnan(p)


def test_logrank_is_scipys_to_the_last_bit():
    rng = np.random.default_rng(21)
    for _ in range(200):
        na, nb, horizon = rng.integers(1, 200), rng.integers(1, 200), int(rng.integers(1, 25))
        a, ac = geometric_runs(rng.uniform(0.02, 0.9), na, horizon, seed=int(rng.integers(1 << 30)))
        b, bc = geometric_runs(rng.uniform(0.02, 0.9), nb, horizon, seed=int(rng.integers(1 << 30)))
        ac |= rng.random(na) < 0.3  # withdrawn: censored before the horizon
        if ac.all() and bc.all():
            continue
        ref = stats.logrank(stats.CensoredData.right_censored(a, ac), stats.CensoredData.right_censored(b, bc))
        assert logrank(a, ac, b, bc) == (float(ref.statistic), float(ref.pvalue))


def test_logrank_of_large_samples_does_not_overflow():
    """At 10⁵ replications a rule scipy's variance overflows int64; the statistic must still be the textbook one."""
    a, ac = geometric_runs(0.2, 100_000, 20, seed=22)
    b, bc = geometric_runs(0.25, 100_000, 20, seed=23)
    u = v = 0.0
    for t in np.unique(np.concatenate([a[~ac], b[~bc]])):  # the textbook sums, meeting by meeting, in exact integers
        n_a, n_b = int((a >= t).sum()), int((b >= t).sum())
        d_a, d = int(((a == t) & ~ac).sum()), int(((a == t) & ~ac).sum() + ((b == t) & ~bc).sum())
        n = n_a + n_b
        u += d_a - n_a * d / n
        v += float(n_a * n_b * d * (n - d)) / float(n * n * (n - 1))
    stat, p = logrank(a, ac, b, bc)
    assert stat == pytest.approx(u / math.sqrt(v), rel=1e-9)
    assert p == pytest.approx(2 * stats.norm.sf(abs(u / math.sqrt(v))), rel=1e-6, abs=1e-300)
