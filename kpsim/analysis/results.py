"""Results: the one result type. A comparison's runs, summary and blockers, in memory or in a results folder.

`Results.write(folder)` writes the folder whole or not at all (kpsim.atomic):
the raw tables, every registered analysis table and chart
(kpsim.analysis.outputs), the merged scenario and meta.json.
`Results.read(folder)` reads it back from those files alone, so charts and
the brief can be redrawn later without running the simulation again.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import warnings
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

# imported for the tables they register in the outputs registry
from kpsim.analysis import blockers, exits, rulepower, survival, thresholds  # noqa: F401
from kpsim.analysis.outputs import CHARTS, build_tables, write_charts
from kpsim.atomic import atomic_dir
from kpsim.errors import InputError
from kpsim.run.provenance import write_meta
from kpsim.scenario.load import load_scenario, scenario_yaml
from kpsim.scenario.schema import Scenario

RESULT_FILES = ("runs.csv", "summary.csv", "blockers.csv", "scenario.yaml", "meta.json")
RUN_COLUMNS = ["rule", "replication", "adopted", "abandoned", "censored", "meetings", "surviving_share", "n_objectors", "objectors"]
OPTIONAL_RUN_COLUMNS = ["withdrawn", "exits", "draw"]  # where the scenario has withdrawal events, observers with patience


def new_run_dir(scenario_name: str, root: Path = Path("results")) -> Path:
    """results/<scenario>/<UTC time stamp>, numbered if two runs start in the same second."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = root / scenario_name / stamp
    path, k = base, 1
    while path.exists() or path.with_name(f".{path.name}.lock").exists():
        k += 1
        path = base.with_name(f"{stamp}-{k}")
    return path


CSV_CHUNK = 50_000  # rows formatted at once (about 0.05 s of work): memory stays flat however long the table
POOL_ROWS = 4 * CSV_CHUNK  # from here on, with jobs > 1, worker processes format runs.csv while this one makes the other tables


def write_table(df: pd.DataFrame, path: Path) -> None:
    """A small table as CSV (runs.csv, the big one, goes through write_runs)."""
    df.to_csv(path, index=False)


def _runs_rows(runs: pd.DataFrame, per_year: float, header: bool = False) -> str:
    """Rows of runs.csv. Its `years` column (meetings / meetings per year) is made here, beside meetings, not kept in memory: 8 bytes a row."""
    if "years" not in runs:
        runs = runs.copy(deep=False)
        runs.insert(runs.columns.get_loc("meetings") + 1, "years", runs["meetings"] / per_year)
    return csv_text(runs, header)


def csv_text(df: pd.DataFrame, header: bool = True) -> str:
    """df.to_csv(index=False, header=header), byte for byte, 4–5× faster on a runs table (measured: 160,000 rows,
    0.14 against 0.75 s): each column's distinct values are formatted once, as pandas formats them (floats by repr,
    told apart by their bits, so −0.0 stays −0.0; NaN as ""; strings quoted where the csv module quotes them), and
    the rows are joined as text. A runs table has few distinct values per column; tests/analysis hold it to pandas.
    Anything a runs table does not hold (other dtypes, one column, a column named '' or None) is pandas' own to write."""
    if len(df.columns) < 2 or not all(_formatted_here(df[c].dtype) and isinstance(c, str) and c for c in df.columns):
        return df.to_csv(index=False, header=header)
    lines = map(",".join, zip(*(_column_text(df[c]) for c in df.columns)))
    head = ",".join(_quoted(str(c)) for c in df.columns) + "\n" if header else ""
    return head + "".join(line + "\n" for line in lines)


def _formatted_here(dtype) -> bool:
    """The dtypes _column_text writes as pandas does: float64, numpy integers and booleans, categoricals, objects."""
    if isinstance(dtype, pd.CategoricalDtype):
        return True
    return isinstance(dtype, np.dtype) and (dtype == np.float64 or dtype.kind in "biuO")


def _column_text(col: pd.Series) -> np.ndarray:
    """Every value of a column as text, as to_csv writes it (an object array, one entry per row)."""
    if isinstance(col.dtype, pd.CategoricalDtype):  # only the categories this part uses (a runs table's objectors have thousands)
        codes, present = pd.factorize(col.cat.codes.to_numpy())
        categories = col.cat.categories
        texts = ["" if c < 0 else _quoted(str(categories[c])) for c in present.tolist()]  # code −1: a missing value
        return np.array(texts, dtype=object)[codes]
    values = col.to_numpy()
    if values.dtype.kind == "f":
        codes, bits = pd.factorize(np.ascontiguousarray(values, dtype=np.float64).view(np.int64))
        texts = ["" if f != f else repr(f) for f in bits.view(np.float64).tolist()]
    elif values.dtype.kind in "biu":
        codes, uniques = pd.factorize(values)
        texts = [str(u) for u in uniques.tolist()]
    else:
        return np.array(["" if pd.isna(v) else _quoted(str(v)) for v in values], dtype=object)
    return np.array(texts, dtype=object)[codes]


def _csv_quotes(c: str) -> bool:
    """Whether the csv module, as pandas calls it (QUOTE_MINIMAL, lineterminator "\\n"), quotes a field holding c: on
    Python 3.12 a "\\r" is written bare; asked, not assumed, as it differs between versions."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([f"a{c}b", ""])
    return out.getvalue().startswith('"')


_QUOTE_IF = "".join(c for c in ',"\r\n' if _csv_quotes(c))


def _quoted(text: str) -> str:
    """A field as the csv module writes it (QUOTE_MINIMAL): quoted, its quotes doubled, where it holds a character of _QUOTE_IF."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in _QUOTE_IF) else text


def write_runs(runs: pd.DataFrame, path: Path, per_year: float, jobs: int = 1, pool=None, stop: threading.Event | None = None) -> None:
    """runs.csv, chunk by chunk; with `pool` (of `jobs` worker processes), the chunks are formatted there and written in order.

    Formatting numbers as text is the slow part: about a second of one core per 10⁶ rows (csv_text; pandas'
    to_csv took 5), so only tables of POOL_ROWS or more go to workers. Each value is formatted on its own, so
    the file is byte for byte the one `df.to_csv` writes. `stop` (set by another thread) ends the writing early.
    """
    chunks = (runs.iloc[a : a + CSV_CHUNK] for a in range(0, len(runs), CSV_CHUNK))
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(_runs_rows(runs.iloc[:0], per_year, header=True))
        if pool is None:
            for chunk in chunks:
                f.write(_runs_rows(chunk, per_year))
            return
        from kpsim.run.pool import worker_deaths_explained

        pending: deque = deque()
        with worker_deaths_explained():  # a worker killed (out of memory, a signal): said as for every pool
            for chunk in chunks:
                if stop is not None and stop.is_set():
                    return
                pending.append(pool.submit(_runs_rows, chunk, per_year))
                if len(pending) > 2 * jobs:  # a few chunks in flight: memory stays flat
                    f.write(pending.popleft().result())
            while pending:
                f.write(pending.popleft().result())


@contextmanager
def runs_written(runs: pd.DataFrame, path: Path, per_year: float, jobs: int = 1):
    """Write runs.csv while the block runs: worker processes format it, a thread here writes it, this thread is free for the other tables.

    Tables under POOL_ROWS, or jobs 1, are written here before the block. An error of either side is raised here; the block's stops the writing.
    """
    if jobs <= 1 or len(runs) < POOL_ROWS:
        write_runs(runs, path, per_year)
        yield
        return
    from kpsim.run.pool import process_pool

    failed: list[BaseException] = []
    stop = threading.Event()

    def write():
        try:
            write_runs(runs, path, per_year, jobs, pool, stop)
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)

    with process_pool(jobs, preload="kpsim.analysis.results") as pool:  # started here, not in the thread (a fork must not happen there)
        writer = threading.Thread(target=write, name="runs.csv", daemon=True)
        writer.start()
        try:
            yield
            writer.join()
        finally:
            stop.set()  # the block failed or was interrupted (after a finished writer: nothing to stop)
            writer.join()
    if failed:
        raise failed[0]


@dataclass
class Results:
    """One comparison: `runs` (a row per replication and rule), `summary` (a row per rule), `blockers` (a row per actor and rule).

    `run_id` names the results folder it was written to or read from ("in memory" until then).
    """

    scenario: Scenario
    runs: pd.DataFrame
    summary: pd.DataFrame
    blockers: pd.DataFrame
    meta: dict
    run_id: str = "in memory"

    @property
    def rules(self) -> list[str]:
        return list(self.summary["rule"])

    @property
    def replications(self) -> int:
        return int(self.summary["replications"].max())

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every analysis table of the outputs registry, by file name (blockers by bloc, log-rank, power, thresholds)."""
        return build_tables(self)

    def write(self, folder: str | Path, force: bool = False, charts: bool = True, jobs: int = 1, progress: bool = False,
              formats: tuple[str, ...] | None = None) -> list[Path]:
        """Write the results folder whole or not at all; returns the analysis tables and charts written.

        Charts are those registered by kpsim.output (`import kpsim` registers them
        when its API is used), in `formats` (file extensions; None: the charts' own,
        PNG and SVG). An existing non-empty folder is an input error unless `force`.
        """
        folder = Path(folder)
        self.run_id = folder.name  # the charts' footnotes name the run
        if charts and not CHARTS:
            warnings.warn("no charts are registered: import kpsim.output to draw them", stacklevel=2)
        started = time.time()
        written = []
        with atomic_dir(folder, force=force) as tmp:
            (tmp / "scenario.yaml").write_text(scenario_yaml(self.scenario))
            with runs_written(self.runs, tmp / "runs.csv", self.scenario.calendar.meetings_per_year, jobs):
                write_table(self.summary, tmp / "summary.csv")
                write_table(self.blockers, tmp / "blockers.csv")
                tables = self.tables()
                for name, table in tables.items():
                    if len(table):
                        write_table(table, tmp / name)
                        written.append(tmp / name)
            if charts:
                written += write_charts(self, tables, tmp / "charts", jobs=jobs, progress=progress, formats=formats)
            # wall_time_s is the comparison's; writing the tables and charts is timed apart
            write_meta(tmp / "meta.json", {**self.meta, "write_time_s": round(time.time() - started, 3)})
        return [folder / p.relative_to(tmp) for p in written]

    @classmethod
    def read(cls, folder: str | Path) -> "Results":
        """Read a results folder written by `kpsim compare` (or run, or threshold) or by Results.write."""
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder — give a results folder written by `kpsim compare`")
        missing = [f for f in RESULT_FILES if not (folder / f).is_file()]
        if missing:
            raise InputError(f"{folder}: not a complete results folder — missing {', '.join(missing)} (expected {', '.join(RESULT_FILES)})")
        try:
            meta = json.loads((folder / "meta.json").read_text())
            runs = pd.read_csv(folder / "runs.csv", usecols=lambda c: c in RUN_COLUMNS or c in OPTIONAL_RUN_COLUMNS)
            missing = [c for c in RUN_COLUMNS if c not in runs]
            if missing:
                raise ValueError(f"runs.csv has no column {', '.join(missing)}")
            summary = pd.read_csv(folder / "summary.csv")
            blockers = pd.read_csv(folder / "blockers.csv", keep_default_na=False, na_values={"objection_rate": [""], "pivotal_rate": [""]})
        except (ValueError, OSError) as exc:
            raise InputError(f"{folder}: cannot read the results ({exc})") from None
        return cls(load_scenario(folder / "scenario.yaml"), runs, summary, blockers, meta, folder.resolve().name)
