"""Writing whole or not at all: every file and folder kpsim writes goes through here.

A file is written under a hidden temporary name beside it, flushed to disk
and renamed (one atomic step); a folder is filled under a hidden
`.NAME.partial-PID` name and renamed only when complete, by the one process
holding the folder's lock. An interrupted write never leaves a file or folder
that looks finished, and never damages what was there.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from kpsim.errors import InputError


def write_file(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp)` on a temporary name, then put it at `path` in one rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise _naming(exc, path) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text(path: str | Path, text: str) -> Path:
    return write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    return write_file(path, lambda tmp: tmp.write_bytes(data))


RESULTS_MARK = ("meta.json",)  # the file every results folder kpsim writes holds


def check_free(folder: str | Path, force: bool = False, ours: tuple[str, ...] | None = RESULTS_MARK) -> None:
    """A results folder may be written at `folder`: it is new or empty, or `force` replaces one kpsim wrote.

    A folder kpsim wrote holds one of the files `ours`; `ours=None` lets `force` replace anything
    (kpsim's own sub-folders, such as a results folder's charts/).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file — choose another --out")
    if not folder.exists() or not any(folder.iterdir()):
        return
    if not force:
        raise InputError(f"{folder}: folder exists and is not empty — choose another --out or pass --force")
    if ours is not None and not any((folder / name).is_file() for name in ours):
        raise InputError(
            f"{folder}: --force replaces only a folder kpsim wrote (one holding {' or '.join(ours)}); "
            "this one holds other files — choose another --out"
        )


# ------------------------------------------------------------------ one writer per folder

_held: dict[Path, int] = {}  # folders this process has claimed -> the lock's file descriptor


def _lock_path(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}.lock")


def _try_lock(folder: Path) -> int | None:
    """The descriptor of a lock on `folder` now held by this process, or None if another process holds it."""
    path = _lock_path(folder)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:  # its holder may have removed the file between our open and our lock: then lock the new one
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _release(folder: Path, fd: int) -> None:
    _lock_path(folder).unlink(missing_ok=True)  # while still holding it: a waiting process re-checks the inode
    os.close(fd)


def _clean_leftovers(parent: Path, own: Path) -> None:
    """Remove what interrupted runs left beside their folders (`.NAME.partial-PID`, `.NAME.old-PID`, `.NAME.lock`).

    A leftover is removed only while holding NAME's lock, so a run still writing is never touched;
    a lock is free exactly when its process has ended (the system releases it, even after a kill).
    """
    leftovers: dict[str, list[Path]] = {}
    for p in parent.glob(".*"):
        if m := _LEFTOVER.fullmatch(p.name):
            leftovers.setdefault(m.group(1) or m.group(2), []).append(p)
    for name, paths in leftovers.items():
        folder = (parent / name).absolute()
        if folder == own:  # held by this process since a moment ago: what is there is an earlier run's
            _remove(paths)
            continue
        if folder in _held:
            continue
        fd = _try_lock(folder)
        if fd is None:
            continue  # a run is writing it now
        try:
            _remove(paths)
        finally:
            _release(folder, fd)


def _remove(paths: list[Path]) -> None:
    for p in paths:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            print(f"note: removed {p}, left by an interrupted run", file=sys.stderr)


_LEFTOVER = re.compile(r"\.(.+)\.(?:partial|old)(?:-\d+)?|\.(.+)\.lock")


@contextmanager
def claim(folder: str | Path):
    """Only one kpsim process writes `folder` at a time: a second one fails at once, with a clear message.

    The lock (`.NAME.lock` beside the folder) is released by the system if the process dies, so it
    never goes stale. Claims nest within one process. Claiming also removes the leftovers of
    interrupted runs beside the folder.
    """
    folder = Path(folder).absolute()
    if folder in _held:
        yield
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    fd = _try_lock(folder)
    if fd is None:
        raise InputError(f"{folder}: another kpsim run is writing this folder now — wait for it to finish or choose another --out")
    _held[folder] = fd
    try:
        _clean_leftovers(folder.parent, folder)
        yield
    finally:
        del _held[folder]
        _release(folder, fd)


@contextmanager
def atomic_dir(final: str | Path, force: bool = False, ours: tuple[str, ...] | None = RESULTS_MARK):
    """Yield a scratch folder that becomes `final` only if the block succeeds (see check_free for `force` and `ours`)."""
    final = Path(final)
    with claim(final):
        check_free(final, force, ours)
        tmp = final.with_name(f".{final.name}.partial-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            yield tmp
            if final.exists():
                old = final.with_name(f".{final.name}.old-{os.getpid()}")
                final.rename(old)
                tmp.rename(final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.rename(final)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _naming(exc, final) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _naming(exc: OSError, path: Path) -> OSError:
    """The error with a path to report (a full disk raises ENOSPC from deep inside a writer, naming no file)."""
    return exc if exc.filename else OSError(exc.errno, exc.strerror or str(exc), str(path))
