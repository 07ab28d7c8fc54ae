"""runs.csv, written by several processes while this one builds the other tables, is byte for byte the one pandas writes."""

import os
import signal

import numpy as np
import pandas as pd
import pytest

import kpsim.analysis.results as results


def runs_table(n: int = 2_345) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "rule": pd.Categorical.from_codes(np.repeat([0, 1], [1_000, n - 1_000]), categories=["consensus", "two_thirds"]),
            "replication": np.arange(n, dtype=np.int32),
            "adopted": rng.random(n) < 0.5,
            "meetings": rng.integers(0, 40, n).astype(np.int16),
            "share": np.where(rng.random(n) < 0.3, np.nan, rng.random(n)),
            "objectors": pd.Categorical.from_codes(rng.integers(0, 3, n), categories=["", "a;b", "café"]),
        }
    )


@pytest.mark.parametrize("jobs", [1, 2])
def test_runs_csv_is_pandas_own_with_years_made_on_writing(tmp_path, monkeypatch, jobs):
    runs = runs_table()
    with_years = runs.copy()
    with_years.insert(4, "years", runs["meetings"] / 3)
    with_years.to_csv(tmp_path / "pandas.csv", index=False)
    monkeypatch.setattr(results, "CSV_CHUNK", 400)
    monkeypatch.setattr(results, "POOL_ROWS", 800)  # with jobs 2: formatted by worker processes
    for name, table in (("derived.csv", runs), ("kept.csv", with_years)):
        with results.runs_written(table, tmp_path / name, 3, jobs=jobs):
            pass
        assert (tmp_path / name).read_bytes() == (tmp_path / "pandas.csv").read_bytes(), name
    assert "years" not in runs  # the table in memory is left as it was


def test_an_error_beside_the_writing_stops_it_and_is_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "CSV_CHUNK", 10)
    monkeypatch.setattr(results, "POOL_ROWS", 20)
    runs = runs_table()
    with pytest.raises(RuntimeError, match="beside"), results.runs_written(runs, tmp_path / "runs.csv", 3, jobs=2):
        raise RuntimeError("an error beside the writing")
    rows = (tmp_path / "runs.csv").read_text().count("\n") - 1  # less the header
    assert rows < len(runs) // 2, rows  # stopped: at most the few chunks already in flight (235 in all)


def test_an_error_of_the_writing_is_raised(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "CSV_CHUNK", 10)
    monkeypatch.setattr(results, "POOL_ROWS", 20)  # written by the workers
    with pytest.raises(OSError), results.runs_written(runs_table(), tmp_path / "no such folder" / "runs.csv", 3, jobs=2):
        pass


def test_csv_text_is_pandas_to_csv_to_the_byte():
    """The values a runs table holds and the awkward ones: −0.0 beside 0.0, NaN, infinities, tiny and huge floats,
    categories needing quotes (comma, quote, line break), missing categories, text with None, an empty table."""
    rng = np.random.default_rng(3)
    n = 3_000
    floats = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1e-5, 1e16, 1 / 3, 0.1 + 0.2, 123456789.12345679, 5e-324])
    table = pd.DataFrame(
        {
            "f": rng.choice(floats, n),
            "g": rng.random(n) * 10.0 ** rng.integers(-8, 8, n),
            "i16": rng.integers(-300, 300, n).astype(np.int16),
            "i64": rng.integers(-(2**62), 2**62, n),
            "b": rng.random(n) < 0.5,
            "c": pd.Categorical.from_codes(rng.integers(-1, 6, n), categories=["", "a;b", 'say "no"', "x,y", "two\nlines", "cr\rhere"]),
            "s": pd.Series(rng.choice(np.array(["plain", "with, comma", None, ""], dtype=object), n), dtype=object),
            'odd, "name"': np.arange(n),
        }
    )
    others = pd.DataFrame(  # what a runs table never holds: left to pandas
        {"f32": np.float32([0.1, 0.2]), "nullable": pd.array([1, None], dtype="Int64"), "when": pd.to_datetime(["2026-12-01", None])}
    )
    for frame in (table, table.iloc[:0], table.iloc[7:11], table[["s"]], others, table.rename(columns={"f": ""})):
        for header in (True, False):
            assert results.csv_text(frame, header) == frame.to_csv(index=False, header=header)


def test_a_worker_killed_while_runs_csv_is_written_is_said_as_for_every_pool(tmp_path):
    from kpsim.run.pool import WorkerDied, process_pool

    with process_pool(1, preload="kpsim.analysis.results") as pool:
        os.kill(pool.submit(os.getpid).result(), signal.SIGKILL)  # as the OOM killer does
        with pytest.raises(WorkerDied, match="a kpsim worker process died"):
            results.write_runs(runs_table(), tmp_path / "runs.csv", 3, jobs=2, pool=pool)


def test_meta_times_the_comparison_and_the_writing_apart(tmp_path, toy_scenario):
    import json

    import kpsim

    res = kpsim.compare(toy_scenario(), reps=50, jobs=1)
    res.write(tmp_path / "out", charts=False)
    meta = json.loads((tmp_path / "out" / "meta.json").read_text())
    assert meta["wall_time_s"] == res.meta["wall_time_s"]  # the comparison's, as compare measured it
    assert 0 < meta["write_time_s"] < 60  # the tables' writing, recorded with them
    assert "write_time_s" not in res.meta  # the results in memory are left as they were
