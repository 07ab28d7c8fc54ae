"""`kpsim table`: several results folders side by side, as Markdown (cases × rules)."""

from __future__ import annotations

import math
from pathlib import Path

import click
import pandas as pd

from kpsim.cli.common import handle_input_errors
from kpsim.yamlsource import InputError

METRICS = {
    "median": ("median deadlock, meetings [95% CI]", "median_meetings", "median_lo", "median_hi", "{:g}"),
    "adopted": ("share adopted within the horizon [95% CI]", "adopted", "adopted_lo", "adopted_hi", "{:.0%}"),
    "surviving": ("share of the text surviving, among adopted [95% CI]", "surviving_share", "surviving_lo", "surviving_hi", "{:.0%}"),
}


def _cell(row, value, lo, hi, fmt) -> str:
    v = row[value]
    if isinstance(v, float) and math.isnan(v):
        return "not reached" if value == "median_meetings" else "—"
    hi_v = row[hi]
    hi_s = "n.r." if isinstance(hi_v, float) and math.isnan(hi_v) else fmt.format(hi_v)
    return f"{fmt.format(v)} [{fmt.format(row[lo])}, {hi_s}]"


def markdown_tables(folders: list[Path]) -> str:
    summaries = []
    for folder in folders:
        path = Path(folder) / "summary.csv"
        if not path.exists():
            raise InputError(f"{folder}: not a results folder (no summary.csv)")
        meta = Path(folder) / "meta.json"
        case = pd.read_json(meta, typ="series")["scenario"] if meta.exists() else Path(folder).name
        summaries.append(pd.read_csv(path).assign(case=case))
    data = pd.concat(summaries, ignore_index=True)
    rules = list(dict.fromkeys(data.rule))
    out = []
    for title, value, lo, hi, fmt in METRICS.values():
        out.append(f"**{title}**\n")
        out.append("| case | " + " | ".join(rules) + " |")
        out.append("|---|" + "---|" * len(rules))
        for case, g in data.groupby("case", sort=False):
            cells = {r.rule: _cell(r._asdict(), value, lo, hi, fmt) for r in g.itertuples(index=False)}
            out.append(f"| {case} | " + " | ".join(cells.get(r, "") for r in rules) + " |")
        out.append("")
    return "\n".join(out)


@click.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(path_type=Path))
@handle_input_errors
def table(folders):
    """Print the results FOLDERS side by side as Markdown tables: cases × rules."""
    click.echo(markdown_tables(list(folders)))
