"""Cost against the number of participants: is kpsim linear in actors?

Run: python3 benchmarks/bench_actors.py [--sizes 60,240,960,3840] [--repeat 3]

Builds a KP-like scenario for each size (four blocs, production weights, three
observers, the KP definition reform's eight rules) and measures, in one process:

- the per-replication marginal cost of the model (`run` at --reps2 minus at --reps1, per
  replication and rule), and
- the whole command, `kpsim compare FILE --reps 200 --jobs 1 --no-charts`, end to end
  (start-up, the model, every table including the power indices).

Both are CPU time of one process (user + system), not wall time: the machine this runs on is
shared, and CPU time is what a core pays whatever else runs beside it.

Targets (issue 17): marginal cost at 960 at most 20× that at 60; the whole command at 960
at most 16× the same at 60. Prints a Markdown table with each ratio to the smallest size,
and the spread (min–max) over --repeat runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

import kpsim
from kpsim.run.runner import run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_time import compare_cpu

RULES = [
    {"rule": "consensus"},
    {"rule": "consensus_minus_k", "k": 3, "name": "consensus_minus_3"},
    {"rule": "simple_majority"},
    {"rule": "qualified_majority", "q": "2/3", "name": "two_thirds"},
    {"rule": "qualified_majority", "q": "3/4", "name": "three_quarters"},
    {"rule": "weighted_majority", "weight": "production", "q": "2/3", "name": "production_weighted"},
    {"rule": "double_majority", "q": "1/2", "weight": "production", "weight_q": "1/2"},
    {"rule": "chambers", "name": "tripartite"},
]
# the KP definition reform's four camps: (bloc, position, salience, share of the participants)
CAMPS = [("west", 1.0, 0.8, 0.15), ("russia", 0.0, 0.7, 0.15), ("africa", 0.25, 0.3, 0.4), ("others", 0.75, 0.4, 0.3)]


def scenario_data(n: int) -> dict:
    """A KP-like scenario with n participants (camps in the KP's proportions) and three observers."""
    actors = []
    for i in range(n):
        share, k = i / n, 0
        while share >= sum(c[3] for c in CAMPS[: k + 1]):
            k += 1
        bloc, position, salience, _ = CAMPS[k]
        actors.append({"id": f"p{i}", "bloc": bloc, "position": position, "salience": salience,
                       "weights": {"production": float(1 + (7 * i) % 13)}})
    actors += [
        {"id": "wdc", "kind": "industry", "position": 0.75, "salience": 0.6, "lobbying": 0.3},
        {"id": "rapaport", "kind": "industry", "position": 0.5, "salience": 0.4, "lobbying": 0.2},
        {"id": "csc", "kind": "civil_society", "position": 1.0, "salience": 0.6, "lobbying": 0.5},
    ]
    return {
        "name": f"actors_{n}",
        "proposal": {"status_quo": 0.0, "position": 1.0, "reservation": 0.5},
        "calendar": {"meetings_per_year": 2, "horizon": 40},
        "dynamics": {"noise": 0.6, "reluctance": 0.2, "amendment_step": 0.4, "lobbying": 0.05, "acquiescence_time": 0.01},
        "rules": RULES,
        "replications": 200,
        "seed": 20261130,
        "actors": actors,
    }


def marginal(path: Path, reps1: int, reps2: int) -> tuple[float, float]:
    """CPU seconds of run() between reps1 and reps2 replications (one process): per replication and rule, and per
    replication-meeting (more participants deadlock longer, so a replication holds more meetings)."""
    sc = kpsim.load_scenario(path)
    times, meetings = [], []
    for reps in (reps1, reps2):
        t = time.process_time()
        runs, _ = run(sc, replications=reps, jobs=1, progress=False)
        times.append(time.process_time() - t)
        meetings.append(int(runs["meetings"].sum()))
    spent = times[1] - times[0]
    return spent / (reps2 - reps1) / len(sc.rules), spent / (meetings[1] - meetings[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="60,240,960,3840")
    ap.add_argument("--reps1", type=int, default=200)
    ap.add_argument("--reps2", type=int, default=1000)
    ap.add_argument("--compare-reps", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = {n: ([], [], []) for n in sizes}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"actors_{n}.yaml"
            path.write_text(yaml.safe_dump(scenario_data(n), sort_keys=False))
        for _ in range(args.repeat):  # sizes interleaved, so a busy spell hits every size alike
            for n in sizes:
                path = Path(tmp) / f"actors_{n}.yaml"
                # a small plenary's marginal is a tenth of a second of CPU: measured 240 / n times and averaged (the same
                # batches as every size, one of reps1 and one of reps2 replications), so that a busy spell does not decide the ratio
                k = max(1, 240 // n)
                per_rep, per_meeting = (sum(x) / k for x in zip(*(marginal(path, args.reps1, args.reps2) for _ in range(k))))
                rows[n][0].append(per_rep)
                rows[n][2].append(per_meeting)
                rows[n][1].append(compare_cpu(path, args.compare_reps, Path(tmp) / f"out_{n}"))  # the whole command, as a user runs it
                print(f"  {n} participants: {rows[n][0][-1] * 1e3:.3f} ms/replication, compare {rows[n][1][-1]:.1f} s CPU", file=sys.stderr, flush=True)
    base_m, base_c, base_k = min(rows[sizes[0]][0]), min(rows[sizes[0]][1]), min(rows[sizes[0]][2])
    print(f"{args.repeat} runs; CPU time, best (min–max); marginal = run() at {args.reps2} minus at {args.reps1} replications "
          f"(the mean of 240 / participants measurements below 240 participants), per replication and rule\n")
    print(f"| participants | marginal ms / replication | ÷ {sizes[0]} | µs / replication-meeting | ÷ {sizes[0]} "
          f"| compare × {args.compare_reps} reps (CPU s) | ÷ {sizes[0]} |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        m, c, k = rows[n]
        print(f"| {n:,} | {min(m) * 1e3:.3f} ({min(m) * 1e3:.3f}–{max(m) * 1e3:.3f}) | {min(m) / base_m:.1f}× "
              f"| {min(k) * 1e6:.1f} ({min(k) * 1e6:.1f}–{max(k) * 1e6:.1f}) | {min(k) / base_k:.1f}× "
              f"| {min(c):.1f} ({min(c):.1f}–{max(c):.1f}) | {min(c) / base_c:.1f}× |")


if __name__ == "__main__":
    main()
