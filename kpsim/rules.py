"""Decision rules: each rule is a class that holds all its own knowledge, registered by name.

A stance matrix has one row per replication and one column per actor, coded SUPPORT = 1, ABSTAIN = 0,
OBJECT = -1; participants come first, observers after. A rule's `passes` returns one boolean per row: does
the text pass? Rules are vectorised over rows so one call decides a whole batch of replications. Everything
else kpsim needs to know about a rule (whose votes count, its threshold, its yes/no game for the power
indices, how a plenary would name it) is a hook on its class, so adding a rule is one class here.

Ties are said, not implied: every rule with a threshold, and every chamber, has
`ties: pass | fail` (supporters exactly at the threshold; defaults as before: a
simple majority fails a tie, "at least q" passes one; see `_above_weight` for weights).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, ClassVar, Literal, Union

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from kpsim.fields import PARTICIPANT, ActorKind, Strict, Threshold

SUPPORT, ABSTAIN, OBJECT = 1, 0, -1
Ties = Literal["pass", "fail"]  # supporters exactly at the threshold: enough, or not
STANCE_NAMES = {SUPPORT: "support", ABSTAIN: "abstain", OBJECT: "object"}


@dataclass(frozen=True)
class Electorate:
    """Who may vote and with which weights; participants are columns [0, n_participants)."""
    n_participants: int
    kinds: tuple[str, ...]  # one per actor column
    weights: dict[str, np.ndarray]  # named weight -> one value per participant


# ---------------------------------- the yes/no games behind the rules (every voter takes a side: kpsim.analysis.rulepower)


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
    """Wins where every chamber has at least its quota of its m members (Chambers.game turns a chamber whose ties fail,
    floor(q·m) + 1, into the "at least" chamber with that quota)."""
    chambers: list  # of Chamber


@dataclass(frozen=True)
class NoGame:
    """No yes/no game is defined; `reason` says why."""
    reason: str


@dataclass(frozen=True)
class CountTest:
    """Passes ⟺ gain·S − loss·O + offset ≥ 0 (> 0 if strict) for S supporters and O objectors among the participants,
    with no objection at all if `veto` and at least one supporter if `need_support`: the form in which the setter
    chair (kpsim.model.chair) computes a rule's exact chance of passing."""
    gain: int
    loss: int
    offset: int = 0
    strict: bool = False
    veto: bool = False
    need_support: bool = True


def ceil_share(q, whole: int) -> int:
    """ceil(q * whole), exactly."""
    q = Fraction(q)
    return -(-(q.numerator * whole) // q.denominator)


def count_quota(q, whole: int, ties: str) -> int:
    """The fewest supporters of `whole` voters, all taking a side, that meet q: ceil(q * whole) if a tie
    passes, floor(q * whole) + 1 if it fails; never below 1 (nothing passes that nobody supports)."""
    q = Fraction(q)
    return max(1, ceil_share(q, whole) if ties == "pass" else q.numerator * whole // q.denominator + 1)


def _no_sure_failure(cls, ties: str, info: ValidationInfo) -> str:
    """A threshold of 1 with ties: fail asks for more than everyone taking a side: refused (a field validator)."""
    bad = [f for f in ("q", "weight_q") if ties == "fail" and info.data.get(f) == 1]
    if bad:
        raise ValueError(
            f"'fail' with {bad[0]} = 1 asks for more than all of those taking a side, which never happens — "
            "use ties: pass (a threshold of 1 is unanimity of those taking a side)"
        )
    return ties


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
        """The q of a rule that counts supporters among those taking a side (consensus: 1); None for any other rule.

        Whether supporters exactly at q of those taking a side pass is `tie_rule()`: a simple
        majority is q = 1/2 with ties failing, and a qualified majority of 1/2 whose ties fail is
        the same rule. Consensus is q = 1, passing at it (its tie_rule is None: no tie to settle).
        """
        return None

    def tie_rule(self) -> str | None:
        """What supporters exactly at the threshold do: "pass" or "fail"; "mixed" where parts of the rule
        differ (chambers); None for a rule without a threshold tie (consensus, consensus minus k, written procedure)."""
        return getattr(self, "ties", None)

    def tie_phrase(self) -> str | None:
        """tie_rule() for people: "a tie passes", "a tie fails"; None for a rule without a threshold tie."""
        return {"pass": "a tie passes", "fail": "a tie fails", None: None}[self.tie_rule()]

    def threshold_label(self) -> str | None:
        """What passes, as a table shows it ("≥ 2/3", "> 1/2", "unanimity"); None for a rule without a count threshold.

        "≥ q" when a tie passes, "> q" when it fails: a simple majority and a qualified majority
        of 1/2 whose ties fail both read "> 1/2", as they are the same rule.
        """
        q = self.count_threshold()
        if q is None:
            return None
        if q == 1:
            return "unanimity"
        return f"> {q}" if self.tie_rule() == "fail" else f"≥ {q}"

    def game(self, n: int) -> CountGame | WeightGame | DoubleGame | ChamberGame | NoGame:
        """The yes/no game among n voters, each taking a side."""
        return NoGame(f"no game is defined for rule type {self.rule!r}")

    def count_test(self) -> CountTest | None:
        """The rule as a test on the counts of supporters and objectors; None where who votes matters (weights, chambers)."""
        return None

    def phrase(self) -> str:
        """The rule as a plenary would name it: "a two-thirds majority", not "qualified_majority q=2/3"."""
        return f"the {self.label.replace('_', ' ')} rule"


RULES: dict[str, type[RuleParams]] = {}


def register(cls: type[RuleParams]) -> type[RuleParams]:
    """Add a rule class to RULES under the name its `rule` field allows; the scenario schema is built from RULES."""
    (name,) = typing.get_args(cls.model_fields["rule"].annotation)
    RULES[name] = cls
    return cls


def tally(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Supporters and objectors per row: up to 64 columns a float32 product (exact for counts, twice as fast as sums);
    wider, int16 sums (2–4× faster than int64 sums or the product; exact below 2**15 columns)."""
    if s.shape[1] > 64:
        acc = np.int16 if s.shape[1] < 2**15 else np.int64
        net, sided = s.sum(axis=1, dtype=acc).astype(np.int64), np.abs(s).sum(axis=1, dtype=acc).astype(np.int64)
    else:
        f, ones = s.astype(np.float32), np.ones(s.shape[1], dtype=np.float32)
        net, sided = (f @ ones).astype(np.int64), (np.abs(f) @ ones).astype(np.int64)  # supporters − / + objectors
    return (sided + net) // 2, (sided - net) // 2


def _at_least(part, whole, q: Fraction) -> np.ndarray:
    """part >= q * whole, exactly for integer counts."""
    return part * q.denominator >= whole * q.numerator


def _above(part, whole, q: Fraction) -> np.ndarray:
    """part > q * whole, exactly for integer counts: a tie fails."""
    return part * q.denominator > whole * q.numerator


def meets(part, whole, q: Fraction, ties: str) -> np.ndarray:
    """The count test of a threshold q: at least q * whole if a tie passes, more than it if a tie fails."""
    return (_at_least if ties == "pass" else _above)(part, whole, Fraction(q))


def _at_least_weight(part, whole, q: Fraction) -> np.ndarray:
    """part >= q * whole for float weights, forgiving rounding at the boundary: within a relative 1e-9 below is "at"."""
    return part * q.denominator >= whole * q.numerator - 1e-9 * np.maximum(whole, 1e-300) * q.numerator


def _above_weight(part, whole, q: Fraction) -> np.ndarray:
    """part > q * whole for float weights by more than the tolerance of _at_least_weight: a tie (in the band) fails."""
    return part * q.denominator > whole * q.numerator + 1e-9 * np.maximum(whole, 1e-300) * q.numerator


def _weighted_pass(s, w, q, base, ties="pass"):
    sup_w = (s == SUPPORT) @ w
    side_w = sup_w + (s == OBJECT) @ w if base == "voting" else np.full(len(s), w.sum())
    meets = _at_least_weight if ties == "pass" else _above_weight
    return (sup_w > 0) & meets(sup_w, side_w, Fraction(q))


_NO_STRICT_WEIGHT_GAME = "its weight threshold fails a tie (ties: fail); the weight games count 'at least q' only: no indices"

# ------------------------------------------------------------------ rules


@register
class Consensus(RuleParams):
    summary = "no participant objects (abstention allowed) and at least one supports"
    rule: Literal["consensus"]

    def passes(self, stances, electorate):
        sup, obj = tally(stances[:, : electorate.n_participants])
        return (obj == 0) & (sup > 0)

    def count_threshold(self):
        return Fraction(1)

    def game(self, n):
        return CountGame(n)

    def count_test(self):
        return CountTest(0, 0, veto=True)

    def phrase(self):
        return "consensus"


@register
class ConsensusMinusK(RuleParams):
    summary = "at most k participants object and at least one supports"
    rule: Literal["consensus_minus_k"]
    k: int = Field(ge=0)

    def passes(self, stances, electorate):
        sup, obj = tally(stances[:, : electorate.n_participants])
        return (obj <= self.k) & (sup > 0)

    def game(self, n):
        return CountGame(max(1, n - self.k))

    def count_test(self):
        return CountTest(0, 1, offset=self.k)


@register
class SimpleMajority(RuleParams):
    summary = "supporters outnumber objectors among those taking a side (or, with ties: pass, at least equal them)"
    rule: Literal["simple_majority"]
    ties: Ties = "fail"

    def passes(self, stances, electorate):
        sup, obj = tally(stances[:, : electorate.n_participants])
        return sup > obj if self.ties == "fail" else (sup > 0) & (sup >= obj)

    def count_threshold(self):
        """q = 1/2; a tie (as many supporting as objecting) fails by default, so the rule is "more than half"."""
        return Fraction(1, 2)

    def game(self, n):
        return CountGame(count_quota(Fraction(1, 2), n, self.ties))  # n // 2 + 1, or ceil(n / 2) if a tie passes

    def count_test(self):
        return CountTest(1, 1, strict=self.ties == "fail")

    def phrase(self):
        return "a simple majority" if self.ties == "fail" else "a majority of at least half"


@register
class QualifiedMajority(RuleParams):
    summary = "supporters are at least q of those taking a side (more than q with ties: fail)"
    rule: Literal["qualified_majority"]
    q: Threshold = "2/3"
    ties: Ties = "pass"

    _ties_possible = field_validator("ties")(_no_sure_failure)

    def passes(self, stances, electorate):
        sup, obj = tally(stances[:, : electorate.n_participants])
        return (sup > 0) & meets(sup, sup + obj, self.q, self.ties)

    def count_threshold(self):
        return Fraction(self.q)

    def game(self, n):
        return CountGame(count_quota(self.q, n, self.ties))

    def count_test(self):  # S ≥ q(S + O)  ⟺  (b − a)S − aO ≥ 0 for q = a/b
        q = Fraction(self.q)
        return CountTest(q.denominator - q.numerator, q.numerator, strict=self.ties == "fail")

    def phrase(self):
        q = str(self.count_threshold())
        if self.ties == "fail":  # q < 1
            share = {"1/2": "half", "2/3": "two-thirds", "3/4": "three-quarters"}.get(q, q)
            return "a simple majority" if q == "1/2" else f"a majority of more than {share}"
        return {"1": "unanimity", "2/3": "a two-thirds majority", "3/4": "a three-quarters majority"}.get(q, f"a {q} majority")


@register
class WeightedMajority(RuleParams):
    summary = "supporters hold at least q of a named weight (of those taking a side, or of all participants; more than q with ties: fail)"
    anonymous = False
    rule: Literal["weighted_majority"]
    weight: str
    q: Threshold = "1/2"
    base: Literal["voting", "all"] = "voting"
    ties: Ties = "pass"  # a weight within a relative 1e-9 of q × the base is a tie

    _ties_possible = field_validator("ties")(_no_sure_failure)

    def passes(self, stances, electorate):
        s = stances[:, : electorate.n_participants]
        return _weighted_pass(s, electorate.weights[self.weight], self.q, self.base, self.ties)

    def weight_names(self):
        return [self.weight]

    def game(self, n):
        if self.ties == "fail":
            return NoGame(_NO_STRICT_WEIGHT_GAME)
        return WeightGame(self.weight, Fraction(self.q))


@register
class DoubleMajority(RuleParams):
    summary = "both a count threshold q and a weight threshold weight_q are met (ties: for both)"
    anonymous = False
    rule: Literal["double_majority"]
    q: Threshold = "1/2"
    weight: str
    weight_q: Threshold = "1/2"
    base: Literal["voting", "all"] = "voting"
    ties: Ties = "pass"  # for the count threshold and the weight threshold alike

    _ties_possible = field_validator("ties")(_no_sure_failure)

    def passes(self, stances, electorate):
        s = stances[:, : electorate.n_participants]
        sup, obj = tally(s)
        count_ok = (sup > 0) & meets(sup, sup + obj, self.q, self.ties)
        return count_ok & _weighted_pass(s, electorate.weights[self.weight], self.weight_q, self.base, self.ties)

    def weight_names(self):
        return [self.weight]

    def game(self, n):
        if self.ties == "fail":
            return NoGame(_NO_STRICT_WEIGHT_GAME)
        return DoubleGame(count_quota(self.q, n, "pass"), self.weight, Fraction(self.weight_q))


class Chamber(Strict):
    name: str
    kinds: list[ActorKind] = Field(min_length=1)
    q: Threshold = "1/2"
    ties: Ties = "pass"

    _ties_possible = field_validator("ties")(_no_sure_failure)

    def approves(self, sup, obj) -> np.ndarray:
        """Its members' verdict: q of those taking a side (more than q if a tie fails); nobody taking a side never blocks."""
        if self.ties == "pass":
            return _at_least(sup, sup + obj, self.q)  # 0 >= 0 where nobody takes a side
        return (sup + obj == 0) | _above(sup, sup + obj, self.q)

    def quota(self, m: int) -> int:
        """Supporters it needs of m members, all taking a side."""
        return count_quota(self.q, m, self.ties)


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
        "taking a side, with its own ties (a chamber where all abstain does not block); observers vote"
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
            sup, obj = tally(stances[:, cols])
            ok &= ch.approves(sup, obj)  # a chamber where nobody takes a side does not block: abstention never blocks
            anyone |= sup > 0
        return ok & anyone

    def tie_rule(self):
        ties = {ch.ties for ch in self.chambers}
        return ties.pop() if len(ties) == 1 else "mixed"

    def tie_phrase(self):
        if self.tie_rule() != "mixed":
            return super().tie_phrase()
        by = {t: " and ".join(ch.name for ch in self.chambers if ch.ties == t) for t in ("pass", "fail")}
        return f"a tie passes in {by['pass']}, fails in {by['fail']}"

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
        """Each chamber whose ties fail as the "at least" chamber with its quotas for every m <= n (see ChamberGame).

        More than q of m is at least floor(q m) + 1; so is at least q + 1 / (d (n + 1)) of m, for
        q = c / d and every m <= n: the added share is below 1 / d, the gap to the next multiple.
        """
        at_least = [
            ch if ch.ties == "pass" else ch.model_copy(update={"q": ch.q + Fraction(1, ch.q.denominator * (n + 1)), "ties": "pass"})
            for ch in self.chambers
        ]
        return ChamberGame(at_least)


@register
class WrittenProcedure(RuleParams):
    summary = "at least min_support supporting replies and no objection"
    rule: Literal["written_procedure"]
    min_support: int = Field(default=1, ge=1)

    def passes(self, stances, electorate):
        sup, obj = tally(stances[:, : electorate.n_participants])
        return (sup >= self.min_support) & (obj == 0)

    def game(self, n):
        if self.min_support > n:
            return NoGame(f"needs {self.min_support} supporting replies but has {n} participants: never passes")
        return CountGame(n)

    def count_test(self):
        return CountTest(1, 0, offset=-self.min_support, veto=True)


# any registered rule, told apart by its `rule` field: what a scenario's `rules:` (and a rule event) hold
AnyRule = Annotated[Union[tuple(RULES.values())], Field(discriminator="rule")]
