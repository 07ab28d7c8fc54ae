"""`kpsim table`: several results folders side by side, as Markdown (cases × rules)."""

from __future__ import annotations

from pathlib import Path

import click

from kpsim.cli.common import handle_input_errors
from kpsim.errors import InputError


def _metrics():
    """(title, value, low, high, format, when missing) per table; imported late to keep `kpsim` quick to start."""
    from kpsim.analysis.summary import PCT

    return {
        "median": ("median deadlock, meetings [95% interval]", "median_meetings", "median_lo", "median_hi", "{:g}", "not reached"),
        "adopted": ("share adopted within the horizon [95% interval]", "adopted", "adopted_lo", "adopted_hi", PCT, "—"),
        "surviving": (
            "share of the text surviving, among adopted [95% interval]",
            "surviving_share",
            "surviving_lo",
            "surviving_hi",
            PCT,
            "—",
        ),
    }


def markdown_tables(folders: list[Path]) -> str:
    import pandas as pd

    from kpsim.analysis.summary import format_ci

    summaries = []
    for folder in folders:
        path = Path(folder) / "summary.csv"
        if not path.exists():
            raise InputError(f"{folder}: not a results folder (no summary.csv)")
        meta = Path(folder) / "meta.json"
        case = pd.read_json(meta, typ="series")["scenario"] if meta.exists() else Path(folder).name
        summaries.append(pd.read_csv(path).assign(case=case, folder=str(folder)))
    cases = [s.case.iloc[0] for s in summaries]
    for s in summaries:  # two runs of one scenario: tell them apart by folder
        if cases.count(s.case.iloc[0]) > 1:
            s["case"] = f"{s.case.iloc[0]} ({s.folder.iloc[0]})"
    data = pd.concat(summaries, ignore_index=True)
    rules = list(dict.fromkeys(data.rule))
    out = []
    for title, value, lo, hi, fmt, missing in _metrics().values():
        out.append(f"**{title}**\n")
        out.append("| case | " + " | ".join(rules) + " |")
        out.append("|---|" + "---|" * len(rules))
        for case, g in data.groupby("case", sort=False):
            cells = {r[1].rule: format_ci(r[1][value], r[1][lo], r[1][hi], fmt, missing) for r in g.iterrows()}
            out.append(f"| {case} | " + " | ".join(cells.get(r, "") for r in rules) + " |")
        out.append("")
    # which intervals each folder holds (Monte-Carlo, or the range across draws under parameters/full): summary.csv says
    labels = data.groupby("case", sort=False)["interval"].first() if "interval" in data else None
    for case in data["case"].unique():
        label = labels.get(case) if labels is not None else None
        out.append(f"- {case}: {label if isinstance(label, str) else 'montecarlo: 95% Monte-Carlo interval'}")
    return "\n".join(out)


@click.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_input_errors
def table(folders):
    """Print the results FOLDERS side by side as Markdown tables: cases × rules."""
    click.echo(markdown_tables(list(folders)))
