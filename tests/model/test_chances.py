"""The setter's compiled chances (kpsim.model.chances) give the numbers of the numpy statements they replace, bit for bit.

Random positions, saliences (some 0), objection thresholds, red lines, members and noise (0 too), with fixed seeds;
every count test the rules make; the stance grid of the sampled chance; and the small helpers of the plan (its
grids, candidates and choice).
"""

from types import SimpleNamespace

import numpy as np
import pytest

from kpsim.model import chances
from kpsim.model.chair import count_test_chance, exact_chance, grid, sorted_unique, stance_chances
from kpsim.model.plenary import PlenaryModel
from kpsim.rules import RULES

COUNT_RULES = [
    {"rule": "consensus"}, {"rule": "consensus_minus_k", "k": 2}, {"rule": "simple_majority"},
    {"rule": "simple_majority", "ties": "pass"}, {"rule": "qualified_majority", "q": "2/3"},
    {"rule": "qualified_majority", "q": "3/4", "ties": "fail"}, {"rule": "written_procedure", "min_support": 2},
]


class Drawn:
    """What the chances read of a PlenaryModel, drawn at random (seeded)."""

    below_red_line = PlenaryModel.below_red_line
    stances_for = PlenaryModel.stances_for

    def __init__(self, seed: int, noise: float):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 40))
        self.n_participants = int(rng.integers(0, n + 1))
        self.status_quo = float(rng.choice([0.0, 1.0, rng.random()]))
        self.direction = np.float64(rng.choice([-1.0, 1.0]))
        self.salience = np.where(rng.random(n) < 0.2, 0.0, rng.random(n))
        self.dynamics = SimpleNamespace(noise=noise, reluctance=float(rng.choice([0.0, 0.1 * rng.random()])))
        self.threshold = self.dynamics.reluctance + 0.2 * rng.random(n)
        red = np.where(rng.random(n) < 0.3, rng.random(n), np.nan)
        self.red_line = red if np.isfinite(red).any() else None
        self.red_cols = np.flatnonzero(np.isfinite(red))
        self.red_values = red[self.red_cols]
        self.members = None if rng.random() < 0.5 else rng.random(n) < 0.7
        self.x = rng.random(n)
        # texts at random, at the actors' positions and red lines (ties), in no order
        self.t = np.concatenate([rng.random(int(rng.integers(1, 20))), self.x[:3], self.red_values[:2]])
        rng.shuffle(self.t)

    def objection_threshold(self):
        return self.threshold


@pytest.mark.parametrize("noise", [0.0, 0.05, 0.4])
@pytest.mark.parametrize("seed", range(12))
def test_the_exact_chance_is_the_numpy_one_to_the_bit(seed, noise):
    m = Drawn(seed, noise)
    p = m.n_participants
    voters = np.arange(p) if m.members is None else np.flatnonzero(m.members[:p])
    support, objection = stance_chances(m, m.x, m.t)
    for rule in COUNT_RULES:
        test = RULES[rule["rule"]](**rule).count_test()
        want = count_test_chance(support[:, voters], objection[:, voters], test)
        assert exact_chance(m, m.x, m.t, test, m.members).tobytes() == want.tobytes(), rule


@pytest.mark.parametrize("seed", range(8))
def test_count_chance_is_count_test_chance_to_the_bit_where_sums_pass_one(seed):
    """Chances whose sum with the objection passes 1 by a rounding (abstain a hair below 0), and sure stances."""
    rng = np.random.default_rng(seed)
    rows, n = int(rng.integers(1, 30)), int(rng.integers(0, 70))
    support = rng.random((rows, n)) * rng.choice([0.0, 0.3, 1.0], (rows, n))
    objection = np.where(rng.random((rows, n)) < 0.3, 1.0 - support, (1.0 - support) * rng.random((rows, n)))
    for rule in COUNT_RULES:
        t = RULES[rule["rule"]](**rule).count_test()
        got = chances.count_chance(support, objection, t.gain, t.loss, t.offset, t.strict, t.veto, t.need_support)
        assert got.tobytes() == count_test_chance(support, objection, t).tobytes(), rule


@pytest.mark.parametrize("noise", [0.0, 0.3])
@pytest.mark.parametrize("seed", range(8))
def test_the_stance_grid_is_stances_for_on_the_grid(seed, noise):
    m = Drawn(seed, noise)
    draws = np.random.default_rng(seed).normal(size=(64, len(m.x))) if noise else np.zeros((1, len(m.x)))
    want = m.stances_for(m.x[None, None, :], m.t[:, None, None], draws[None, :, :]).reshape(-1, len(m.x))
    got = chances.stance_grid(m.x, m.t, draws, m.status_quo, noise, m.salience, m.dynamics.reluctance, -m.threshold,
                              m.red_cols, m.red_values, float(m.direction))
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("seed", range(4))
def test_pairwise_sum_sums_as_numpy(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        a = rng.random(int(rng.integers(0, 600))) ** 4 * rng.choice([1.0, 1e-300, 1e300])
        lo = int(rng.integers(0, len(a) + 1))
        n = int(rng.integers(0, len(a) - lo + 1))
        assert np.float64(0.0 + chances.pairwise_sum(a, lo, n)).tobytes() == a[lo : lo + n].sum().tobytes()


@pytest.mark.parametrize("seed", range(4))
def test_the_chairs_choice_is_numpys_argmax_ties_to_the_first(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        t = rng.choice(np.linspace(0, 1, 7), int(rng.integers(1, 20)))
        chair_x, sq = rng.choice([0.0, 0.5, rng.random()]), rng.choice([0.0, 0.5, 1.0])
        t = t[np.argsort(np.abs(t - chair_x), kind="stable")]
        p = rng.choice([0.0, 0.25, 1.0, rng.random()], len(t))
        expected = p * -np.abs(t - chair_x) + (1 - p) * -abs(sq - chair_x)
        assert chances.best_index(p, t, chair_x, sq) == np.argmax(expected)


def test_the_grids_and_candidates_are_linspace_and_unique_to_the_bit():
    rng = np.random.default_rng(0)
    for _ in range(500):
        lo = rng.choice([0.0, -0.0, rng.random()])
        hi = rng.choice([lo, lo + 1e-310, lo + rng.random(), 1.0 if lo <= 1 else lo])
        n = int(rng.choice([2, 17, 51]))
        assert grid(lo, hi, n).tobytes() == np.linspace(lo, hi, n).tobytes(), (lo, hi, n)
        t = np.concatenate([rng.choice([0.0, -0.0, 0.5, 1.0, rng.random()], int(rng.integers(1, 30))), [rng.random()]])
        assert sorted_unique(t).tobytes() == np.unique(t).tobytes()


def test_nan_takes_numpys_way_through_the_clip_and_the_argmax():
    """np.clip keeps NaN (the kernel's clip once made it 0), and np.argmax returns the first NaN."""
    from kpsim.rules import CountTest

    support = np.array([[np.nan, 0.5], [0.6, 0.7]])
    objection = np.array([[0.1, 0.1], [0.1, 0.1]])
    test = CountTest(gain=1, loss=1, offset=0, strict=False, veto=False, need_support=True)
    got = chances.count_chance(support, objection, test.gain, test.loss, test.offset, test.strict, test.veto, test.need_support)
    want = count_test_chance(support, objection, test)
    assert np.array_equal(got, want, equal_nan=True) and np.isnan(got[0])
    p, t = np.array([0.5, np.nan, 0.9, np.nan]), np.array([0.1, 0.2, 0.3, 0.4])
    utility = p * -np.abs(t - 0.5) + (1 - p) * -abs(0.0 - 0.5)
    assert chances.best_index(p, t, 0.5, 0.0) == np.argmax(utility) == 1
