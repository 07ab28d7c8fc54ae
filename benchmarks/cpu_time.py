"""CPU time of a `kpsim compare` run in a fresh process: one helper for the benchmarks that time it, so they measure it alike.

CPU time, not wall time: the machine is shared, and CPU time is what a core
pays whatever else runs beside it.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    """CPU seconds (user + system) of the processes this one has waited for, so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def compare_cpu(path: Path, reps: int, out: str | Path, *extra: str) -> float:
    """CPU seconds of `kpsim compare PATH --reps N --jobs 1 --no-charts` (and `extra`) end to end, start-up included."""
    cmd = [sys.executable, "-m", "kpsim", "compare", str(path), "--reps", str(reps), "--jobs", "1", "--no-charts",
           "--out", str(out), "--force", "-q", *extra]
    before = children_cpu()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return children_cpu() - before
