"""The outputs registry: every table and chart a results folder holds, one entry each.

Defined here, low, so that Results.write can produce every output without
importing the charts: the analysis modules register their tables as they are
imported, and kpsim.output registers its charts (importing kpsim.output, as
`import kpsim`'s API and the command line do, is what makes charts appear).
A new table or chart is one `@table(...)` or `chart(...)` entry.
"""

from __future__ import annotations

from collections import deque
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import pandas as pd

# file name -> results -> DataFrame (an empty frame: nothing to write)
TABLES: dict[str, Callable] = {}
# chart name -> (results, tables, folder, formats=None) -> the files written (none when the results do not support it)
CHARTS: dict[str, Callable[..., list[Path]]] = {}
# (results, tables) -> the part of them the charts read, made once by write_charts and sent in their place (kpsim.output registers it)
CHART_INPUTS: list[Callable] = []


def table(file_name: str):
    """Register a table builder, `results -> DataFrame`, written as `file_name` when not empty."""

    def deco(build):
        TABLES[file_name] = build
        return build

    return deco


def chart(name: str, write: Callable[..., list[Path]]) -> None:
    """Register a chart: `write(results, tables, folder, formats=None)` draws it into `folder` and returns the files."""
    CHARTS[name] = write


def register_chart_inputs(make: Callable) -> None:
    """Register `make(results, tables) -> (results, tables)`: what the charts read, so that a worker process is not sent the whole runs."""
    CHART_INPUTS[:] = [make]


def write_charts(results, tables: dict[str, pd.DataFrame], folder: Path, jobs: int = 1, progress: bool = False,
                 formats: tuple[str, ...] | None = None) -> list[Path]:
    """Every registered chart into `folder`, with a progress bar; with `jobs` > 1, in that many processes, this one included.

    Charts cost about 0.5 s each (PNG and SVG) and do not depend on each other.
    This process draws them from the front of the list; a thread hands them
    from the end to the worker processes (kpsim.run.pool), one each at a time,
    as soon as a worker is free: neither waits for the other between charts,
    and a worker slow to start (a cold worker server imports matplotlib: a
    second or more) simply draws fewer. The files are the same either way.
    `formats`: file extensions (default: the charts' own, PNG and SVG).
    Every chart, here or in a worker, is given only what the charts read
    (CHART_INPUTS): a few kilobytes, not the runs, at any number of replications.
    """
    import threading
    from concurrent.futures import FIRST_COMPLETED, wait

    from tqdm.auto import tqdm

    if CHART_INPUTS:
        results, tables = CHART_INPUTS[0](results, tables)
    todo = deque(CHARTS)
    done: dict[str, list[Path]] = {}
    failed: list[BaseException] = []
    lock = threading.Lock()
    workers = min(jobs - 1, len(todo) - 1)

    def take(front: bool) -> str | None:
        with lock:
            return (todo.popleft() if front else todo.pop()) if todo else None

    def feed(pool) -> None:
        """Keeps every worker busy with a chart from the end of the list, until none is left."""
        try:
            pool.submit(int).result()  # the first worker is up
            running: dict = {}  # future -> chart name
            while True:
                while len(running) < workers and (name := take(front=False)):
                    running[pool.submit(CHARTS[name], results, tables, folder, formats)] = name
                if not running:
                    return
                for future in wait(running, return_when=FIRST_COMPLETED).done:
                    done[running.pop(future)] = future.result()
                    bar.update()
        except BaseException as exc:  # handed to this process's thread, which draws no further chart
            failed.append(exc)
            with lock:
                todo.clear()

    with tqdm(total=len(todo), unit="chart", desc="charts", disable=not progress, leave=False) as bar, ExitStack() as stack:
        feeder = None
        if workers > 0:
            from kpsim.run.pool import process_pool

            feeder = threading.Thread(target=feed, args=(stack.enter_context(process_pool(workers, preload="kpsim.output.charts")),),
                                      name="charts to workers", daemon=True)
            feeder.start()
        try:
            while name := take(front=True):
                bar.set_postfix_str(name)
                done[name] = CHARTS[name](results, tables, folder, formats)
                bar.update()
        except BaseException:
            with lock:
                todo.clear()  # the workers finish the chart they draw, and take no other
            raise
        if feeder:
            feeder.join()
    if failed:
        from kpsim.run.pool import worker_deaths_explained

        with worker_deaths_explained():  # a chart worker killed (out of memory, a signal): said as for every pool
            raise failed[0]
    return [p for name in CHARTS for p in done[name]]


def build_tables(results) -> dict[str, pd.DataFrame]:
    """Every registered table of these results, by file name (empty ones included, for the charts to read)."""
    return {name: build(results) for name, build in TABLES.items()}
