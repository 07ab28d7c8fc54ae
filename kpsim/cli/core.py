"""The core commands: validate a scenario, run one rule, compare every rule."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors, run_options, typed_command
from kpsim.yamlsource import InputError


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_input_errors
def validate(files):
    """Check scenario FILES and report every problem with its file and line.

    A fragment (a roster or parameter file with no name, proposal or rules)
    is not a scenario on its own: it is skipped with a note.
    """
    from kpsim.scenario import extension_notes, load_tree, validate_tree

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
        n_part = sum(a.kind == "participant" for a in sc.actors)
        click.echo(
            f"ok: {f} — {sc.name}: {n_part} participants, {len(sc.actors) - n_part} observers, "
            f"rules: {', '.join(r.label for r in sc.rules)}"
        )
        for note in extension_notes(tree):
            click.echo(note)
    if errors:
        raise InputError(errors)


def _execute(file: Path, rules, reps, seed, jobs, out, force, quiet, charts=True, adapt=None):
    """Run, then write the results folder whole; `adapt` rewrites the scenario first (e.g. a threshold sweep)."""
    from kpsim.pool import default_jobs, warm_up

    warm_up(jobs, "kpsim.runner")  # the worker server imports kpsim while this process does
    from kpsim.analysis import Results, write_analysis
    from kpsim.results import atomic_dir, new_run_dir, write_meta, write_table
    from kpsim.runner import run
    from kpsim.scenario import load_scenario, scenario_yaml
    from kpsim.summary import format_summary, summarise

    started = time.time()
    scenario = load_scenario(file)
    update = {k: v for k, v in {"seed": seed, "replications": reps}.items() if v is not None}
    scenario = scenario.model_copy(update=update)
    scenario = adapt(scenario) if adapt else scenario
    rules = rules or [r.label for r in scenario.rules]
    for r in rules:
        scenario.rule(r)
    jobs = jobs or default_jobs()
    out = out or new_run_dir(scenario.name)
    with atomic_dir(out, force=force) as tmp:
        result = run(scenario, rules, jobs=jobs, progress=not quiet)
        summary = summarise(result.runs, scenario.calendar.horizon, scenario.calendar.meetings_per_year)
        (tmp / "scenario.yaml").write_text(scenario_yaml(scenario))
        write_table(result.runs, tmp / "runs.csv")
        write_table(summary, tmp / "summary.csv")
        write_table(result.blockers, tmp / "blockers.csv")
        meta = write_meta(tmp / "meta.json", scenario, rules, jobs, started, str(file), typed_command())
        results = Results(scenario, result.runs, summary, result.blockers, meta, Path(out).name)
        written = write_analysis(results, tmp, charts=charts)
    cal = scenario.calendar
    click.echo(
        f"{scenario.name}: {scenario.replications:,} replications per rule, horizon {cal.horizon} meetings "
        f"({cal.horizon / cal.meetings_per_year:g} years), seed {scenario.seed}; 95% intervals in brackets"
    )
    click.echo(format_summary(summary, cal.horizon))
    click.echo(f"\nresults: {out}/" + (f" (charts in {out}/charts/)" if charts else ""))
    return results, [Path(out) / p.relative_to(tmp) for p in written]


@click.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rule", "rule", required=True, help="Name of one rule in the scenario.")
@run_options
@handle_input_errors
def run_cmd(file, rule, reps, seed, jobs, out, force, quiet):
    """Run one rule of scenario FILE and write a results folder."""
    _execute(file, [rule], reps, seed, jobs, out, force, quiet)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@run_options
@click.option("--no-charts", is_flag=True, help="Write the tables only, no charts/ folder.")
@handle_input_errors
def compare(file, reps, seed, jobs, out, force, quiet, no_charts):
    """Run every rule of scenario FILE on the same random draws and compare them.

    Besides the tables, writes charts/ (survival, deadlock, blockers, power and,
    with two or more count-threshold rules, threshold) as PNG, SVG and PDF.
    """
    _execute(file, None, reps, seed, jobs, out, force, quiet, charts=not no_charts)

