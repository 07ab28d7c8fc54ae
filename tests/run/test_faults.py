"""Faults under the commands that write results folders: a kill, Ctrl-C, a dead worker, two writers, a full or read-only disk, --force.

`kpsim compare` writes its folder whole or not at all; `kpsim sweep` writes
chunks as they finish and resumes. Whatever happens, nothing may look finished
that is not (a results folder is finished exactly when it exists under its
name holding meta.json), and a rerun must give what a clean run gives.

kpsim runs here as a subprocess in a session of its own, so a test can signal
it: SIGKILL to the kpsim process, as `kill -9` or the OOM killer does; SIGINT
to its whole process group, as Ctrl-C in a terminal does (workers included);
SIGKILL to one worker process, as the OOM killer does to the biggest process.
The tests check exit codes and what is left on disk, never timings; a run
still alive HANG seconds after it should have ended is reported as hung.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "examples" / "arctic_council.yaml"  # 17 actors, 5 rules: small and quick
COMPARE = ["--reps", "300", "--no-charts", "-q"]  # about a second of work, most of it writing the tables
LONG = ["--reps", "100000", "--no-charts", "-q"]  # seconds of replications: time to be interrupted while computing
# 8 points x 5 rules = 40 chunks, written one after the other over a second or two (one chunk per point and rule)
SWEEP_SECTION = """
sweep:
  grid:
    dynamics.noise: [0.05, 0.1, 0.2, 0.3]
    proposal.reservation: [0.4, 0.6]
  replications: 2000
"""
SWEEP_CHUNKS = 40
HANG = 60  # seconds: generous, only to tell a hang from a slow machine
ENOSPC_LINE = re.compile(r"error: \S.*: No space left on device — nothing was written")
EROFS_LINE = re.compile(r"error: \S.*: Read-only file system — nothing was written")


# ------------------------------------------------------------------ running kpsim


def _default_sigint():
    # A process started in the background by a shell inherits SIGINT ignored, and Python then never
    # raises KeyboardInterrupt: give kpsim what a terminal gives it, so Ctrl-C means Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(*args, timeout: float = HANG) -> subprocess.CompletedProcess:
    """`python -m kpsim ARGS` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "kpsim", *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout, preexec_fn=_default_sigint
    )


class Procs:
    """kpsim processes started in the background, each in a session (and process group) of its own.

    stderr goes to a file, not a pipe: a worker orphaned by a kill would hold a pipe open.
    Whatever a test leaves running of these groups is killed at teardown.
    """

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[tuple[subprocess.Popen, Path, tuple]] = []

    def start(self, *args) -> subprocess.Popen:
        log = self.logs / f"stderr-{len(self.started)}.txt"
        with open(log, "w") as err:
            p = subprocess.Popen(
                [sys.executable, "-m", "kpsim", *map(str, args)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
                preexec_fn=_default_sigint,
            )
        self.started.append((p, log, args))
        return p

    def _entry(self, p):
        return next(e for e in self.started if e[0] is p)

    def finish(self, p: subprocess.Popen) -> str:
        """Wait for `p` to end (a hang fails the test); its stderr."""
        _, log, args = self._entry(p)
        try:
            p.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            tree = _group(p.pid)
            _kill_group(p.pid)
            p.wait()
            pytest.fail(f"kpsim {' '.join(map(str, args))} still running {HANG} s after it should have ended (hung):\n{tree}\nstderr: {log.read_text()}")
        return log.read_text()

    def stderr(self, p) -> str:
        return self._entry(p)[1].read_text()

    def wait_until(self, cond, p: subprocess.Popen, what: str, timeout: float = HANG) -> None:
        """Poll (every 2 ms) until cond() holds; fail if `p` ends or HANG s pass first."""
        end = time.monotonic() + timeout
        while not cond():
            if p.poll() is not None:
                if cond():
                    return
                pytest.fail(f"kpsim ended (exit {p.returncode}) before {what} appeared; stderr: {self.stderr(p)}")
            if time.monotonic() > end:
                pytest.fail(f"{what} did not appear within {timeout} s; stderr: {self.stderr(p)}")
            time.sleep(0.002)

    def group_gone(self, p: subprocess.Popen, timeout: float = HANG) -> str | None:
        """None once no process of `p`'s group is left (waiting up to `timeout`); else what is still running."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not _group_alive(p.pid):
                return None
            time.sleep(0.05)
        return _group(p.pid)

    def cleanup(self):
        for p, _, _ in self.started:
            if p.poll() is None:
                _kill_group(p.pid)
                p.wait()
            elif _group_alive(p.pid):  # workers left behind by a killed run
                _kill_group(p.pid)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _group(pgid: int) -> str:
    return subprocess.run(["ps", "-o", "pid,ppid,stat,etime,args", "-g", str(pgid)], capture_output=True, text=True).stdout


def _children(pid: int) -> list[int]:
    """The processes `pid` started (any of its threads), from /proc: psutil is not a test dependency."""
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += map(int, task.read_text().split())
        except (FileNotFoundError, ProcessLookupError):  # the thread or the process ended meanwhile
            pass
    return kids


def workers(pid: int) -> list[int]:
    """kpsim's worker processes: the children of its forkserver, so grandchildren of `pid` (its resource tracker has none)."""
    return [w for c in _children(pid) for w in _children(c)]


def kill_a_worker(procs: Procs, p: subprocess.Popen) -> None:
    """SIGKILL the first worker process of `p` to appear, and it alone, as the OOM killer would."""
    seen: list[int] = []
    procs.wait_until(lambda: seen.extend(workers(p.pid)) or seen, p, "a worker process")
    os.kill(seen[0], signal.SIGKILL)


needs_proc_children = pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(), reason="finding worker processes needs /proc/PID/task/TID/children (Linux)"
)


@pytest.fixture
def procs(tmp_path_factory):
    p = Procs(tmp_path_factory.mktemp("logs"))
    yield p
    p.cleanup()


# ------------------------------------------------------------------ what is on disk


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def partials(parent: Path, name: str = "x") -> list[str]:
    return [n for n in names(parent) if n.startswith(f".{name}.partial-")]


def finished(folder: Path) -> bool:
    return folder.is_dir() and (folder / "meta.json").is_file()


def lock_holder(lock: Path) -> int | None:
    try:
        text = lock.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def assert_same_tables(folder: Path, clean: Path, tables=("runs.csv", "summary.csv")) -> None:
    """The tables of `folder` are those of the clean run in `clean`: as data (a readable difference), then byte for byte."""
    for name in tables:
        pd.testing.assert_frame_equal(pd.read_csv(folder / name), pd.read_csv(clean / name), obj=name)
        assert (folder / name).read_bytes() == (clean / name).read_bytes(), f"{name} differs from a clean run's, byte for byte"


def assert_same_sweep(folder: Path, clean: Path) -> None:
    """Every replication and every summary row of the sweep in `folder` are those of the clean sweep in `clean`."""
    from kpsim.sweep.store import SweepFolder

    assert_same_tables(folder, clean, ("summary.csv", "points.csv"))
    pd.testing.assert_frame_equal(SweepFolder.load(folder).runs(), SweepFolder.load(clean).runs(), obj="the sweep's runs")


def assert_sweep_unfinished(out: Path) -> None:
    """A sweep stopped before its end: no meta.json, no summary.csv, and each chunk marked done has its rows."""
    assert (out / "sweep.json").is_file(), names(out)
    assert not (out / "meta.json").exists(), "an unfinished sweep holds meta.json: it looks complete"
    assert not (out / "summary.csv").exists(), "an unfinished sweep holds summary.csv"
    done = {p.name for p in (out / "summary").glob("part-*.parquet")}
    rows = {p.name for p in (out / "runs").glob("part-*.parquet")}
    assert done <= rows, f"chunks marked done without their rows: {sorted(done - rows)}"


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{err}"
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------ clean runs to compare against


@pytest.fixture(scope="module")
def clean_compare(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean-compare") / "x"
    r = run("compare", SCENARIO, *COMPARE, "--jobs", "1", "--out", out)
    assert r.returncode == 0, r.stderr
    assert finished(out)
    return out


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    f = tmp_path_factory.mktemp("scenario") / "arctic_sweep.yaml"
    f.write_text(SCENARIO.read_text() + SWEEP_SECTION)
    return f


@pytest.fixture(scope="module")
def clean_sweep(tmp_path_factory, sweep_file) -> Path:
    out = tmp_path_factory.mktemp("clean-sweep") / "x"
    r = run("sweep", sweep_file, "-q", "--jobs", "1", "--out", out)
    assert r.returncode == 0, r.stderr
    assert finished(out) and (out / "summary.csv").is_file()
    return out


# ------------------------------------------------------------------ compare: kill, Ctrl-C, two writers


def test_compare_killed_while_writing_leaves_nothing_finished_and_a_rerun_cleans_up(tmp_path, procs, clean_compare):
    out = tmp_path / "x"
    args = ("compare", SCENARIO, *COMPARE, "--jobs", "1", "--out", out)
    p = procs.start(*args)
    procs.wait_until(lambda: partials(tmp_path), p, "the hidden .x.partial-* folder")
    os.kill(p.pid, signal.SIGKILL)
    procs.finish(p)
    assert p.returncode == -signal.SIGKILL
    left = names(tmp_path)
    assert not out.exists(), f"a killed run left {out}: {names(out)}"
    assert all(n.startswith(".") for n in left), f"a killed run left a visible entry: {left}"
    killed = partials(tmp_path)
    assert killed, left  # it was killed while filling its hidden folder, which stays until a later run removes it

    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert finished(out)
    assert_same_tables(out, clean_compare)
    for name in killed:
        assert any(line.startswith("note: removed") and name in line for line in r.stderr.splitlines()), (
            f"the rerun did not say it removed {name}; its stderr: {r.stderr!r}"
        )
    assert names(tmp_path) == ["x"], f"left beside the results after the rerun: {names(tmp_path)}"


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_during_compare_exits_130_and_leaves_nothing(tmp_path, procs, jobs):
    p = start_computing(tmp_path, procs, jobs)
    os.killpg(p.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group, workers included
    assert_stopped_cleanly(p, procs, tmp_path, "Ctrl-C")


def start_computing(tmp_path, procs, jobs):
    """A long compare into tmp_path/x, once it holds its lock and is into the replications."""
    p = procs.start("compare", SCENARIO, *LONG, "--jobs", jobs, "--out", tmp_path / "x")
    procs.wait_until(lambda: lock_holder(tmp_path / ".x.lock") == p.pid, p, "the run's lock on x")
    time.sleep(0.5)  # into the replications
    assert p.poll() is None and not partials(tmp_path), "the run was not computing when stopped: make LONG longer"
    return p


def assert_stopped_cleanly(p, procs, folder, how: str) -> None:
    """An interrupted run: exit 130, one line saying nothing was written, nothing left in `folder`, no process left."""
    err = procs.finish(p)
    assert p.returncode == 130, err
    assert "interrupted: nothing was written" in err
    assert "Traceback" not in err, err
    assert names(folder) == [], f"left after {how}: {names(folder)}"
    still = procs.group_gone(p)
    assert still is None, f"processes still running after {how}:\n{still}"


@pytest.mark.parametrize(("phase", "jobs"), [("computing", 1), ("computing", 2), ("writing", 2)])
def test_sigterm_during_compare_acts_as_ctrl_c(tmp_path, procs, phase, jobs):
    """`kill PID` reaches the kpsim process alone: it must stop its workers itself and remove its half-written folder."""
    p = start_computing(tmp_path, procs, jobs) if phase == "computing" else start_writing(tmp_path, procs, jobs)
    os.kill(p.pid, signal.SIGTERM)
    os.kill(p.pid, signal.SIGCONT)  # (start_writing holds it stopped mid-write)
    assert_stopped_cleanly(p, procs, tmp_path, "SIGTERM")


def start_writing(tmp_path, procs, jobs, tries: int = 3):
    """A long compare into tmp_path/x, stopped (SIGSTOP) while its hidden folder is being written.

    On a busy machine the run may finish between this process seeing the folder and stopping it;
    then it is run again (the signal would have come after the work, which is not what is tested).
    """
    for _ in range(tries):
        p = procs.start("compare", SCENARIO, *LONG, "--jobs", jobs, "--out", tmp_path / "x")
        procs.wait_until(lambda: partials(tmp_path), p, "the hidden .x.partial-* folder")
        os.kill(p.pid, signal.SIGSTOP)
        if p.poll() is None and partials(tmp_path) and not (tmp_path / "x").exists():
            return p
        os.kill(p.pid, signal.SIGCONT)
        procs.finish(p)
        shutil.rmtree(tmp_path / "x", ignore_errors=True)
    pytest.fail(f"the run finished writing before it could be stopped, {tries} times")


def test_a_second_compare_on_a_folder_being_written_exits_2_and_the_first_completes(tmp_path, procs, clean_compare):
    out = tmp_path / "x"
    args = ("compare", SCENARIO, *COMPARE, "--jobs", "1", "--out", out)
    first = procs.start(*args)
    procs.wait_until(lambda: lock_holder(tmp_path / ".x.lock") == first.pid, first, "the first run's lock on x")
    os.kill(first.pid, signal.SIGSTOP)  # hold the first run mid-way, lock held: the two surely overlap
    try:
        second = run(*args)
    finally:
        os.kill(first.pid, signal.SIGCONT)
    err = procs.finish(first)
    assert second.returncode == 2, second.stderr
    assert "another kpsim run is writing this folder now" in one_line(second.stderr)
    assert first.returncode == 0, err
    assert finished(out)
    assert_same_tables(out, clean_compare)
    assert names(tmp_path) == ["x"], f"left beside the results: {names(tmp_path)}"


def test_two_compares_started_together_on_one_folder_write_it_once(tmp_path, procs, clean_compare):
    out = tmp_path / "x"
    args = ("compare", SCENARIO, *COMPARE, "--jobs", "1", "--out", out)
    a, b = procs.start(*args), procs.start(*args)
    errs = {a.pid: procs.finish(a), b.pid: procs.finish(b)}
    codes = sorted([a.returncode, b.returncode])
    assert codes == [0, 2], errs
    loser = a if a.returncode == 2 else b
    line = one_line(errs[loser.pid])
    # which message depends on whether the loser came while the winner wrote or after it had finished
    assert "another kpsim run is writing this folder now" in line or "folder exists and is not empty" in line, line
    assert finished(out)
    assert_same_tables(out, clean_compare)
    assert names(tmp_path) == ["x"], f"left beside the results: {names(tmp_path)}"


# ------------------------------------------------------------------ sweep: kill, Ctrl-C


# kill -9 of a sweep computing in this process; Ctrl-C to a sweep with worker processes
@pytest.mark.parametrize(("sig", "jobs"), [("SIGKILL", 1), ("SIGINT", 2)])
def test_sweep_stopped_midway_is_unfinished_and_resumes_to_the_clean_result(tmp_path, procs, sweep_file, clean_sweep, sig, jobs):
    out = tmp_path / "x"
    args = ("sweep", sweep_file, "-q", "--jobs", jobs, "--out", out)
    p = procs.start(*args)
    procs.wait_until(lambda: len(list((out / "summary").glob("part-*.parquet"))) >= 3, p, "three chunks of the sweep")
    if sig == "SIGKILL":
        os.kill(p.pid, signal.SIGKILL)  # kill -9 of the kpsim process
    else:
        os.killpg(p.pid, signal.SIGINT)  # Ctrl-C
    err = procs.finish(p)
    if sig == "SIGKILL":
        assert p.returncode == -signal.SIGKILL
    else:
        assert p.returncode == 130, err
        assert "interrupted" in err and "run the same command again to resume" in err, err
        assert "Traceback" not in err, err
        still = procs.group_gone(p)
        assert still is None, f"processes still running after Ctrl-C:\n{still}"
    assert_sweep_unfinished(out)
    done = len(list((out / "summary").glob("part-*.parquet")))
    assert 3 <= done < SWEEP_CHUNKS, f"{done} of {SWEEP_CHUNKS} chunks done: the sweep was not stopped midway"

    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert finished(out)
    assert_same_sweep(out, clean_sweep)
    assert names(tmp_path) == ["x"], f"left beside the sweep after the rerun: {names(tmp_path)}"


# ------------------------------------------------------------------ a worker killed (out of memory)


@needs_proc_children
def test_compare_whose_worker_is_killed_exits_1_in_one_line_and_leaves_nothing(tmp_path, procs):
    p = procs.start("compare", SCENARIO, *LONG, "--jobs", 2, "--out", tmp_path / "x")
    kill_a_worker(procs, p)  # while the replications run: a long compare's workers start with them
    err = procs.finish(p)
    assert p.returncode == 1, err
    line = one_line(err)
    assert line.startswith("error: a kpsim worker process died") and line.endswith("nothing was written"), line
    assert names(tmp_path) == [], f"left after a worker died: {names(tmp_path)}"
    still = procs.group_gone(p)
    assert still is None, f"processes still running after a worker died:\n{still}"


@needs_proc_children
def test_sweep_whose_worker_is_killed_exits_1_in_one_line_and_resumes_to_the_clean_result(tmp_path, procs, sweep_file, clean_sweep):
    out = tmp_path / "x"
    args = ("sweep", sweep_file, "-q", "--jobs", 2, "--out", out)
    p = procs.start(*args)
    kill_a_worker(procs, p)  # it holds chunks from the moment it starts: the sweep cannot end without it
    err = procs.finish(p)
    assert p.returncode == 1, err
    line = one_line(err)
    assert line.startswith("error: a kpsim worker process died") and "run the same command again to resume" in line, line
    assert_sweep_unfinished(out)
    still = procs.group_gone(p)
    assert still is None, f"processes still running after a worker died:\n{still}"

    r = run(*args)
    assert r.returncode == 0, r.stderr
    assert finished(out)
    assert_same_sweep(out, clean_sweep)
    assert names(tmp_path) == ["x"], f"left beside the sweep after the rerun: {names(tmp_path)}"


# ------------------------------------------------------------------ a full or read-only disk


def in_small_tmpfs(tmp_path: Path, script: str, size: str = "200k") -> Path:
    """Run the sh `script` in a user and mount namespace with a `size` tmpfs mounted at $MNT; returns $REPORT, where it wrote.

    $PY is this Python. Skips, saying why, where the tmpfs cannot be mounted (no unshare, no user namespaces).
    """
    if shutil.which("unshare") is None:
        pytest.skip("no `unshare` (util-linux) here: the disk-full cases need a small tmpfs mounted in a user namespace")
    mnt, report = tmp_path / "mnt", tmp_path / "report"
    mnt.mkdir()
    report.mkdir()
    full = f'set -u\nmount -t tmpfs -o size={size} tmpfs "$MNT" || exit 97\ncd "$ROOT"\n{script}\nexit 0\n'
    env = {**os.environ, "MNT": str(mnt), "REPORT": str(report), "PY": sys.executable, "ROOT": str(ROOT)}
    r = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", full],
        env=env,
        capture_output=True,
        text=True,
        timeout=4 * HANG,
        preexec_fn=_default_sigint,
    )
    if r.returncode == 97 or (r.returncode != 0 and not any(report.iterdir())):
        pytest.skip(f"cannot mount a small tmpfs here (unshare --user --map-root-user --mount; needs user namespaces or root): {r.stderr.strip()}")
    assert r.returncode == 0, f"the namespace script failed: {r.stderr}"
    return report


def _read(report: Path, name: str) -> str:
    return (report / name).read_text()


def test_compare_on_a_full_or_read_only_disk_exits_3_in_one_line_and_leaves_nothing(tmp_path):
    report = in_small_tmpfs(
        tmp_path,
        f"""
"$PY" -m kpsim compare {SCENARIO} --reps 3000 --no-charts -q --jobs 1 --out "$MNT/x" >/dev/null 2>"$REPORT/full.err"; echo $? >"$REPORT/full.rc"
(cd "$MNT" && find . -mindepth 1 | sort) >"$REPORT/full.left"
mount -o remount,ro "$MNT" || exit 98
"$PY" -m kpsim compare {SCENARIO} --reps 30 --no-charts -q --jobs 1 --out "$MNT/y" >/dev/null 2>"$REPORT/ro.err"; echo $? >"$REPORT/ro.rc"
(cd "$MNT" && find . -mindepth 1 | sort) >"$REPORT/ro.left"
""",
    )
    # 3,000 replications of 5 rules are far more than 200 kB of tables: the disk fills while writing them
    err = _read(report, "full.err")
    assert _read(report, "full.rc").strip() == "3", err
    assert ENOSPC_LINE.fullmatch(one_line(err)), err
    assert _read(report, "full.left") == "", f"left on the full disk: {_read(report, 'full.left')}"
    err = _read(report, "ro.err")
    assert _read(report, "ro.rc").strip() == "3", err
    assert EROFS_LINE.fullmatch(one_line(err)), err
    assert _read(report, "ro.left") == "", f"left on the read-only disk: {_read(report, 'ro.left')}"


def test_sweep_on_a_full_disk_exits_3_unfinished_and_resumes_once_there_is_room(tmp_path, sweep_file, clean_sweep):
    report = in_small_tmpfs(
        tmp_path,
        f"""
"$PY" -m kpsim sweep {sweep_file} -q --jobs 1 --out "$MNT/x" >/dev/null 2>"$REPORT/full.err"; echo $? >"$REPORT/full.rc"
(cd "$MNT" && find . -mindepth 1 | sort) >"$REPORT/full.left"
mkdir "$REPORT/stopped" && cp -a "$MNT/x/." "$REPORT/stopped/"
mount -o remount,size=32m "$MNT" || exit 98
"$PY" -m kpsim sweep {sweep_file} -q --jobs 1 --out "$MNT/x" >/dev/null 2>"$REPORT/resume.err"; echo $? >"$REPORT/resume.rc"
(cd "$MNT" && find . -mindepth 1 | sort) >"$REPORT/resume.left"
mkdir "$REPORT/x" && cp -a "$MNT/x/." "$REPORT/x/"
""",
    )
    # the chunks (about 60 kB each) fill 200 kB after a few: the sweep stops there, exit 3, resumable
    err = _read(report, "full.err")
    assert _read(report, "full.rc").strip() == "3", err
    # (its wording may differ from compare's "nothing was written": the chunks done are kept, to resume)
    assert re.fullmatch(r"error: \S.*: No space left on device( — .*)?", one_line(err)), err
    left = _read(report, "full.left").split()
    assert not [n for n in left if Path(n).name.startswith(".")], f"hidden files left on the full disk: {left}"
    assert_sweep_unfinished(report / "stopped")
    assert len(list((report / "stopped" / "summary").glob("part-*.parquet"))) < SWEEP_CHUNKS

    assert _read(report, "resume.rc").strip() == "0", _read(report, "resume.err")
    assert finished(report / "x")
    assert_same_sweep(report / "x", clean_sweep)
    left = _read(report, "resume.left").split()
    assert not [n for n in left if Path(n).name.startswith(".")], f"hidden files left after the resumed sweep: {left}"


# ------------------------------------------------------------------ --force


def test_force_never_replaces_a_folder_kpsim_did_not_write(tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    (out / "notes.txt").write_text("my notes\n")
    r = run("compare", SCENARIO, *COMPARE, "--jobs", "1", "--out", out, "--force")
    assert r.returncode == 2, r.stderr
    assert "--force replaces only a folder kpsim wrote" in one_line(r.stderr)
    assert names(out) == ["notes.txt"] and (out / "notes.txt").read_text() == "my notes\n"
    assert names(tmp_path) == ["x"], f"left beside the folder: {names(tmp_path)}"


def test_force_replaces_a_folder_kpsim_wrote(tmp_path, clean_compare):
    out = tmp_path / "x"
    shutil.copytree(clean_compare, out)
    (out / "runs.csv").write_text("rule,replication\nstale,0\n")  # an older run's results, and a file it had
    (out / "old-chart.png").write_bytes(b"\x89PNG")
    old_meta = (out / "meta.json").read_text()
    r = run("compare", SCENARIO, *COMPARE, "--jobs", "1", "--out", out, "--force")
    assert r.returncode == 0, r.stderr
    assert finished(out)
    assert not (out / "old-chart.png").exists(), "--force kept a file of the folder it replaced"
    assert (out / "meta.json").read_text() != old_meta
    assert_same_tables(out, clean_compare)
    assert names(tmp_path) == ["x"], f"left beside the folder: {names(tmp_path)}"
