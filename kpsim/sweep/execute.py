"""Running a sweep: every point of a design (kpsim.sweep.design) runs every rule × its replications.

Every point runs on the scenario's seed: replication i sees the same draws at
every point, so differences between points are paired, like differences
between rules (common random numbers). Each point is run by kpsim.run.runner.run,
so its rows are those `kpsim compare` writes. Work goes out in chunks (whole
points, one rule; or a part of one big point's replications) on any
`concurrent.futures.Executor` (and to this process,
which is one of the local workers), a few per worker at a time, and each
chunk is written to disk as soon as it is back
(kpsim.sweep.store), so memory stays flat and a killed sweep resumes.
"""

from __future__ import annotations

import io
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from kpsim.atomic import claim
from kpsim.analysis.summary import SUMMARISED, summarise
from kpsim.analysis.uncertainty import across_draws, at_draw, interval_label
from kpsim.run.pool import worker_deaths_explained
from kpsim.run.runner import MAX_BATCH, run
from kpsim.scenario.schema import Scenario
from kpsim.scenario.paths import resolve_path
from kpsim.sweep.design import Design, point_scenario
from kpsim.sweep.store import SweepFolder, parquet_bytes

CHUNK_REPLICATIONS = 20_000  # per chunk and rule: big enough to amortise writing a file
MIN_PART = 1_000  # replications: a smaller part of a point costs more to hand out than it balances


# ---------------------------------------------------------------- one chunk, on a worker


def run_chunk(base: Scenario, keys: list[tuple], points: list[tuple], first: int, rule: str, reps: tuple[int, int],
              draws: tuple = (), codings: bool = False, label: str = "") -> tuple[bytes, bytes]:
    """Points first, first+1, … under one rule, replications reps[0] … reps[1]-1: the rows `kpsim compare` would give, and their summary, as Parquet.

    A part of a point's replications gets a summary with no rows: the point's
    row needs all its parts (see _point_summary). With `draws` (whole points only),
    each point runs N / D replications at each draw, as `kpsim compare --uncertainty`
    does, and its summary's intervals are the range across the draws.
    """
    runs, summaries = [], []
    for point, values in enumerate(points, start=first):
        if draws:
            frame, summary = _over_draws(base, keys, values, rule, draws, codings, label)
        else:
            sc = point_scenario(base, keys, values)
            # one worker runs the whole chunk: no smaller batches for other workers, so the fewest meetings' fixed costs
            frame, _ = run(sc, [rule], reps[1] - reps[0], progress=False, first=reps[0], batch=MAX_BATCH)
            summary = summarise(frame, sc.calendar.horizon, sc.calendar.meetings_per_year)
        frame.insert(0, "point", np.int64(point))
        summary.insert(0, "point", np.int64(point))
        runs.append(frame)
        summaries.append(summary)
    summary = pd.concat(summaries, ignore_index=True)
    whole = reps == (0, base.replications)
    return parquet_bytes(pd.concat(runs, ignore_index=True)), parquet_bytes(summary if whole else summary.iloc[:0])


def _over_draws(base, keys, values, rule, draws, codings, label):
    """One point at each draw (the draw's dynamics and codings first, the point's own values over them), N / D replications each."""
    d = len(draws)
    n = base.replications // d
    frames, per_draw = [], []
    for k, update in enumerate(draws):
        sc = point_scenario(at_draw(base, k, update, codings), keys, values)
        frame, _ = run(sc, [rule], n, progress=False, first=k * n, batch=MAX_BATCH)
        frames.append(frame.assign(draw=np.int64(k)))
        per_draw.append(summarise(frame, sc.calendar.horizon, sc.calendar.meetings_per_year))
    frame = pd.concat(frames, ignore_index=True)
    pooled = summarise(frame, sc.calendar.horizon, sc.calendar.meetings_per_year)
    return frame, across_draws(pooled, pd.concat(per_draw, ignore_index=True), label)


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
    if per == 1 and not plan.draws:  # a point spread over draws runs whole: its summary is across them
        parts = max(-(-reps // chunk_replications), -(-8 * parallel // (n * len(plan.rules))))
        parts = max(1, min(parts, reps // MIN_PART))
    with claim(folder):  # one writer per sweep folder
        store = SweepFolder.open(folder, plan, per, parts, force=force, command=command)
        keys = [resolve_path(plan.base, name)[0] for name in plan.names]
        extra = (plan.draws, plan.codings, interval_label(plan.uncertainty, len(plan.draws), any(plan.draws), codings=bool(plan.base.codings))) if plan.draws else ()
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
                    pending[ex.submit(run_chunk, plan.base, keys, pts, chunk.first, chunk.rule, span, *extra)] = (chunk, ex)
                    held[ex] += 1

        def finished(chunk, runs: bytes, summary: bytes) -> tuple[bytes, bytes]:
            """What to write: the last part of a point to finish carries the point's summary."""
            siblings = store.parts_of(chunk)
            if len(siblings) > 1 and all(store.is_done(c) for c in siblings if c != chunk):
                summary = _point_summary(plan, keys, store, chunk, runs)
            return runs, summary

        try:
            with worker_deaths_explained():  # a worker killed (out of memory, a signal): said as for every pool
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
