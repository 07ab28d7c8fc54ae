"""The outputs registry: every table and chart a results folder holds, one entry each.

Defined here, low, so that Results.write can produce every output without
importing the charts: the analysis modules register their tables as they are
imported, and kpsim.output registers its charts (importing kpsim.output, as
`import kpsim`'s API and the command line do, is what makes charts appear).
A new table or chart is one `@table(...)` or `chart(...)` entry.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import pandas as pd

# file name -> results -> DataFrame (an empty frame: nothing to write)
TABLES: dict[str, Callable] = {}
# chart name -> (results, tables, folder) -> the files written (none when the results do not support it)
CHARTS: dict[str, Callable[..., list[Path]]] = {}


def table(file_name: str):
    """Register a table builder, `results -> DataFrame`, written as `file_name` when not empty."""

    def deco(build):
        TABLES[file_name] = build
        return build

    return deco


def chart(name: str, write: Callable[..., list[Path]]) -> None:
    """Register a chart: `write(results, tables, folder)` draws it into `folder` and returns the files."""
    CHARTS[name] = write


def write_charts(results, tables: dict[str, pd.DataFrame], folder: Path, jobs: int = 1, progress: bool = False) -> list[Path]:
    """Every registered chart into `folder`, with a progress bar; with `jobs` > 1, in that many processes, this one included.

    Charts cost 0.5–1.5 s each (three formats) and do not depend on each
    other: the last ones go to worker processes (kpsim.run.pool) while this
    process draws the first. The files are the same either way.
    """
    from tqdm.auto import tqdm

    names = list(CHARTS)
    away = names[len(names) - len(names) * (jobs - 1) // jobs:] if jobs > 1 else []
    done: dict[str, list[Path]] = {}
    with tqdm(total=len(names), unit="chart", desc="charts", disable=not progress, leave=False) as bar, ExitStack() as stack:
        futures = {}
        if away:
            from kpsim.run.pool import process_pool

            pool = stack.enter_context(process_pool(min(jobs - 1, len(away)), preload="kpsim.output.charts"))
            futures = {pool.submit(CHARTS[n], results, tables, folder): n for n in away}
        for n in (n for n in names if n not in away):
            bar.set_postfix_str(n)
            done[n] = CHARTS[n](results, tables, folder)
            bar.update()
        for future, n in futures.items():
            done[n] = future.result()
            bar.update()
    return [p for n in names for p in done[n]]


def build_tables(results) -> dict[str, pd.DataFrame]:
    """Every registered table of these results, by file name (empty ones included, for the charts to read)."""
    return {name: build(results) for name, build in TABLES.items()}
