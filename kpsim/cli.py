"""`kpsim ...`: validate a scenario, run one rule, compare every rule.

Exit codes: 0 success, 2 bad input (scenario errors, unknown rule, bad
option), 130 interrupted. Bad input is reported as `file:line: field = value
— what is allowed`, never as a traceback.
"""

from __future__ import annotations

import functools
import shlex
import sys
import time
from pathlib import Path

import click

from kpsim import __version__
from kpsim.yamlsource import InputError


def _fail_cleanly(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            for msg in exc.messages:
                click.echo(f"error: {msg}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("interrupted: nothing was written", err=True)
            sys.exit(130)

    return wrapper


def _run_options(fn):
    opts = [
        click.option("--reps", type=click.IntRange(min=1), help="Replications per rule (default: the scenario's)."),
        click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: the scenario's)."),
        click.option(
            "--jobs", type=click.IntRange(min=1), help="Worker processes (default: all cores). Results do not depend on it."
        ),
        click.option(
            "--out",
            type=click.Path(file_okay=False, path_type=Path),
            help="Results folder (default: results/<scenario>/<run-id>/).",
        ),
        click.option("--force", is_flag=True, help="Replace --out if it already holds results."),
        click.option("--quiet", "-q", is_flag=True, help="No progress bar."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


class _Group(click.Group):
    """Keeps the command line as typed, for meta.json."""

    def make_context(self, info_name, args, parent=None, **extra):
        argv = list(args)
        ctx = super().make_context(info_name, args, parent, **extra)
        ctx.meta["command"] = shlex.join(["kpsim", *argv])
        return ctx


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kpsim")
def main():
    """Simulate consensus decision-making (the Kimberley Process and other bodies).

    A scenario file (YAML) names the actors, the proposal, the calendar, the
    dynamics and the decision rules to compare. See scenarios/README.md.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@_fail_cleanly
def validate(files):
    """Check scenario FILES and report every problem with its file and line."""
    from kpsim.scenario import load_scenario

    errors = []
    for f in files:
        try:
            sc = load_scenario(f)
        except InputError as exc:
            errors.extend(exc.messages)
            continue
        n_part = sum(a.kind == "participant" for a in sc.actors)
        click.echo(
            f"ok: {f} — {sc.name}: {n_part} participants, {len(sc.actors) - n_part} observers, "
            f"rules: {', '.join(r.label for r in sc.rules)}"
        )
    if errors:
        raise InputError(errors)


def _execute(file: Path, rules, reps, seed, jobs, out, force, quiet):
    from kpsim.results import atomic_dir, new_run_dir, write_meta, write_table
    from kpsim.runner import default_jobs, run
    from kpsim.scenario import load_scenario, scenario_yaml
    from kpsim.summary import format_summary, summarise

    started = time.time()
    scenario = load_scenario(file)
    update = {k: v for k, v in {"seed": seed, "replications": reps}.items() if v is not None}
    scenario = scenario.model_copy(update=update)
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
        command = click.get_current_context().meta.get("command", "kpsim")
        write_meta(tmp / "meta.json", scenario, rules, jobs, started, str(file), command)
    cal = scenario.calendar
    click.echo(
        f"{scenario.name}: {scenario.replications:,} replications per rule, horizon {cal.horizon} meetings "
        f"({cal.horizon / cal.meetings_per_year:g} years), seed {scenario.seed}; 95% intervals in brackets"
    )
    click.echo(format_summary(summary, cal.horizon))
    click.echo(f"\nresults: {out}/")
    return out


@main.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rule", "rule", required=True, help="Name of one rule in the scenario.")
@_run_options
@_fail_cleanly
def run_cmd(file, rule, reps, seed, jobs, out, force, quiet):
    """Run one rule of scenario FILE and write a results folder."""
    _execute(file, [rule], reps, seed, jobs, out, force, quiet)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@_run_options
@_fail_cleanly
def compare(file, reps, seed, jobs, out, force, quiet):
    """Run every rule of scenario FILE on the same random draws and compare them."""
    _execute(file, None, reps, seed, jobs, out, force, quiet)


if __name__ == "__main__":
    main()
