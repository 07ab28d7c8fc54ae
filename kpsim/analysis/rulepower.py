"""Power indices of a scenario's decision rules, exactly.

A rule becomes a yes/no game by assuming that every voter takes a side
(support or object, nobody abstains): the a-priori setting in which power
indices are defined. Abstention is what makes the real rules differ from
these games, so the indices describe the rules' structure, not a simulated
plenary. Under that assumption:

- consensus and written procedure (m <= n) are unanimity, quota n;
- consensus minus k has quota n - k (at least 1);
- simple majority has quota floor(n/2) + 1; qualified majority q, ceil(q n);
- weighted majority is the weighted game [ceil(q T); w] with the weights
  scaled to integers (kpsim.analysis.power.to_integer_weights) and T their total;
- double majority is the intersection of the count game and the weight game,
  and chambers the intersection of one count game per chamber. They are not
  weighted games, so their indices come from the swings by coalition size,
  counted exactly: a table of coalitions by (size, weight) for the double
  majority, a product of per-chamber generating polynomials for chambers.

The players are the participants, except under chambers, where every actor
votes (an actor in no chamber is a dummy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from kpsim.analysis.outputs import table
from kpsim.analysis.power import (
    count_game_table,
    estimate_power,
    exact_fits,
    power_table,
    to_integer_weights,
)
from kpsim.rules import (
    ChamberGame,
    CountGame,
    DoubleGame,
    NoGame,
    WeightGame,
    ceil_share,
)
from kpsim.scenario.schema import Scenario

INDEX_COLUMNS = ["shapley_shubik", "banzhaf_normalized", "banzhaf_absolute"]


@dataclass(frozen=True)
class RulePower:
    """One rule's game: who plays, how it is described, and the indices (None if not a game)."""

    rule: str
    game: str
    players: pd.DataFrame  # actor, kind, bloc, weight, and INDEX_COLUMNS (NaN if unavailable)
    coleman_power_to_act: float
    note: str = ""

    @property
    def available(self) -> bool:
        return not math.isnan(self.coleman_power_to_act)


def rule_power(scenario: Scenario, label: str) -> RulePower:
    """Shapley–Shubik, Banzhaf (normalised, absolute) and Coleman's power to act of one rule."""
    rule = scenario.rule(label)
    players = scenario.voters(rule)
    n = len(players)
    frame = pd.DataFrame({"actor": [a.id for a in players], "kind": [a.kind for a in players], "bloc": [a.bloc or "" for a in players]})
    game = rule.game(n)
    if isinstance(game, NoGame):
        return _unavailable(frame, label, game.reason)
    if isinstance(game, CountGame):  # every voter alike: closed forms, O(n)
        table = count_game_table(n, game.quota)
        return _from_table(frame, label, np.ones(n, dtype=np.int64), table, f"[{game.quota}; 1 × {n}]", "assumes every voter takes a side")
    if isinstance(game, WeightGame | DoubleGame):
        scaled = _integer_weights(players, game.weight)
        if scaled is None:
            return _unavailable(frame, label, f"every participant has weight {game.weight!r} = 0: no coalition can win")
        weights, total = scaled
        if isinstance(game, WeightGame):
            quota = ceil_share(game.q, total)
            text = f"[{quota}; {game.weight} scaled to integers, total {total}]"
            if not exact_fits(n, quota):
                return _estimated(frame, label, weights, quota, 0, text)
            return _weighted(frame, label, weights, quota, text)
        count_quota, weight_quota = game.count_quota, ceil_share(game.weight_q, total)
        text = f"count ≥ {count_quota} of {n} and {game.weight} ≥ {weight_quota} of {total} (scaled to integers)"
        if not exact_fits(n, total + 1):
            return _estimated(frame, label, weights, weight_quota, count_quota, text)
        swings, winning = _double_majority_swings(weights, count_quota, weight_quota)
        return _composite(frame.assign(weight=weights), label, text, swings, winning)
    if isinstance(game, ChamberGame):
        members = [[i for i, a in enumerate(players) if a.kind in ch.kinds] for ch in game.chambers]
        seen = [i for m in members for i in m]
        if len(seen) != len(set(seen)):
            return _unavailable(frame, label, "its chambers share members, so it is not a product of chamber games")
        quotas = [max(1, ceil_share(ch.q, len(m))) for ch, m in zip(game.chambers, members)]
        swings, winning = _chamber_swings(n, members, quotas)
        text = " and ".join(f"{ch.name} ≥ {q} of {len(m)}" for ch, m, q in zip(game.chambers, members, quotas))
        return _composite(frame.assign(weight=np.nan), label, text, swings, winning)
    raise TypeError(f"rule {label!r}: unknown kind of game {type(game).__name__}")


@table("power.csv")
def power_results(results) -> pd.DataFrame:
    return scenario_power(results.scenario, results.rules)


def scenario_power(scenario: Scenario, rules: list[str] | None = None) -> pd.DataFrame:
    """One row per rule and player, in long form: the power.csv of a results folder."""
    frames = []
    for label in rules or [r.label for r in scenario.rules]:
        rp = rule_power(scenario, label)
        frames.append(
            rp.players.assign(rule=label, game=rp.game, coleman_power_to_act=rp.coleman_power_to_act, note=rp.note)
        )
    cols = ["rule", "game", "actor", "kind", "bloc", "weight", *INDEX_COLUMNS, "coleman_power_to_act", "note"]
    return pd.concat(frames, ignore_index=True)[cols]


# ------------------------------------------------------------------ games


def _integer_weights(players, name: str) -> tuple[np.ndarray, int] | None:
    """The weights as integers: shares of their total, exact for simple fractions, else to 1/10,000."""
    raw = np.array([a.weights.get(name, 0.0) for a in players])
    if raw.sum() <= 0:
        return None
    weights, _ = to_integer_weights(raw / raw.sum(), 0.5)
    return weights, int(weights.sum())


def _weighted(frame, label, weights, quota, game) -> RulePower:
    return _from_table(frame, label, weights, power_table(weights, quota), game, "assumes every voter takes a side")


def _from_table(frame, label, weights, table, game, note) -> RulePower:
    out = frame.assign(weight=np.asarray(weights), **{c: table[c].to_numpy() for c in INDEX_COLUMNS})
    return RulePower(label, game, out, table.attrs["coleman_power_to_act"], note)


def _estimated(frame, label, weights, quota, count_quota, game) -> RulePower:
    """A game too big to count exactly in reasonable time (power.exact_fits): a Monte-Carlo estimate, said in the note."""
    draws = 4000
    table, se = estimate_power(weights, quota, count_quota, draws=draws)
    note = (
        f"assumes every voter takes a side; Monte-Carlo estimate ({draws:,} draws; too many players to count exactly), "
        f"standard error at most {se['shapley_shubik']:.2g} (Shapley–Shubik), {se['banzhaf_absolute']:.2g} (Banzhaf absolute), "
        f"{se['coleman_power_to_act']:.2g} (Coleman)"
    )
    return _from_table(frame, label, weights, table, game, note)


def _unavailable(frame, label, reason) -> RulePower:
    return RulePower(label, "not available", frame.assign(weight=np.nan, **{c: np.nan for c in INDEX_COLUMNS}), math.nan, reason)


def _composite(frame, label, game, swings, winning) -> RulePower:
    """Indices from swings[i][k]: coalitions of k others that player i turns from losing to winning."""
    n = len(frame)
    factorial = [1]
    for k in range(1, n + 1):
        factorial.append(factorial[-1] * k)
    orderings = [factorial[k] * factorial[n - 1 - k] for k in range(n)]  # over n!: exact integers, one rounding at the end
    # players with the same swings (a chamber's members share one list) are computed once: O(n) rows, not O(n²)
    once = {}
    for s in swings:
        if id(s) not in once:
            once[id(s)] = (sum(s), sum(c * w for c, w in zip(s, orderings)) / factorial[n])
    total = [once[id(s)][0] for s in swings]
    all_swings = sum(total)
    out = frame.assign(
        shapley_shubik=[once[id(s)][1] for s in swings],
        banzhaf_normalized=[t / all_swings if all_swings else math.nan for t in total],
        banzhaf_absolute=[t / 2 ** (n - 1) for t in total],
    )
    coleman = float(Fraction(sum(winning), 2**n))
    return RulePower(label, game, out, coleman, "assumes every voter takes a side; exact count by coalition size")


def _double_majority_swings(weights: np.ndarray, count_quota: int, weight_quota: int):
    """Swings by size in the game 'size >= count_quota and weight >= weight_quota'.

    counts[k, s] = coalitions of k players with weight s, over every weight
    (the win region is not a simple cut, so the table cannot stop at a quota);
    each player's factor (1 + y x^w) is divided back out exactly, as in
    kpsim.analysis.power.
    """
    n, total = len(weights), int(weights.sum())
    dtype = np.int64 if math.comb(n, n // 2) < 2**63 else object
    counts = np.zeros((n + 1, total + 1), dtype=dtype)
    counts[0, 0] = 1
    for w in weights.tolist():
        counts[1:, w:] += counts[:-1, : total + 1 - w]
    sizes = np.arange(n + 1)[:, None]
    wins = (sizes >= count_quota) & (np.arange(total + 1)[None, :] >= weight_quota)
    winning = [int(x) for x in (counts * wins).sum(axis=1)]
    per_value = {}
    for w in np.unique(weights).tolist():
        others = counts[:-1].copy()
        for k in range(1, n):
            others[k, w:] -= others[k - 1, : total + 1 - w]
        # a coalition of others (k, s) is a swing iff it loses and (k + 1, s + w) wins
        swing = ~wins[:-1, : total + 1 - w] & wins[1:, w:]
        per_value[w] = [int(x) for x in (others[:, : total + 1 - w] * swing).sum(axis=1)]
    return [per_value[w] for w in weights.tolist()], winning


def _chamber_swings(n: int, members: list[list[int]], quotas: list[int]):
    """Swings by size in 'every chamber c has at least quotas[c] supporters'.

    Chambers are disjoint, so coalitions factor: the generating polynomial in
    x (x^k for k supporters) of winning coalitions is the product of each
    chamber's winning part and (1 + x)^m for the m actors in no chamber.
    """
    poly = lambda coefficients: np.array(coefficients, dtype=object)
    wins = [poly([math.comb(len(m), k) if k >= q else 0 for k in range(len(m) + 1)]) for m, q in zip(members, quotas)]
    free = n - sum(len(m) for m in members)
    dummies = poly([math.comb(free, k) for k in range(free + 1)])

    def product(polys):
        out = dummies
        for p in polys:
            out = np.convolve(out, p)
        return [int(x) for x in out] + [0] * (n + 1 - len(out))

    swings = [[0] * n] * n  # one list shared by the players in no chamber (dummies), and one by each chamber's members
    for c, (m, q) in enumerate(zip(members, quotas)):
        own = poly([0] * (q - 1) + [math.comb(len(m) - 1, q - 1)])  # exactly q - 1 of the other members
        by_size = product([own] + wins[:c] + wins[c + 1 :])[:n]
        for i in m:
            swings[i] = by_size
    return swings, product(wins)
