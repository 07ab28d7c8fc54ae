"""Sweeps: the declared points, errors with file:line, known answers, resuming after SIGKILL, Dask."""

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import kpsim.run.runner as runner
from kpsim.analysis.summary import summarise
from kpsim.cli import main
from kpsim.errors import InputError
from kpsim.scenario.load import load_tree, validate_tree
from kpsim.sweep.design import design, point_scenario, resolve_path
from kpsim.sweep.execute import run_sweep
from kpsim.sweep.store import SweepFolder
from tests.toys import make_toy_yaml

# the whole toy roster under consensus and chambers, and a sweep of a grid crossed with sampled ranges;
# the file's line numbers are fixed (sweep: is line 17), so errors in it point at known lines
TOY = make_toy_yaml(
    rules=["consensus", "chambers"],
    horizon=20,
    dynamics={"noise": 0.3},
    replications=200,
    seed=42,
    sweep={
        "grid": {"dynamics.noise": [0.1, 0.3], "actors.c.position": [0.05, 0.2, 0.4]},
        "ranges": {"dynamics.reluctance": [0.0, 0.3], "calendar.horizon": [10, 30]},
        "samples": 4,
    },
)


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def plan_of(path, **kw):
    tree = load_tree(path)
    return design(validate_tree(tree), tree, source=str(path), **kw)


def errors_of(path, **kw):
    with pytest.raises(InputError) as exc:
        plan_of(path, **kw)
    return exc.value.messages


def tables(folder):
    store = SweepFolder.load(folder)
    return store.runs(), pd.read_csv(folder / "summary.csv")


# ---------------------------------------------------------------- the design


def test_grid_crossed_with_a_latin_hypercube(tmp_path):
    plan = plan_of(write(tmp_path, TOY))
    assert plan.names == ["dynamics.noise", "actors.c.position", "dynamics.reluctance", "calendar.horizon"]
    assert len(plan.points) == 2 * 3 * 4
    grid = [p[:2] for p in plan.points]
    assert grid[::4] == [(n, c) for n in (0.1, 0.3) for c in (0.05, 0.2, 0.4)]
    sampled = [p[2:] for p in plan.points[:4]]
    assert all(p[2:] in sampled for p in plan.points)  # the same sampled points under every grid cell
    reluctance = np.array([s[0] for s in sampled])
    # Latin hypercube: exactly one draw in each quarter of the range
    assert sorted(np.floor(reluctance / 0.3 * 4).astype(int)) == [0, 1, 2, 3]
    horizons = [s[1] for s in sampled]
    assert all(isinstance(h, int) and 10 <= h <= 30 for h in horizons)  # a whole-number field stays whole


def test_sobol_method_and_overrides(tmp_path):
    text = TOY.replace("  samples: 4\n", "  samples: 8\n  method: sobol\n  seed: 3\n  replications: 50\n")
    plan = plan_of(write(tmp_path, text), replications=70, seed=9)
    assert len(plan.points) == 6 * 8 and plan.replications == 70 and plan.base.seed == 9
    assert plan.spec.seed == 3  # the sampling seed is the sweep's own when given
    unit = np.array([p[2] for p in plan.points[:8]]) / 0.3
    assert sorted(np.floor(unit * 8).astype(int)) == list(range(8))  # a scrambled Sobol' net is stratified too
    assert plan.base.sweep is None and plan_of(write(tmp_path, text), replications=70, seed=9).points == plan.points


def test_point_scenario_is_the_scenario_with_the_values_set(tmp_path, root):
    plan = plan_of(write(tmp_path, TOY))
    assert point_scenario(plan.base, [], ()) == plan.base
    null = validate_tree(load_tree(root / "scenarios" / "null_model.yaml"))
    assert point_scenario(null, [], ()) == null  # thresholds such as 2/3 survive the round trip
    keys = [resolve_path(plan.base, n)[0] for n in plan.names]
    sc = point_scenario(plan.base, keys, plan.points[9])  # grid cell 2: noise 0.1, c at 0.4
    assert sc.dynamics.noise == 0.1 and sc.actors[2].position == 0.4
    assert sc.calendar.horizon == plan.points[9][3] and sc.dynamics.reluctance == plan.points[9][2]


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("dynamic.noise: [0.1]", "sweep.grid.dynamic.noise — not a sweepable path ('dynamic': did you mean 'dynamics'?)"),
        ("dynamics.nosie: [0.1]", "sweep.grid.dynamics.nosie — unknown field 'nosie' (did you mean 'noise'?)"),
        ("actors.zz.position: [0.1]", "sweep.grid.actors.zz.position — no actor named 'zz' — actors: a, b, c, d, wdc, csc"),
        ("actors.a.id: [x]", "sweep.grid.actors.a.id — unknown field 'id'"),
        ("rules.consensus.q: [0.5]", "sweep.grid.rules.consensus.q — unknown field 'q'"),
        ("dynamics.noise: [0.1, -1]", "sweep.grid.dynamics.noise: value -1 — must be at least 0"),
        ("calendar.horizon: [10, 12.5]", "sweep.grid.calendar.horizon: value 12.5 — must be a whole number"),
        ("proposal.reservation: [0.2, 1.5]", "sweep.grid.proposal.reservation: value 1.5 — must be between 0 and 1"),
    ],
)
def test_bad_grid_entries_name_the_file_line_and_what_is_allowed(tmp_path, entry, expected):
    text = TOY.split("sweep:")[0] + f"sweep:\n  grid:\n    {entry}\n"
    p = write(tmp_path, text)
    (msg,) = errors_of(p)
    assert msg.startswith(f"{p}:19: {expected}"), msg


def test_bad_ranges_and_cross_field_errors(tmp_path):
    head = TOY.split("sweep:")[0]
    p = write(tmp_path, head + "sweep:\n  ranges:\n    dynamics.mode: [0, 1]\n    calendar.horizon: [10.5, 20]\n  samples: 4\n")
    assert errors_of(p) == [
        f"{p}:19: sweep.ranges.dynamics.mode — not a number, so it cannot be sampled; list its values under grid",
        f"{p}:20: sweep.ranges.calendar.horizon = [10.5, 20] — a whole-number field: give whole-number bounds",
    ]
    # each point is validated whole: a reservation beyond the proposal is caught at the point
    p = write(tmp_path, head + "sweep:\n  grid:\n    proposal.position: [0.2, 0.8]\n")
    (msg,) = errors_of(p)
    assert msg.startswith(f"{p}:17: sweep: at the point proposal.position = 0.2: proposal — reservation = 0.3 must lie between"), msg
    p = write(tmp_path, head + "sweep:\n  ranges:\n    dynamics.noise: [0.3, 0.1]\n  samples: 4\n")
    assert errors_of(p) == [f"{p}:19: sweep.ranges.dynamics.noise — must be [low, high] with low < high, got [0.3, 0.1]"]
    p = write(tmp_path, head + "sweep:\n  ranges:\n    dynamics.noise: [0.1, 0.3]\n  samples: 6\n  method: sobol\n")
    (msg,) = errors_of(p)
    assert "samples = 6 — a Sobol design needs a power of two" in msg
    res = CliRunner().invoke(main, ["sweep", str(p)])
    assert res.exit_code == 2 and "power of two" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["sweep", str(write(tmp_path, head))])
    assert res.exit_code == 2 and "no 'sweep:' section" in res.output


# ---------------------------------------------------------------- known answers


def as_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain objects: the runner's are categorical, the sweep's Parquet chunks read back as strings."""
    text = [c for c in frame if isinstance(frame[c].dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(frame[c].dtype)]
    return frame.astype({c: object for c in text})


def test_sweep_points_equal_plain_runs_of_their_scenarios(tmp_path):
    p = write(tmp_path, TOY.replace("  samples: 4\n", "  samples: 2\n"))
    plan = plan_of(p, replications=150)
    run_sweep(plan, tmp_path / "out", progress=False)
    runs, summary = tables(tmp_path / "out")
    keys = [resolve_path(plan.base, n)[0] for n in plan.names]
    for point in (0, 7):
        sc = point_scenario(plan.base, keys, plan.points[point])
        plain, _ = runner.run(sc, progress=False)
        mine = runs[runs["point"] == point].drop(columns="point").reset_index(drop=True)
        pd.testing.assert_frame_equal(as_values(mine), as_values(plain), check_dtype=False)
        expected = summarise(plain, sc.calendar.horizon, sc.calendar.meetings_per_year)
        got = summary[summary["point"] == point].reset_index(drop=True)[expected.columns]
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
        assert (summary.loc[summary["point"] == point, "actors.c.position"] == plan.points[point][1]).all()


# five coin flips under unanimity, at three support probabilities
NULL5 = make_toy_yaml(
    5,
    ["consensus"],
    name="null5",
    proposal={},
    horizon=100_000,
    dynamics={"mode": "null"},
    replications=4000,
    seed=5,
    sweep={"grid": {"dynamics.support_probability": [0.6, 0.75, 0.9]}},
)


def test_null_model_deadlock_is_geometric_with_mean_one_over_p_to_the_n(tmp_path):
    """Unanimity of 5 independent supporters passes a meeting with probability A = p^5 (Coleman)."""
    plan = plan_of(write(tmp_path, NULL5))
    run_sweep(plan, tmp_path / "out", progress=False)
    _, summary = tables(tmp_path / "out")
    for (p,), row in zip(plan.points, summary.itertuples()):
        a = p**5
        mean, se = 1 / a, math.sqrt(1 - a) / a / math.sqrt(plan.replications)
        assert abs(row.mean_meetings - mean) < 4 * se, (p, row.mean_meetings, mean)
        assert row.adopted == 1.0


# ---------------------------------------------------------------- streaming, resuming, executors


@pytest.mark.parametrize("here", [False, True])
def test_in_flight_chunks_are_bounded_and_layout_does_not_change_results(tmp_path, here):
    plan = plan_of(write(tmp_path, TOY), replications=60)

    class Counting(ThreadPoolExecutor):
        def __init__(self):
            super().__init__(2)
            self.out = self.peak = self.calls = 0
            self.lock = threading.Lock()

        def submit(self, fn, *args):
            with self.lock:
                self.out += 1
                self.calls += 1
                self.peak = max(self.peak, self.out)

            def counted():  # counted back before the future is done, so the sweep never sees a stale count
                try:
                    return fn(*args)
                finally:
                    with self.lock:
                        self.out -= 1

            return super().submit(counted)

    with Counting() as ex:
        store = run_sweep(plan, tmp_path / "small", ex, workers=2, here=here, progress=False, chunk_replications=60)
    assert store.manifest["points_per_chunk"] == 1 and store.manifest["chunks"] == 48
    assert ex.peak <= 4  # 2 × workers, however many chunks there are
    if here:  # this process took some of the chunks, the executor the rest
        assert 0 < ex.calls < 48
    else:
        assert ex.calls == 48
    run_sweep(plan, tmp_path / "big", progress=False)
    assert SweepFolder.load(tmp_path / "big").manifest["points_per_chunk"] > 1
    for a, b in zip(tables(tmp_path / "small"), tables(tmp_path / "big")):
        pd.testing.assert_frame_equal(a, b)


def test_an_executor_needs_workers(tmp_path):
    plan = plan_of(write(tmp_path, TOY), replications=20)
    with ThreadPoolExecutor(1) as ex, pytest.raises(ValueError, match="workers >= 1"):
        run_sweep(plan, tmp_path / "out", ex, workers=0, progress=False)


def test_a_failing_chunk_stops_the_sweep_and_the_rest_resumes(tmp_path):
    plan = plan_of(write(tmp_path, TOY), replications=40)

    class FailsThird(ThreadPoolExecutor):
        calls = 0

        def submit(self, fn, *args):
            FailsThird.calls += 1
            if FailsThird.calls == 3:
                fut = Future()
                fut.set_exception(RuntimeError("worker lost"))
                return fut
            return super().submit(fn, *args)

    with FailsThird(1) as ex, pytest.raises(RuntimeError, match="worker lost"):
        run_sweep(plan, tmp_path / "out", ex, workers=1, progress=False, chunk_replications=40)
    store = SweepFolder.load(tmp_path / "out")
    assert not store.complete and 0 < len(store.todo()) < len(store.chunks())
    run_sweep(plan, tmp_path / "out", progress=False, chunk_replications=40)
    run_sweep(plan, tmp_path / "ref", progress=False)
    for a, b in zip(tables(tmp_path / "out"), tables(tmp_path / "ref")):
        pd.testing.assert_frame_equal(a, b)


def test_an_error_elsewhere_keeps_the_chunk_this_process_was_running(tmp_path):
    plan = plan_of(write(tmp_path, TOY), replications=40)

    class FailsAtOnce(ThreadPoolExecutor):
        def submit(self, fn, *args):
            fut = Future()
            fut.set_exception(RuntimeError("worker lost"))
            return fut

    with FailsAtOnce(1) as ex, pytest.raises(RuntimeError, match="worker lost"):
        run_sweep(plan, tmp_path / "out", ex, workers=1, here=True, progress=False, chunk_replications=40)
    store = SweepFolder.load(tmp_path / "out")  # every chunk sent to the executor failed: the one written ran here, and ended after the error
    assert len([c for c in store.chunks() if c not in store.todo()]) == 1


def test_a_half_written_chunk_is_redone_not_counted(tmp_path):
    plan = plan_of(write(tmp_path, TOY), replications=60)
    out = tmp_path / "out"
    run_sweep(plan, out, progress=False, chunk_replications=120)
    before = tables(out)
    # as if killed after writing chunk 5's runs but before its summary (the mark of done)
    (out / "summary" / "part-000005.parquet").unlink()
    (out / "runs" / "part-000005.parquet").write_bytes(b"PAR1 half a file")
    (out / "runs" / ".part-000006.parquet.tmp").write_bytes(b"junk")
    for f in ("meta.json", "summary.csv"):
        (out / f).unlink()
    store = SweepFolder.load(out)
    assert [c.index for c in store.todo()] == [5] and "incomplete: 23 of 24" in store.status()
    assert len(store.runs()) == len(before[0]) - 2 * 60  # the unfinished chunk's rows are not read
    run_sweep(plan, out, progress=False)
    for a, b in zip(tables(out), before):
        pd.testing.assert_frame_equal(a, b)
    assert not list((out / "runs").glob(".*.tmp"))


def few_big_points(tmp_path):
    """Two points × two rules × 2,000 replications: too few chunks for two workers unless points run in parts."""
    plan = plan_of(write(tmp_path, TOY), replications=2000)
    return dataclasses.replace(plan, points=plan.points[:2])


def test_a_point_too_big_for_one_chunk_runs_in_parts_with_the_same_numbers(tmp_path):
    plan = few_big_points(tmp_path)
    with ThreadPoolExecutor(1) as ex:
        store = run_sweep(plan, tmp_path / "parts", ex, workers=1, here=True, progress=False, chunk_replications=1000)
    assert store.manifest["parts_per_point"] == 2 and store.manifest["chunks"] == 8
    assert [(c.rep_first, c.rep_stop) for c in store.chunks()[:2]] == [(0, 1000), (1000, 2000)]
    runs, summary = tables(tmp_path / "parts")
    keys = [resolve_path(plan.base, n)[0] for n in plan.names]
    for point in (0, 1):  # the rows and summary of `kpsim compare` on the point's scenario, to the last bit
        sc = point_scenario(plan.base, keys, plan.points[point])
        plain, _ = runner.run(sc, progress=False)
        mine = runs[runs["point"] == point].drop(columns="point").reset_index(drop=True)
        pd.testing.assert_frame_equal(as_values(mine), as_values(plain), check_dtype=False, check_exact=True)
        expected = summarise(plain, sc.calendar.horizon, sc.calendar.meetings_per_year)
        got = summary[summary["point"] == point].reset_index(drop=True)[expected.columns]
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=True)
    # 8 chunks wanted per worker: with 2 workers and 4 (point, rule) pairs, 4 parts of 500 would do, but a part is at least MIN_PART
    assert len(pd.read_parquet(tmp_path / "parts" / "runs" / "part-000000.parquet")) == 1000


def test_a_point_in_parts_resumes_when_killed_before_its_last_part_is_marked(tmp_path):
    plan = few_big_points(tmp_path)
    out = tmp_path / "out"
    run_sweep(plan, out, progress=False, chunk_replications=1000)
    before = tables(out)
    # as if killed after writing the runs of a point's last part but before its summary (the point's row)
    (out / "summary" / "part-000003.parquet").unlink()
    for f in ("meta.json", "summary.csv"):
        (out / f).unlink()
    store = SweepFolder.load(out)
    assert [c.index for c in store.todo()] == [3] and store.points_done() == 1
    assert len(store.summary_parts()) == 3  # points 0 (two rules) and 1 under the first rule
    run_sweep(plan, out, progress=False, chunk_replications=1000)
    for a, b in zip(tables(out), before):
        pd.testing.assert_frame_equal(a, b)


def test_a_folder_from_before_parts_reads_as_one_part_per_point(tmp_path):
    plan = plan_of(write(tmp_path, TOY), replications=20)
    out = tmp_path / "out"
    store = run_sweep(plan, out, progress=False)
    manifest = json.loads((out / "sweep.json").read_text())
    del manifest["parts_per_point"]
    (out / "sweep.json").write_text(json.dumps(manifest))
    old = SweepFolder.load(out)
    assert old.chunks() == store.chunks() and old.complete and not old.todo()


def test_a_folder_holding_another_sweep_is_refused_unless_forced(tmp_path):
    p = write(tmp_path, TOY)
    out = tmp_path / "out"
    run_sweep(plan_of(p, replications=20), out, progress=False)
    with pytest.raises(InputError, match=r"holds a different sweep \(seed 42 there, 7 now\).*--force"):
        run_sweep(plan_of(p, replications=20, seed=7), out, progress=False)
    store = run_sweep(plan_of(p, replications=20, seed=7), out, progress=False, force=True)
    assert store.complete and store.manifest["seed"] == 7
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    res = CliRunner().invoke(main, ["sweep", str(p), "--out", str(tmp_path / "other"), "-q"])
    assert res.exit_code == 2 and "holds no sweep" in res.output
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


SLOW = TOY.replace("replications: 200", "replications: 1000").replace("  samples: 4\n", "  samples: 8\n").replace(
    "    actors.c.position: [0.05, 0.2, 0.4]\n", "    actors.c.position: [0.05, 0.2, 0.3, 0.4]\n"
)  # 64 points × 2 rules: 16 chunks of 8,000 replications


@pytest.mark.timeout(120)
def test_sigkill_part_way_then_the_same_command_finishes_identically(tmp_path, root):
    p = write(tmp_path, SLOW)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "kpsim", "sweep", str(p), "--out", str(out), "--jobs", "2", "-q"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(cmd, cwd=root, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not list((out / "summary").glob("part-*.parquet")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its worker processes, at once
    proc.wait()
    store = SweepFolder.load(out)
    done = len(store.chunks()) - len(store.todo())
    assert 0 < done < len(store.chunks()) and not store.complete, store.status()
    assert not (out / "summary.csv").exists()

    res = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, res.stderr
    assert "complete" in res.stdout

    run_sweep(plan_of(p), tmp_path / "whole", progress=False)  # uninterrupted, in this process, one worker
    runs, summary = tables(out)
    ref_runs, ref_summary = tables(tmp_path / "whole")
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(summary, ref_summary)
    counts = runs.groupby(["point", "rule"])["replication"].agg(["count", "nunique", "max"])
    assert (counts["count"] == 1000).all() and (counts["nunique"] == 1000).all() and (counts["max"] == 999).all()
    assert len(counts) == 64 * 2


def test_a_script_on_stdin_sweeps_with_forked_workers_before_any_thread(tmp_path, root):
    """A forkserver cannot re-import a script piped on stdin, so its pool forks; it must fork before the sweep's own thread exists."""
    p = write(tmp_path, TOY)
    script = textwrap.dedent(f"""
        import os, sys, threading
        os.register_at_fork(before=lambda: print("threads at fork:", threading.active_count()))
        sys.path.insert(0, {str(root)!r})
        from kpsim.run.pool import process_pool
        from kpsim.scenario.load import load_tree, validate_tree
        from kpsim.sweep.design import design
        from kpsim.sweep.execute import run_sweep
        tree = load_tree({str(p)!r})
        plan = design(validate_tree(tree), tree, source={str(p)!r}, replications=40)
        with process_pool(1, "kpsim.sweep.execute") as pool:
            run_sweep(plan, {str(tmp_path / "stdin")!r}, pool, workers=1, here=True, progress=False)
    """)
    res = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["threads at fork: 1"]  # one worker, forked while this was the only thread
    run_sweep(plan_of(p, replications=40), tmp_path / "here", progress=False)
    for a, b in zip(tables(tmp_path / "stdin"), tables(tmp_path / "here")):
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.timeout(120)
def test_dask_cluster_gives_the_same_tables(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr("kpsim.run.cluster.CONNECT_TIMEOUT", "1s")
    p = write(tmp_path, TOY)
    run_sweep(plan_of(p, replications=100), tmp_path / "local", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        res = CliRunner().invoke(
            main, ["sweep", str(p), "--scheduler", cluster.scheduler_address, "--reps", "100", "--out", str(tmp_path / "dask"), "-q"]
        )
    assert res.exit_code == 0, res.output
    for a, b in zip(tables(tmp_path / "dask"), tables(tmp_path / "local")):
        pd.testing.assert_frame_equal(a, b)
    res = CliRunner().invoke(main, ["sweep", str(p), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "cannot reach a Dask scheduler" in res.output


def test_summary_command_tables_a_complete_or_partial_sweep(tmp_path):
    p = write(tmp_path, TOY)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["sweep", str(p), "--reps", "30", "--out", str(out), "-q", "--rows", "2", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "24 points × 2 rules, 30 replications each, seed 42 — complete" in res.output
    assert "0 · consensus" in res.output and "1 · chambers" in res.output and "2 · consensus" not in res.output
    (out / "meta.json").unlink()
    (out / "summary" / "part-000000.parquet").unlink()
    res = CliRunner().invoke(main, ["sweep", "--summary", str(out)])
    assert res.exit_code == 0 and "incomplete:" in res.output and "run the same `kpsim sweep` command again" in res.output
    for part in (out / "summary").glob("part-*.parquet"):
        part.unlink()
    res = CliRunner().invoke(main, ["sweep", "--summary", str(out)])
    assert res.exit_code == 0 and "incomplete: 0 of" in res.output
    res = CliRunner().invoke(main, ["sweep", "--summary", str(tmp_path)])
    assert res.exit_code == 2 and "not a sweep folder" in res.output
    res = CliRunner().invoke(main, ["sweep", str(p), "--summary", str(out)])
    assert res.exit_code == 2 and "not both" in res.output


def test_bundled_example_is_a_valid_sweep(root):
    plan = plan_of(root / "scenarios" / "sweep_example.yaml")
    assert len(plan.points) == 64 and plan.replications == 1000 and plan.rules == ["consensus", "two_thirds", "simple_majority"]
