"""A sweep's design: the points, each a scenario with some fields changed, every one checked before anything runs.

A point is addressed by dotted paths: `dynamics.<field>`, `proposal.<field>`,
`calendar.<field>`, `actors.<id>.<field>` and `rules.<name>.<field>`. Each
point's scenario is rebuilt through the schema, so a value a scenario file
could not hold is an error (with the file:line of the sweep entry) before
anything runs. The paths themselves are read by kpsim.scenario.paths (scenario
events use them too).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import ValidationError

from kpsim.errors import InputError
from kpsim.scenario.load import field_message
from kpsim.scenario.paths import is_whole, leaf_types, resolve_path, with_values
from kpsim.scenario.schema import Scenario
from kpsim.scenario.sweepspec import Sweep
from kpsim.scenario.yamlsource import LDict, line_of


# ---------------------------------------------------------------- the design


@dataclass(frozen=True)
class Design:
    """The points of a sweep: `base` is the scenario every point changes (its sweep section removed)."""

    base: Scenario
    spec: Sweep | None  # as run (replications and sampling seed filled in); None for a design given as rows
    names: list[str]  # parameter paths, grid ones first
    points: list[tuple]  # one value per name
    source: str | None = None
    # under --uncertainty parameters or full: each point runs N / D replications at each of D draws
    uncertainty: str = "montecarlo"
    draws: tuple = ()  # the dynamics of each draw (from the posterior; {} without one)
    codings: bool = False  # each draw also takes the codings written as ranges from their ranges

    @property
    def replications(self) -> int:
        return self.base.replications

    @property
    def rules(self) -> list[str]:
        return [r.label for r in self.base.rules]

    def table(self) -> pd.DataFrame:
        """One row per point: its number and its parameter values."""
        frame = pd.DataFrame(self.points, columns=self.names, dtype=object)
        frame.insert(0, "point", np.arange(len(self.points)))
        return frame.infer_objects()


def with_uncertainty(plan: Design, mode: str, draws: int | None, posterior) -> Design:
    """The plan with each point spread over draws of the posterior (and, under full, of the codings), as `kpsim compare` spreads one."""
    from dataclasses import replace

    from kpsim.analysis.uncertainty import DEFAULT_DRAWS, check_mode, posterior_updates

    posterior = check_mode(plan.base, mode, posterior)
    if mode == "montecarlo":
        return plan
    d = min(draws or DEFAULT_DRAWS, plan.replications)
    return replace(plan, uncertainty=mode, draws=tuple(posterior_updates(plan.base, posterior, d)), codings=mode == "full")


def design(
    scenario: Scenario,
    tree: LDict | None = None,
    replications: int | None = None,
    seed: int | None = None,
    source: str | None = None,
) -> Design:
    """The points of `scenario.sweep`, every one checked against the schema (all problems at once).

    `tree` (from kpsim.scenario.load_tree) gives errors their file:line;
    `replications` and `seed` override the sweep's and the scenario's.
    """
    if scenario.sweep is None:
        raise InputError(f"{source or scenario.name}: no 'sweep:' section — nothing to sweep (see scenarios/sweep_example.yaml)")
    base, spec = _as_run(scenario, scenario.sweep, replications, seed)
    where = _Where(tree)
    keys = _keys(base, spec, where)
    sampled = [()]
    if spec.ranges:
        from scipy.stats import qmc  # here: importing scipy.stats takes a quarter of a second

        d, n = len(spec.ranges), spec.samples
        if spec.method == "sobol":
            unit = qmc.Sobol(d, scramble=True, seed=np.random.default_rng(spec.seed)).random_base2(int(math.log2(n)))
        else:
            unit = qmc.LatinHypercube(d, seed=np.random.default_rng(spec.seed)).random(n)
        whole = [is_whole(keys[name][1]) for name in spec.ranges]
        bounds = list(spec.ranges.values())
        sampled = [tuple(_scale(u, b, w) for u, b, w in zip(row, bounds, whole)) for row in unit]
    points = [tuple(g) + s for g in itertools.product(*spec.grid.values()) for s in sampled]
    names = list(spec.grid) + list(spec.ranges)
    _check_points(base, names, keys, points, spec, where)
    return Design(base, spec, names, points, source)


def design_from_rows(
    scenario: Scenario,
    ranges: dict[str, tuple[float, float]],
    rows: np.ndarray,
    tree: LDict | None = None,
    replications: int | None = None,
    seed: int | None = None,
    source: str | None = None,
) -> Design:
    """Points given as rows of values over `ranges` (e.g. a SALib design); whole-number fields are rounded."""
    spec = Sweep(ranges={k: [float(lo), float(hi)] for k, (lo, hi) in ranges.items()}, samples=len(rows))
    base, spec = _as_run(scenario, spec, replications, seed)
    where = _Where(tree)
    keys = _keys(base, spec, where)
    whole = [is_whole(keys[name][1]) for name in spec.ranges]
    points = [tuple(int(round(v)) if w else float(v) for v, w in zip(row, whole)) for row in rows]
    names = list(spec.ranges)
    _check_points(base, names, keys, points, spec, where)
    return Design(base, None, names, points, source)


def _as_run(scenario: Scenario, spec: Sweep, replications, seed) -> tuple[Scenario, Sweep]:
    """The scenario every point changes, and the spec with what was left to defaults filled in."""
    seed = scenario.seed if seed is None else seed
    reps = replications or spec.replications or scenario.replications
    spec = spec.model_copy(update={"replications": reps, "seed": seed if spec.seed is None else spec.seed})
    return scenario.model_copy(update={"sweep": None, "replications": reps, "seed": seed}), spec


def _keys(base: Scenario, spec: Sweep, where) -> dict:
    """Each parameter's keys and field; unknown paths, and ranges on what cannot be sampled, are errors."""
    keys, errors = {}, []
    for kind, entries in (("grid", spec.grid), ("ranges", spec.ranges)):
        for name in entries:
            at = f"{where(('sweep', kind, name))}sweep.{kind}.{name}"
            try:
                keys[name] = resolve_path(base, name)
            except ValueError as exc:
                errors.append(f"{at} — {exc}")
                continue
            if kind == "grid":
                continue
            low, high = entries[name]
            if not leaf_types(keys[name][1].annotation) & {int, float}:
                errors.append(f"{at} — not a number, so it cannot be sampled; list its values under grid")
            elif is_whole(keys[name][1]) and not (float(low).is_integer() and float(high).is_integer()):
                errors.append(f"{at} = [{low:g}, {high:g}] — a whole-number field: give whole-number bounds")
    if errors:
        raise InputError(errors)
    return keys


class _Where:
    """'file:line: ' of an entry of the scenario tree, or '' without one."""

    def __init__(self, tree):
        self.tree = tree

    def __call__(self, loc: tuple) -> str:
        if self.tree is None:
            return ""
        fname, line = line_of(self.tree, loc)
        return f"{fname}:{line}: "


def _scale(u: float, bounds, whole: bool):
    """A unit draw onto [low, high]; whole-number fields get every integer in it with equal chance."""
    low, high = bounds
    if whole:
        return int(min(high, low + math.floor(u * (high - low + 1))))
    return float(low + u * (high - low))


point_scenario = with_values  # a point's scenario: the base with the point's values set (kpsim.sweep.execute, tests)


def _check_points(base, names, keys, points, spec, where) -> None:
    """Build every point's scenario; report each distinct problem once, at its sweep entry."""
    paths = [keys[n][0] for n in names]
    seen: dict[str, None] = {}
    for values in points:
        try:
            point_scenario(base, paths, values)
        except ValidationError as exc:
            for err in exc.errors():
                seen.setdefault(_point_error(err, names, paths, values, spec, where), None)
        if len(seen) >= 20:
            break
    if seen:
        raise InputError(list(seen))


def _point_error(err, names, paths, values, spec, where) -> str:
    loc = tuple(err["loc"])
    for name, path, value in zip(names, paths, values):
        if loc[: len(path)] == path:
            if name in spec.grid:
                entry = ("sweep", "grid", name, spec.grid[name].index(value))
            else:
                entry = ("sweep", "ranges", name)
            kind = "grid" if name in spec.grid else "ranges"
            return f"{where(entry)}sweep.{kind}.{name}: value {value!r} — {field_message(err)}"
    point = ", ".join(f"{n} = {v!r}" for n, v in zip(names, values))
    field = ".".join(str(k) for k in loc) or "scenario"
    return f"{where(('sweep',))}sweep: at the point {point}: {field} — {field_message(err)}"
