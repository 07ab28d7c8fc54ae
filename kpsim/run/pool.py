"""Local worker processes, kept free of heavy imports so a command can start them first.

Workers fork from a forkserver that has imported kpsim once (kpsim.run.worker,
and the modules a command's tasks live in): safe with the threads numpy's BLAS
starts, and cheap per worker. Starting that server is
the slow part (it imports numpy, scipy, pandas, mesa: about a second), so
`warm_up` lets a command begin it while the command itself is still
importing the same modules on the other core.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from queue import SimpleQueue


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _context(preload: str | tuple[str, ...]):
    # a forkserver re-imports the caller's main script; a script piped on stdin has none
    # to re-import, so that one case falls back to plain fork
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main is not None and not os.path.exists(main):
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["kpsim.run.worker", *([preload] if isinstance(preload, str) else preload)])
    return ctx


def warm_up(jobs: int | None, preload: str | tuple[str, ...]) -> None:
    """Start the forkserver now, in the background, if workers will be needed: it imports `preload`, the module(s) the workers' tasks live in.

    A command that will also draw charts in workers names kpsim.output.charts
    too: its workers then start without importing matplotlib (about half a
    second each), and the server imports it while this process does the same.
    """
    if (jobs or default_jobs()) > 1 and _context(preload).get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _worker_init() -> None:
    """A worker leaves Ctrl-C to the command (which stops the pool and reports once), dies with its parent, and
    makes its matrix products on one BLAS thread.

    Ctrl-C reaches the whole process group: a worker that took it printed its own traceback. A worker
    whose command was killed (kill -9) would otherwise live on, blocked writing to a pipe nobody reads.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")  # a worker is one of `jobs` processes: BLAS's own threads would only spin beside it
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass


def process_pool(jobs: int, preload: str = "kpsim.run.runner") -> ProcessPoolExecutor:
    """Workers whose tasks live in module `preload`, imported once by the forkserver (if not already running)."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        # a worker re-running a script's unguarded call: stop before making a pool (its parts would leak), and
        # the command's own process says why its worker died (worker_died)
        raise RuntimeError("kpsim called with jobs > 1 while a worker process imports the script: the call needs `if __name__ == \"__main__\":`")
    ctx = _context(preload)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init)
    if ctx.get_start_method() == "fork":
        pool.submit(int)  # forks every worker now, before the caller starts threads of its own (a sweep computes in one)
    return pool


def completed(fn: Callable, tasks: list[tuple], executor: Executor | None, start_here: bool = True, window: int = 2) -> Iterator[tuple[int, object]]:
    """(i, fn(*tasks[i])) for every task, as each finishes: `window` at a time on `executor`'s workers and, if
    `start_here`, in this process too while the workers start (until the first of their results comes back); without an
    executor, all here.

    A thread hands the workers their tasks, so this process never waits for their server, which may still be
    importing kpsim (about a second; measured: that wait was most of what two processes lost against one on a
    10⁵-replication comparison). It stops computing once they are up: computing beside them throughout kept
    about 70 MB more heap per 2·10⁵ replications in this process, which also holds the tables.
    A worker that dies raises worker_died(); an error, or Ctrl-C, here or in a worker cancels what has not started.
    """
    if executor is None:
        for i, args in enumerate(tasks):
            yield i, fn(*args)
        return
    queue = iter(enumerate(tasks))
    lock, slots, stop = threading.Lock(), threading.Semaphore(window), threading.Event()
    finished: SimpleQueue = SimpleQueue()  # (i, future) as the workers end them; (None, error) if handing out failed
    pending: set[Future] = set()  # handed out, not yet finished (a finished one leaves: it holds its result)

    def take():
        with lock:
            return next(queue, None)

    def hand_out():
        try:
            while not stop.is_set():
                if not slots.acquire(timeout=0.1):
                    continue
                task = None if stop.is_set() else take()
                if task is None:
                    return
                f = executor.submit(fn, *task[1])  # the first one waits for the workers to start: here, not in the caller
                pending.add(f)
                f.add_done_callback(lambda f, i=task[0]: (pending.discard(f), slots.release(), finished.put((i, f))))
        except BaseException as exc:  # a broken or shut pool: the caller raises it
            finished.put((None, exc))

    feeder = threading.Thread(target=hand_out, name="kpsim-hand-out", daemon=True)
    feeder.start()
    left, helping = len(tasks), start_here
    try:
        with worker_deaths_explained():
            while left:
                mine = take() if helping else None
                if mine is not None:
                    left -= 1
                    yield mine[0], fn(*mine[1])
                while left and (mine is None or not finished.empty()):
                    i, f = finished.get() if mine is None else finished.get_nowait()
                    if i is None:
                        raise f
                    result = f.result()  # a worker's error, raised here at once
                    left, helping = left - 1, False  # the workers are up: collect from now on
                    yield i, result
    finally:
        stop.set()
        feeder.join()
        for f in list(pending):
            f.cancel()


class WorkerDied(RuntimeError):
    """A worker process died mid-task: a class of its own, so that the command line can say so in one line."""


def worker_died() -> WorkerDied:
    """What to tell a user whose worker process died: the likely causes, and how to see the real error."""
    return WorkerDied(
        "a kpsim worker process died before finishing its work: it was killed (out of memory, or by a signal), or, "
        "in a Python script, kpsim was called with jobs > 1 outside `if __name__ == \"__main__\":` (each worker "
        "process imports the script again and so runs it again). Put the call under that guard, or use jobs=1 to "
        "see the error in this process"
    )


@contextmanager
def worker_deaths_explained():
    """A dead worker's BrokenProcessPool raised in the block comes out as worker_died(): the one place every pool's caller maps it."""
    try:
        yield
    except BrokenProcessPool as exc:
        raise worker_died() from exc
