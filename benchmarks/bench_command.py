"""The whole command a user runs: `kpsim compare scenarios/kp/definition_reform.yaml`, end to end, and its parts.

Run: python3 benchmarks/bench_command.py [--repeat N] [--jobs J]

This machine's speed drifts from minute to minute and it is shared, so every
turn also times the reference the speed issue names: the numpy kernel of the
null model (benchmarks/bench_core.py) at 20,000 replications, in this
process. A turn is, in this order: the kernel; `kpsim --help` (starting
Python and importing the command line); the default command (2,000
replications per rule, 8 rules, charts) with --jobs J; writing its charts
again in a fresh process (the command's own chart step, timed inside that
process), in the default formats (PNG, SVG) with --jobs 1, with --jobs J
from a cold start (the worker server starts, and imports matplotlib, while
this process draws), with --jobs J with the worker server started first as
`kpsim compare` starts it (while it reads its input), and in PNG, SVG and
PDF with --jobs J (PDF on request, `--formats png,svg,pdf`). Prints each
turn, then the median and range of every time and of its ratio to the same
turn's kernel, and the load average before and after. Targets: the command
≤ 5× the kernel (≤ 5 s on 2 cores), charts ≤ 2 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import numpy_null_kernel

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "kp" / "definition_reform.yaml"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

# run in a fresh process: read a results folder, time writing its charts once (argv: folder, out, jobs, formats, cold|warm)
CHARTS = """
import sys, time
from pathlib import Path
if sys.argv[5] == "warm":
    from kpsim.run.pool import warm_up
    warm_up(int(sys.argv[3]), "kpsim.output.charts")
import kpsim.output
from kpsim.analysis.outputs import write_charts
from kpsim.analysis.results import Results
results = Results.read(sys.argv[1])
tables = results.tables()
formats = None if sys.argv[4] == "default" else tuple(sys.argv[4].split(","))
t = time.perf_counter()
write_charts(results, tables, Path(sys.argv[2]), jobs=int(sys.argv[3]), formats=formats)
print(time.perf_counter() - t)
"""


def wall(args: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(args, cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def kpsim(*args: str) -> list[str]:
    return [sys.executable, "-m", "kpsim", *args]


def chart_seconds(folder: Path, out: Path, jobs: int, formats: str = "default", server: str = "cold") -> float:
    res = subprocess.run([sys.executable, "-c", CHARTS, str(folder), str(out), str(jobs), formats, server], cwd=ROOT, env=ENV, check=True,
                         capture_output=True, text=True)
    return float(res.stdout.split()[-1])


def turn(tmp: Path, i: int, jobs: int) -> dict[str, float]:
    t = time.perf_counter()
    numpy_null_kernel(20_000)
    row = {"kernel (20,000 null replications)": time.perf_counter() - t}
    row["kpsim --help"] = wall(kpsim("--help"))
    out = tmp / f"run{i}"
    row[f"compare, --jobs {jobs}"] = wall(kpsim("compare", str(SCENARIO), "--out", str(out), "--force", "-q", "--jobs", str(jobs)))
    row["charts, --jobs 1"] = chart_seconds(out, tmp / f"c1_{i}", 1)
    row[f"charts, --jobs {jobs}"] = chart_seconds(out, tmp / f"cj_{i}", jobs)
    row[f"charts, --jobs {jobs}, worker server started first"] = chart_seconds(out, tmp / f"cw_{i}", jobs, server="warm")
    row[f"charts with PDF, --jobs {jobs}"] = chart_seconds(out, tmp / f"cp_{i}", jobs, formats="png,svg,pdf")
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    load0 = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wall(kpsim("--help"))  # file caches warm, as for a user's second command
        for i in range(args.repeat):
            rows.append(turn(Path(tmp), i, args.jobs))
            print(f"turn {i + 1}: " + "; ".join(f"{k} {v:.2f} s" for k, v in rows[-1].items()), flush=True)
    load1 = os.getloadavg()
    print(f"\n{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{args.repeat} turns; load average (1, 5, 15 min) before {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, "
          f"after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}\n")
    kernel = np.array([r["kernel (20,000 null replications)"] for r in rows])
    print("| what | median s | range s | ÷ kernel (median, range) |")
    print("|---|---:|---:|---:|")
    for key in rows[0]:
        v = np.array([r[key] for r in rows])
        q = v / kernel
        print(f"| {key} | {np.median(v):.2f} | {v.min():.2f}–{v.max():.2f} | {np.median(q):.2f}× ({q.min():.2f}–{q.max():.2f}) |")


if __name__ == "__main__":
    main()
