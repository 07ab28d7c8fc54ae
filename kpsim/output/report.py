"""The one-page brief for a plenary, as HTML and PDF, rebuilt from a results folder alone.

The PDF is one A4 page composed with matplotlib (no browser, no system
libraries: it renders the same on any machine with the package installed).
The page is laid out top to bottom and measured as it goes; if the content
would run past the bottom margin, everything is set again smaller, and as a
last resort the source list is shortened with a pointer to scenario.yaml.
So the page never overflows and never spills onto a second page.
"""

from __future__ import annotations

import html
import io
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from kpsim.analysis.results import Results
from kpsim.analysis.summary import PCT, format_ci
from kpsim.analysis.thresholds import outvoted
from kpsim.atomic import write_file
from kpsim.errors import InputError
from kpsim.fields import PARTICIPANT
from kpsim.output.charts import draw_survival
from kpsim.output.style import INK, MUTED, house_style
from kpsim.version import __version__

A4 = (8.27, 11.69)  # inches
MARGIN = 0.6


@dataclass
class Brief:
    """What the brief says, independent of its format."""

    title: str
    subtitle: str
    headline: str
    table: pd.DataFrame  # display strings, one row per rule
    assumptions: list[str]
    sources: list[str]
    footer: str


# ------------------------------------------------------------------ content


def _median_phrase(row, horizon: int, per_year: float) -> str:
    if math.isnan(row.median_meetings):
        return f"not reached within {horizon:,} meetings ({horizon / per_year:g} years)"
    unit = "meeting" if row.median_meetings == 1 else "meetings"
    value, interval = format_ci(row.median_meetings, row.median_lo, row.median_hi, "{:g}").split(" ", 1)
    return f"{value} {unit} {interval} ({row.median_years:g} years)"


def baseline_rule(results: Results) -> str:
    """The status quo to compare against: consensus (or its equal, a majority of 1) if run, else the first rule."""
    rules = {r.label: r for r in results.scenario.rules}
    return next((r for r in results.rules if r in rules and rules[r].count_threshold() == 1), results.rules[0])


def headline(results: Results) -> str:
    """The main comparison in one or two sentences, with 95% intervals.

    It sets the baseline (consensus if run) against the alternative with the
    shortest restricted-mean deadlock: the strongest case for reform that the
    run supports, stated with its uncertainty and its price (who is outvoted).
    """
    cal = results.scenario.calendar
    s = results.summary.set_index("rule")
    rules = {r.label: r for r in results.scenario.rules}
    out = outvoted(results.runs).set_index("rule")
    base = baseline_rule(results)
    b = s.loc[base]
    others = [r for r in results.rules if r != base]
    if not others:
        return (
            f"Under {rules[base].phrase()} the median deadlock is {_median_phrase(b, cal.horizon, cal.meetings_per_year)}; "
            f"{format_ci(b.adopted, b.adopted_lo, b.adopted_hi, PCT)} of proposals are adopted within the horizon."
        )
    alt = min(others, key=lambda r: s.loc[r, "mean_meetings"])
    a = s.loc[alt]
    first = (
        f"Under {rules[alt].phrase()} the median deadlock would be {_median_phrase(a, cal.horizon, cal.meetings_per_year)} "
        f"instead of {_median_phrase(b, cal.horizon, cal.meetings_per_year)} under {rules[base].phrase()}."
    )
    o = out.loc[alt]
    second = (
        f" Within the horizon {format_ci(a.adopted, a.adopted_lo, a.adopted_hi, PCT)} of proposals would pass, against "
        f"{format_ci(b.adopted, b.adopted_lo, b.adopted_hi, PCT)}"
    )
    if not math.isnan(o.outvoted):
        who = "voters (observers included)" if rules[alt].observers_vote else "participants"
        second += f"; at adoption {format_ci(o.outvoted, o.outvoted_lo, o.outvoted_hi, '{:.1f}')} {who} would be outvoted"
    if not math.isnan(a.surviving_share):
        second += f" and {PCT.format(a.surviving_share)} of the proposed change would survive"
    return first + second + "."


def summary_rows(results: Results) -> pd.DataFrame:
    """The summary table as the brief prints it: figures with 95% intervals."""
    h = results.scenario.calendar.horizon
    out = outvoted(results.runs).set_index("rule")
    rows = []
    for r in results.summary.itertuples(index=False):
        o = out.loc[r.rule]
        rows.append(
            {
                "Rule": r.rule,
                f"Adopted by meeting {h:,}": format_ci(r.adopted, r.adopted_lo, r.adopted_hi, PCT),
                "Median deadlock (meetings)": format_ci(r.median_meetings, r.median_lo, r.median_hi, "{:g}"),
                f"Mean deadlock ≤ {h:,}": format_ci(r.mean_meetings, r.mean_lo, r.mean_hi, "{:.1f}"),
                "Text surviving": format_ci(r.surviving_share, r.surviving_lo, r.surviving_hi, PCT, nr="—"),
                "Outvoted at adoption": format_ci(o.outvoted, o.outvoted_lo, o.outvoted_hi, "{:.1f}", nr="—"),
            }
        )
    return pd.DataFrame(rows)


def rule_summary(rule) -> str:
    """A rule in words, with its parameters and what it does with a tie (supporters exactly at its threshold)."""
    params = rule.model_dump(mode="json", exclude={"rule", "name", "ties"}, exclude_none=True)
    shown = ", ".join(f"{k} {v}" for k, v in params.items() if not isinstance(v, list))
    ties = rule.tie_phrase()
    return f"{rule.label}: {rule.summary}" + (f" ({shown})" if shown else "") + (f"; {ties}" if ties else "")


def assumptions(results: Results) -> list[str]:
    """What the reader must know to weigh the numbers: actors, proposal, horizon, dynamics, replications, rules."""
    sc, cal, dyn, prop = results.scenario, results.scenario.calendar, results.scenario.dynamics, results.scenario.proposal
    n_part = sum(a.kind == PARTICIPANT for a in sc.actors)
    blocs = sorted({a.bloc for a in sc.actors if a.bloc})
    dyn_text = ", ".join(f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in dyn.model_dump().items())
    lines = [
        f"Actors: {n_part} participants and {len(sc.actors) - n_part} observers" + (f"; blocs: {', '.join(blocs)}." if blocs else "."),
        f"Proposal: text at {prop.position:g} against the status quo at {prop.status_quo:g}"
        + (f"; the chair may amend it as far as {prop.reservation:g}" if prop.reservation is not None else "; the chair may not amend it")
        + (f"; abandoned after {prop.abandon_after} failed meetings" if prop.abandon_after else "")
        + ".",
        f"Horizon: {cal.horizon:,} meetings ({cal.horizon / cal.meetings_per_year:g} years at {cal.meetings_per_year:g} a year). "
        "A proposal not adopted by then, or abandoned, is censored: never counted as adopted.",
        f"Dynamics: {dyn_text}.",
        f"{results.replications:,} replications per rule, seed {sc.seed}; every rule sees the same random draws.",
        "Intervals are 95% and measure simulation uncertainty only, not uncertainty in the model or its inputs. "
        "Medians and means are Kaplan–Meier estimates; surviving text and outvoted counts are means over adopted replications; "
        "observers have no vote except under chambers.",
    ]
    rules = {r.label: r for r in sc.rules}
    shown = [rules[r] for r in results.rules if r in rules]
    if any(r.tie_rule() is not None for r in shown):
        lines.append("A tie is supporters exactly at a rule's threshold (for a simple majority, as many supporting as objecting); "
                     "each rule below says whether a tie passes.")
    lines += [f"Rule {rule_summary(r)}." for r in shown]
    return lines


def build(results: Results) -> Brief:
    sc = results.scenario
    title = sc.proposal.title if sc.proposal.title != "proposal" else sc.name
    return Brief(
        title=f"{title}: what would another decision rule change?",
        subtitle=f"Scenario {sc.name}" + (f" — {sc.description}" if sc.description else ""),
        headline=headline(results),
        table=summary_rows(results),
        assumptions=assumptions(results),
        sources=list(sc.sources),
        footer=f"run {results.run_id} · kpsim {__version__} · {results.meta.get('command', '')} · rebuilt from the results folder",
    )


# ------------------------------------------------------------------ HTML

CSS = """
@page { size: A4; margin: 15mm; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; max-width: 190mm; margin: 2em auto; line-height: 1.35; }
h1 { font-size: 20pt; margin: 0 0 .2em; } .subtitle { color: #555; margin: 0 0 1em; }
.headline { font-size: 13pt; font-weight: bold; background: #EEF4FA; border-left: 5px solid #0072B2; padding: .6em .8em; }
table { border-collapse: collapse; font-size: 9pt; width: 100%; margin: .5em 0 1em; }
th { text-align: left; border-bottom: 2px solid #555; padding: 3px 6px; vertical-align: bottom; }
td { padding: 3px 6px; border-bottom: 1px solid #ddd; white-space: nowrap; } td:first-child { font-weight: bold; }
h2 { font-size: 12pt; margin: 1em 0 .3em; } ul { font-size: 9pt; margin: 0; padding-left: 1.2em; }
.sources { font-size: 8pt; color: #555; word-break: break-all; } .sources a { color: #555; } footer { font-size: 8pt; color: #777; margin-top: 1.5em; }
svg { width: 100%; height: auto; }
"""


def survival_svg(results: Results) -> str:
    """The survival chart without its slide frame, as inline SVG (the brief has its own title)."""
    with house_style(scale=0.62):
        fig = Figure(figsize=(7.4, 3.9), layout="constrained")
        draw_survival(fig.add_subplot(), results)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", facecolor="white")
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def render_html(brief: Brief, svg: str) -> str:
    e = html.escape
    rows = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in row) + "</tr>" for row in brief.table.itertuples(index=False))
    head = "".join(f"<th>{e(c)}</th>" for c in brief.table.columns)
    items = lambda xs: "".join(f"<li>{e(x)}</li>" for x in xs)  # noqa: E731
    link = lambda x: f'<a href="{e(x)}">{e(x)}</a>' if x.startswith(("http://", "https://")) else e(x)  # noqa: E731
    sources = "".join(f"<li>{link(x)}</li>" for x in brief.sources) or "<li>none listed: see scenario.yaml</li>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{e(brief.title)}</title><style>{CSS}</style></head>
<body>
<h1>{e(brief.title)}</h1>
<p class="subtitle">{e(brief.subtitle)}</p>
<p class="headline">{e(brief.headline)}</p>
<h2>How long the deadlock lasts (share of proposals still deadlocked, 95% band)</h2>
{svg}
<h2>Summary (95% intervals)</h2>
<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>
<h2>Assumptions</h2><ul>{items(brief.assumptions)}</ul>
<h2>Sources</h2><ul class="sources">{sources}</ul>
<footer>{e(brief.footer)}</footer>
</body></html>
"""


# ------------------------------------------------------------------ PDF


class _Page:
    """A top-to-bottom flow on one A4 figure; `y` is inches from the top."""

    def __init__(self, scale: float):
        self.fig = Figure(figsize=A4)
        FigureCanvasAgg(self.fig)
        self.renderer = self.fig.canvas.get_renderer()
        self.scale = scale
        self.width = A4[0] - 2 * MARGIN
        self.y = MARGIN

    def _measure(self, text: str, size: float, weight="normal") -> float:
        w, _, _ = self.renderer.get_text_width_height_descent(text, FontProperties(size=size, weight=weight), ismath=False)
        return w / self.fig.dpi

    def _wrap(self, text: str, size: float, width: float, weight="normal") -> str:
        """Wrap to `width` inches as measured, not guessed: narrow the line until the widest fits."""
        chars = int(width * 72 / (size * 0.5))
        while True:
            lines = textwrap.wrap(text, chars, break_on_hyphens=False) or [""]
            longest = sorted(lines, key=len)[-8:]  # width follows length closely; measuring every line is slow
            widest = max(self._measure(ln, size, weight) for ln in longest)
            if chars < 10 or widest <= width:
                return "\n".join(lines)
            chars = min(chars - 1, int(chars * width / widest))

    def text(self, text: str, size: float, weight="normal", color=INK, gap=0.08, indent=0.0, box=None) -> None:
        size *= self.scale
        wrapped = self._wrap(text, size, self.width - indent - (0.2 if box else 0), weight)
        x = (MARGIN + indent + (0.1 if box else 0)) / A4[0]
        t = self.fig.text(x, 1 - self.y / A4[1], wrapped, fontsize=size, fontweight=weight, color=color, va="top",
                          linespacing=1.3, bbox=box)
        self.y += t.get_window_extent(self.renderer).height / self.fig.dpi + gap * self.scale + (0.1 if box else 0)

    def chart(self, results: Results, plot: float) -> None:
        """The survival axes, `plot` inches high, with room above for the years axis and below for the labels and legend."""
        s = self.scale
        legend_rows = math.ceil(len(results.rules) / 2)
        top, bottom, left = 0.45 * s, (0.62 + 0.19 * legend_rows) * s, 0.65 * s
        with house_style(scale=0.62 * s):
            ax = self.fig.add_axes(
                ((MARGIN + left) / A4[0], 1 - (self.y + top + plot) / A4[1], (self.width - left - 0.05) / A4[0], plot / A4[1])
            )
            draw_survival(ax, results)
            ax.get_legend().set_bbox_to_anchor((0.5, -0.5 * s / plot), transform=ax.transAxes)
        self.y += top + plot + bottom

    def table(self, table: pd.DataFrame, size: float) -> None:
        size *= self.scale
        cells = [list(map(str, table.columns))] + [list(map(str, r)) for r in table.itertuples(index=False)]
        headers = [textwrap.fill(c, 16) for c in cells[0]]
        while True:
            widths = [max(self._measure(ln, size, "bold") for ln in h.split("\n")) for h in headers]
            body = [max(self._measure(r[j], size, "bold" if j == 0 else "normal") for r in cells[1:]) for j in range(len(widths))]
            widths = [max(w, b) + 0.12 for w, b in zip(widths, body)]
            if sum(widths) <= self.width or size < 5:
                break
            size -= 0.25
        line = size * 1.45 / 72
        x0 = MARGIN / A4[0]
        head_lines = max(h.count("\n") + 1 for h in headers)
        for j, h in enumerate(headers):
            self.fig.text(x0 + sum(widths[:j]) / A4[0], 1 - self.y / A4[1], h, fontsize=size, fontweight="bold", va="top", color=INK, linespacing=1.2)
        self.y += head_lines * line + 0.03
        self.fig.add_artist(_hline(self.y, self.fig))
        self.y += 0.04
        for row in cells[1:]:
            for j, v in enumerate(row):
                self.fig.text(x0 + sum(widths[:j]) / A4[0], 1 - self.y / A4[1], v, fontsize=size, va="top", color=INK,
                              fontweight="bold" if j == 0 else "normal")
            self.y += line
        self.y += 0.08

    @property
    def room(self) -> float:
        return A4[1] - MARGIN - self.y


def _hline(y: float, fig: Figure):
    from matplotlib.lines import Line2D

    yy = 1 - y / A4[1]
    return Line2D([MARGIN / A4[0], 1 - MARGIN / A4[0]], [yy, yy], transform=fig.transFigure, color=MUTED, linewidth=0.8)


def _compose(brief: Brief, results: Results, layout: tuple[float, float], max_sources: int | None) -> _Page:
    scale, chart_height = layout
    page = _Page(scale)
    page.text(brief.title, 17, weight="bold", gap=0.04)
    page.text(brief.subtitle, 9.5, color=MUTED, gap=0.16)
    page.text(brief.headline, 12, weight="bold", gap=0.16, box={"facecolor": "#EEF4FA", "edgecolor": "#0072B2", "boxstyle": "square,pad=0.5"})
    page.text("How long the deadlock lasts: share of proposals still deadlocked (95% band)", 10.5, weight="bold", gap=0.02)
    page.chart(results, chart_height)
    page.text("Summary (95% intervals)", 10.5, weight="bold", gap=0.06)
    page.table(brief.table, 8.5)
    page.text("Assumptions", 10.5, weight="bold", gap=0.04)
    for a in brief.assumptions:
        page.text("• " + a, 7.6, gap=0.02, indent=0.1)
    page.y += 0.08
    page.text("Sources", 10.5, weight="bold", gap=0.04)
    sources = brief.sources[:max_sources] if max_sources is not None else brief.sources
    rest = len(brief.sources) - len(sources)
    text = " · ".join(sources) if sources else "none listed: see scenario.yaml"
    page.text(text + (f" · and {rest} more in scenario.yaml" if rest else ""), 7, color=MUTED, gap=0.04)
    page.fig.text(MARGIN / A4[0], MARGIN * 0.6 / A4[1], brief.footer, fontsize=6.5, color=MUTED, va="bottom")
    return page


# (font scale, chart height in inches) from roomiest to tightest
LAYOUTS = ((1.0, 2.6), (0.94, 2.5), (0.88, 2.4), (0.82, 2.2), (0.76, 2.0), (0.72, 1.8))


def compose_pdf(brief: Brief, results: Results) -> Figure:
    """The A4 page, set smaller until it fits; the source list is shortened only as a last resort."""
    fits = lambda page: page.room >= 0.15  # noqa: E731
    page = _compose(brief, results, LAYOUTS[0], None)
    if fits(page):
        return page.fig
    if fits(_compose(brief, results, LAYOUTS[-1], None)):
        for layout in LAYOUTS[1:]:
            page = _compose(brief, results, layout, None)
            if fits(page):
                return page.fig
    if not fits(page := _compose(brief, results, LAYOUTS[-1], 0)):
        raise InputError("the brief does not fit on one page even at its smallest: shorten the scenario's description, title or rule names")
    lo, hi = 0, len(brief.sources)  # lo sources fit, hi do not: bisect for the most that fit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        trial = _compose(brief, results, LAYOUTS[-1], mid)
        lo, hi, page = (mid, hi, trial) if fits(trial) else (lo, mid, page)
    return page.fig


def write_brief(results: Results, folder: Path) -> tuple[Brief, list[Path]]:
    """brief.html and brief.pdf into `folder`, each written whole or not at all."""
    folder = Path(folder)
    brief = build(results)
    html_text = render_html(brief, survival_svg(results))
    with house_style():
        fig = compose_pdf(brief, results)
    paths = [folder / "brief.html", folder / "brief.pdf"]
    write_file(paths[0], lambda p: p.write_text(html_text, encoding="utf-8"))
    write_file(paths[1], lambda p: fig.savefig(p, format="pdf", facecolor="white"))
    return brief, paths
