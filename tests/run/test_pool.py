"""Local worker processes: the server imports every module a command names before any worker starts; `completed` hands out tasks."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest


def test_workers_start_with_every_preloaded_module(tmp_path, root):
    script = tmp_path / "preload.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(root)!r})
        from kpsim.run.pool import process_pool, warm_up

        def loaded():
            return [m in sys.modules for m in ("kpsim.run.runner", "kpsim.output.charts")]

        if __name__ == "__main__":
            warm_up(2, ("kpsim.run.runner", "kpsim.output.charts"))
            with process_pool(1) as pool:
                print(pool.submit(loaded).result())
    """))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[True, True]"


def test_a_script_without_the_main_guard_is_told_why_its_workers_died(tmp_path, root):
    """Workers import the script again; without `if __name__ == "__main__":` they run it again and die. Say so."""
    script = tmp_path / "noguard.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(root)!r})
        import kpsim
        kpsim.compare({str(root / "scenarios" / "null_model.yaml")!r}, reps=4000, jobs=2, uncertainty="montecarlo")
    """))
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("kpsim.run.pool.WorkerDied: a kpsim worker process died"), res.stderr[-2000:]  # a RuntimeError
    assert 'if __name__ == "__main__":' in last and "jobs=1" in last


def square_and_pid(x: int, fail: bool = False):
    if fail:
        raise ValueError(f"task {x} failed")
    time.sleep(0.01)
    return x * x, os.getpid()


@pytest.mark.parametrize("start_here", [True, False])
def test_completed_gives_every_task_once_with_its_own_result(start_here):
    from kpsim.run.pool import completed, process_pool

    with process_pool(1) as pool:
        out = list(completed(square_and_pid, [(i,) for i in range(30)], pool, start_here=start_here, window=2))
    assert sorted(i for i, _ in out) == list(range(30))
    assert all(result[0] == i * i for i, result in out)
    pids = {result[1] for _, result in out}
    assert (os.getpid() in pids) == start_here  # this process computes only if asked to
    if not start_here:
        assert len(pids) == 1


def test_completed_without_workers_runs_everything_here_in_order():
    from kpsim.run.pool import completed

    out = list(completed(square_and_pid, [(i,) for i in range(5)], None))
    assert [i for i, _ in out] == list(range(5)) and {r[1] for _, r in out} == {os.getpid()}


@pytest.mark.parametrize("where", ["worker", "here"])
def test_an_error_in_a_task_is_raised_to_the_caller(where):
    from kpsim.run.pool import completed, process_pool

    tasks = [(i, i == 3) for i in range(8)]
    with process_pool(1) as pool, pytest.raises(ValueError, match="task 3 failed"):
        list(completed(square_and_pid, tasks, pool if where == "worker" else None, start_here=False, window=8))


def test_a_killed_worker_is_said_in_words_not_as_a_broken_pool():
    from kpsim.run.pool import WorkerDied, completed, process_pool

    with process_pool(1) as pool:
        os.kill(pool.submit(os.getpid).result(), signal.SIGKILL)  # as the OOM killer does
        with pytest.raises(WorkerDied, match="a kpsim worker process died") as died:
            list(completed(square_and_pid, [(i,) for i in range(4)], pool, start_here=False))
    assert isinstance(died.value, RuntimeError)  # as before it had a class of its own
