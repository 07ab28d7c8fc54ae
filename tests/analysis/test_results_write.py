"""A big runs table written by several processes is byte for byte the one pandas writes."""

import numpy as np
import pandas as pd

import kpsim.analysis.results as results


def test_parallel_csv_is_byte_identical(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    n = 2_345
    runs = pd.DataFrame(
        {
            "rule": pd.Categorical.from_codes(np.repeat([0, 1], [1_000, n - 1_000]), categories=["consensus", "two_thirds"]),
            "replication": np.arange(n, dtype=np.int32),
            "adopted": rng.random(n) < 0.5,
            "meetings": rng.integers(1, 40, n).astype(np.int16),
            "share": np.where(rng.random(n) < 0.3, np.nan, rng.random(n)),
            "objectors": pd.Categorical.from_codes(rng.integers(0, 3, n), categories=["", "a;b", "café"]),
        }
    )
    runs.to_csv(tmp_path / "pandas.csv", index=False)
    monkeypatch.setattr(results, "CSV_CHUNK", 400)
    results.write_table(runs, tmp_path / "parallel.csv", jobs=2)
    assert (tmp_path / "parallel.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
