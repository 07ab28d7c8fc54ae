"""`kpsim calibrate`: fit the global dynamics to every recorded case, print the fit table."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors, typed_command
from kpsim.errors import InputError
from kpsim.fields import MAX_REPLICATIONS

DEFAULT_CASES = Path("scenarios") / "kp"


@click.command()
@click.argument("cases", nargs=-1, type=click.Path(path_type=Path))
@click.option("--reps", type=click.IntRange(20, MAX_REPLICATIONS), default=200, show_default=True, help="Replications per case and candidate.")
@click.option("--candidates", type=click.IntRange(min=4), default=256, show_default=True, help="Latin-hypercube draws from the prior.")
@click.option("--rounds", type=click.IntRange(min=1), default=3, show_default=True, help="ABC rounds (later ones search around the accepted).")
@click.option("--accept", type=click.FloatRange(0, 1, min_open=True), default=0.1, show_default=True, help="Share of candidates accepted.")
@click.option("--check-reps", type=click.IntRange(20, MAX_REPLICATIONS), default=2000, show_default=True, help="Replications for the final table.")
@click.option("--seed", type=click.IntRange(min=0), default=2011, show_default=True)
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: all cores).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the fitted parameters (default: calibration.yaml beside the cases).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@handle_input_errors
def calibrate(cases, reps, candidates, rounds, accept, check_reps, seed, jobs, out, quiet):
    """Fit noise, reluctance, amendment step, lobbying and stubbornness scale to all CASES at once.

    CASES are scenario files with a `record:` section (default: every such
    file in scenarios/kp/). One parameter set serves every case; per-case
    inputs are only positions and saliences. Writes the fitted parameters to
    one file that the cases extend, then prints the fit table.
    """
    from kpsim.run.pool import default_jobs, process_pool, warm_up

    warm_up(jobs, "kpsim.sweep.calibrate")  # the worker server imports kpsim while this process does
    import pandas as pd
    from tqdm.auto import tqdm

    from kpsim.sweep.calibrate import BOX, at_edge, check, fit, load_cases, mechanisms_at, simulate, strongest_effects

    paths = list(cases) or sorted(DEFAULT_CASES.glob("*.yaml"))
    loaded = load_cases(paths)
    if not loaded:
        raise InputError(f"no scenario with a 'record:' section among: {', '.join(map(str, paths)) or 'nothing'}")
    out = out or loaded[0].path.parent / "calibration.yaml"
    jobs = jobs or default_jobs()
    bar = tqdm(total=candidates * rounds, desc="calibrating", unit="candidate", disable=quiet, leave=False)
    pool = process_pool(jobs, "kpsim.sweep.calibrate") if jobs > 1 else None
    try:
        result = fit(loaded, reps, candidates, accept, rounds, seed, executor=pool, progress=lambda: bar.update(1))
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    params = result.params
    rows = [check(c, simulate(c, params, check_reps, seed + 1)) for c in loaded]
    _write(out, result, loaded, reps, candidates, rounds, seed)
    table = pd.DataFrame(rows)
    click.echo(f"fitted on {len(loaded)} cases ({len(result.accepted)} of {candidates * rounds} candidates accepted):")
    for k, (lo, hi) in BOX.items():
        a, b = result.interval(k)
        click.echo(f"  {k:<20} {params[k]:<8g} 80% of accepted: {a:.3g}–{b:.3g}   (prior {lo:g}–{hi:g})")
    for warning in at_edge(params):
        click.echo(f"warning: {warning} — widen the box or read the fit with care", err=True)
    for warning in result.small_sample_warnings():
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"table: {check_reps} fresh replications per case (seed {seed + 1})\n")
    click.echo(format_score(table))
    click.echo(f"\nparameters written to {out}")
    mech_reps = min(check_reps, 500)
    click.echo(f"\nmechanisms at the fitted point (each switched off alone; {mech_reps} replications per case and rule, every rule):")
    strongest = strongest_effects(mechanisms_at(loaded, params, mech_reps, seed + 1, jobs))
    for r in strongest.itertuples(index=False):
        median = "" if r.median_change != r.median_change else f"; median {r.median_change:+g} meetings ({r.median_where})"
        click.echo(f"  {r.mechanism:<16} largest change: adopted {r.adopted_change:+.0%} ({r.adopted_where}){median}")
    dead = list(strongest.loc[~strongest["acts"], "mechanism"])
    if dead:
        click.echo(f"warning: switched off in effect at the fit (no case or rule moves by ≥ 5 points or ≥ 2 meetings): {', '.join(dead)}", err=True)
    if not all(p is not False for p in table["pass"]):
        click.echo("warning: some cases miss their target", err=True)


def format_score(table) -> str:
    """The fit table: each case's record, what the model gives, its target and whether it is met."""
    pct = "{:.0%}".format
    show = table.assign(
        adopted_within_recorded=table.adopted_within_recorded.map(pct),
        adopted_at_first=table.adopted_at_first.map(pct),
        text_surviving=table.text_surviving.map(lambda v: "—" if v is None or v != v else pct(v)),
        **{"pass": table["pass"].map({True: "pass", False: "FAIL", None: "—"})},
    )
    return show.drop(columns=["file"], errors="ignore").to_string(index=False)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--reps", type=click.IntRange(20, MAX_REPLICATIONS), help="Replications per case (default: each case's own).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: each case's own).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--strict", is_flag=True, help="Exit 1 when a case misses its target.")
@handle_input_errors
def score(files, reps, seed, as_json, strict):
    """Score each case of FILES against its `record:` at its own dynamics, without refitting and writing nothing.

    FILES are scenario files with a `record:` section (default: every case in
    scenarios/kp/). Exit 0 with the table; with --strict, exit 1 when a case
    misses its target band.
    """
    import json

    import pandas as pd

    from kpsim.scenario.load import load_tree
    from kpsim.sweep.calibrate import Case, check, load_cases, simulate

    if files:
        missing = [f for f in files if "record" not in load_tree(f)]
        if missing:
            raise InputError([f"{f}: no `record:` section — only a recorded case can be scored" for f in missing])
        cases = load_cases(files)
    else:
        cases = load_cases(sorted(DEFAULT_CASES.glob("*.yaml")))
        if not cases:
            raise InputError(f"no scenario with a 'record:' section in {DEFAULT_CASES}/ — give the case files")
    rows = []
    for case in cases:
        sc = case.scenario
        runs = simulate(Case(case.path, sc), sc.dynamics.model_dump(exclude={"mode"}), reps or sc.replications, sc.seed if seed is None else seed)
        rows.append({**check(case, runs), "file": str(case.path)})
    table = pd.DataFrame(rows)
    if as_json:
        clean = lambda v: None if isinstance(v, float) and v != v else v  # noqa: E731
        click.echo(json.dumps({"cases": [{k: clean(v) for k, v in r.items()} for r in rows]}, indent=2))
    else:
        each = f"{reps:,} replications each" if reps else "each case's own replications"
        click.echo(f"{len(rows)} cases, each at its own dynamics and seed ({each}); nothing refitted, nothing written")
        click.echo(format_score(table))
    if strict and any(p is False for p in table["pass"]):
        raise SystemExit(1)


def _write(path: Path, result, cases, reps, candidates, rounds, seed) -> None:
    import yaml

    from kpsim.atomic import write_text

    ranges = ", ".join(f"{k} {a:.3g}–{b:.3g}" for k, (a, b) in ((k, result.interval(k)) for k in result.params))
    header = [
        f"# Written by `kpsim calibrate` on {datetime.now(timezone.utc):%Y-%m-%d}; do not edit by hand, re-run it:",
        f"#   {typed_command()}",
        "# Method: rejection ABC on a simulated likelihood (kpsim/sweep/calibrate.py): a Latin-hypercube",
        f"# sample of {candidates} candidates from a uniform prior, then {candidates} per further round around",
        f"# the accepted ({rounds} rounds, ABC population Monte Carlo), {reps} replications per case each,",
        f"# common random numbers (seed {seed}); the best {len(result.accepted)} accepted",
        f"# (−log-likelihood ≤ {result.threshold:.3f}); these are the accepted candidate nearest their median.",
        f"# 80% of accepted candidates: {ranges}.",
        "# Cases: " + ", ".join(c.name for c in cases),
        "# Every KP scenario extends this file, so these values are the default dynamics everywhere.",
    ]
    body = yaml.safe_dump({"dynamics": {"mode": "agents", **result.params}}, sort_keys=False)
    write_text(path, "\n".join(header) + "\n" + body)
