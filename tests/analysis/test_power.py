"""Power indices against published answers, closed forms and brute-force enumeration."""

from __future__ import annotations

import math
from itertools import combinations, permutations

import numpy as np
import pytest

from kpsim.analysis.power import (
    banzhaf,
    coleman_power_to_act,
    power_table,
    shapley_shubik,
    to_integer_weights,
)

UNSC = ([7] * 5 + [1] * 10, 39)  # five permanent members, ten elected; 9 votes, no veto
EEC_1958 = ([4, 4, 4, 2, 2, 1], 12)  # France, Germany, Italy, Belgium, Netherlands, Luxembourg


def coalitions(n):
    return (c for size in range(n + 1) for c in combinations(range(n), size))


def brute_shapley_shubik(weights, quota):
    pivots = np.zeros(len(weights))
    for order in permutations(range(len(weights))):
        total = 0
        for player in order:
            total += weights[player]
            if total >= quota:
                pivots[player] += 1
                break
    return pivots / math.factorial(len(weights))


def brute_swings(weights, quota):
    swings = np.zeros(len(weights))
    for coalition in coalitions(len(weights)):
        total = sum(weights[i] for i in coalition)
        for i in set(range(len(weights))) - set(coalition):
            swings[i] += total < quota <= total + weights[i]
    return swings


def brute_coleman(weights, quota, p):
    n = len(weights)
    return sum(
        p ** len(c) * (1 - p) ** (n - len(c))
        for c in coalitions(n)
        if sum(weights[i] for i in c) >= quota
    )


def random_game(rng, max_players=8):
    n = int(rng.integers(1, max_players + 1))
    weights = rng.integers(0, 11, n)
    weights[0] += 1  # at least one positive weight, so some quota is valid
    return weights.tolist(), int(rng.integers(1, weights.sum() + 1))


def test_un_security_council():
    weights, quota = UNSC
    ss = shapley_shubik(weights, quota)
    assert ss[:5] == pytest.approx([421 / 2145] * 5, abs=1e-12)
    assert ss[5:] == pytest.approx([4 / 2145] * 10, abs=1e-12)
    bz = banzhaf(weights, quota)
    assert bz[:5] == pytest.approx([0.166929] * 5, abs=1e-6)
    assert bz[5:] == pytest.approx([0.016535] * 10, abs=1e-6)


def test_luxembourg_is_a_dummy_in_the_eec_1958():
    weights, quota = EEC_1958
    assert shapley_shubik(weights, quota)[5] == 0
    assert banzhaf(weights, quota)[5] == 0
    assert banzhaf(weights, quota, normalized=False)[5] == 0


def test_weight_is_not_power():
    assert shapley_shubik([49, 48, 3], 51) == pytest.approx([1 / 3] * 3, abs=1e-15)
    bz = banzhaf([49, 48, 3], 51)
    assert bz[0] == bz[1] == bz[2]


@pytest.mark.parametrize("n, big, quota", [(20, 5, 11), (60, 7, 31), (60, 40, 45), (70, 3, 36)])
def test_one_big_player_among_unit_weights(n, big, quota):
    """The big player pivots iff the j unit players before it satisfy quota - big <= j < quota.

    n = 70 exceeds int64 coalition counts, so this also covers the Python-int path.
    """
    weights = [big] + [1] * (n - 1)
    pivot_positions = range(max(0, quota - big), min(quota, n))
    ss = shapley_shubik(weights, quota)
    assert ss[0] == pytest.approx(len(pivot_positions) / n, rel=1e-14)
    assert ss[1:] == pytest.approx([(1 - ss[0]) / (n - 1)] * (n - 1), rel=1e-12)
    big_swings = sum(math.comb(n - 1, j) for j in pivot_positions)
    assert banzhaf(weights, quota, normalized=False)[0] == pytest.approx(
        big_swings / 2 ** (n - 1), rel=1e-14
    )


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_small_games(seed):
    rng = np.random.default_rng(seed)
    for _ in range(4):
        weights, quota = random_game(rng)
        n = len(weights)
        swings = brute_swings(weights, quota)
        p = float(rng.uniform())
        assert shapley_shubik(weights, quota) == pytest.approx(
            brute_shapley_shubik(weights, quota), abs=1e-12
        )
        assert banzhaf(weights, quota) == pytest.approx(swings / swings.sum(), abs=1e-12)
        assert banzhaf(weights, quota, normalized=False) == pytest.approx(
            swings / 2 ** (n - 1), abs=1e-12
        )
        assert coleman_power_to_act(weights, quota, p) == pytest.approx(
            brute_coleman(weights, quota, p), abs=1e-12
        )


@pytest.mark.parametrize("seed", range(3))
def test_indices_sum_to_one(seed):
    weights, quota = random_game(np.random.default_rng(seed), max_players=30)
    assert shapley_shubik(weights, quota).sum() == pytest.approx(1, abs=1e-12)
    assert banzhaf(weights, quota).sum() == pytest.approx(1, abs=1e-12)


def test_unanimity_power_to_act_is_p_to_the_n():
    weights = np.random.default_rng(1).integers(1, 50, 60)
    for p in (0.1, 0.5, 0.9):
        assert coleman_power_to_act(weights, int(weights.sum()), p) == pytest.approx(
            p**60, rel=1e-12
        )


def test_simple_majority_of_an_odd_assembly_passes_half_the_time():
    assert coleman_power_to_act([1] * 61, 31) == 0.5


@pytest.mark.parametrize(
    "quota, expected, rel",
    [(31, 0.448711, 1e-6 / 0.448711), (40, 0.006745, 1e-6 / 0.006745), (45, 6.73e-5, 1e-2)],
)
def test_power_to_act_of_sixty_equal_players(quota, expected, rel):
    assert coleman_power_to_act([1] * 60, quota) == pytest.approx(expected, rel=rel)


def test_sixty_players_with_random_weights():
    weights = np.random.default_rng(7).integers(1, 2001, 60)
    quota = int(weights.sum()) * 2 // 3
    table = power_table(weights, quota, names=[f"P{i}" for i in range(60)])
    assert list(table.columns) == [
        "name",
        "weight",
        "shapley_shubik",
        "banzhaf_normalized",
        "banzhaf_absolute",
    ]
    assert table["shapley_shubik"].sum() == pytest.approx(1, abs=1e-12)
    assert table["banzhaf_normalized"].sum() == pytest.approx(1, abs=1e-12)
    assert 0 < table.attrs["coleman_power_to_act"] < 0.5


def test_power_table_on_the_eec():
    table = power_table(*EEC_1958, names=["FR", "DE", "IT", "BE", "NL", "LU"])
    assert table.loc[5, "name"] == "LU"
    assert table.loc[0, "shapley_shubik"] == pytest.approx(7 / 30, abs=1e-15)
    assert table.attrs["coleman_power_to_act"] == pytest.approx(14 / 64, abs=1e-15)


def test_common_factor_does_not_change_the_game():
    weights, quota = UNSC
    scaled = [100 * w for w in weights]
    assert shapley_shubik(scaled, 100 * quota - 50) == pytest.approx(
        shapley_shubik(weights, quota), abs=0
    )


def test_to_integer_weights_recovers_decimals_and_simple_fractions():
    weights, quota = to_integer_weights([0.349, 0.2, 0.451], 0.5)
    assert weights.tolist() == [349, 200, 451] and quota == 500
    assert weights.dtype == np.int64
    weights, quota = to_integer_weights([1 / 3] * 3, 2 / 3)
    assert weights.tolist() == [1, 1, 1] and quota == 2
    weights, quota = to_integer_weights([0.5, 0.25, 0.25], 0.6)  # 2.4 quarters rounds up
    assert weights.tolist() == [2, 1, 1] and quota == 3
    weights, quota = to_integer_weights([0.1, 0.2], 0.1 + 0.2)  # 0.30000000000000004
    assert weights.tolist() == [1, 2] and quota == 3


@pytest.mark.parametrize("seed", range(5))
def test_to_integer_weights_preserves_every_coalition_of_decimal_games(seed):
    rng = np.random.default_rng(seed)
    thousandths = rng.integers(0, 1000, int(rng.integers(1, 11)))
    thousandths[0] += 1
    quota_thousandths = int(rng.integers(1, thousandths.sum() + 1))
    weights, quota = to_integer_weights(thousandths / 1000, quota_thousandths / 1000)
    for coalition in coalitions(len(weights)):
        exact_wins = thousandths[list(coalition)].sum() >= quota_thousandths
        assert (weights[list(coalition)].sum() >= quota) == exact_wins


@pytest.mark.parametrize("seed", range(5))
def test_to_integer_weights_preserves_coalitions_away_from_the_quota(seed):
    """Arbitrary floats can only be approximated: the docstring's margin is the promise."""
    rng = np.random.default_rng(seed)
    floats = rng.uniform(0, 1, 10)
    float_quota = float(rng.uniform(0.3, 0.9) * floats.sum())
    max_denominator = 1000
    weights, quota = to_integer_weights(floats, float_quota, max_denominator)
    margin = (len(floats) + 1) / (2 * max_denominator)
    checked = 0
    for coalition in coalitions(len(floats)):
        total = floats[list(coalition)].sum()
        if abs(total - float_quota) > margin:
            checked += 1
            assert (weights[list(coalition)].sum() >= quota) == (total >= float_quota)
    assert checked > 900


@pytest.mark.parametrize(
    "weights, quota, match",
    [
        ([], 1, "at least one"),
        ([3, -1, 2], 2, "non-negative"),
        ([3, np.nan], 2, "finite"),
        ([3, 2], 0, "quota"),
        ([3, 2], -1, "quota"),
        ([3, 2], 6, "quota"),
        ([1.5, 2], 2, "integers"),
        ([3, 2], 2.5, "integers"),
    ],
)
def test_invalid_games_are_rejected(weights, quota, match):
    for index in (shapley_shubik, banzhaf, coleman_power_to_act, power_table):
        with pytest.raises(ValueError, match=match):
            index(weights, quota)


def test_invalid_inputs_elsewhere_are_rejected():
    with pytest.raises(ValueError, match="p must"):
        coleman_power_to_act([1, 1], 1, p=1.5)
    with pytest.raises(ValueError, match="names"):
        power_table([1, 1], 1, names=["only one"])
    with pytest.raises(ValueError, match="non-negative"):
        to_integer_weights([0.5, -0.1], 0.2)
    with pytest.raises(ValueError, match="quota"):
        to_integer_weights([0.5, 0.25], 0.8)
    with pytest.raises(ValueError, match="quota"):
        to_integer_weights([0.5, 0.25], 0.0)


# ------------------------------------------------------------ large games: closed forms and estimates


@pytest.mark.parametrize("n", [1, 2, 7, 12, 60])
def test_count_game_closed_form_is_the_exact_enumeration(n):
    """[q; 1 × n]: Shapley–Shubik and normalised Banzhaf exactly 1/n, the same floats as the DP for every quota."""
    from kpsim.analysis.power import count_game_table

    for quota in range(1, n + 1):
        closed, exact = count_game_table(n, quota), power_table([1] * n, quota)
        for column in ("shapley_shubik", "banzhaf_normalized", "banzhaf_absolute"):
            assert closed[column].to_numpy().tobytes() == exact[column].to_numpy().astype(float).tobytes()
        assert closed.attrs == exact.attrs


def test_count_game_closed_form_scales_past_the_float_range():
    """3,840 voters: 2^-n underflows a float, the binomial tail does not (a majority passes about half the time)."""
    from kpsim.analysis.power import count_game_table

    table = count_game_table(3840, 1921)
    assert table.shapley_shubik.iloc[0] == 1 / 3840
    assert 0.49 < table.attrs["coleman_power_to_act"] < 0.5


def test_monte_carlo_estimate_agrees_with_the_exact_indices_within_its_error():
    from kpsim.analysis.power import estimate_power

    weights, quota = np.array([5, 5, 3, 3, 2, 1, 1, 1, 1, 1, 1]), 13
    estimate, se = estimate_power(weights, quota, draws=20_000)
    exact = power_table(weights, quota)
    assert np.all(np.abs(estimate.shapley_shubik - exact.shapley_shubik) <= 4 * se["shapley_shubik"] + 1e-12)
    assert np.all(np.abs(estimate.banzhaf_absolute - exact.banzhaf_absolute) <= 4 * se["banzhaf_absolute"] + 1e-12)
    assert abs(estimate.attrs["coleman_power_to_act"] - exact.attrs["coleman_power_to_act"]) <= 4 * se["coleman_power_to_act"]
    assert estimate.banzhaf_normalized.sum() == pytest.approx(1.0)
