"""Decision rules: each rule is a class that holds all its own knowledge, registered by name.

A stance matrix has one row per replication and one column per actor, coded
SUPPORT = 1, ABSTAIN = 0, OBJECT = -1; participants come first, observers
after. A rule's `passes` returns one boolean per row: does the text pass?
Rules are vectorised over rows so one call decides a whole batch of
replications. Everything else kpsim needs to know about a rule (whose votes
count, its threshold, its yes/no game for the power indices, how a plenary
would name it) is a hook on its class, so adding a rule is one class here.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from kpsim.fields import PARTICIPANT, ActorKind, Strict, Threshold

SUPPORT, ABSTAIN, OBJECT = 1, 0, -1
STANCE_NAMES = {SUPPORT: "support", ABSTAIN: "abstain", OBJECT: "object"}


@dataclass(frozen=True)
class Electorate:
    """Who may vote and with which weights; participants are columns [0, n_participants)."""

    n_participants: int
    kinds: tuple[str, ...]  # one per actor column
    weights: dict[str, np.ndarray]  # named weight -> one value per participant


# ------------------------------------------------------------------ the yes/no games behind the rules
# A rule read as a game in which every voter takes a side (the a-priori setting of power indices);
# kpsim.analysis.rulepower computes the indices of each kind of game.


@dataclass(frozen=True)
class CountGame:
    """Wins with at least `quota` of the n voters."""

    quota: int


@dataclass(frozen=True)
class WeightGame:
    """Wins with at least q of the total of a named weight."""

    weight: str
    q: Fraction


@dataclass(frozen=True)
class DoubleGame:
    """Wins with at least `count_quota` voters and at least weight_q of a named weight."""

    count_quota: int
    weight: str
    weight_q: Fraction


@dataclass(frozen=True)
class ChamberGame:
    """Wins where every chamber has at least its quota of its members."""

    chambers: list  # of Chamber


@dataclass(frozen=True)
class NoGame:
    """No yes/no game is defined; `reason` says why."""

    reason: str


def ceil_share(q, whole: int) -> int:
    """ceil(q * whole), exactly."""
    q = Fraction(q)
    return -(-(q.numerator * whole) // q.denominator)


# ------------------------------------------------------------------ the rule base class


class RuleParams(Strict):
    """A rule with its parameters, as a scenario file gives it; every rule has an optional display name."""

    summary: ClassVar[str]  # what passes, in one line
    anonymous: ClassVar[bool] = True  # depends only on how many support / object, not on who
    observers_vote: ClassVar[bool] = False  # every actor is a player of its game, not only the participants

    name: str | None = Field(default=None, min_length=1)

    @property
    def label(self) -> str:
        return self.name or self.rule

    def passes(self, stances: np.ndarray, electorate: Electorate) -> np.ndarray:
        raise NotImplementedError

    def weight_names(self) -> list[str]:
        return []

    def voter_kinds(self) -> set[str]:
        """Whose stance the rule counts: participants, unless a rule gives observers a vote."""
        return {PARTICIPANT}

    def issues(self, kinds: set[str], weights: set[str]) -> list[tuple[tuple, str]]:
        """Problems with this rule in a scenario whose actors have these kinds and weights: (field path, message)."""
        return [
            (("weight",), f"= {w!r} — no actor has this weight; known: {', '.join(sorted(weights)) or 'none'}")
            for w in self.weight_names()
            if w not in weights
        ]

    def count_threshold(self) -> Fraction | None:
        """The q of a rule that counts supporters among those taking a side (consensus: 1); None for any other rule."""
        return None

    def threshold_label(self) -> str | None:
        """The threshold as a table shows it ("≥ 2/3", "unanimity"); None for a rule without a count threshold."""
        q = self.count_threshold()
        if q is None:
            return None
        return f"≥ {q}" if q < 1 else "unanimity"

    def game(self, n: int) -> CountGame | WeightGame | DoubleGame | ChamberGame | NoGame:
        """The yes/no game among n voters, each taking a side."""
        return NoGame(f"no game is defined for rule type {self.rule!r}")

    def phrase(self) -> str:
        """The rule as a plenary would name it: "a two-thirds majority", not "qualified_majority q=2/3"."""
        return f"the {self.label.replace('_', ' ')} rule"


RULES: dict[str, type[RuleParams]] = {}


def register(cls: type[RuleParams]) -> type[RuleParams]:
    """Add a rule class to RULES under the name its `rule` field allows; the scenario schema is built from RULES."""
    (name,) = typing.get_args(cls.model_fields["rule"].annotation)
    RULES[name] = cls
    return cls


def _tally(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Supporters and objectors per row (a matrix product: three times faster than counting)."""
    f = s.astype(np.float32)
    ones = np.ones(s.shape[1], dtype=np.float32)
    net = (f @ ones).astype(np.int64)  # supporters − objectors
    sided = (np.abs(f) @ ones).astype(np.int64)  # supporters + objectors
    return (sided + net) // 2, (sided - net) // 2


def _at_least(part, whole, q: Fraction) -> np.ndarray:
    """part >= q * whole, exactly for integer counts."""
    return part * q.denominator >= whole * q.numerator


def _at_least_weight(part, whole, q: Fraction) -> np.ndarray:
    """part >= q * whole for float weights, forgiving rounding at the boundary."""
    return part * q.denominator >= whole * q.numerator - 1e-9 * np.maximum(whole, 1e-300) * q.numerator


def _weighted_pass(s, w, q, base):
    sup_w = (s == SUPPORT) @ w
    side_w = sup_w + (s == OBJECT) @ w if base == "voting" else np.full(len(s), w.sum())
    return (sup_w > 0) & _at_least_weight(sup_w, side_w, q)


# ------------------------------------------------------------------ rules


@register
class Consensus(RuleParams):
    summary = "no participant objects (abstention allowed) and at least one supports"
    rule: Literal["consensus"]

    def passes(self, stances, electorate):
        sup, obj = _tally(stances[:, : electorate.n_participants])
        return (obj == 0) & (sup > 0)

    def count_threshold(self):
        return Fraction(1)

    def game(self, n):
        return CountGame(n)

    def phrase(self):
        return "consensus"


@register
class ConsensusMinusK(RuleParams):
    summary = "at most k participants object and at least one supports"
    rule: Literal["consensus_minus_k"]
    k: int = Field(ge=0)

    def passes(self, stances, electorate):
        sup, obj = _tally(stances[:, : electorate.n_participants])
        return (obj <= self.k) & (sup > 0)

    def game(self, n):
        return CountGame(max(1, n - self.k))


@register
class SimpleMajority(RuleParams):
    summary = "supporters outnumber objectors among those taking a side"
    rule: Literal["simple_majority"]

    def passes(self, stances, electorate):
        sup, obj = _tally(stances[:, : electorate.n_participants])
        return sup > obj

    def count_threshold(self):
        """q = 1/2, but strict (more than half), so a tie fails."""
        return Fraction(1, 2)

    def threshold_label(self):
        return "> 1/2"

    def game(self, n):
        return CountGame(n // 2 + 1)

    def phrase(self):
        return "a simple majority"


@register
class QualifiedMajority(RuleParams):
    summary = "supporters are at least q of those taking a side"
    rule: Literal["qualified_majority"]
    q: Threshold = "2/3"

    def passes(self, stances, electorate):
        sup, obj = _tally(stances[:, : electorate.n_participants])
        return (sup > 0) & _at_least(sup, sup + obj, self.q)

    def count_threshold(self):
        return Fraction(self.q)

    def game(self, n):
        return CountGame(max(1, ceil_share(self.q, n)))

    def phrase(self):
        q = str(self.count_threshold())
        return {"1": "unanimity", "2/3": "a two-thirds majority", "3/4": "a three-quarters majority"}.get(q, f"a {q} majority")


@register
class WeightedMajority(RuleParams):
    summary = "supporters hold at least q of a named weight (of those taking a side, or of all participants)"
    anonymous = False
    rule: Literal["weighted_majority"]
    weight: str
    q: Threshold = "1/2"
    base: Literal["voting", "all"] = "voting"

    def passes(self, stances, electorate):
        s = stances[:, : electorate.n_participants]
        return _weighted_pass(s, electorate.weights[self.weight], self.q, self.base)

    def weight_names(self):
        return [self.weight]

    def game(self, n):
        return WeightGame(self.weight, Fraction(self.q))


@register
class DoubleMajority(RuleParams):
    summary = "both a count threshold q and a weight threshold weight_q are met"
    anonymous = False
    rule: Literal["double_majority"]
    q: Threshold = "1/2"
    weight: str
    weight_q: Threshold = "1/2"
    base: Literal["voting", "all"] = "voting"

    def passes(self, stances, electorate):
        s = stances[:, : electorate.n_participants]
        sup, obj = _tally(s)
        count_ok = (sup > 0) & _at_least(sup, sup + obj, self.q)
        return count_ok & _weighted_pass(s, electorate.weights[self.weight], self.weight_q, self.base)

    def weight_names(self):
        return [self.weight]

    def game(self, n):
        return DoubleGame(max(1, ceil_share(self.q, n)), self.weight, Fraction(self.weight_q))


class Chamber(Strict):
    name: str
    kinds: list[ActorKind] = Field(min_length=1)
    q: Threshold = "1/2"


def _default_chambers():
    return [
        Chamber(name="governments", kinds=["participant"], q="1/2"),
        Chamber(name="industry", kinds=["industry"], q="1/2"),
        Chamber(name="civil_society", kinds=["civil_society"], q="1/2"),
    ]


@register
class Chambers(RuleParams):
    summary = (
        "every chamber (by default governments, industry, civil society) approves by its own threshold q of those "
        "taking a side (a chamber where all abstain does not block); observers vote"
    )
    anonymous = False
    observers_vote = True
    rule: Literal["chambers"]
    chambers: list[Chamber] = Field(default_factory=_default_chambers, min_length=1)

    def passes(self, stances, electorate):
        kinds = np.asarray(electorate.kinds)
        ok = np.ones(len(stances), dtype=bool)
        anyone = np.zeros(len(stances), dtype=bool)
        for ch in self.chambers:
            cols = np.isin(kinds, ch.kinds)
            sup, obj = _tally(stances[:, cols])
            # a chamber where nobody takes a side does not block: abstention never blocks
            ok &= _at_least(sup, sup + obj, ch.q)
            anyone |= sup > 0
        return ok & anyone

    def voter_kinds(self):
        return {k for ch in self.chambers for k in ch.kinds}

    def issues(self, kinds, weights):
        empty = [
            (("chambers", j), f"— chamber {ch.name!r} has no members (no actor of kind {', '.join(ch.kinds)})")
            for j, ch in enumerate(self.chambers)
            if not kinds & set(ch.kinds)
        ]
        return empty + super().issues(kinds, weights)

    def game(self, n):
        return ChamberGame(self.chambers)


@register
class WrittenProcedure(RuleParams):
    summary = "at least min_support supporting replies and no objection"
    rule: Literal["written_procedure"]
    min_support: int = Field(default=1, ge=1)

    def passes(self, stances, electorate):
        sup, obj = _tally(stances[:, : electorate.n_participants])
        return (sup >= self.min_support) & (obj == 0)

    def game(self, n):
        if self.min_support > n:
            return NoGame(f"needs {self.min_support} supporting replies but has {n} participants: never passes")
        return CountGame(n)
