"""The `sweep:` section of a scenario: which parameters vary, over what, and how many points.

Only the shape is checked here, so any scenario file can be loaded without
running anything; whether each path and value fits the scenario is checked in
kpsim.sweep, by building every point's scenario against the schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from kpsim.fields import MAX_REPLICATIONS, Strict


def _scalar(v):
    if v is not None and not isinstance(v, bool | int | float | str):
        raise ValueError("must be one value: a number, true/false, text or null")
    return v


def _low_below_high(v):
    if not v[0] < v[1]:
        raise ValueError(f"must be [low, high] with low < high, got [{v[0]:g}, {v[1]:g}]")
    return v


# None is a value too: e.g. proposal.abandon_after = null (never abandon)
Scalar = Annotated[Any, AfterValidator(_scalar)]
Range = Annotated[list[float], Field(min_length=2, max_length=2), AfterValidator(_low_below_high)]


class Sweep(Strict):
    """A full grid over `grid`, crossed with `samples` points drawn from the box `ranges`."""

    grid: dict[str, Annotated[list[Scalar], Field(min_length=1)]] = Field(default_factory=dict)
    ranges: dict[str, Range] = Field(default_factory=dict)
    method: Literal["lhs", "sobol"] = "lhs"
    samples: Annotated[int, Field(ge=1, le=10_000_000)] | None = None
    seed: Annotated[int, Field(ge=0)] | None = None  # of the sampling; default: the scenario's seed
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] | None = None  # per point and rule

    @model_validator(mode="after")
    def _coherent(self):
        if not self.grid and not self.ranges:
            raise ValueError("give 'grid' (lists of values) or 'ranges' ([low, high] with 'samples'), or both")
        both = sorted(set(self.grid) & set(self.ranges))
        if both:
            raise ValueError(f"{', '.join(both)}: in both grid and ranges — a parameter is either listed or sampled")
        if self.ranges and self.samples is None:
            raise ValueError("ranges need 'samples': how many points to draw from the box")
        if self.samples is not None and not self.ranges:
            raise ValueError("'samples' draws from 'ranges', and there are none — list values under 'grid' instead")
        if self.method == "sobol" and self.samples is not None and self.samples & (self.samples - 1):
            raise ValueError(f"samples = {self.samples} — a Sobol design needs a power of two (e.g. 64, 128); use method: lhs for other sizes")
        return self
