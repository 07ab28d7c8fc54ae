"""The core commands: validate a scenario, run one rule, compare every rule."""

from __future__ import annotations

from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors, run_options, typed_command
from kpsim.cli.outputs import FORMATS
from kpsim.errors import InputError


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_input_errors
def validate(files):
    """Check scenario FILES and report every problem with its file and line.

    A fragment (a roster or parameter file with no name, proposal or rules)
    is not a scenario on its own: it is skipped with a note.
    """
    from kpsim.fields import PARTICIPANT
    from kpsim.scenario.load import extension_notes, load_tree, validate_tree

    errors = []
    for f in files:
        try:
            tree = load_tree(f)
            if not {"name", "proposal", "rules"} & set(tree):
                click.echo(f"skip: {f} — a fragment (no name, proposal or rules); validate the scenarios that extend it")
                continue
            sc = validate_tree(tree)
        except InputError as exc:
            errors.extend(exc.messages)
            continue
        n_part = sum(a.kind == PARTICIPANT for a in sc.actors)
        click.echo(
            f"ok: {f} — {sc.name}: {n_part} participants, {len(sc.actors) - n_part} observers, "
            f"rules: {', '.join(r.label for r in sc.rules)}"
        )
        joiners = [a for a in sc.actors if a.kind == PARTICIPANT and (a.joined is not None or a.left is not None)]
        if joiners:
            start = sc.calendar.start_year
            members = sum(1 for a in sc.actors if a.kind == PARTICIPANT and (a.joined is None or a.joined <= start) and (a.left is None or start < a.left))
            click.echo(f"  membership by year: {members} of {n_part} participants are members at the start ({start:g})")
        if sc.codings:
            from kpsim.scenario.codings import describe

            click.echo(f"  {describe(sc)}: nominal values under --uncertainty montecarlo and parameters, drawn under full"
                       f" (this scenario's default: {sc.uncertainty})")
        for note in extension_notes(tree):
            click.echo(note)
    if errors:
        raise InputError(errors)


def uncertainty_options(fn):
    """--uncertainty, --draws, --posterior: where a comparison's intervals come from."""
    opts = [
        click.option("--uncertainty", type=click.Choice(["montecarlo", "parameters", "full"]),
                     help="montecarlo: intervals at the scenario's dynamics and nominal codings; parameters: dynamics drawn from the "
                          "calibration's posterior; full: the posterior and every coding written as a range. Intervals across the draws. "
                          "Default: the scenario's `uncertainty:` (full for the bundled KP cases, else montecarlo)."),
        click.option("--draws", type=click.IntRange(min=2), help="With parameters or full: the draws (default 50); --reps is then the total, N / D per draw."),
        click.option("--posterior", type=click.Path(dir_okay=False, path_type=Path), help="With parameters or full: the posterior file (default: posterior.csv beside FILE)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def interval_line(meta: dict, scenario) -> str:
    """What the bracketed intervals of the console table cover."""
    from kpsim.scenario.codings import describe

    mode, ranged = meta.get("uncertainty", "montecarlo"), describe(scenario)
    if mode == "montecarlo":
        tail = f"; {ranged}, run at their nominal values (--uncertainty full draws them)" if ranged else ""
        return f"intervals in brackets: 95% Monte-Carlo intervals at the scenario's dynamics{tail} (parameter uncertainty: --uncertainty parameters or full)"
    what = f"posterior draws (from {meta['posterior']})" if mode == "parameters" else (
        f"draws of the posterior (from {meta['posterior']}) and of the codings ({ranged or 'none are ranges'})" if meta.get("posterior")
        else f"draws of the codings ({ranged}; no posterior: parameters fixed)")
    return f"intervals in brackets ({mode}): 95% range over {meta['draws']} {what}, {meta['replications_per_draw']:,} replications each, each widened by its Monte-Carlo error"


def execute(file: Path, rules, reps, seed, jobs, out, force, quiet, charts=True, adapt=None, uncertainty=None, draws=None, posterior=None,
            formats=None):
    """Compare, write the results folder, print the table; `adapt` rewrites the scenario first (e.g. a threshold sweep); `formats`: the charts'."""
    from kpsim.run.pool import default_jobs, warm_up

    # the worker server imports kpsim while this process does (and the charts' module, where workers will draw them)
    warm_up(jobs, ("kpsim.run.runner", "kpsim.output.charts") if charts else "kpsim.run.runner")
    if charts:
        import kpsim.output  # noqa: F401  (registers the charts; matplotlib is not imported without them)
    from kpsim.analysis.compare import compare
    from kpsim.analysis.results import new_run_dir
    from kpsim.analysis.exits import exits_table, format_exits
    from kpsim.analysis.summary import format_summary, format_ties
    from kpsim.atomic import check_free, claim
    from kpsim.scenario.load import load_scenario

    scenario = load_scenario(file)
    update = {k: v for k, v in {"seed": seed, "replications": reps}.items() if v is not None}
    scenario = scenario.model_copy(update=update)
    scenario = adapt(scenario) if adapt else scenario
    for r in rules or ():
        scenario.rule(r)
    out = Path(out) if out else new_run_dir(scenario.name)
    with claim(out):  # one writer per folder, from before the run to the rename that completes it
        check_free(out, force)  # before the run, not after it
        results = compare(scenario, rules, jobs=jobs, progress=not quiet, command=typed_command(), source=str(file),
                          uncertainty=uncertainty, draws=draws, posterior=posterior)
        written = results.write(out, force=force, charts=charts, jobs=jobs or default_jobs(), progress=not quiet, formats=formats)
    cal = scenario.calendar
    click.echo(
        f"{scenario.name}: {scenario.replications:,} replications per rule, horizon {cal.horizon} meetings "
        f"({cal.horizon / cal.meetings_per_year:g} years), seed {scenario.seed}"
    )
    meta = results.meta
    click.echo(interval_line(meta, scenario))
    click.echo(format_summary(results.summary, cal.horizon))
    ties = format_ties([scenario.rule(r) for r in results.rules])
    if ties:
        click.echo(ties)
    exits = exits_table(results)
    if len(exits):
        click.echo("observers that walked out (exits.csv):\n" + format_exits(exits))
    click.echo(f"\nresults: {out}/" + (f" (charts in {out}/charts/)" if charts else ""))
    return results, written


@click.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rule", "rule", required=True, help="Name of one rule in the scenario.")
@run_options
@FORMATS
@uncertainty_options
@handle_input_errors
def run_cmd(file, rule, reps, seed, jobs, out, force, quiet, formats, uncertainty, draws, posterior):
    """Run one rule of scenario FILE and write a results folder."""
    execute(file, [rule], reps, seed, jobs, out, force, quiet, uncertainty=uncertainty, draws=draws, posterior=posterior, formats=formats)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@run_options
@click.option("--no-charts", is_flag=True, help="Write the tables only, no charts/ folder.")
@FORMATS
@uncertainty_options
@handle_input_errors
def compare(file, reps, seed, jobs, out, force, quiet, no_charts, formats, uncertainty, draws, posterior):
    """Run every rule of scenario FILE on the same random draws and compare them.

    Besides the tables, writes charts/ (survival, deadlock, blockers, power and,
    with two or more count-threshold rules, threshold) as PNG and SVG; --formats png,svg,pdf adds PDF.
    """
    execute(file, None, reps, seed, jobs, out, force, quiet, charts=not no_charts, uncertainty=uncertainty, draws=draws, posterior=posterior,
            formats=formats)

