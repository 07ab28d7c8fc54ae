"""Exact power indices of weighted voting games.

In the weighted game [q; w_1, ..., w_n] a coalition wins iff its members'
weights sum to at least q. Enumerating the 2^n coalitions is hopeless for the
60-odd players of a real forum, so every index here is read off one table of
coalition counts by (size, weight), built by dynamic programming over integer
weights in O(n^2 q) time and O(n q) memory. The counts are exact integers, so
each index is exact until its final conversion to float.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pandas as pd


def to_integer_weights(
    weights: Sequence[float], quota: float, max_denominator: int = 10_000
) -> tuple[np.ndarray, int]:
    """Rescale real weights (e.g. production shares) to the integers the DP indexes by.

    Each weight is replaced by the nearest fraction with denominator at most
    ``max_denominator``, which recovers decimals and simple fractions such as
    1/3 exactly despite float noise, and everything is multiplied by the least
    common denominator D. If D would exceed ``max_denominator`` (arbitrary
    floats), D = ``max_denominator`` and the scaled weights are rounded to the
    nearest integer instead. Either way no weight moves by more than
    1 / (2 max_denominator). The quota gets the same nearest-fraction treatment
    and is then rounded *up* after scaling, which is harmless because an integer
    sum reaches x iff it reaches ceil(x).

    Hence a coalition keeps its winning or losing status whenever its weight is
    more than (n + 1) / (2 max_denominator) from the quota, and every coalition
    does when the weights are fractions with a common denominator of at most
    ``max_denominator`` and the quota's denominator is at most ``max_denominator``.
    """
    floats = _checked_weights(weights)
    exact = [Fraction(w) for w in floats.tolist()]
    fractions = [f.limit_denominator(max_denominator) for f in exact]
    scale = math.lcm(*(f.denominator for f in fractions))
    if scale > max_denominator:
        scale, fractions = max_denominator, exact
    int_weights = np.array([round(f * scale) for f in fractions], dtype=np.int64)
    int_quota = math.ceil(Fraction(float(quota)).limit_denominator(max_denominator) * scale)
    _game(int_weights, int_quota)  # rounding may push a near-unanimity quota past the total
    return int_weights, int_quota


def shapley_shubik(weights: Sequence[int], quota: int) -> np.ndarray:
    """Share of the n! voting orders in which each player casts the vote that tips it to winning."""
    swings = _swings_by_size(*_game(weights, quota))
    n = swings.shape[1]
    orderings = np.array(
        [math.factorial(k) * math.factorial(n - 1 - k) for k in range(n)], dtype=object
    )
    return np.array([pivotal / math.factorial(n) for pivotal in swings @ orderings])


def banzhaf(weights: Sequence[int], quota: int, normalized: bool = True) -> np.ndarray:
    """Swing counts, per coalition of the others (absolute) or as shares of all swings (normalized).

    The absolute index is the probability of being decisive when everyone else
    votes yes or no by a fair coin, so it is comparable across games; the
    normalized one sums to 1 and so is comparable with Shapley-Shubik.
    """
    swings = _swings_by_size(*_game(weights, quota)).sum(axis=1)
    denominator = swings.sum() if normalized else 2 ** (len(swings) - 1)
    return np.array([s / denominator for s in swings])


def coleman_power_to_act(weights: Sequence[int], quota: int, p: float = 0.5) -> float:
    """Chance a proposal passes when every player votes yes independently with probability p.

    Summed over winning coalitions by size, all terms positive, so even tiny
    probabilities (near-unanimity quotas, small p) keep full relative precision.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1]; got {p}")
    int_weights, int_quota = _game(weights, quota)
    n = len(int_weights)
    losing = _losing_counts(int_weights, int_quota).sum(axis=1)
    winning = [math.comb(n, k) - int(losing[k]) for k in range(n + 1)]
    return math.fsum(count * p**k * (1 - p) ** (n - k) for k, count in enumerate(winning))


def power_table(
    weights: Sequence[int], quota: int, names: Sequence[str] | None = None
) -> pd.DataFrame:
    """All indices side by side, one row per player.

    Coleman's power to act describes the game rather than any player, so it
    rides along as ``table.attrs["coleman_power_to_act"]``.
    """
    int_weights, _ = _game(weights, quota)
    names = list(range(len(int_weights))) if names is None else list(names)
    if len(names) != len(int_weights):
        raise ValueError(f"got {len(names)} names for {len(int_weights)} players")
    table = pd.DataFrame(
        {
            "name": names,
            "weight": np.asarray(weights, dtype=float).astype(np.int64),
            "shapley_shubik": shapley_shubik(weights, quota),
            "banzhaf_normalized": banzhaf(weights, quota, normalized=True),
            "banzhaf_absolute": banzhaf(weights, quota, normalized=False),
        }
    )
    table.attrs["coleman_power_to_act"] = coleman_power_to_act(weights, quota)
    return table


def _checked_weights(weights: Sequence[float]) -> np.ndarray:
    """Weights as floats, refusing the ones that define no game."""
    floats = np.asarray(weights, dtype=float)
    if floats.ndim != 1 or floats.size == 0:
        raise ValueError("a game needs a 1-D sequence of at least one weight")
    if not np.all(np.isfinite(floats)) or np.any(floats < 0):
        raise ValueError("weights must be finite and non-negative")
    return floats


def _game(weights: Sequence[int], quota: int) -> tuple[np.ndarray, int]:
    """Validate an integer game and divide out the weights' gcd: a smaller DP, the same game."""
    floats = _checked_weights(weights)
    if np.any(floats != np.round(floats)) or not float(quota).is_integer():
        raise ValueError("weights and quota must be integers; rescale with to_integer_weights")
    int_weights, int_quota = floats.astype(np.int64), int(quota)
    total = int(int_weights.sum())
    if not 0 < int_quota <= total:
        raise ValueError(f"quota must be in (0, total weight {total}]; got {int_quota}")
    gcd = math.gcd(*int_weights.tolist())
    return int_weights // gcd, -(-int_quota // gcd)


def _losing_counts(weights: np.ndarray, quota: int) -> np.ndarray:
    """counts[k, s] = number of k-player coalitions of weight s, for every losing weight s < quota.

    Adding a player never lowers a coalition's weight, so winning coalitions
    never feed back into losing ones and the table can stop at the quota.
    int64 holds every count up to n = 66 players; beyond that, Python ints.
    """
    n = len(weights)
    counts = np.zeros((n + 1, quota), dtype=np.int64 if math.comb(n, n // 2) < 2**63 else object)
    counts[0, 0] = 1
    for w in weights.tolist():
        if w < quota:
            counts[1:, w:] += counts[:-1, : quota - w]  # numpy buffers the overlapping operands
    return counts


def _swings_by_size(weights: np.ndarray, quota: int) -> np.ndarray:
    """swings[i, k] = losing coalitions of k players other than i that i's vote makes winning.

    Rather than rebuild the table without each player, divide the player's
    factor (1 + y x^w) back out of it, which is exact in integers; equal
    weights share one division.
    """
    counts = _losing_counts(weights, quota)
    values, player_value = np.unique(weights, return_inverse=True)
    per_value = []
    for w in values.tolist():
        others = counts[:-1].copy()
        if w < quota:
            for k in range(1, len(others)):
                others[k, w:] -= others[k - 1, : quota - w]
        per_value.append(others[:, max(0, quota - w) :].sum(axis=1).tolist())
    return np.array(per_value, dtype=object)[player_value]
