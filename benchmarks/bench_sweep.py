"""Sweeps: speed-up with workers, peak memory of a 10⁶-replication sweep, cost per replication.

Run: python3 benchmarks/bench_sweep.py [--quick]
Prints a Markdown table for the README. Every workload but one is the null
model (scenarios/null_model.yaml: 60 coin-flip participants, horizon 5,000),
cheap per meeting and exactly understood; replications count points ×
replications per point × rules.

1. speed-up: 10⁵ replications (20 points × 5,000, rule two_thirds),
   `kpsim sweep --jobs 1` (this process only) against `--jobs 2` (this
   process and one worker process), on two clocks: end to end as a user
   runs the command, and the sweep's own wall time from its meta.json
   (opening the folder to completing it; the command's start-up, mostly
   importing mesa, is the same for any number of workers). Twice: points
   of equal cost (dynamics.noise, which the null model ignores, at
   support_probability 0.5), which measures the machinery; and points of
   unequal cost (support_probability 0.47–0.53: the mean deadlock falls from
   ~900 to ~30 meetings), where the slowest chunks bound the speed-up; six
   turns of one run each, alternating which goes first; median times, and
   the median of the turns' speed-ups with their range. Beside each
   end-to-end one, the ceiling this machine allows: the fixed costs (S: starting Python, importing kpsim, writing the folder and
   the table, exiting; measured as a sweep of one point at one replication)
   are paid whatever the number of workers, and two processes computing at once each
   run slower than one alone (c, measured by running two `--jobs 1` sweeps at
   the same time); with W = (jobs 1 time) − S, the best `--jobs 2` can do is
   S + c·W/2. Then the bundled example (scenarios/sweep_example.yaml, the
   sweep a user runs first; four turns), whose replications take ~11 µs
   each, so the fixed costs (and ~8 ms per point and rule) weigh more;
2. memory: `kpsim sweep --jobs 2` of 10⁵ and of 10⁶ replications (10 and 100
   points of support_probability in 0.50–0.60 × 5,000 × both rules) in a
   subprocess, and the 10⁶ one again with `--jobs 1`; peak memory of its whole process tree (the sweep, the
   forkserver and the workers), sampled every 20 ms with psutil: RSS summed
   (counts pages the processes share once per process: an upper bound) and
   PSS summed (shared pages split between their processes). Sampling takes
   CPU, so the speed-up on this longer sweep is timed again without it;
3. cost per replication: `kpsim sweep --jobs 2` of 10 points × 10,000
   replications whose points do not differ (dynamics.noise, which the null
   model ignores), against `kpsim compare --jobs 2 --no-charts` of 100,000
   replications of the same scenario, both end to end as a user runs them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil  # a dependency of dask.distributed

ROOT = Path(__file__).resolve().parents[1]
NULL = ROOT / "scenarios" / "null_model.yaml"
EXAMPLE = ROOT / "scenarios" / "sweep_example.yaml"
TWO_THIRDS = "[{rule: qualified_majority, q: 2/3, name: two_thirds}]"


def sweep_file(folder: Path, name: str, grid: dict, reps: int, rules: str = "") -> Path:
    """A scenario that extends the null model with a sweep section."""
    lines = [f"extends: {NULL}", f"name: {name}"]
    if rules:
        lines.append(f"rules: {rules}")
    lines += ["sweep:", "  grid:"] + [f"    {k}: [{', '.join(f'{v:.4f}' for v in vals)}]" for k, vals in grid.items()]
    lines.append(f"  replications: {reps}")
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def fixed_seconds(tmp: Path) -> float:
    """Wall time of `kpsim sweep --jobs 1` of one point at one replication: starting, importing, writing the folder, exiting; best of three."""
    f = sweep_file(tmp, "fixed", {"dynamics.noise": [0.5]}, 1, rules=TWO_THIRDS)
    return min(timed_cli(["sweep", str(f), "--jobs", "1", "-q", "--force", "--out", str(tmp / "fixed")])[0] for _ in range(3))


def contention(tmp: Path, grid: dict, reps: int, repeat: int = 3) -> float:
    """How much slower two one-worker sweeps run side by side than one alone (the machine's own limit on a speed-up).

    Best of `repeat` of each, taken in turns: one slow run alone (the machine's
    speed drifts) would otherwise make the pair look faster than one alone.
    """
    f = sweep_file(tmp, "contention", grid, reps, rules=TWO_THIRDS)
    args = ["sweep", str(f), "--jobs", "1", "-q", "--force", "--out"]
    alone, pair = [], []
    for _ in range(repeat):
        alone.append(timed_cli([*args, str(tmp / "alone")])[0])
        both = []
        threads = [threading.Thread(target=lambda k=k: both.append(timed_cli([*args, str(tmp / f"side{k}")])[0])) for k in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pair.append(sum(both) / len(both))
    return min(pair) / min(alone)


def speedup(tmp: Path, f: Path, repeat: int = 2) -> dict[str, np.ndarray]:
    """Times of `kpsim sweep F --jobs 1` and `--jobs 2` in `repeat` turns: {clock: array of (jobs 1, jobs 2) per turn}.

    The turns alternate which runs first, so a machine whose speed drifts
    (this one does, by ±10% from minute to minute) favours neither. Two
    clocks: "command", end to end as a user runs it; and "sweep", the
    sweep's own wall time in its meta.json (from opening its folder to
    completing it: what the number of workers can change; the command's
    start-up, mostly importing mesa, is the same for any number).
    """
    times = {"command": np.zeros((repeat, 2)), "sweep": np.zeros((repeat, 2))}
    for turn in range(repeat):
        for jobs in (1, 2) if turn % 2 == 0 else (2, 1):
            out = tmp / f"speedup{jobs}"
            times["command"][turn, jobs - 1], _ = timed_cli(["sweep", str(f), "--jobs", str(jobs), "-q", "--force", "--out", str(out)])
            times["sweep"][turn, jobs - 1] = json.loads((out / "meta.json").read_text())["wall_time_s"]
    return times


def speedup_rows(label: str, times: dict, ceiling: float | None = None) -> list[tuple[str, str, str]]:
    """Two table rows, end to end and the sweep's own time: median times, and the median speed-up of the turns (with their range)."""
    rows = []
    for clock, what in (("command", "the command"), ("sweep", "the sweep itself")):
        t = times[clock]
        one, two = np.median(t, axis=0)
        ratios = t[:, 0] / t[:, 1]
        spread = f" (turns {ratios.min():.2f}–{ratios.max():.2f}×)" if len(ratios) > 1 else ""
        note = f"; ceiling S + c·W/2: {ceiling:.2f}×" if clock == "command" and ceiling else ""
        rows.append((f"speed-up, {label}, {what}: `--jobs 1` / `--jobs 2`", f"{one:.1f} s / {two:.1f} s", f"{np.median(ratios):.2f}×{spread}{note}"))
    return rows


def tree_memory(proc: psutil.Process) -> tuple[int, int]:
    """(RSS, PSS) of a process and all its descendants, summed."""
    rss = pss = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            m = p.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        rss += m.rss
        pss += getattr(m, "pss", m.rss)
    return rss, pss


def timed_cli(args: list[str], sample: bool = False) -> tuple[float, tuple[int, int]]:
    """Wall time of `kpsim ARGS` and, if asked, the peak summed (RSS, PSS) of its process tree."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "kpsim", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = (0, 0)
    if sample:
        ps = psutil.Process(proc.pid)
        stop = threading.Event()

        def watch():
            nonlocal peak
            while not stop.is_set():
                try:
                    rss, pss = tree_memory(ps)
                    peak = (max(peak[0], rss), max(peak[1], pss))
                except psutil.NoSuchProcess:
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - t
    if sample:
        stop.set()
        watcher.join()
    if proc.returncode != 0:
        raise SystemExit(f"kpsim {' '.join(args)} failed:\n{err.decode()}")
    return wall, peak


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Ten times fewer replications everywhere (a smoke test, not the README numbers).")
    args = ap.parse_args()
    k = 10 if args.quick else 1
    rows = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        n = 20 * (5000 // k)
        equal = {"dynamics.noise": list(np.linspace(0.05, 1.0, 20))}
        fixed, c = fixed_seconds(tmp), contention(tmp, equal, 5000 // k)
        rows.append(("fixed cost: a sweep of 1 point × 1 replication, `--jobs 1` (S)", f"{fixed:.2f} s", ""))
        rows.append(("two `--jobs 1` sweeps side by side, against one alone (c)", "", f"each {c - 1:+.0%} (slower if +; − is the machine's drift)"))
        for label, grid in (("equal-cost points", equal), ("unequal-cost points", {"dynamics.support_probability": list(np.linspace(0.47, 0.53, 20))})):
            times = speedup(tmp, sweep_file(tmp, "speedup", grid, 5000 // k, rules=TWO_THIRDS), repeat=6)
            one = np.median(times["command"][:, 0])
            rows += speedup_rows(f"{n:,} replications, {label}", times, ceiling=one / (fixed + c * (one - fixed) / 2))

        if not args.quick:
            rows += speedup_rows("the bundled example (64 points × 3 rules × 1,000 = 192,000 cheap replications)", speedup(tmp, EXAMPLE, repeat=4))

        for points in (10 // k or 1, 100 // k):
            grid = {"dynamics.support_probability": list(np.linspace(0.50, 0.60, points))}
            f = sweep_file(tmp, f"mem{points}", grid, 5000)
            n = points * 5000 * 2
            for jobs in (2, 1) if points == 100 // k else (2,):
                wall, peak = timed_cli(["sweep", str(f), "--jobs", str(jobs), "-q", "--out", str(tmp / f"mem{points}-{jobs}")], sample=True)
                rows.append(
                    (f"memory, {n:,} replications ({points} points), `--jobs {jobs}`", f"{wall:.1f} s (sampling slows it)",
                     f"peak RSS {peak[0] / 2**20:,.0f} MiB, PSS {peak[1] / 2**20:,.0f} MiB")
                )
            if points == 100 // k:  # timed again without the sampler, which takes a core's share from two workers
                rows += speedup_rows(f"{n:,} replications", speedup(tmp, f, repeat=1))

        reps = 10_000 // k
        f = sweep_file(tmp, "cost", {"dynamics.noise": list(np.linspace(0.1, 1.0, 10))}, reps)
        sweep_wall, _ = timed_cli(["sweep", str(f), "--jobs", "2", "-q", "--out", str(tmp / "cost")])
        compare_wall, _ = timed_cli(["compare", str(NULL), "--reps", str(10 * reps), "--jobs", "2", "-q", "--no-charts", "--out", str(tmp / "compare")])
        n = 10 * reps * 2
        per_sweep, per_compare = sweep_wall / n * 1e6, compare_wall / n * 1e6
        rows.append(
            (f"cost per replication, {n:,} replications: sweep / compare", f"{per_sweep:.1f} µs / {per_compare:.1f} µs", f"{per_sweep / per_compare:.2f}×")
        )
    cpu = platform.processor() or platform.machine()
    print(
        f"{cpu}, {psutil.cpu_count(logical=True)} logical cores, Python {platform.python_version()}, null model; "
        f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after (other work on the machine slows every row)\n"
    )
    print("| workload | time | result |")
    print("|---|---:|---:|")
    for name, t, r in rows:
        print(f"| {name} | {t} | {r} |")


if __name__ == "__main__":
    main()
