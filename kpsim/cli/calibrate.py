"""`kpsim calibrate`: fit the global dynamics to every recorded case, print the fit table."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors, typed_command
from kpsim.errors import InputError
from kpsim.fields import MAX_REPLICATIONS, MAX_SEED

DEFAULT_CASES = Path("scenarios") / "kp"


def _epsilons(ctx, param, text):
    try:
        values = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise click.BadParameter("give numbers separated by commas, e.g. 3,2,1,0") from None
    if not values or values[-1] != 0 or any(b > a for a, b in zip(values, values[1:])) or min(values) < 0:
        raise click.BadParameter("a non-increasing list of facts missed, ending in 0, e.g. 3,2,1,0")
    return values


@click.command()
@click.argument("cases", nargs=-1, type=click.Path(path_type=Path))
@click.option("--population", type=click.IntRange(min=10), default=200, show_default=True, help="Accepted draws per ABC-SMC generation (the posterior's size).")
@click.option("--epsilons", default="3,2,1,0", show_default=True, callback=_epsilons, help="Recorded facts a draw may miss, generation by generation; the last must be 0.")
@click.option("--max-simulations", type=click.IntRange(min=1), default=2_000_000, show_default=True, help="Stop (with an error) after this many simulated histories.")
@click.option("--check-reps", type=click.IntRange(20, MAX_REPLICATIONS), default=2000, show_default=True, help="Replications per case for the table at the posterior median.")
@click.option("--ppc-draws", type=click.IntRange(min=2), default=40, show_default=True, help="Posterior draws in the posterior-predictive check.")
@click.option("--ppc-reps", type=click.IntRange(min=10), default=100, show_default=True, help="Replications per case and draw in the posterior-predictive check.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=2011, show_default=True, help="Random seed (numpy's global seed, which pyabc draws from: below 2^32).")
@click.option("--jobs", type=click.IntRange(min=1), help="Local worker processes (default: all cores). With 1 the posterior is reproducible for a seed.")
@click.option("--scheduler", help="Run on a Dask cluster, e.g. tcp://HOST:8786 (as `kpsim sweep`).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="The fitted point (default: calibration.yaml beside the cases).")
@click.option("--posterior", "posterior_path", type=click.Path(dir_okay=False, path_type=Path), help="The weighted draws (default: posterior.csv beside the cases).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), help="Folder for the check tables, chart and pyabc database (default: results/calibration/<time>/).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@handle_input_errors
def calibrate(cases, population, epsilons, max_simulations, check_reps, ppc_draws, ppc_reps, seed, jobs, scheduler, out, posterior_path, report_dir, quiet):
    """Fit the global dynamics to every recorded case of CASES at once by ABC-SMC: a posterior, not a point.

    CASES are scenario files with a `record:` section (default: every such file
    in scenarios/kp/). A simulated history counts the recorded facts it misses
    (each case's outcome window, each recorded objection); ABC-SMC (pyabc)
    ends with the draws that miss none, weighted. Writes posterior.csv (the
    weighted draws) and calibration.yaml (their median, which every KP case
    extends), then prints identifiability, warnings, the fit table at the
    median, a posterior-predictive check and what each mechanism does.
    """
    import pandas as pd

    from kpsim.analysis.results import new_run_dir
    from kpsim.atomic import atomic_dir, check_free
    from kpsim.run.pool import default_jobs
    from kpsim.sweep.calibrate import at_edge, check, load_cases, mechanisms_at, observed_window, simulate, strongest_effects
    from kpsim.sweep.posterior import posterior_predictive, predictive_table, run_abc

    paths = list(cases) or sorted(DEFAULT_CASES.glob("*.yaml"))
    loaded = load_cases(paths)
    if not loaded:
        raise InputError(f"no scenario with a 'record:' section among: {', '.join(map(str, paths)) or 'nothing'}")
    out = out or loaded[0].path.parent / "calibration.yaml"
    posterior_path = posterior_path or loaded[0].path.parent / "posterior.csv"
    report_dir = report_dir or new_run_dir("calibration")
    check_free(report_dir)
    jobs = jobs or default_jobs()
    facts = sum(1 + len(c.scenario.record.objected) for c in loaded)
    click.echo(f"ABC-SMC on {len(loaded)} cases ({facts} recorded facts), population {population}, ε = {', '.join(f'{e:g}' for e in epsilons)}; "
               f"{'cluster ' + scheduler if scheduler else f'{jobs} local processes'}", err=True)
    with atomic_dir(report_dir) as tmp:
        say = None if quiet else (lambda line: click.echo(f"  {line}", err=True))
        post = run_abc(loaded, population, epsilons, jobs, scheduler, seed, tmp / "abc.db", max_simulations, progress=say)
        post.write(posterior_path)
        params = post.median()
        _write(out, post, params, loaded, population, epsilons, seed, posterior_path)
        ident = post.identifiability()
        rows = [check(c, simulate(c, params, check_reps, seed + 1)) for c in loaded]
        table = pd.DataFrame(rows)
        ppc = posterior_predictive(loaded, post, ppc_draws, ppc_reps, seed + 2)
        pred = predictive_table(ppc, loaded)
        ident.to_csv(tmp / "identifiability.csv", index=False)
        table.to_csv(tmp / "fit_at_median.csv", index=False)
        ppc.to_csv(tmp / "posterior_predictive.csv", index=False)
        from kpsim.output.predictive import predictive_chart
        from kpsim.output.style import save

        windows = {}
        for c in loaded:
            was, lo, hi = observed_window(c.scenario.record)
            windows[c.name] = f"adopted at {lo}–{hi}" if was else f"not adopted by {hi}"
        save(predictive_chart(ppc, windows, ppc_draws, ppc_reps), tmp / "charts", "posterior_predictive")
        from kpsim.run.provenance import write_meta

        write_meta(tmp / "meta.json", {"command": typed_command(), "seed": seed, "population": population, "epsilons": list(epsilons),
                                        "simulations": post.simulations, "ess": post.ess, "cases": [c.name for c in loaded]})
    gens = "; ".join(f"ε {g['epsilon']:g}: {g['simulations']:,} histories ({g['acceptance']:.1%} accepted)" for g in post.generations)
    click.echo(f"posterior: {len(post.draws)} weighted draws (effective sample size {post.ess:.0f}) after {post.simulations:,} simulated histories — {gens}")
    click.echo("identifiability (80% posterior interval against the prior's width; above 80%: the record hardly informs it):")
    click.echo(ident.assign(median=ident["median"].map("{:.4g}".format), width_share=ident["width_share"].map("{:.0%}".format),
                            identified=ident["identified"].map({True: "yes", False: "NO"})).to_string(index=False))
    for warning in [*post.warnings(), *at_edge(params)]:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"\nfit table at the posterior median: {check_reps} replications per case (seed {seed + 1})")
    click.echo(format_score(table))
    click.echo(f"\nposterior-predictive check ({ppc_draws} draws × {ppc_reps} replications per case; chart in {report_dir}/charts/):")
    click.echo(pred.assign(p_recorded=pred["p_recorded"].map("{:.0%}".format)).to_string(index=False))
    click.echo(f"\nposterior written to {posterior_path}, its median to {out}; report in {report_dir}/")
    mech_reps = min(check_reps, 500)
    click.echo(f"\nmechanisms at the posterior median (each switched off alone; {mech_reps} replications per case and rule, every rule):")
    strongest = strongest_effects(mechanisms_at(loaded, params, mech_reps, seed + 1, jobs))
    for r in strongest.itertuples(index=False):
        median = "" if r.median_change != r.median_change else f"; median {r.median_change:+g} meetings ({r.median_where})"
        click.echo(f"  {r.mechanism:<16} largest change: adopted {r.adopted_change:+.0%} ({r.adopted_where}){median}")
    dead = list(strongest.loc[~strongest["acts"], "mechanism"])
    if dead:
        click.echo(f"warning: switched off in effect at the fit (no case or rule moves by ≥ 5 points or ≥ 2 meetings): {', '.join(dead)}", err=True)
    if not all(p is not False for p in table["pass"]):
        click.echo("warning: some cases miss their target at the posterior median", err=True)


def format_score(table) -> str:
    """The fit table: each case's record, what the model gives, its target and whether it is met."""
    pct = "{:.0%}".format
    show = table.assign(
        adopted_within_recorded=table.adopted_within_recorded.map(pct),
        adopted_at_first=table.adopted_at_first.map(pct),
        text_surviving=table.text_surviving.map(lambda v: "—" if v is None or v != v else pct(v)),
        **{"pass": table["pass"].map({True: "pass", False: "FAIL", None: "—"})},
    )
    return show.drop(columns=["file", "calibration"], errors="ignore").to_string(index=False)


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--reps", type=click.IntRange(20, MAX_REPLICATIONS), help="Replications per case (default: each case's own).")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), help="Random seed (default: each case's own).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--strict", is_flag=True, help="Exit 1 when a case misses its target.")
@click.option("--calibration", type=click.Path(dir_okay=False, path_type=Path),
              help="Run every case at the `dynamics:` of this file (e.g. a `kpsim calibrate --out` file) instead of the calibration it extends.")
@handle_input_errors
def score(files, reps, seed, as_json, strict, calibration):
    """Score each case of FILES against its `record:` at its own dynamics, without refitting and writing nothing.

    FILES are scenario files with a `record:` section (default: every case in
    scenarios/kp/). Exit 0 with the table; with --strict, exit 1 when a case
    misses its target band. With --calibration FILE every case runs at that
    file's dynamics instead (out-of-sample: fit on some cases, score others).
    """
    import json

    import pandas as pd

    from kpsim.scenario.load import load_tree
    from kpsim.sweep.calibrate import Case, check, load_cases, simulate

    if files:
        missing = [f for f in files if "record" not in load_tree(f)]
        if missing:
            raise InputError([f"{f}: no `record:` section — only a recorded case can be scored" for f in missing])
        cases = load_cases(files, calibration)
    else:
        cases = load_cases(sorted(DEFAULT_CASES.glob("*.yaml")), calibration)
        if not cases:
            raise InputError(f"no scenario with a 'record:' section in {DEFAULT_CASES}/ — give the case files")
    rows = []
    for case in cases:
        sc = case.scenario
        runs = simulate(Case(case.path, sc), sc.dynamics.model_dump(exclude={"mode"}), reps or sc.replications, sc.seed if seed is None else seed)
        rows.append({**check(case, runs), "file": str(case.path), **({"calibration": str(calibration)} if calibration else {})})
    table = pd.DataFrame(rows)
    if as_json:
        clean = lambda v: None if isinstance(v, float) and v != v else v  # noqa: E731
        click.echo(json.dumps({"cases": [{k: clean(v) for k, v in r.items()} for r in rows]}, indent=2))
    else:
        each = f"{reps:,} replications each" if reps else "each case's own replications"
        at = f"at the dynamics of {calibration}, each at its own seed" if calibration else "each at its own dynamics and seed"
        click.echo(f"{len(rows)} cases, {at} ({each}); nothing refitted, nothing written")
        click.echo(format_score(table))
    if strict and any(p is False for p in table["pass"]):
        raise SystemExit(1)


def _write(path: Path, post, params, cases, population, epsilons, seed, posterior_path) -> None:
    import yaml

    from kpsim.atomic import write_text

    ranges = ", ".join(f"{k} {a:.3g}–{b:.3g}" for k, (a, b) in ((k, post.interval(k)) for k in params))
    header = [
        f"# Written by `kpsim calibrate` on {datetime.now(timezone.utc):%Y-%m-%d}; do not edit by hand, re-run it:",
        f"#   {typed_command()}",
        "# Method: ABC-SMC (pyabc; kpsim/sweep/posterior.py) from a uniform prior on the box of",
        "# kpsim/scenario/prior.py: each simulated history runs every case once and counts the recorded",
        f"# facts it misses; generations at ε = {', '.join(f'{e:g}' for e in epsilons)}, population {population}, seed {seed};",
        f"# the last keeps only histories that miss nothing. {post.simulations:,} histories in all;",
        f"# effective sample size {post.ess:.0f}. The weighted draws are in {posterior_path.name}; these values",
        "# are their median (per parameter), the point every KP scenario runs at by default.",
        f"# 80% posterior intervals: {ranges}.",
        "# Cases: " + ", ".join(c.name for c in cases),
    ]
    body = yaml.safe_dump({"dynamics": {"mode": "agents", **params}}, sort_keys=False)
    write_text(path, "\n".join(header) + "\n" + body)
