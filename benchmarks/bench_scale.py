"""Scaling of `kpsim compare` in replications: peak memory, and the speed-up of two processes over one.

Run:
  python3 benchmarks/bench_scale.py memory [--reps 10000 100000 1000000] [--jobs 2] [--no-charts] [--replay] [--uncertainty MODE]
  python3 benchmarks/bench_scale.py speedup [--reps 100000] [--repeat 3] [--no-charts] [--uncertainty MODE]
  python3 benchmarks/bench_scale.py contention [--reps 15000] [--repeat 3]

Each measurement runs the documented command (`python3 -m kpsim compare
scenarios/kp/definition_reform.yaml --reps N --jobs J`) end to end in a fresh
process, start-up and writing the results folder included. Peak memory is the
largest sum of resident memory over the command and all its descendants
(forkserver, workers), sampled every 0.1 s, as PSS (a page shared by k
processes counts 1/k in each: what the tree costs the machine) and as RSS
(shared pages counted in every process: errs high). The machine is shared: every line gives the load
average when the command started, and the CPU time of the whole tree (less
sensitive to the load than the wall time; each worker's as last sampled, so a little short); the speed-up is given per pair
(jobs 1 and jobs 2 run back to back) with its spread over pairs.
`--uncertainty` is passed to the command (default: the scenario's own, `full`).

`contention` measures what two processes cost each other on this machine, apart from
kpsim's own overheads: the same fixed work (the model alone, `kpsim.run.runner.run`
on every rule, one process, no start-up or writing in the time; and, as a control,
the numpy kernel of benchmarks/bench_core.py) is timed in CPU seconds alone and as two
copies at once (started together after their warm-up), alternately. A ratio above 1 (pair ÷ alone) is CPU time the copies
lose to each other (shared caches and memory bandwidth, or a host's other tenants):
it caps the speed-up of `--jobs 2` at 2 ÷ ratio whatever kpsim does.

`--replay` measures the command's own memory (the runs table, summaries, CSV,
charts) where the model would take hours: each rule's first batch is
simulated once and its outcomes replayed for every later batch, in the
command's process; writing and charts still use `--jobs` processes. A
worker's memory does not grow with replications (one batch at a time).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's kpsim, as the command run in it uses
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu_time import children_cpu

SCENARIO = "scenarios/kp/definition_reform.yaml"


REPLAY = """
import pickle, sys
import kpsim.analysis.compare as compare
import kpsim.run.runner as runner
from kpsim.cli import main
recorded = pickle.load(open(sys.argv[1], "rb"))  # rule -> a Batch of runner.MAX_BATCH replications


def replay(scenario, rule, start, stop):
    b = recorded[rule]
    part = {k: v[: stop - start] for k, v in vars(b).items() if isinstance(v, runner.np.ndarray) and len(v) == len(b.adopted)}
    pairs = {k: v and (v[0], v[1][: stop - start]) for k, v in vars(b).items() if k in ("objectors", "exits")}  # (strings, codes)
    return runner.Batch(**{**vars(b), **part, **pairs, "start": start})


class Here(runner.Executor):  # no workers: each task runs where it is handed out, in this process
    def submit(self, fn, *args):
        from concurrent.futures import Future

        f = Future()
        f.set_result(fn(*args))
        return f


runner.simulate_batch = replay
runner.process_pool = lambda jobs: Here()  # batches replayed here; writing and charts keep their workers
compare.process_pool = lambda jobs: Here()  # and so are the draws of --uncertainty parameters or full
main(sys.argv[2:], prog_name="kpsim")
"""


def recorded_batches(path: Path) -> Path:
    """Each rule's replications 0…MAX_BATCH-1, simulated once and pickled for --replay."""
    if not path.exists():
        import pickle

        from kpsim.run.runner import MAX_BATCH, simulate_batch
        from kpsim.scenario.load import load_scenario

        sc = load_scenario(ROOT / SCENARIO)
        path.write_bytes(pickle.dumps({r.label: simulate_batch(sc, r.label, 0, MAX_BATCH) for r in sc.rules}))
    return path


def measure(reps: int, jobs: int, charts: bool, replay: Path | None = None, uncertainty: str | None = None, sample: bool = True) -> dict:
    """Wall time, CPU time and peak resident memory (whole process tree) of one `kpsim compare`."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["compare", SCENARIO, "--reps", str(reps), "--jobs", str(jobs), "--out", f"{tmp}/run", "-q"]
        args += [] if charts else ["--no-charts"]
        args += ["--uncertainty", uncertainty] if uncertainty else []
        children_before = children_cpu()
        cmd = [sys.executable, "-m", "kpsim", *args] if replay is None else [sys.executable, "-c", REPLAY, str(replay), *args]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        top, top_pss, peak_one, root = 0, 0, 0, psutil.Process(proc.pid)
        cpu: dict[int, float] = {}  # pid -> CPU seconds, as last seen
        while proc.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                for p in tree:
                    t = p.cpu_times()
                    cpu[p.pid] = t.user + t.system
                # reading every process's memory map costs time: not while timing a speed-up
                mem = [p.memory_full_info() for p in tree] if sample else []
            except psutil.Error:  # a process ended between listing and reading
                continue
            if mem:
                rss = [m.rss for m in mem]
                top, top_pss, peak_one = max(top, sum(rss)), max(top_pss, sum(m.pss for m in mem)), max(peak_one, max(rss))
            time.sleep(0.1 if sample else 0.2)
        wall = time.perf_counter() - start
        cpu[proc.pid] = children_cpu() - children_before  # the command's own, exactly; other processes' as last seen (a fraction of a second short)
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()}")
    return {"reps": reps, "jobs": jobs, "charts": charts, "wall_s": wall, "cpu_s": sum(cpu.values()), "peak_mib": top / 2**20, "peak_pss_mib": top_pss / 2**20, "peak_one_mib": peak_one / 2**20, "load": load}


def memory(args) -> None:
    key = hashlib.sha1((ROOT / "kpsim" / "run" / "runner.py").read_bytes()).hexdigest()[:12]  # the Batch type's version
    replay = recorded_batches(Path(tempfile.gettempdir()) / f"kpsim_bench_scale_{key}.pkl") if args.replay else None
    print(f"--uncertainty {args.uncertainty or 'the scenario default'}")
    print("| replications per rule | jobs | charts | model | peak PSS, all processes (MiB) | peak RSS, all processes (MiB) | largest process RSS (MiB) | wall (s) | CPU (s) | load average at start |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.reps:
        m = measure(n, args.jobs, not args.no_charts, replay, args.uncertainty)
        print(
            f"| {n:,} | {m['jobs']} | {'yes' if m['charts'] else 'no'} | {'replayed' if replay else 'run'} | {m['peak_pss_mib']:,.0f} | {m['peak_mib']:,.0f} | "
            f"{m['peak_one_mib']:,.0f} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {m['load']:.1f} |",
            flush=True,
        )


def speedup(args) -> None:
    n = args.reps[0]
    ratios = []
    print(f"{n:,} replications per rule, charts: {'no' if args.no_charts else 'yes'}, --uncertainty {args.uncertainty or 'the scenario default'}")
    print("| pair | jobs 1 (s) | CPU (s) | load | jobs 2 (s) | CPU (s) | load | speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for k in range(args.repeat):
        one = measure(n, 1, not args.no_charts, uncertainty=args.uncertainty, sample=False)
        two = measure(n, 2, not args.no_charts, uncertainty=args.uncertainty, sample=False)
        ratios.append(one["wall_s"] / two["wall_s"])
        print(f"| {k + 1} | {one['wall_s']:.1f} | {one['cpu_s']:.1f} | {one['load']:.1f} | {two['wall_s']:.1f} | {two['cpu_s']:.1f} | {two['load']:.1f} | {ratios[-1]:.2f}× |", flush=True)
    print(f"speed-up: median {statistics.median(ratios):.2f}×, range {min(ratios):.2f}–{max(ratios):.2f}× over {len(ratios)} pairs")


# one copy of the fixed work, in a fresh process (argv: model|kernel, replications, scenario, benchmarks folder): warms
# up, says "ready", waits for "go" on stdin (so that the copies of a pair start together), prints its CPU seconds
WORK = """
import sys, time
if sys.argv[1] == "model":
    from kpsim.run.runner import run
    from kpsim.scenario.load import load_scenario
    sc = load_scenario(sys.argv[3])
    run(sc, replications=400, progress=False)  # warm: compiled kernels, caches
    work = lambda: run(sc, replications=int(sys.argv[2]), progress=False)
else:
    sys.path.insert(0, sys.argv[4])
    from bench_core import numpy_null_kernel
    numpy_null_kernel(2000)
    work = lambda: numpy_null_kernel(int(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()
t = time.process_time()
work()
print(time.process_time() - t, flush=True)
"""


def contention(args) -> None:
    n = args.reps[0]
    bench = str(Path(__file__).resolve().parent)

    def copies(what: str, k: int) -> list[float]:
        reps = str(n if what == "model" else 5 * n)
        procs = [subprocess.Popen([sys.executable, "-c", WORK, what, reps, SCENARIO, bench], cwd=ROOT, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True) for _ in range(k)]
        for p in procs:  # every copy imported and warmed up: they start the timed work together
            assert p.stdout.readline().strip() == "ready"
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        return [float(p.communicate()[0]) for p in procs]

    print(f"load average before: {os.getloadavg()[0]:.1f}; model: every rule of {SCENARIO}, {n:,} replications each, "
          f"one process (kpsim.run.runner.run); kernel: the numpy null model, {5 * n:,} replications")
    print("| turn | work | alone, CPU (s) | two at once, CPU (s) each | ratio (pair ÷ alone) |")
    print("|---|---|---|---|---|")
    ratios: dict[str, list[float]] = {"model": [], "kernel": []}
    for k in range(args.repeat):
        for what in ("model", "kernel"):
            alone, pair = copies(what, 1)[0], copies(what, 2)
            ratios[what].append(statistics.mean(pair) / alone)
            print(f"| {k + 1} | {what} | {alone:.2f} | {pair[0]:.2f}, {pair[1]:.2f} | {ratios[what][-1]:.2f} |", flush=True)
    for what, r in ratios.items():
        print(f"{what}: pair ÷ alone median {statistics.median(r):.2f} ({min(r):.2f}–{max(r):.2f}): caps two processes at "
              f"{2 / statistics.median(r):.2f}× one")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("memory", "speedup", "contention"))
    parser.add_argument("--reps", type=int, nargs="+")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-charts", action="store_true")
    parser.add_argument("--uncertainty", choices=("montecarlo", "parameters", "full"))
    parser.add_argument("--replay", action="store_true", help="replay recorded batches instead of running the model (memory only)")
    args = parser.parse_args()
    if args.what == "memory":
        args.reps = args.reps or [10_000, 100_000, 1_000_000]
        memory(args)
    elif args.what == "contention":
        args.reps = args.reps or [15_000]
        contention(args)
    else:
        args.reps = args.reps or [100_000]
        speedup(args)


if __name__ == "__main__":
    main()
