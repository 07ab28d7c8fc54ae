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


# ------------------------------------------------------------ large games: closed forms and estimates

EXACT_BUDGET = 2e9  # cell updates of the (size, weight) table the exact indices may cost; Python integers count 50 each


def exact_fits(n: int, table_width: int) -> bool:
    """Whether the exact DP over n players and a (size, weight) table this wide fits the budget in time."""
    cost = n * (n + 1) * table_width * (1 if math.comb(n, n // 2) < 2**63 else 50)
    return cost <= EXACT_BUDGET


def count_game_table(n: int, quota: int) -> pd.DataFrame:
    """power_table of [quota; 1 × n] in closed form, O(n): the same floats as the exact enumeration.

    Every voter is alike, so Shapley–Shubik and normalised Banzhaf are 1/n; a voter swings exactly the
    C(n − 1, quota − 1) coalitions of quota − 1 others; Coleman's power to act is the binomial tail P(Bin(n, 1/2) ≥ quota).
    """
    if not 0 < quota <= n:
        raise ValueError(f"quota must be in (0, total weight {n}]; got {quota}")
    absolute = math.comb(n - 1, quota - 1) / 2 ** (n - 1)
    table = pd.DataFrame(
        {"name": list(range(n)), "weight": np.ones(n, dtype=np.int64), "shapley_shubik": np.full(n, 1 / n),
         "banzhaf_normalized": np.full(n, 1 / n), "banzhaf_absolute": np.full(n, absolute)}
    )
    if n <= 1000:  # the exact enumeration's own sum (coleman_power_to_act), term for term
        table.attrs["coleman_power_to_act"] = math.fsum(math.comb(n, k) * 0.5**k * 0.5 ** (n - k) for k in range(quota, n + 1))
    else:  # there 2^-n underflows: the tail as an exact fraction, rounded once
        table.attrs["coleman_power_to_act"] = sum(math.comb(n, k) for k in range(quota, n + 1)) / 2**n
    return table


def estimate_power(weights: np.ndarray, quota: int, count_quota: int = 0, draws: int = 4000, seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Monte-Carlo indices of 'weight ≥ quota (and at least count_quota members)', for games too big to count exactly.

    Shapley–Shubik from `draws` random orders (who tips each to winning), Banzhaf and Coleman from as many random
    coalitions (each player in with probability 1/2: whose flip changes the outcome). Players with equal weights
    have equal indices, so each estimate is their class mean. Returns the table (as power_table) and the largest
    standard error of each index.
    """
    w = np.asarray(weights, dtype=np.int64)
    n = len(w)
    rng = np.random.default_rng([seed, n, int(quota), int(count_quota)])
    values, cls = np.unique(w, return_inverse=True)
    size = np.bincount(cls)
    ss_hits, bz_hits, won_total = np.zeros(len(values)), np.zeros(len(values)), 0
    win = lambda s, k: (s >= quota) & (k >= count_quota)
    step = max(1, 2**20 // n)  # draws at a time: a few MB per array
    for start in range(0, draws, step):
        d = min(step, draws - start)
        # Shapley–Shubik: the pivot of each random order
        order = np.argsort(rng.random((d, n)), axis=1)
        tips = (np.cumsum(w[order], axis=1) >= quota) & (np.arange(1, n + 1) >= count_quota)
        ss_hits += np.bincount(cls[order[np.arange(d), tips.argmax(axis=1)]], minlength=len(values))
        # Banzhaf and Coleman: random coalitions, and the players whose vote swings each
        inside = rng.random((d, n)) < 0.5
        total, count = inside @ w, inside.sum(axis=1)
        won = win(total, count)
        swing = np.where(inside, won[:, None] & ~win(total[:, None] - w, count[:, None] - 1), win(total[:, None] + w, count[:, None] + 1) & ~won[:, None])
        bz_hits += np.bincount(cls, weights=swing.sum(axis=0), minlength=len(values))
        won_total += int(won.sum())
    ss_hits, bz_hits, coleman = ss_hits / size, bz_hits / size, won_total / draws
    ss, bz = ss_hits / draws, bz_hits / draws
    per = ss[cls], bz[cls]
    table = pd.DataFrame(
        {"name": list(range(n)), "weight": w, "shapley_shubik": per[0], "banzhaf_normalized": per[1] / per[1].sum() if per[1].sum() else np.nan,
         "banzhaf_absolute": per[1]}
    )
    table.attrs["coleman_power_to_act"] = float(coleman)
    # the class mean of size m over D draws: binomial standard error of a share p, over m·D trials (conservative for SS)
    se = lambda p: float(np.max(np.sqrt(p * (1 - p) / (draws * size))))
    errors = {"shapley_shubik": se(ss), "banzhaf_absolute": se(bz), "coleman_power_to_act": float(np.sqrt(coleman * (1 - coleman) / draws))}
    return table, errors
