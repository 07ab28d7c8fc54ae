"""Commands that analyse: power indices, the threshold sweep, and what a results folder becomes (charts, blockers)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors, run_options
from kpsim.cli.core import uncertainty_options
from kpsim.cli.outputs import FORMATS
from kpsim.errors import InputError

RESULTS_DIR = click.Path(path_type=Path)


def _numbers(text: str, option: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"{option} {text!r}: give numbers separated by commas, e.g. 7,7,7,1,1") from None
    if not values:
        raise InputError(f"{option}: give at least one number")
    return values


def _weighted_game(quota: float, weights: list[float], names: list[str] | None):
    """The exact power table of [quota; weights]; decimals are scaled to integers first."""
    import numpy as np

    from kpsim.analysis.power import power_table, to_integer_weights

    if any(w < 0 for w in weights) or not np.isfinite(weights).all():
        raise InputError("--weights: every weight must be a finite number ≥ 0")
    total = sum(weights)
    if not 0 < quota <= total:
        raise InputError(f"--quota {quota:g}: must be above 0 and at most the total weight {total:g}")
    if names is not None and len(names) != len(weights):
        raise InputError(f"--names: got {len(names)} names for {len(weights)} weights")
    exact = all(float(w).is_integer() for w in weights) and float(quota).is_integer()
    try:
        int_weights, int_quota = (np.array(weights, dtype=np.int64), int(quota)) if exact else to_integer_weights(weights, quota)
        table = power_table(int_weights, int_quota, names=names or [str(i + 1) for i in range(len(weights))])
    except ValueError as exc:  # e.g. a quota that rounding to integers pushes past the total
        raise InputError(f"--quota {quota:g} --weights: {exc}") from None
    table["weight"] = weights
    game = f"[{quota:g}; {', '.join(f'{w:g}' for w in weights)}]" + ("" if exact else f" = [{int_quota}; integer weights]")
    return game, table


def _print_table(table, key: str, top: int) -> None:
    """The most powerful first (Shapley–Shubik, then Banzhaf), the first `top` of them (0: all), saying how many are hidden."""
    cols = ["shapley_shubik", "banzhaf_normalized", "banzhaf_absolute"]
    table = table.sort_values(cols[:2], ascending=False, kind="stable", na_position="last")
    shown = table.head(top) if top else table
    width = max(len(key), *(len(str(x)) for x in shown[key]))
    click.echo(f"  {key:<{width}}  {'weight':>8}  {'Shapley–Shubik':>14}  {'Banzhaf norm.':>13}  {'Banzhaf abs.':>12}")
    for r in shown.itertuples(index=False):
        values = "  ".join(f"{getattr(r, c):>{w}.6f}" for c, w in zip(cols, (14, 13, 12)))
        weight = "" if r.weight != r.weight else f"{r.weight:g}"  # NaN: not a weighted game
        click.echo(f"  {str(getattr(r, key)):<{width}}  {weight:>8}  {values}")
    if len(shown) < len(table):
        rest = table.iloc[len(shown):]
        same = "" if rest["shapley_shubik"].nunique() > 1 else f", each {rest['shapley_shubik'].iloc[0]:.6f}"
        click.echo(f"  … and {len(rest)} more{same} (--top 0 shows all)")


def _records(table, key: str) -> list[dict]:
    cols = [key, "weight", "shapley_shubik", "banzhaf_normalized", "banzhaf_absolute"]
    return [{c: (None if isinstance(v, float) and v != v else v) for c, v in zip(cols, row)} for row in table[cols].itertuples(index=False)]


@click.command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--rule", "rules", multiple=True, help="A rule of scenario FILE (repeatable; default: every rule).")
@click.option("--by-bloc", is_flag=True, help="With FILE: sum the indices over each bloc.")
@click.option("--quota", type=float, help="Without FILE: the quota of a weighted game.")
@click.option("--weights", help="Without FILE: the players' weights, comma-separated, e.g. 7,7,7,7,7,1,1.")
@click.option("--names", help="Without FILE: the players' names, comma-separated (default 1, 2, …).")
@click.option("--top", type=click.IntRange(min=0), default=15, show_default=True, help="Show the N most powerful players of each game (0: all); --json lists all.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_input_errors
def power(file, rules, by_bloc, quota, weights, names, top, as_json):
    """Exact power indices: Shapley–Shubik, Banzhaf (normalised, absolute), Coleman's power to act.

    Either of a weighted game, `kpsim power --quota 39 --weights 7,7,7,7,7,1,1,1,1,1,1,1,1,1,1`,
    or of the rules of scenario FILE, `kpsim power FILE --rule NAME`, where each
    rule is read as a yes/no game in which every voter takes a side.
    """
    if file is not None and (quota is not None or weights or names):
        raise InputError("give either a scenario FILE (with --rule) or --quota and --weights, not both")
    if file is None:
        if quota is None or not weights:
            raise InputError("give a scenario FILE, or both --quota and --weights (see kpsim power --help)")
        if rules or by_bloc:
            raise InputError("--rule and --by-bloc need a scenario FILE")
        game, table = _weighted_game(quota, _numbers(weights, "--weights"), names.split(",") if names else None)
        games = [{"game": game, "coleman_power_to_act": table.attrs["coleman_power_to_act"], "note": "", "table": table}]
        key = "name"
    else:
        from kpsim.analysis.blockers import bloc_labels
        from kpsim.analysis.rulepower import rule_power
        from kpsim.scenario.load import load_scenario

        scenario = load_scenario(file)
        games = []
        for label in rules or [r.label for r in scenario.rules]:
            rp = rule_power(scenario, label)
            table = rp.players
            if by_bloc:
                table = table.assign(bloc=bloc_labels(table)).groupby("bloc", sort=False)[
                    ["weight", "shapley_shubik", "banzhaf_normalized", "banzhaf_absolute"]
                ].sum(min_count=1).reset_index()
            games.append({"rule": label, "game": rp.game, "coleman_power_to_act": rp.coleman_power_to_act, "note": rp.note, "table": table})
        key = "bloc" if by_bloc else "actor"
    if as_json:
        out = [{k: v for k, v in g.items() if k != "table"} | {"players": _records(g["table"], key)} for g in games]
        for g in out:
            if g["coleman_power_to_act"] != g["coleman_power_to_act"]:
                g["coleman_power_to_act"] = None
        click.echo(json.dumps(out if file is not None else out[0], indent=2, ensure_ascii=False))
        return
    for g in games:
        head = f"rule {g['rule']}: " if "rule" in g else ""
        click.echo(f"{head}game {g['game']}" + (f" — {g['note']}" if g["note"] else ""))
        if g["coleman_power_to_act"] != g["coleman_power_to_act"]:
            click.echo("  indices not available\n")
            continue
        click.echo(f"  Coleman's power to act (chance a proposal passes if each votes yes with probability 1/2): {g['coleman_power_to_act']:.6g}")
        _print_table(g["table"], key, top)
        click.echo("")


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--rule", "rules", multiple=True, help="A rule of scenario FILE (repeatable; default: every rule).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@handle_input_errors
def winset(file, rules, as_json):
    """Before simulating: which rules of scenario FILE can pass any text of the mandate at all.

    The static model: noise 0, positions as tabled, nothing moving (no
    influence, lobbying, acquiescence, exit or events). Per rule: whether any
    text within the chair's mandate passes against the status quo, the best
    such text for the proposer, the veto players, and the pivotal actors.
    """
    from kpsim.analysis.winset import ASSUMPTIONS, format_win_sets, win_sets
    from kpsim.scenario.load import load_scenario

    scenario = load_scenario(file)
    for r in rules:
        scenario.rule(r)
    sets = win_sets(scenario, list(rules) or None)
    if as_json:
        click.echo(json.dumps({"scenario": scenario.name, "assumptions": ASSUMPTIONS, "rules": [w.record() for w in sets]}, indent=2))
    else:
        click.echo(format_win_sets(scenario, sets))


@click.command()
@click.argument("folder", type=RESULTS_DIR)
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes drawing charts, this one included (a second one pays about a second to start).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@FORMATS
@handle_input_errors
def charts(folder, jobs, quiet, formats):
    """Redraw the charts of results FOLDER into FOLDER/charts/ (PNG and SVG; --formats png,svg,pdf adds PDF)."""
    from kpsim.run.pool import warm_up

    warm_up(jobs, "kpsim.output.charts")  # the worker server imports while this process reads the folder
    import kpsim.output  # noqa: F401  (registers the charts)
    from kpsim.analysis.results import Results
    from kpsim.atomic import atomic_dir
    from kpsim.analysis.outputs import write_charts

    results = Results.read(folder)
    tables = results.tables()
    with atomic_dir(folder / "charts", force=True, ours=None) as tmp:
        paths = write_charts(results, tables, tmp, jobs=jobs, progress=not quiet, formats=formats)
    click.echo(f"{len(paths)} files in {folder / 'charts'}/")


@click.command()
@click.argument("folder", type=RESULTS_DIR)
@click.option("--by", type=click.Choice(["bloc", "actor"]), default="bloc", show_default=True, help="Rank blocs or single actors.")
@click.option("--top", type=click.IntRange(min=1), help="Show only the first N of each rule (and say how many are hidden).")
@handle_input_errors
def blockers(folder, by, top):
    """Who blocks, ranked per rule, at failed decisions.

    Blocs: by how many members object (on average, of the bloc's members),
    then by the member that objects most. Actors: by pivotal rate, then
    objection rate. Pivotal: withdrawing that one objection would have passed
    the text.
    """
    from kpsim.analysis.blockers import blockers_by_actor, blockers_by_bloc, format_ranked
    from kpsim.analysis.results import Results

    results = Results.read(folder)
    table = (blockers_by_bloc if by == "bloc" else blockers_by_actor)(results.blockers, results.scenario)
    click.echo(format_ranked(table, by, top))


def _thresholds(text: str | None):
    from kpsim.analysis.thresholds import DEFAULT_THRESHOLDS

    if text is None:
        return DEFAULT_THRESHOLDS
    from pydantic import TypeAdapter, ValidationError

    from kpsim.fields import Threshold

    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            out.append(TypeAdapter(Threshold).validate_python(part))
        except ValidationError as exc:
            raise InputError(f"--q {part!r}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    if not out:
        raise InputError("--q: give at least one threshold, e.g. 3/5,2/3,3/4,1")
    return out


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--q", "qs", help="Thresholds to sweep, comma-separated (default 3/5,2/3,3/4,4/5,9/10,1); simple majority is always included.")
@run_options
@click.option("--no-charts", is_flag=True, help="Write the tables only, no charts/ folder.")
@uncertainty_options
@handle_input_errors
def threshold(file, qs, reps, seed, jobs, out, force, quiet, no_charts, uncertainty, draws, posterior):
    """The cost of deciding: sweep the majority needed, from simple majority to unanimity.

    Runs scenario FILE with its rules replaced by simple majority and a
    qualified majority at each threshold q, all on the same random draws, and
    writes a results folder with threshold.csv (median deadlock, surviving
    text, participants outvoted, each with a 95% interval) and its chart.
    """
    from functools import partial

    from kpsim.analysis.summary import PCT, format_ci, withdrawal_phrase
    from kpsim.analysis.thresholds import threshold_scenario, threshold_table
    from kpsim.cli.core import execute

    results, _ = execute(file, None, reps, seed, jobs, out, force, quiet, charts=not no_charts, adapt=partial(threshold_scenario, qs=_thresholds(qs)),
                         uncertainty=uncertainty, draws=draws, posterior=posterior)
    rows = [("threshold", "median deadlock (meetings)", "text surviving", "participants outvoted")]
    horizon = results.scenario.calendar.horizon
    for r in threshold_table(results).itertuples(index=False):
        withdrawn = withdrawal_phrase(r)
        # a median not reached because the proposal was withdrawn first is not "not reached within the horizon"
        if r.median_meetings != r.median_meetings:  # NaN
            median = withdrawn or f"not reached within {horizon:,}"
        else:
            median = format_ci(r.median_meetings, r.median_lo, r.median_hi, "{:g}") + (f"; {withdrawn}" if withdrawn else "")
        rows.append(
            (
                r.threshold,
                median,
                format_ci(r.surviving_share, r.surviving_lo, r.surviving_hi, PCT, nr="—"),
                format_ci(r.outvoted, r.outvoted_lo, r.outvoted_hi, "{:.1f}", nr="—"),
            )
        )
    widths = [max(len(row[j]) for row in rows) for j in range(4)]
    click.echo("\nthe cost of deciding (threshold.csv):")
    for row in rows:
        click.echo("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
