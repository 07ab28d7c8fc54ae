"""Decision rules: pure functions of a stance matrix, registered by name.

A stance matrix has one row per replication and one column per actor, coded
SUPPORT = 1, ABSTAIN = 0, OBJECT = -1; participants come first, observers
after. Each rule returns one boolean per row: does the text pass? Rules are
vectorised over rows so one call decides a whole batch of replications.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Literal

import numpy as np
from pydantic import Field

from kpsim.fields import Strict, Threshold

SUPPORT, ABSTAIN, OBJECT = 1, 0, -1
STANCE_NAMES = {SUPPORT: "support", ABSTAIN: "abstain", OBJECT: "object"}


@dataclass(frozen=True)
class Electorate:
    """Who may vote and with which weights; participants are columns [0, n_participants)."""

    n_participants: int
    kinds: tuple[str, ...]  # one per actor column
    weights: dict[str, np.ndarray]  # named weight -> one value per participant


class RuleParams(Strict):
    """Every rule has an optional display name; defaults to the rule's own."""

    name: str | None = Field(default=None, min_length=1)

    @property
    def label(self) -> str:
        return self.name or self.rule

    def weight_names(self) -> list[str]:
        return []

    def voter_kinds(self) -> set[str]:
        """Whose stance the rule counts: participants, unless a rule gives observers a vote."""
        return {"participant"}


@dataclass(frozen=True)
class RuleSpec:
    fn: Callable[[np.ndarray, Electorate, RuleParams], np.ndarray]
    params: type[RuleParams]
    summary: str
    anonymous: bool  # depends only on how many participants support / object, not on who


RULES: dict[str, RuleSpec] = {}


def register(name: str, params: type[RuleParams], summary: str, anonymous: bool = True):
    def deco(fn):
        RULES[name] = RuleSpec(fn, params, summary, anonymous)
        return fn

    return deco


def decide(stances: np.ndarray, electorate: Electorate, params: RuleParams) -> np.ndarray:
    return RULES[params.rule].fn(stances, electorate, params)


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


# ------------------------------------------------------------------ rules


class ConsensusParams(RuleParams):
    rule: Literal["consensus"]


@register("consensus", ConsensusParams, "no participant objects (abstention allowed) and at least one supports")
def consensus(stances, electorate, params):
    sup, obj = _tally(stances[:, : electorate.n_participants])
    return (obj == 0) & (sup > 0)


class ConsensusMinusKParams(RuleParams):
    rule: Literal["consensus_minus_k"]
    k: int = Field(ge=0)


@register("consensus_minus_k", ConsensusMinusKParams, "at most k participants object and at least one supports")
def consensus_minus_k(stances, electorate, params):
    sup, obj = _tally(stances[:, : electorate.n_participants])
    return (obj <= params.k) & (sup > 0)


class SimpleMajorityParams(RuleParams):
    rule: Literal["simple_majority"]


@register("simple_majority", SimpleMajorityParams, "supporters outnumber objectors among those taking a side")
def simple_majority(stances, electorate, params):
    sup, obj = _tally(stances[:, : electorate.n_participants])
    return sup > obj


class QualifiedMajorityParams(RuleParams):
    rule: Literal["qualified_majority"]
    q: Threshold = "2/3"


@register("qualified_majority", QualifiedMajorityParams, "supporters are at least q of those taking a side")
def qualified_majority(stances, electorate, params):
    sup, obj = _tally(stances[:, : electorate.n_participants])
    return (sup > 0) & _at_least(sup, sup + obj, params.q)


class WeightedMajorityParams(RuleParams):
    rule: Literal["weighted_majority"]
    weight: str
    q: Threshold = "1/2"
    base: Literal["voting", "all"] = "voting"

    def weight_names(self):
        return [self.weight]


def _weighted_pass(s, w, q, base):
    sup_w = (s == SUPPORT) @ w
    side_w = sup_w + (s == OBJECT) @ w if base == "voting" else np.full(len(s), w.sum())
    return (sup_w > 0) & _at_least_weight(sup_w, side_w, q)


@register(
    "weighted_majority",
    WeightedMajorityParams,
    "supporters hold at least q of a named weight (of those taking a side, or of all participants)",
    anonymous=False,
)
def weighted_majority(stances, electorate, params):
    s = stances[:, : electorate.n_participants]
    return _weighted_pass(s, electorate.weights[params.weight], params.q, params.base)


class DoubleMajorityParams(RuleParams):
    rule: Literal["double_majority"]
    q: Threshold = "1/2"
    weight: str
    weight_q: Threshold = "1/2"
    base: Literal["voting", "all"] = "voting"

    def weight_names(self):
        return [self.weight]


@register(
    "double_majority",
    DoubleMajorityParams,
    "both a count threshold q and a weight threshold weight_q are met",
    anonymous=False,
)
def double_majority(stances, electorate, params):
    s = stances[:, : electorate.n_participants]
    sup, obj = _tally(s)
    count_ok = (sup > 0) & _at_least(sup, sup + obj, params.q)
    return count_ok & _weighted_pass(s, electorate.weights[params.weight], params.weight_q, params.base)


class Chamber(Strict):
    name: str
    kinds: list[Literal["participant", "industry", "civil_society", "intergovernmental"]] = Field(min_length=1)
    q: Threshold = "1/2"


def _default_chambers():
    return [
        Chamber(name="governments", kinds=["participant"], q="1/2"),
        Chamber(name="industry", kinds=["industry"], q="1/2"),
        Chamber(name="civil_society", kinds=["civil_society"], q="1/2"),
    ]


class ChambersParams(RuleParams):
    rule: Literal["chambers"]
    chambers: list[Chamber] = Field(default_factory=_default_chambers, min_length=1)

    def voter_kinds(self):
        return {k for ch in self.chambers for k in ch.kinds}


@register(
    "chambers",
    ChambersParams,
    "every chamber (by default governments, industry, civil society) approves by its own threshold q of those taking a side (a chamber where all abstain does not block); observers vote",
    anonymous=False,
)
def chambers(stances, electorate, params):
    kinds = np.asarray(electorate.kinds)
    ok = np.ones(len(stances), dtype=bool)
    anyone = np.zeros(len(stances), dtype=bool)
    for ch in params.chambers:
        cols = np.isin(kinds, ch.kinds)
        sup, obj = _tally(stances[:, cols])
        # a chamber where nobody takes a side does not block: abstention never blocks
        ok &= _at_least(sup, sup + obj, ch.q)
        anyone |= sup > 0
    return ok & anyone


class WrittenProcedureParams(RuleParams):
    rule: Literal["written_procedure"]
    min_support: int = Field(default=1, ge=1)


@register("written_procedure", WrittenProcedureParams, "at least min_support supporting replies and no objection")
def written_procedure(stances, electorate, params):
    sup, obj = _tally(stances[:, : electorate.n_participants])
    return (sup >= params.min_support) & (obj == 0)
