"""The runs table is compact (a few dozen bytes a row) and the same whatever order the batches arrive in."""

import numpy as np
import pandas as pd
import pytest

import kpsim.run.runner as runner
from kpsim.errors import InputError


@pytest.fixture
def scenario(toy_scenario):
    return toy_scenario(rules=("consensus", "chambers"), horizon=12, replications=300, seed=5)


def test_runs_table_has_compact_types(scenario):
    runs, _ = runner.run(scenario, batch=100, progress=False)
    assert runs["rule"].dtype == "category" and runs["objectors"].dtype == "category"
    assert runs["meetings"].dtype == np.int16 and runs["n_objectors"].dtype == np.int16 and runs["replication"].dtype == np.int32
    assert list(runs["rule"].cat.categories) == ["consensus", "chambers"]  # rules keep their order
    per_row = runs.memory_usage(deep=True, index=False).sum() / len(runs)
    assert per_row < runner.BYTES_PER_ROW


def test_batches_in_any_order_give_the_same_table(scenario):
    in_order, blockers = runner.run(scenario, batch=100, progress=False)
    table = runner._Table(scenario, ["consensus", "chambers"], 0, 300)
    for r in ("chambers", "consensus"):  # last first, as workers may finish them
        for a in (200, 100, 0):
            table.add(runner.simulate_batch(scenario, r, a, a + 100))
    runs, blk = table.frames()
    pd.testing.assert_frame_equal(runs, in_order)
    pd.testing.assert_frame_equal(blk, blockers)


def test_objector_strings_are_joined_once_per_pattern():
    mask = np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1]], dtype=bool)
    names, codes = runner._objector_lists(mask, ["a", "b", "c"])
    assert [names[c] for c in codes] == ["a;c", "", "a;c"]
    names, codes = runner._exit_lists(np.array([[0, 3], [2, 0], [0, 0]]), ["a", "b"])
    assert [names[c] for c in codes] == ["b@3", "a@2", ""]


def test_memory_check_uses_the_measured_bytes_per_row(monkeypatch):
    monkeypatch.setattr(runner, "available_memory", lambda: 10**6 * 8 * runner.BYTES_PER_ROW - 1)
    with pytest.raises(InputError, match="GiB"):
        runner.check_memory(10**6, 8)
    runner.check_memory(10**5, 8)


def test_draws_joined_in_place_are_concat_and_sort(scenario):
    """--uncertainty's draws (consecutive replication ranges) joined column by column: the table pd.concat and a sort give."""
    parts = [runner.run(scenario, replications=100, first=k * 100, batch=50, progress=False, years=False)[0].assign(draw=k) for k in range(3)]
    odd = parts[1]["objectors"].cat.add_categories("a;b")
    odd[:7] = "a;b"
    parts[1]["objectors"] = odd  # one draw's categories differ: they must be merged
    expected = pd.concat(parts, ignore_index=True)
    order = expected["rule"].map({"consensus": 0, "chambers": 1}).to_numpy()
    expected = expected.iloc[np.lexsort((expected["replication"].to_numpy(), order))].reset_index(drop=True)
    joined = runner.concat_runs(parts)
    assert joined.to_csv(index=False) == expected.to_csv(index=False)
    assert joined["objectors"].dtype == "category" and list(joined["rule"].cat.categories) == ["consensus", "chambers"]
    assert all(p.columns.empty for p in parts)  # moved, not copied
