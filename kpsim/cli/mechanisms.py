"""`kpsim mechanisms FILE`: what each mechanism does at the scenario's own dynamics (each switched off alone, paired)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors
from kpsim.fields import MAX_REPLICATIONS, MAX_SEED


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--reps", type=click.IntRange(1, MAX_REPLICATIONS), help="Replications per rule and run (default: the scenario's).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Random seed (default: the scenario's).")
@click.option("--jobs", type=click.IntRange(min=1), help="Processes working at once (default: all cores). Results do not depend on it.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--quiet", "-q", is_flag=True, help="No progress note.")
@handle_input_errors
def mechanisms(file, reps, seed, jobs, as_json, quiet):
    """What each mechanism does at scenario FILE's own dynamics.

    Influence, lobbying, chair amendment, acquiescence and exit are each
    switched off alone, and every rule is run again on the same random draws
    (paired with the run as the scenario is). For each rule: the change in the
    share adopted and in the median deadlock, off minus on, with 95% intervals
    (the median's is conservative). The last line names every mechanism that
    moves no rule's adopted share by 5 points or more nor any median by 2
    meetings or more: switched off in effect. A mechanism that cannot act in
    the scenario (e.g. lobbying 0) is said to be off there, not run. Writes no
    files.
    """
    from kpsim.analysis.mechanisms import (
        MECHANISMS,
        format_mechanisms,
        mechanism_effects,
        mechanism_records,
    )
    from kpsim.run.pool import warm_up
    from kpsim.scenario.load import load_scenario

    warm_up(jobs, "kpsim.run.runner")  # the worker server imports kpsim while this process does
    scenario = load_scenario(file)
    if not quiet:
        n = reps or scenario.replications
        active = [m.label for m in MECHANISMS.values() if m.is_on(scenario)]
        runs = f"as it is and with each of {len(active)} mechanisms switched off ({', '.join(active)})" if active else "as it is"
        click.echo(
            f"mechanisms: running {scenario.name} {runs}: {1 + len(active)} × {n:,} replications × {len(scenario.rules)} rules …",
            err=True,
        )
    table = mechanism_effects(scenario, reps=reps, seed=seed, jobs=jobs, progress=not quiet)
    if as_json:
        click.echo(json.dumps({"mechanisms": mechanism_records(table)}, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        click.echo(format_mechanisms(table))
