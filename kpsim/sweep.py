"""Parameter sweeps: every point of a design runs every rule × its replications.

A point is a scenario with some fields changed, addressed by dotted paths:
`dynamics.<field>`, `proposal.<field>`, `calendar.<field>`,
`actors.<id>.<field>` and `rules.<name>.<field>`. Each point's scenario is
rebuilt through the schema, so a value a scenario file could not hold is an
error (with the file:line of the sweep entry) before anything runs.

Every point runs on the scenario's seed: replication i sees the same draws at
every point, so differences between points are paired, like differences
between rules (common random numbers). Each point is run by kpsim.runner.run,
so its rows are those `kpsim compare` writes. Work goes out in chunks (whole
points, one rule; or a part of one big point's replications) on any
`concurrent.futures.Executor` (and to this process,
which is one of the local workers), a few per worker at a time, and each
chunk is written to disk as soon as it is back
(kpsim.sweepstore), so memory stays flat and a killed sweep resumes.
"""

from __future__ import annotations

import difflib
import io
import itertools
import math
import types
import typing
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError
from tqdm.auto import tqdm

from kpsim.runner import MAX_BATCH, run
from kpsim.scenario import Scenario, _message
from kpsim.summary import SUMMARISED, summarise
from kpsim.sweepspec import Sweep
from kpsim.sweepstore import SweepFolder, parquet_bytes
from kpsim.yamlsource import InputError, LDict, line_of

SECTIONS = ("dynamics", "proposal", "calendar")  # path: section.field
LISTS = ("actors", "rules")  # path: list.<actor id or rule name>.field
FIXED = {"id", "kind", "rule", "name"}  # identities, not parameters
CHUNK_REPLICATIONS = 20_000  # per chunk and rule: big enough to amortise writing a file
MIN_PART = 1_000  # replications: a smaller part of a point costs more to hand out than it balances


# ---------------------------------------------------------------- the design


@dataclass(frozen=True)
class Design:
    """The points of a sweep: `base` is the scenario every point changes (its sweep section removed)."""

    base: Scenario
    spec: Sweep | None  # as run (replications and sampling seed filled in); None for a design given as rows
    names: list[str]  # parameter paths, grid ones first
    points: list[tuple]  # one value per name
    source: str | None = None

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
        whole = [_is_whole(keys[name][1]) for name in spec.ranges]
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
    whole = [_is_whole(keys[name][1]) for name in spec.ranges]
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
                keys[name] = _resolve(base, name)
            except ValueError as exc:
                errors.append(f"{at} — {exc}")
                continue
            if kind == "grid":
                continue
            low, high = entries[name]
            if not _leaf_types(keys[name][1].annotation) & {int, float}:
                errors.append(f"{at} — not a number, so it cannot be sampled; list its values under grid")
            elif _is_whole(keys[name][1]) and not (float(low).is_integer() and float(high).is_integer()):
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


def _resolve(base: Scenario, path: str) -> tuple:
    """The keys of `path` in base.model_dump(), and the pydantic field it names; ValueError if none."""
    parts = path.split(".")
    head = parts[0]
    shapes = "dynamics.<field>, proposal.<field>, calendar.<field>, actors.<id>.<field>, rules.<name>.<field>"
    if head in SECTIONS and len(parts) == 2:
        model, keys = type(getattr(base, head)), (head,)
    elif head in LISTS and len(parts) == 3:
        items = getattr(base, head)
        labels = [a.id for a in items] if head == "actors" else [r.label for r in items]
        if parts[1] not in labels:
            near = difflib.get_close_matches(parts[1], labels, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            shown = ", ".join(labels[:12]) + (f", … ({len(labels)} in all)" if len(labels) > 12 else "")
            raise ValueError(f"no {head[:-1]} named '{parts[1]}'{hint} — {head}: {shown}")
        i = labels.index(parts[1])
        model, keys = type(items[i]), (head, i)
    else:
        near = difflib.get_close_matches(head, [*SECTIONS, *LISTS], n=1)
        hint = f" ('{head}': did you mean '{near[0]}'?)" if near and near[0] != head else ""
        raise ValueError(f"not a sweepable path{hint} — allowed: {shapes}")
    field = parts[-1]
    allowed = [f for f in model.model_fields if f not in FIXED]
    if field not in allowed:
        near = difflib.get_close_matches(field, allowed, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ValueError(f"unknown field '{field}'{hint} — allowed: {', '.join(allowed)}")
    return keys + (field,), model.model_fields[field]


def _leaf_types(annotation) -> set:
    """The plain types behind Annotated[...] and unions: {int}, {float, str}, …"""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_leaf_types(a) for a in typing.get_args(annotation)))
    return {annotation}


def _is_whole(field) -> bool:
    kinds = _leaf_types(field.annotation)
    return int in kinds and float not in kinds


def _scale(u: float, bounds, whole: bool):
    """A unit draw onto [low, high]; whole-number fields get every integer in it with equal chance."""
    low, high = bounds
    if whole:
        return int(min(high, low + math.floor(u * (high - low + 1))))
    return float(low + u * (high - low))


def point_scenario(base: Scenario, keys: list[tuple], values: tuple) -> Scenario:
    """`base` with each field at `keys` set to its value, validated as a scenario file would be."""
    data = base.model_dump()
    for key, value in zip(keys, values):
        node = data
        for k in key[:-1]:
            node = node[k]
        node[key[-1]] = value
    return Scenario.model_validate(data)


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
            return f"{where(entry)}sweep.{kind}.{name}: value {value!r} — {_message(err)}"
    point = ", ".join(f"{n} = {v!r}" for n, v in zip(names, values))
    field = ".".join(str(k) for k in loc) or "scenario"
    return f"{where(('sweep',))}sweep: at the point {point}: {field} — {_message(err)}"


# ---------------------------------------------------------------- one chunk, on a worker


def run_chunk(base: Scenario, keys: list[tuple], points: list[tuple], first: int, rule: str, reps: tuple[int, int]) -> tuple[bytes, bytes]:
    """Points first, first+1, … under one rule, replications reps[0] … reps[1]-1: the rows `kpsim compare` would give, and their summary, as Parquet.

    A part of a point's replications gets a summary with no rows: the point's
    row needs all its parts (see _point_summary).
    """
    runs, summaries = [], []
    for point, values in enumerate(points, start=first):
        sc = point_scenario(base, keys, values)
        # one worker runs the whole chunk: no smaller batches for other workers, so the fewest meetings' fixed costs
        frame = run(sc, [rule], reps[1] - reps[0], progress=False, first=reps[0], batch=MAX_BATCH).runs
        frame.insert(0, "point", np.int64(point))
        runs.append(frame)
        summaries.append(_summary(frame, sc, point))
    summary = pd.concat(summaries, ignore_index=True)
    whole = reps == (0, base.replications)
    return parquet_bytes(pd.concat(runs, ignore_index=True)), parquet_bytes(summary if whole else summary.iloc[:0])


def _summary(frame: pd.DataFrame, sc: Scenario, point: int) -> pd.DataFrame:
    summary = summarise(frame, sc.calendar.horizon, sc.calendar.meetings_per_year)
    summary.insert(0, "point", np.int64(point))
    return summary


def _point_summary(plan: Design, keys: list[tuple], store: SweepFolder, chunk, runs: bytes) -> bytes:
    """The summary row of the point whose last part `chunk` is, from the rows of all its parts (in replication order)."""
    parts = [
        pd.read_parquet(io.BytesIO(runs), columns=SUMMARISED) if c == chunk else store.chunk_runs(c, SUMMARISED)
        for c in store.parts_of(chunk)
    ]
    frame = pd.concat(parts, ignore_index=True)
    sc = point_scenario(plan.base, keys, plan.points[chunk.first])
    return parquet_bytes(_summary(frame, sc, chunk.first))


# ---------------------------------------------------------------- the whole sweep


def run_sweep(
    plan: Design,
    folder: Path,
    executor: Executor | None = None,
    workers: int = 1,
    here: bool | None = None,
    progress: bool = True,
    force: bool = False,
    command: str = "",
    chunk_replications: int = CHUNK_REPLICATIONS,
):
    """Run what `folder` does not hold yet, writing each chunk as it comes back; returns the folder.

    Chunks run on `executor` (`workers` at once) and, if `here` (the default
    without an executor), in this process too: with local worker processes
    this process is one of the workers, so it computes while the others are
    still starting. The main thread only hands out chunks and writes what
    comes back, so no worker waits for it. Each of the `workers` holds at most
    two chunks (one running, one queued) and, near the end, one, so memory
    stays flat and no worker idles while another still has a queue. The
    first error of any chunk, or Ctrl-C, stops the sweep; every chunk that
    had finished by then is written.
    A chunk holds whole points, about `chunk_replications` replications of
    one rule, and there are at least 8 chunks per worker (cost varies from
    point to point: small chunks balance the load). Where points are too few
    for that, or a point has more than `chunk_replications` replications,
    each point is run in parts (of at least MIN_PART replications): the
    numbers are the same, since each replication's draws are its own. A
    resumed sweep keeps the chunking it started with.
    """
    here = executor is None if here is None else here
    if executor is None and not here:
        raise ValueError("nothing to run the chunks on: give an executor, or here=True")
    if executor is not None and workers < 1:
        raise ValueError(f"an executor needs workers >= 1 (how many chunks it runs at once), not {workers}")
    parallel = workers * (executor is not None) + here
    reps, n = plan.replications, len(plan.points)
    per = max(1, min(chunk_replications // reps, n // (8 * parallel)))
    parts = 1
    if per == 1:
        parts = max(-(-reps // chunk_replications), -(-8 * parallel // (n * len(plan.rules))))
        parts = max(1, min(parts, reps // MIN_PART))
    store = SweepFolder.open(folder, plan, per, parts, force=force, command=command)
    keys = [_resolve(plan.base, name)[0] for name in plan.names]
    todo = deque(store.todo())
    local = ThreadPoolExecutor(1, thread_name_prefix="kpsim-sweep") if here else None
    # This process's lane first: it computes at once, while the first chunk sent to a
    # forkserver pool waits for the server to finish importing kpsim.
    lanes = {ex: n for ex, n in ((local, 1), (executor, workers)) if ex is not None}
    held = dict.fromkeys(lanes, 0)
    pending = {}  # future: (chunk, executor)
    bar = tqdm(total=len(plan.points), initial=store.points_done(), unit="point", desc=plan.base.name, disable=not progress, leave=False)

    def fill():
        for ex, n in lanes.items():
            depth = n if ex is local or len(todo) < parallel else 2 * n
            while held[ex] < depth and todo:
                chunk = todo.popleft()
                pts = plan.points[chunk.first : chunk.stop]
                span = (chunk.rep_first, chunk.rep_stop)
                pending[ex.submit(run_chunk, plan.base, keys, pts, chunk.first, chunk.rule, span)] = (chunk, ex)
                held[ex] += 1

    def finished(chunk, runs: bytes, summary: bytes) -> tuple[bytes, bytes]:
        """What to write: the last part of a point to finish carries the point's summary."""
        siblings = store.parts_of(chunk)
        if len(siblings) > 1 and all(store.is_done(c) for c in siblings if c != chunk):
            summary = _point_summary(plan, keys, store, chunk, runs)
        return runs, summary

    try:
        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                fut.result()  # a worker's error is raised here, at once
            for fut in done:
                held[pending[fut][1]] -= 1
            fill()  # before writing: workers go on while this thread writes
            for fut in done:
                chunk, _ = pending.pop(fut)
                bar.update(store.write(chunk, *finished(chunk, *fut.result())))
    finally:  # stopped by an error or Ctrl-C: keep every chunk that did finish
        for fut in pending:
            fut.cancel()
        if local is not None:
            local.shutdown(wait=True, cancel_futures=True)  # a thread cannot be interrupted: its chunk ends first
        for fut, (chunk, _) in pending.items():
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                store.write(chunk, *finished(chunk, *fut.result()))
        bar.close()
    store.finish(plan, parallel, command)
    return store
