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


def table(file_name: str):
    """Register a table builder, `results -> DataFrame`, written as `file_name` when not empty."""

    def deco(build):
        TABLES[file_name] = build
        return build

    return deco


def chart(name: str, write: Callable[..., list[Path]]) -> None:
    """Register a chart: `write(results, tables, folder, formats=None)` draws it into `folder` and returns the files."""
    CHARTS[name] = write


def write_charts(results, tables: dict[str, pd.DataFrame], folder: Path, jobs: int = 1, progress: bool = False,
                 formats: tuple[str, ...] | None = None) -> list[Path]:
    """Every registered chart into `folder`, with a progress bar; with `jobs` > 1, in that many processes, this one included.

    Charts cost 0.3–1 s each (three formats) and do not depend on each other.
    Worker processes (kpsim.run.pool) take them from the end of the list, one
    at a time each, while this process draws from the front: a worker slow to
    start (it imports matplotlib) simply draws fewer. The files are the same either way.
    `formats` (file extensions; default the charts' own: png, svg, pdf): PNG alone takes about half the time.
    """
    from concurrent.futures import FIRST_COMPLETED, wait

    from tqdm.auto import tqdm

    todo = deque(CHARTS)
    done: dict[str, list[Path]] = {}
    running: dict = {}  # future -> chart name
    workers = min(jobs - 1, len(todo) - 1)
    with tqdm(total=len(todo), unit="chart", desc="charts", disable=not progress, leave=False) as bar, ExitStack() as stack:
        if workers > 0:
            from kpsim.run.pool import process_pool

            pool = stack.enter_context(process_pool(workers, preload="kpsim.output.charts"))
        while todo or running:
            while len(running) < workers and len(todo) > 1:  # the last chart left is this process's
                name = todo.pop()
                running[pool.submit(CHARTS[name], results, tables, folder, formats)] = name
            if todo:
                name = todo.popleft()
                bar.set_postfix_str(name)
                done[name] = CHARTS[name](results, tables, folder, formats)
                bar.update()
            for future in [f for f in running if f.done()] if todo else wait(running, return_when=FIRST_COMPLETED).done:
                done[running.pop(future)] = future.result()
                bar.update()
    return [p for name in CHARTS for p in done[name]]


def build_tables(results) -> dict[str, pd.DataFrame]:
    """Every registered table of these results, by file name (empty ones included, for the charts to read)."""
    return {name: build(results) for name, build in TABLES.items()}
