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
from kpsim.cli.core import uncertainty_options
from kpsim.run.pool import warm_up
from kpsim.errors import InputError

PRELOAD = "kpsim.sweep.execute"  # where a sweep's chunks run: the worker server imports it once
SAMPLES = 400  # joint samples for PRIM in `kpsim robustness`: with the tornado's 87 points, about 3–4 minutes on 2 idle cores for the definition reform (0.64 s CPU a point)
SCHEDULER_HELP = "Dask scheduler, tcp://HOST:PORT: run on that cluster instead of local processes (--jobs is then ignored)."


@contextmanager
def resumable(folder: Path):
    """Hold the folder (one writer at a time); Ctrl-C, a full disk, a dead worker: say what was kept and how to go on."""
    from kpsim.atomic import claim
    from kpsim.cli.common import FILESYSTEM_ERROR, STOPPED, WORKER_DIED, WORKER_DIED_LINE, stopped_by

    with claim(folder):
        try:
            yield
        except STOPPED as exc:
            why = stopped_by(exc)
            if why is None:
                raise
            if why == "worker":
                click.echo(f"error: {WORKER_DIED_LINE} — the chunks already done are kept in {folder}/; run the same command again to resume", err=True)
                sys.exit(WORKER_DIED)
            click.echo(f"\ninterrupted: the chunks already done are kept in {folder}/ — run the same command again to resume", err=True)
            sys.exit(130)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"error: {where}{exc.strerror or exc} — the chunks already done are kept in {folder}/; "
                       "fix the cause and run the same command again to resume", err=True)
            sys.exit(FILESYSTEM_ERROR)


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
@uncertainty_options
@handle_input_errors
def sweep_cmd(file, summary_dir, scheduler, rows, reps, seed, jobs, out, force, quiet, uncertainty, draws, posterior):
    """Run every point of the `sweep:` section of scenario FILE under every rule; resumable.

    Per-replication rows and a per-(point, rule) summary stream to
    OUT/runs/ and OUT/summary/ as Parquet chunks while the sweep runs
    (default OUT: results/<scenario>/sweep/). Run the same command again after
    an interruption, even a kill, and it continues where it stopped. --reps is
    per point and rule; under --uncertainty parameters or full each point spreads
    them over the draws, as `kpsim compare` does, the point's own values over the draw's.
    """
    if not scheduler and not summary_dir:
        warm_up(jobs, PRELOAD)  # the worker server imports kpsim while this process does
    from kpsim.run.cluster import executor_for
    from kpsim.analysis.uncertainty import posterior_beside
    from kpsim.sweep.design import design, with_uncertainty
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
    plan = with_uncertainty(plan, uncertainty or scenario.uncertainty, draws, posterior or posterior_beside(file))
    out = out or Path("results") / scenario.name / "sweep"
    with resumable(out), executor_for(scheduler, jobs, PRELOAD, quiet) as (executor, workers, here):
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
            f"{_intervals(m)}; point · rule{swept}:",
            format_summary(table.assign(rule=label), m["horizon"]),
        ]
    )


def _intervals(manifest: dict) -> str:
    mode, d = manifest.get("uncertainty", "montecarlo"), manifest.get("draws", 0)
    if mode == "montecarlo":
        return "95% Monte-Carlo intervals in brackets"
    return f"intervals in brackets ({mode}): 95% range over {d} draws per point, each widened by its Monte-Carlo error"


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
    if not scheduler:
        warm_up(jobs, PRELOAD)  # the worker server imports kpsim while this process does
    from kpsim.run.cluster import executor_for
    from kpsim.sweep import sensitivity as sa

    scenario, tree = load_with_tree(file)
    analysis = sa.plan(scenario, tree, samples, trajectories, reps, seed, str(file), out)
    with resumable(analysis.out), executor_for(scheduler, jobs, PRELOAD, quiet) as (executor, workers, here):
        analysis.open(force)
        click.echo(analysis.describe(), err=True)
        table = analysis.run(executor, workers, here, progress=not quiet, command=typed_command())
    click.echo(format_sensitivity(table))
    for warning in sa.small_sample_warnings(table, samples):
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"\nresults: {analysis.out}/sensitivity.csv, charts in {analysis.out}/charts/")


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


@click.command("robustness")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rule", "rules", multiple=True, help="Report only this rule (repeatable; every rule is run).")
@click.option("--posterior", type=click.Path(dir_okay=False, path_type=Path), help="Swing the dynamics over this posterior's 10–90% range (default: posterior.csv beside FILE; without one, the prior box).")
@click.option("--samples", type=click.IntRange(min=0), default=SAMPLES, show_default=True,
              help="Joint samples for scenario discovery (PRIM): a Latin hypercube over the same ranges; 0: the tornado only.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="Swings shown per rule (and restrictions per PRIM box).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help=SCHEDULER_HELP)
@run_options(out_default="results/<scenario>/robustness/", reps_help="Replications per point and rule (default: 200).")
@handle_input_errors
def robustness_cmd(file, rules, posterior, samples, top, as_json, scheduler, reps, seed, jobs, out, force, quiet):
    """What flips each rule's verdict: one-at-a-time swings of the dynamics and the codings of scenario FILE (a tornado), then
    the boxes of those inputs, drawn jointly, where it flips (PRIM).

    Each calibrated parameter swings over its posterior 10–90% range, each named actor's
    position and red line one coding level (0.25) down and up, the rest held at the
    scenario's values; all points on the same seed, as a resumable sweep (OUT/sweep/).
    Then --samples points drawing all those inputs at once (a Latin hypercube over the same
    ranges, seeded by --seed) run as a second resumable sweep (OUT/prim/), and PRIM
    (ema_workbench) finds per rule the boxes of inputs where the verdict (adopted within the
    horizon in at least half the replications) differs from the baseline's, with their
    coverage, density and quasi-p values. Writes OUT/robustness.csv, OUT/prim.csv and per
    rule a tornado chart and a PRIM chart in OUT/charts/.
    """
    import json
    import time

    if not scheduler:
        warm_up(jobs, PRELOAD)
    from kpsim.analysis.uncertainty import posterior_beside
    from kpsim.atomic import write_text
    from kpsim.output.style import save
    from kpsim.run.cluster import executor_for
    from kpsim.run.provenance import run_meta, write_meta
    from kpsim.analysis.discovery import format_prim, records as prim_records, require_prim, table as prim_table
    from kpsim.sweep import robustness as rb
    from kpsim.sweep.execute import run_sweep

    scenario, tree = load_with_tree(file)
    for r in rules:
        scenario.rule(r)
    swung = rb.swings(scenario, posterior or posterior_beside(file))
    if not swung:
        raise InputError(f"{file}: nothing to swing — no calibrated dynamics and no actor coded with salience ≥ {rb.NAMED}")
    plan = rb.plan(scenario, tree, swung, reps or 200, seed, str(file))
    if samples:
        require_prim()
    joint = rb.joint_plan(scenario, tree, swung, samples, reps or 200, seed, str(file)) if samples else None
    out = out or Path("results") / scenario.name / "robustness"
    click.echo(f"{scenario.name}: {len(swung)} swings ({sum(s.kind == 'parameter' for s in swung)} parameters, "
               f"{sum(s.kind == 'coding' for s in swung)} codings), {len(plan.points)} points"
               + (f" and {samples:,} joint samples" if samples else "") + f" × {len(plan.rules)} rules × {plan.replications:,} replications",
               err=True)
    started = time.time()
    found = None
    with resumable(out):
        with executor_for(scheduler, jobs, PRELOAD, quiet) as (executor, workers, here):
            store = run_sweep(plan, out / "sweep", executor, workers, here, progress=not quiet, force=force, command=typed_command())
            joint_store = joint and run_sweep(joint, out / "prim", executor, workers, here, progress=not quiet, force=force,
                                              command=typed_command())
        summary = store.summary()  # read once: the tornado and PRIM's baseline both use it
        table = rb.tornado(summary, swung, plan.rules)
        write_text(out / "robustness.csv", table.to_csv(index=False))
        subtitle = f"Scenario {scenario.name} · {plan.replications:,} replications per point"
        for rule in plan.rules:
            save(rb.tornado_chart(table, rule, 15, subtitle), out / "charts", f"tornado_{rule}")
        if joint is not None:
            found = rb.discovery(summary, joint, joint_store.summary(), swung)  # ema_workbench's import: ~5–10 s
            boxes = prim_table(found, {s.path: (s.kind, s.base) for s in swung})
            write_text(out / "prim.csv", boxes.to_csv(index=False))
            subtitle = f"Scenario {scenario.name} · {samples:,} joint samples (Latin hypercube) × {plan.replications:,} replications"
            for d in found:
                save(rb.prim_chart(d, subtitle), out / "charts", f"prim_{d.rule}")
        else:
            (out / "prim.csv").unlink(missing_ok=True)  # from an earlier run with --samples: it would not be this run's
        write_meta(out / "meta.json", run_meta(plan.base, plan.rules, workers + here, started, str(file), typed_command()))
    shown = table[table["rule"].isin(rules)] if rules else table
    if as_json:
        data = rb.records(shown)
        if found is not None:
            per_rule = prim_records(boxes)
            for entry in data["rules"]:
                entry["prim"] = per_rule.get(entry["rule"])
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(rb.format_tornado(shown, top))
        click.echo(f"\nresults: {out}/robustness.csv, charts in {out}/charts/ (each swing: low value → share adopted, baseline, high value → share adopted)")
        if found is not None:
            click.echo(f"\nScenario discovery (PRIM) over {samples:,} joint samples — where the verdict flips, ranked as found "
                       f"(coverage: share of all flips in the box; density: share of the box that flips; qp > 0.05: a restriction not to trust):\n")
            click.echo(format_prim(boxes[boxes["rule"].isin(rules)] if rules else boxes, top))
            click.echo(f"\nresults: {out}/prim.csv, charts/prim_<rule>.png")
