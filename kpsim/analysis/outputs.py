"""The outputs registry: every table and chart a results folder holds, one entry each.

Defined here, low, so that Results.write can produce every output without
importing the charts: the analysis modules register their tables as they are
imported, and kpsim.output registers its charts (importing kpsim.output, as
`import kpsim`'s API and the command line do, is what makes charts appear).
A new table or chart is one `@table(...)` or `chart(...)` entry.
"""

from __future__ import annotations

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


def write_charts(results, tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Every registered chart of these results into `folder`; the files written."""
    return [path for write in CHARTS.values() for path in write(results, tables, folder)]


def build_tables(results) -> dict[str, pd.DataFrame]:
    """Every registered table of these results, by file name (empty ones included, for the charts to read)."""
    return {name: build(results) for name, build in TABLES.items()}
