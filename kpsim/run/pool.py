"""Local worker processes, kept free of heavy imports so a command can start them first.

Workers fork from a forkserver that has imported kpsim once: safe with the
threads numpy's BLAS starts, and cheap per worker. Starting that server is
the slow part (it imports numpy, scipy, pandas, mesa: about a second), so
`warm_up` lets a command begin it while the command itself is still
importing the same modules on the other core.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from concurrent.futures import ProcessPoolExecutor


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _context(preload: str | tuple[str, ...]):
    # a forkserver re-imports the caller's main script; a script piped on stdin has none
    # to re-import, so that one case falls back to plain fork
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main is not None and not os.path.exists(main):
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([preload] if isinstance(preload, str) else list(preload))
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
    ctx = _context(preload)
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init)
    if ctx.get_start_method() == "fork":
        pool.submit(int)  # forks every worker now, before the caller starts threads of its own (a sweep computes in one)
    return pool


def worker_died() -> RuntimeError:
    """What to tell a user whose worker process died: the likely causes, and how to see the real error."""
    return RuntimeError(
        "a kpsim worker process died before finishing its work: it was killed (out of memory, or by a signal), or, "
        "in a Python script, kpsim was called with jobs > 1 outside `if __name__ == \"__main__\":` (each worker "
        "process imports the script again and so runs it again). Put the call under that guard, or use jobs=1 to "
        "see the error in this process"
    )
