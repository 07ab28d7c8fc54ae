"""The results folder: written whole or not at all.

Everything goes into a hidden `.partial` sibling first; the folder gets its
real name (one atomic rename) only once every file, meta.json last, is on
disk. An interrupted run leaves no folder that looks complete.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from kpsim import __version__
from kpsim.yamlsource import InputError


def git_commit(where: Path) -> str | None:
    """The commit of the kpsim checkout, with '+dirty' if it has local changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=where, capture_output=True, text=True, timeout=5
        ).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def new_run_dir(scenario_name: str, root: Path = Path("results")) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = root / scenario_name / stamp
    path, k = base, 1
    while path.exists() or path.with_name(f".{path.name}.partial").exists():
        k += 1
        path = base.with_name(f"{stamp}-{k}")
    return path


@contextmanager
def atomic_dir(final: Path, force: bool = False):
    """Yield a scratch folder that becomes `final` only if the block succeeds."""
    final = Path(final)
    if final.exists() and any(final.iterdir()) and not force:
        raise InputError(f"{final}: folder exists and is not empty — choose another --out or pass --force")
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


def write_table(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


def write_meta(path: Path, scenario, rules, jobs: int, started: float, source: str | None, command: str) -> dict:
    meta = {
        "kpsim_version": __version__,
        "scenario": scenario.name,
        "scenario_file": source,
        "seed": scenario.seed,
        "replications": scenario.replications,
        "rules": list(rules),
        "jobs": jobs,
        "command": command,
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "started_utc": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        "wall_time_s": round(time.time() - started, 3),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, path)
    return meta
