"""The null model's exact law: geometric deadlock with mean 1/A (Coleman's power to act)."""

import math

import numpy as np
import pytest
from scipy import stats

from kpsim.run.runner import run
from kpsim.scenario.load import load_scenario


def coleman_a(n, p, threshold):
    """P(at least `threshold` of n independent supporters), exactly."""
    return float(stats.binom.sf(threshold - 1, n, p))


def test_exact_values_match_the_published_ones():
    assert coleman_a(60, 0.5, 31) == pytest.approx(0.448711, abs=5e-7)
    assert coleman_a(60, 0.5, 40) == pytest.approx(0.006745, abs=5e-7)
    assert 1 / coleman_a(60, 0.5, 40) == pytest.approx(148.27, abs=0.01)
    assert coleman_a(61, 0.5, 31) == pytest.approx(0.5, abs=1e-15)  # odd n, p = 1/2: exactly a half


@pytest.fixture(scope="module")
def null_runs(request):
    sc = load_scenario(request.config.rootpath / "scenarios" / "null_model.yaml")
    runs, _ = run(sc, replications=6000, jobs=1, progress=False)
    return sc, runs


@pytest.mark.parametrize("rule,threshold", [("simple_majority", 31), ("two_thirds", 40)])
def test_null_model_follows_the_geometric_law(null_runs, rule, threshold):
    sc, runs = null_runs
    g = runs[runs.rule == rule]
    a = coleman_a(60, 0.5, threshold)
    assert not g.censored.any()  # the horizon of 5000 meetings is never reached at these rates
    t = g.meetings.to_numpy()
    n = len(t)
    # mean: geometric variance (1 - A)/A², tolerance 4 standard errors
    se = math.sqrt((1 - a) / a**2 / n)
    assert abs(t.mean() - 1 / a) < 4 * se
    # the whole adoption-by-meeting curve: DKW band at level 1e-4
    eps = math.sqrt(math.log(2 / 1e-4) / (2 * n))
    grid = np.arange(1, t.max() + 1)
    empirical = np.searchsorted(np.sort(t), grid, side="right") / n
    exact = 1 - (1 - a) ** grid
    assert np.max(np.abs(empirical - exact)) < eps

