"""What a results folder records about how it was made: version, scenario, seed, command, commit, machine, time."""

from __future__ import annotations

import json
import platform
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

from kpsim.atomic import write_text
from kpsim.version import __version__


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


def write_meta(path: Path, meta: dict) -> None:
    """meta.json, written last into a folder: the sign that the folder is complete."""
    write_text(path, json.dumps(meta, indent=2) + "\n")


def run_meta(scenario, rules, jobs: int, started: float, source: str | None, command: str) -> dict:
    """meta.json's content; the wall time runs from `started` to now."""
    return {
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
