"""Writing whole or not at all: every file and folder kpsim writes goes through here.

A file is written under a hidden temporary name beside it, flushed to disk
and renamed (one atomic step); a folder is filled under a hidden `.partial`
name and renamed only when complete. An interrupted write never leaves a
file or folder that looks finished, and never damages what was there.
"""

from __future__ import annotations

import os
import shutil
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
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text(path: str | Path, text: str) -> Path:
    return write_file(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> Path:
    return write_file(path, lambda tmp: tmp.write_bytes(data))


def check_free(folder: str | Path, force: bool = False) -> None:
    """A results folder may be written at `folder`: it is new or empty, or `force` allows replacing it."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file — choose another --out")
    if folder.exists() and any(folder.iterdir()) and not force:
        raise InputError(f"{folder}: folder exists and is not empty — choose another --out or pass --force")


@contextmanager
def atomic_dir(final: str | Path, force: bool = False):
    """Yield a scratch folder that becomes `final` only if the block succeeds."""
    final = Path(final)
    check_free(final, force)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(final)
