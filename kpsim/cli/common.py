"""What every kpsim command shares: clean input errors, the run options, the typed command line.

Exit codes: 0 success, 1 a worker process died (killed: out of memory, a
signal), 2 bad input (scenario errors, unknown rule, bad
option, a folder another run is writing), 3 the filesystem refused (disk
full, read-only, no permission), 130 interrupted (Ctrl-C, or SIGTERM). Bad input is reported as
`file:line: field = value — what is allowed`, a filesystem error as one line
naming the path and the cause; never a traceback, and never a results
folder that looks finished when it is not.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shlex
import signal
import sys
import threading
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import click

from kpsim.errors import InputError
from kpsim.fields import MAX_REPLICATIONS, MAX_SEED
from kpsim.run.pool import WorkerDied


FILESYSTEM_ERROR = 3
WORKER_DIED = 1
# what stopped_by explains: an interrupt (also through C code: a SystemError), a dead worker (BrokenProcessPool: from a
# pool not behind worker_deaths_explained, said the same)
STOPPED = (KeyboardInterrupt, SystemError, WorkerDied, BrokenProcessPool)
# worker_died()'s own message speaks to scripts (the main guard, jobs=1): on the command line, the options that matter
WORKER_DIED_LINE = "a kpsim worker process died before finishing its work (killed: out of memory, or by a signal; fewer --jobs need less memory)"


def _terminated(signum, frame):
    raise KeyboardInterrupt  # unwinds as Ctrl-C does: pools stopped, half-written folders removed


def interrupted(exc: BaseException) -> bool:
    """Ctrl-C or SIGTERM, also where it reached us through C code: raised while numba loads a compiled kernel, the
    interrupt comes back as a SystemError caused by it (measured: SIGTERM in a fresh clone's first run, while the
    chair's kernels compile). The `finally` blocks have run either way: pools stopped, half-written folders removed."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def stopped_by(exc: BaseException) -> str | None:
    """"interrupt" (Ctrl-C or SIGTERM, also when the workers went with it: a signal to the whole process group),
    "worker" (a worker process died alone: out of memory, a signal to it), or None: an error of another kind."""
    if interrupted(exc):
        return "interrupt"
    return "worker" if isinstance(exc, (WorkerDied, BrokenProcessPool)) else None


@contextlib.contextmanager
def sigterm_as_ctrl_c():
    """`kill PID` (SIGTERM) stops a command as Ctrl-C does; its default would end this process at once and leave its workers running."""
    if threading.current_thread() is not threading.main_thread():  # signals are handled by the main thread only
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def handle_input_errors(fn):
    """Turn InputError into plain messages and exit code 2, a filesystem error into one line and exit 3, a dead worker into one line
    and exit 1; Ctrl-C or SIGTERM into exit code 130."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with sigterm_as_ctrl_c():
                return fn(*args, **kwargs)
        except InputError as exc:
            for msg in exc.messages:
                click.echo(f"error: {msg}", err=True)
            sys.exit(2)
        except STOPPED as exc:
            why = stopped_by(exc)
            if why is None:
                raise
            click.echo("interrupted: nothing was written" if why == "interrupt" else f"error: {WORKER_DIED_LINE} — nothing was written", err=True)
            sys.exit(130 if why == "interrupt" else WORKER_DIED)
        except BrokenPipeError:  # the reader went away (`kpsim ... | head`): not an error of ours
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc} — nothing was written", err=True)
            sys.exit(FILESYSTEM_ERROR)

    return wrapper


def run_options(fn=None, *, out_default: str = "results/<scenario>/<run-id>/", reps_help: str = "Replications per rule (default: the scenario's)."):
    """--reps, --seed, --jobs, --out, --force, --quiet: the same on every command that runs replications."""
    if fn is None:
        return lambda f: run_options(f, out_default=out_default, reps_help=reps_help)
    opts = [
        click.option("--reps", type=click.IntRange(1, MAX_REPLICATIONS), help=reps_help),
        click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Random seed (default: the scenario's)."),
        click.option(
            "--jobs", type=click.IntRange(min=1), help="Processes working at once (default: all cores). Results do not depend on it."
        ),
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            help=f"Results folder (default: {out_default}).",
        ),
        click.option("--force", is_flag=True, help="Replace --out if it already holds results."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


class CommandLineGroup(click.Group):
    """Keeps the command line as typed, for meta.json."""

    def make_context(self, info_name, args, parent=None, **extra):
        argv = list(args)
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta["command"] = shlex.join(["kpsim", *argv])
        return ctx


def typed_command() -> str:
    return click.get_current_context().meta.get("command", "kpsim")
