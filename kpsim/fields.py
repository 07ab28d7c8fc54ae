"""Validated field types shared by the scenario schema and the rule parameters, and the table of actor kinds."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer


def _between(lo: float, hi: float | None = None):
    def check(v):
        if v < lo or (hi is not None and v > hi):
            raise ValueError(f"must be between {lo:g} and {hi:g}" if hi is not None else f"must be at least {lo:g}")
        return v

    return AfterValidator(check)


MAX_REPLICATIONS = 100_000_000  # per rule: the scenario files and every --reps
MAX_SEED = 2**64 - 1  # the random streams' key: the scenario files and every --seed

Unit = Annotated[float, _between(0, 1)]
NonNeg = Annotated[float, _between(0)]


class Strict(BaseModel):
    """Unknown keys are errors (reported with a suggestion): a typo must not become a default; NaN and infinity are errors (NaN passes every range check)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_default=True, allow_inf_nan=False)


def _fraction(v) -> Fraction:
    if isinstance(v, str) and len(v) > 32:  # Fraction('1e-99999999') would build a 10^8-digit number
        raise ValueError("must be a fraction such as 2/3 or a number such as 0.75")
    try:
        q = Fraction(v) if isinstance(v, str) else Fraction(v).limit_denominator(10_000)
        if q.denominator > 1_000_000:  # thresholds are compared in int64 arithmetic
            raise ValueError
    except (ValueError, ZeroDivisionError):
        raise ValueError("must be a fraction such as 2/3 or a number such as 0.75") from None
    if not 0 < q <= 1:
        raise ValueError("must be above 0 and at most 1")
    return q


# Thresholds compare exactly: two-thirds of 60 is 40, not 39.999…
Threshold = Annotated[
    float | str,
    AfterValidator(_fraction),
    PlainSerializer(lambda q: str(q), return_type=str),
]


# ------------------------------------------------------------------ actor kinds


@dataclass(frozen=True)
class ActorKindInfo:
    """What a kind of actor is: whether it votes by default (a participant), and what it stands for."""

    votes: bool
    description: str


# The one table of actor kinds: the schema's Literal, the observer kinds, the chamber kinds and
# the agent classes (kpsim.model.actors) are all built from it. Participants come first.
ACTOR_KINDS = {
    "participant": ActorKindInfo(True, "a government (or the EU): it votes and is influenced by its allies"),
    "industry": ActorKindInfo(False, "the diamond industry's representative body (e.g. the World Diamond Council)"),
    "civil_society": ActorKindInfo(False, "a civil-society coalition"),
    "intergovernmental": ActorKindInfo(False, "an intergovernmental observer (e.g. a producers' association)"),
}
ActorKind = Literal[tuple(ACTOR_KINDS)]
PARTICIPANT = "participant"
OBSERVER_KINDS = tuple(k for k, info in ACTOR_KINDS.items() if not info.votes)
