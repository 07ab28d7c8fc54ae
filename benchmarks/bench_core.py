"""Replications per second: kpsim's runner against a pure-numpy kernel of the null model.

Run: python3 benchmarks/bench_core.py [--reps N] [--wall]
Prints a Markdown table for the README. Single process (one core); the
parallel runner scales this by the number of workers. Times are CPU time of
this process (user + system) unless --wall: on a shared machine CPU time is
what one core pays, whatever else runs beside it.

The last rows run the whole `kpsim compare --jobs 1 --no-charts` as a user does
and report its marginal cost (time at 6 × N replications minus at N, per
replication and rule): start-up cancels out, the tables and the model stay.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import kpsim
from kpsim.run.runner import run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_time import compare_cpu

ROOT = Path(__file__).resolve().parents[1]


def numpy_null_kernel(reps: int, n: int = 60, p: float = 0.5, need: int = 40, horizon: int = 5000, seed: int = 0):
    """The null model, two-thirds rule, vectorised over replications × participants."""
    rng = np.random.default_rng(seed)
    meetings = np.full(reps, horizon)
    active = np.arange(reps)
    t = 0
    while active.size and t < horizon:
        t += 1
        passed = (rng.random((active.size, n)) < p).sum(axis=1) >= need
        meetings[active[passed]] = t
        active = active[~passed]
    return meetings


CLOCK = time.process_time  # --wall: time.perf_counter


def rate(fn, reps: int, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = CLOCK()
        fn(reps)
        best = min(best, CLOCK() - t)
    return reps / best


def compare_marginal(path: Path, reps: int) -> float:
    """Replications per second and rule of `kpsim compare` between reps and 6 × reps (CPU or wall, as CLOCK)."""
    spent = []
    with tempfile.TemporaryDirectory() as out:
        for n in (reps, 6 * reps):
            t = time.perf_counter()
            cpu = compare_cpu(path, n, os.path.join(out, "r"), "--uncertainty", "montecarlo")
            spent.append(time.perf_counter() - t if CLOCK is time.perf_counter else cpu)
    rules = len(kpsim.load_scenario(path).rules)
    return 5 * reps * rules / (spent[1] - spent[0])


def kpsim_rate(path: Path, rule: str, reps: int) -> float:
    sc = kpsim.load_scenario(path)
    return rate(lambda r: run(sc, [rule], replications=r, jobs=1, progress=False), reps)


def main():
    global CLOCK
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5000)
    ap.add_argument("--compare-reps", type=int, default=2000, help="the compare rows: N and 6 × N replications")
    ap.add_argument("--wall", action="store_true", help="wall-clock time instead of this process's CPU time")
    args = ap.parse_args()
    if args.wall:
        CLOCK = time.perf_counter
    kernel = rate(numpy_null_kernel, args.reps)
    rows = [("null model, two-thirds (numpy kernel)", kernel, None)]
    null = kpsim_rate(ROOT / "scenarios" / "null_model.yaml", "two_thirds", args.reps)
    rows.append(("null model, two-thirds (kpsim)", null, kernel / null))
    kp = ROOT / "scenarios" / "kp" / "definition_reform.yaml"
    if kp.exists():
        for rule in [r.label for r in kpsim.load_scenario(kp).rules]:
            rows.append((f"KP definition reform, {rule} (kpsim)", kpsim_rate(kp, rule, args.reps), None))
    null_cmp = compare_marginal(ROOT / "scenarios" / "null_model.yaml", args.compare_reps)
    rows.append(("null model, `kpsim compare` marginal, per rule", null_cmp, kernel / null_cmp))
    if kp.exists():
        rows.append(("KP definition reform, `kpsim compare` marginal, per rule (8 rules)", compare_marginal(kp, args.compare_reps), None))
    clock = "wall time" if args.wall else "CPU time"
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {args.reps} replications, 1 process, {clock}, load {os.getloadavg()[0]:.1f}\n")
    print("| workload | replications / s | kernel ÷ kpsim |")
    print("|---|---:|---:|")
    for name, r, ratio in rows:
        print(f"| {name} | {r:,.0f} | {'' if ratio is None else f'{ratio:.2f}×'} |")


if __name__ == "__main__":
    main()
