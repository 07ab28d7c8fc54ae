"""Replications per second: kpsim's runner against a pure-numpy kernel of the null model.

Run: python3 benchmarks/bench_core.py [--reps N]
Prints a Markdown table for the README. Single process (one core); the
parallel runner scales this by the number of workers.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

import kpsim
from kpsim.run.runner import run

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


def rate(fn, reps: int, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn(reps)
        best = min(best, time.perf_counter() - t)
    return reps / best


def kpsim_rate(path: Path, rule: str, reps: int) -> float:
    sc = kpsim.load_scenario(path)
    return rate(lambda r: run(sc, [rule], replications=r, jobs=1, progress=False), reps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5000)
    args = ap.parse_args()
    kernel = rate(numpy_null_kernel, args.reps)
    rows = [("null model, two-thirds (numpy kernel)", kernel, None)]
    null = kpsim_rate(ROOT / "scenarios" / "null_model.yaml", "two_thirds", args.reps)
    rows.append(("null model, two-thirds (kpsim)", null, kernel / null))
    kp = ROOT / "scenarios" / "kp" / "definition_reform.yaml"
    if kp.exists():
        sc = kpsim.load_scenario(kp)
        for rule in ("consensus", "two_thirds"):
            if any(r.label == rule for r in sc.rules):
                rows.append((f"KP definition reform, {rule} (kpsim)", kpsim_rate(kp, rule, args.reps), None))
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, {args.reps} replications, 1 process\n")
    print("| workload | replications / s | kernel ÷ kpsim |")
    print("|---|---:|---:|")
    for name, r, ratio in rows:
        print(f"| {name} | {r:,.0f} | {'' if ratio is None else f'{ratio:.2f}×'} |")


if __name__ == "__main__":
    main()
