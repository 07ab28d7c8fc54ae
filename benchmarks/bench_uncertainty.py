"""The cost of honest intervals: `--uncertainty full` and `parameters` against `montecarlo`, per replication and end to end.

Run: python3 benchmarks/bench_uncertainty.py [--sizes 2000,22000,42000] [--draws 50] [--repeat 3]

Each mode runs every rule of the KP definition reform through kpsim.compare (one
process, CPU time: the machine is shared), at each size. A draw costs a fixed part
(the setter chair plans its text once per draw, meeting and rule; each draw's rules
are models of their own, whose meetings cost the same however few replications
they hold) and a part per replication. The fixed part grows with the size until
every draw's slowest replication runs to the horizon, so the marginal cost per
replication is printed for each pair of consecutive sizes: between the first two it
still holds some of the fixed part; between the last two it is the replications' own
cost (the issue's target: at most 1.3× montecarlo). Prints a Markdown table with
the spread over repeats.
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
MODES = ("montecarlo", "parameters", "full")


def timed(mode: str, reps: int, draws: int) -> float:
    """CPU seconds of one comparison in this process."""
    t = time.process_time()
    kpsim.compare(CASE, reps=reps, jobs=1, uncertainty=mode, draws=draws)
    return time.process_time() - t


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,22000,42000", help="replications per rule, increasing")
    ap.add_argument("--draws", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rules = len(kpsim.load_scenario(CASE).rules)
    load = os.getloadavg()[0]
    timed("full", 200, 4)  # warm-up: imports, the compiled chair's cache, the page cache
    times = {(m, n): [timed(m, n, args.draws) for _ in range(args.repeat)] for m in MODES for n in sizes}
    pairs = list(zip(sizes, sizes[1:]))
    marginal = {(m, a, b): [(tb - ta) / ((b - a) * rules) for ta, tb in zip(times[m, a], times[m, b])] for m in MODES for a, b in pairs}

    def fmt(xs, k=1.0, d=1):
        return f"{statistics.median(xs) * k:.{d}f} [{min(xs) * k:.{d}f}, {max(xs) * k:.{d}f}]"

    print(f"{date.today()}, load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; {args.draws} draws, {rules} rules, "
          f"one process, CPU seconds, {args.repeat} repeats (median [min, max])\n")
    head = " | ".join(f"{n:,} reps (s)" for n in sizes)
    marg = " | ".join(f"marginal {a:,}→{b:,} (µs per replication and rule; × montecarlo)" for a, b in pairs)
    print(f"| mode | {head} | {marg} |")
    print("|---" * (1 + len(sizes) + len(pairs)) + "|")
    for m in MODES:
        cells = [fmt(times[m, n]) for n in sizes]
        for a, b in pairs:
            ratio = statistics.median(marginal[m, a, b]) / statistics.median(marginal["montecarlo", a, b])
            cells.append(f"{fmt(marginal[m, a, b], 1e6, 0)}; {ratio:.2f}×")
        print(f"| {m} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
