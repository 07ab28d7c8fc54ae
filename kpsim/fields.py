"""Validated field types shared by the scenario schema and the rule parameters."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, PlainSerializer


def _between(lo: float, hi: float | None = None):
    def check(v):
        if v < lo or (hi is not None and v > hi):
            raise ValueError(f"must be between {lo:g} and {hi:g}" if hi is not None else f"must be at least {lo:g}")
        return v

    return AfterValidator(check)


Unit = Annotated[float, _between(0, 1)]
NonNeg = Annotated[float, _between(0)]


class Strict(BaseModel):
    """Unknown keys are errors (reported with a suggestion): a typo must not become a default."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_default=True)


def _fraction(v) -> Fraction:
    try:
        q = Fraction(v) if isinstance(v, str) else Fraction(v).limit_denominator(10_000)
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
