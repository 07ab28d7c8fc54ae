"""`kpsim sweep` and `kpsim sensitivity`: parameter sweeps on local processes or a Dask cluster.

Both write into a folder that a second run of the same command resumes, so
an interrupted run exits with code 130 and a note on how to continue, not
with "nothing was written".
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors, run_options, typed_command
from kpsim.run.pool import warm_up
from kpsim.errors import InputError

SCHEDULER_HELP = "Dask scheduler, tcp://HOST:PORT: run on that cluster instead of local processes (--jobs is then ignored)."
WAIT_FOR_WORKERS_S = 60
CONNECT_TIMEOUT = "10s"


@contextmanager
def executor_for(scheduler: str | None, jobs: int | None, quiet: bool = False):
    """(executor, workers, here): a Dask cluster and its threads; or `jobs` local processes, this one and jobs − 1 others."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise InputError("--scheduler needs Dask: python3 -m pip install 'dask[distributed]'") from None
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})") from None
        try:
            if not client.nthreads():
                if not quiet:
                    click.echo(f"waiting up to {WAIT_FOR_WORKERS_S} s for a worker to join {scheduler} …", err=True)
                try:
                    client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
                except TimeoutError:
                    raise InputError(f"--scheduler {scheduler}: no worker joined — start some with `dask worker {scheduler}`") from None
            _check_workers(client, scheduler)
            yield client.get_executor(pure=False), sum(client.nthreads().values()), False
        finally:
            client.close()
        return
    from kpsim.run.pool import default_jobs, process_pool

    jobs = jobs or default_jobs()
    if jobs == 1:
        yield None, 0, True
        return
    pool = process_pool(jobs - 1, "kpsim.sweep.execute")
    try:
        yield pool, jobs - 1, True
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def kpsim_version() -> str:
    from kpsim.version import __version__

    return __version__


def _check_workers(client, scheduler: str) -> None:
    """Every worker must run this kpsim: another version could compute other numbers into the same folder."""
    try:
        versions = client.run(kpsim_version)
    except ImportError as exc:
        raise InputError(f"--scheduler {scheduler}: a worker cannot import kpsim ({exc}) — install kpsim on every worker") from None
    other = sorted({v for v in versions.values() if v != kpsim_version()})
    if other:
        raise InputError(f"--scheduler {scheduler}: workers run kpsim {', '.join(other)}, this is kpsim {kpsim_version()} — install the same version everywhere")


@contextmanager
def resumable(folder: Path):
    """Ctrl-C: say what was kept and how to go on (exit 130)."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: the chunks already done are kept in {folder}/ — run the same command again to resume", err=True)
        sys.exit(130)


def load_with_tree(file: Path):
    from kpsim.scenario.load import load_tree, validate_tree

    tree = load_tree(file)
    return validate_tree(tree), tree


@click.command("sweep")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--summary",
    "summary_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Do not run: table the results in this sweep folder (complete or not).",
)
@click.option("--scheduler", metavar="tcp://HOST:PORT", help=SCHEDULER_HELP)
@click.option("--rows", type=click.IntRange(min=1), default=20, show_default=True, help="Points shown in the printed table.")
@run_options(out_default="results/<scenario>/sweep/", reps_help="Replications per point and rule (default: the sweep section's, else the scenario's).")
@handle_input_errors
def sweep_cmd(file, summary_dir, scheduler, rows, reps, seed, jobs, out, force, quiet):
    """Run every point of the `sweep:` section of scenario FILE under every rule; resumable.

    Per-replication rows and a per-(point, rule) summary stream to
    OUT/runs/ and OUT/summary/ as Parquet chunks while the sweep runs
    (default OUT: results/<scenario>/sweep/). Run the same command again after
    an interruption, even a kill, and it continues where it stopped. --reps is
    per point and rule.
    """
    if not scheduler and not summary_dir:
        warm_up(jobs, "kpsim.sweep.execute")  # the worker server imports kpsim while this process does
    from kpsim.sweep.design import design
    from kpsim.sweep.execute import run_sweep
    from kpsim.sweep.store import SweepFolder

    if summary_dir is not None:
        if file is not None:
            raise InputError("give either FILE (run a sweep) or --summary DIR (table one), not both")
        click.echo(sweep_report(SweepFolder.load(summary_dir), rows))
        return
    if file is None:
        raise InputError("give a scenario FILE with a `sweep:` section, or --summary DIR")
    scenario, tree = load_with_tree(file)
    plan = design(scenario, tree, replications=reps, seed=seed, source=str(file))
    out = out or Path("results") / scenario.name / "sweep"
    with resumable(out), executor_for(scheduler, jobs, quiet) as (executor, workers, here):
        store = run_sweep(plan, out, executor, workers, here, progress=not quiet, force=force, command=typed_command())
    click.echo(sweep_report(store, rows))
    click.echo(f"\nresults: {out}/ (runs/ and summary/ as Parquet; summary.csv, points.csv)")


def sweep_report(store, rows: int) -> str:
    """What the folder holds: its status, the first `rows` points and their summary rows."""
    from kpsim.analysis.summary import format_summary

    m = store.manifest
    head = (
        f"{m['scenario']}: {m['points']:,} points × {len(m['rules'])} rules, {m['replications']:,} replications each, "
        f"seed {m['seed']} — {store.status()}"
    )
    summary = store.summary()
    if summary.empty:
        return head
    points = store.points()
    shown = points.head(rows)
    table = summary[summary["point"].isin(shown["point"])]
    label = table["point"].astype(str) + " · " + table["rule"]
    more = f" (first {rows} of {len(points):,}; all in {store.path}/points.csv and summary.csv)" if len(points) > rows else ""
    swept = " (the horizon varies by point: see calendar.horizon)" if "calendar.horizon" in m["parameters"] else ""
    return "\n".join(
        [
            head,
            "",
            f"points{more}:",
            shown.to_string(index=False, float_format="{:.4g}".format),
            "",
            f"95% intervals in brackets; point · rule{swept}:",
            format_summary(table.assign(rule=label), m["horizon"]),
        ]
    )


def _power_of_two(ctx, param, value):
    if value < 2 or value & (value - 1):
        raise click.BadParameter(f"{value} — must be a power of two (16, 32, 64, …): Sobol' designs are balanced only then")
    return value


@click.command("sensitivity")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--samples", type=int, default=64, show_default=True, callback=_power_of_two,
              help="Sobol' base sample N, a power of two: N × (parameters + 2) points.")
@click.option("--trajectories", type=click.IntRange(min=2), default=10, show_default=True,
              help="Morris trajectories r: r × (parameters + 1) points.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help=SCHEDULER_HELP)
@run_options(out_default="results/<scenario>/sensitivity/")
@handle_input_errors
def sensitivity_cmd(file, samples, trajectories, scheduler, reps, seed, jobs, out, force, quiet):
    """Sobol' indices (Morris as a screen) of the median deadlock and the share adopted, per rule.

    Parameters and ranges: the `ranges` of the scenario's `sweep:` section
    (grid parameters stay at the scenario's value), else the dynamics box of
    `kpsim calibrate`. A median not reached within the horizon counts as the
    horizon. Writes OUT/sensitivity.csv and OUT/charts/ (default OUT:
    results/<scenario>/sensitivity/); the two designs run as resumable sweeps
    in OUT/sobol/ and OUT/morris/. --reps is per point and rule.
    """
    import json
    import shutil
    import time

    import pandas as pd

    if not scheduler:
        warm_up(jobs, "kpsim.sweep.execute")  # the worker server imports kpsim while this process does
    from kpsim.analysis.results import Results
    from kpsim.atomic import write_text
    from kpsim.output.style import save
    from kpsim.run.provenance import run_meta
    from kpsim.sweep import sensitivity as sa
    from kpsim.sweep.design import design_from_rows
    from kpsim.sweep.execute import run_sweep

    started = time.time()
    scenario, tree = load_with_tree(file)
    ranges = sa.ranges_of(scenario)
    prob = sa.problem(ranges)
    sample_seed = scenario.seed if seed is None else seed
    designs = {"sobol": sa.sobol_design(prob, samples, sample_seed), "morris": sa.morris_design(prob, trajectories, sample_seed)}
    plans = {k: design_from_rows(scenario, ranges, x, tree, reps, seed, str(file)) for k, x in designs.items()}
    base = plans["sobol"].base
    out = out or Path("results") / scenario.name / "sensitivity"
    settings = {"parameters": ranges, "samples": samples, "trajectories": trajectories, "morris_levels": sa.MORRIS_LEVELS,
                "seed": base.seed, "replications": base.replications}
    if out.exists() and any(out.iterdir()) and not (out / "sensitivity.json").is_file() and not force:
        raise InputError(f"{out}: folder exists, is not empty and holds no sensitivity analysis — choose another --out or pass --force")
    if force:
        shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "meta.json").unlink(missing_ok=True)
    write_text(out / "sensitivity.json", json.dumps(settings, indent=2) + "\n")
    held = [k for k in (scenario.sweep.grid if scenario.sweep else {})]
    points = {k: len(p.points) for k, p in plans.items()}
    click.echo(
        f"{scenario.name}: {len(ranges)} parameters; Sobol' N = {samples} ({points['sobol']:,} points), Morris r = {trajectories} "
        f"({points['morris']:,} points); {base.replications:,} replications per point and rule"
        + (f"; held at the scenario's value: {', '.join(held)}" if held else ""),
        err=True,
    )
    with resumable(out), executor_for(scheduler, jobs, quiet) as (executor, workers, here):
        stores = {k: run_sweep(p, out / k, executor, workers, here, progress=not quiet, command=typed_command()) for k, p in plans.items()}
    horizons = {k: _horizons(p) for k, p in plans.items()}
    y = {k: sa.outputs(stores[k].summary_parts(), horizons[k]) for k in plans}
    table = sa.analyse(prob, y["sobol"], designs["morris"], y["morris"], plans["sobol"].rules, sample_seed)
    write_text(out / "sensitivity.csv", table.to_csv(index=False))
    results = Results(base, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {}, out.resolve().name)  # for the charts' footnote
    subtitle = (f"Scenario {base.name} · rules: {', '.join(plans['sobol'].rules)} · {points['sobol']:,} points × "
                f"{base.replications:,} replications per rule")
    for output in sa.OUTPUTS:
        save(sa.sobol_chart(table, output, results, subtitle), out / "charts", f"sobol_{output}")
    meta = run_meta(base, plans["sobol"].rules, workers + here, started, str(file), typed_command())
    write_text(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    click.echo(format_sensitivity(table))
    click.echo(f"\nresults: {out}/sensitivity.csv, charts in {out}/charts/")


def _horizons(plan):
    """Each point's horizon (by point number): swept, or the scenario's."""
    table = plan.table()
    return table["calendar.horizon"] if "calendar.horizon" in table else table["point"] * 0 + plan.base.calendar.horizon


def format_sensitivity(table) -> str:
    """Per output and rule: S1, ST and Morris μ*, each ± its 95% half-width."""
    from kpsim.sweep.sensitivity import OUTPUTS

    def pm(v, h):
        return "—" if v != v else f"{v:.2f} ± {h:.2f}"

    blocks = []
    for (output, rule), g in table.groupby(["output", "rule"], sort=False):
        shown = g.assign(
            **{
                "Sobol' S1": [pm(a, b) for a, b in zip(g["S1"], g["S1_conf"])],
                "Sobol' ST": [pm(a, b) for a, b in zip(g["ST"], g["ST_conf"])],
                "Morris μ*": [pm(a, b) for a, b in zip(g["mu_star"], g["mu_star_conf"])],
            }
        )[["parameter", "Sobol' S1", "Sobol' ST", "Morris μ*"]]
        blocks.append(f"{OUTPUTS[output]} — {rule}\n" + shown.to_string(index=False))
    return "\n\n".join(blocks)
