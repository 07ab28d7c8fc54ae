"""The cost of honest intervals: `--uncertainty full` and `parameters` against `montecarlo`, per replication and end to end.

Run: python3 benchmarks/bench_uncertainty.py [--small 2000] [--large 22000] [--draws 50] [--repeat 3]

Each mode runs every rule of the KP definition reform through kpsim.compare (one
process), at two sizes. The marginal cost per replication, (t(large) − t(small)) /
(large − small), is what a bigger run pays; a draw's fixed cost (a setter chair plans
its text once per batch and meeting, and each draw is a batch of its own) shows in
the time at the small size. Prints a Markdown table with the spread over repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import date
from pathlib import Path

import kpsim

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "scenarios" / "kp" / "definition_reform.yaml"


def timed(mode: str, reps: int, draws: int) -> float:
    t = time.perf_counter()
    kpsim.compare(CASE, reps=reps, jobs=1, uncertainty=mode, draws=draws)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", type=int, default=2000)
    ap.add_argument("--large", type=int, default=22000)
    ap.add_argument("--draws", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rules = len(kpsim.load_scenario(CASE).rules)
    timed("full", 200, 4)  # warm-up: imports, the compiled chair's cache, the page cache
    rows = {}
    for mode in ("montecarlo", "parameters", "full"):
        small = [timed(mode, args.small, args.draws) for _ in range(args.repeat)]
        large = [timed(mode, args.large, args.draws) for _ in range(args.repeat)]
        marginal = [(b - a) / ((args.large - args.small) * rules) for a, b in zip(small, large)]
        rows[mode] = (small, large, marginal)
    base = statistics.median(rows["montecarlo"][2])
    print(f"{date.today()}, load average {os.getloadavg()[0]:.1f}, {args.draws} draws, {rules} rules, one process, {args.repeat} repeats (median [min, max])\n")
    print(f"| mode | {args.small:,} reps (s) | {args.large:,} reps (s) | marginal µs per replication and rule | × montecarlo |")
    print("|---|---|---|---|---|")
    for mode, (small, large, marginal) in rows.items():
        fmt = lambda xs, k=1.0, d=1: f"{statistics.median(xs) * k:.{d}f} [{min(xs) * k:.{d}f}, {max(xs) * k:.{d}f}]"  # noqa: E731
        print(f"| {mode} | {fmt(small)} | {fmt(large)} | {fmt(marginal, 1e6, 0)} | {statistics.median(marginal) / base:.2f} |")


if __name__ == "__main__":
    main()
