"""Where a many-point job runs: a Dask cluster, or local processes with this one among them.

Sweeps and sensitivity analyses (and any job that hands out independent
chunks) take an (executor, workers, here) triple from `executor_for`; the
numbers do not depend on which.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from kpsim.errors import InputError
from kpsim.run.pool import default_jobs, process_pool
from kpsim.version import __version__

WAIT_FOR_WORKERS_S = 60
CONNECT_TIMEOUT = "10s"


@contextmanager
def executor_for(scheduler: str | None, jobs: int | None, preload: str, quiet: bool = False):
    """(executor, workers, here): a Dask cluster and its threads; or `jobs` local processes, this one and jobs − 1 others.

    Local workers' tasks live in module `preload`, which their server imports once.
    """
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler needs Dask: python3 -m pip install 'dask[distributed]'") from None
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})") from None
        try:
            if not client.nthreads():
                if not quiet:
                    print(f"waiting up to {WAIT_FOR_WORKERS_S} s for a worker to join {scheduler} …", file=sys.stderr)
                try:
                    client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
                except TimeoutError:
                    raise InputError(f"--scheduler {scheduler}: no worker joined — start some with `dask worker {scheduler}`") from None
            _check_workers(client, scheduler)
            yield client.get_executor(pure=False), sum(client.nthreads().values()), False
        finally:
            client.close()
        return
    jobs = jobs or default_jobs()
    if jobs == 1:
        yield None, 0, True
        return
    pool = process_pool(jobs - 1, preload)
    try:
        yield pool, jobs - 1, True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def kpsim_version() -> str:
    """Run on every Dask worker: the version it would compute with."""
    return __version__


def _check_workers(client, scheduler: str) -> None:
    """Every worker must run this kpsim: another version could compute other numbers into the same folder."""
    try:
        versions = client.run(kpsim_version)
    except ImportError as exc:
        raise InputError(f"--scheduler {scheduler}: a worker cannot import kpsim ({exc}) — install kpsim on every worker") from None
    other = sorted({v for v in versions.values() if v != kpsim_version()})
    if other:
        raise InputError(f"--scheduler {scheduler}: workers run kpsim {', '.join(other)}, this is kpsim {kpsim_version()} — install the same version everywhere")


