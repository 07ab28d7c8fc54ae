"""The brief for a plenary — HTML, a one-page PDF and Markdown — rebuilt from a results folder alone, in English or French.

What it says: a headline of at most 25 plain words (the best alternative is never
named without the simplest one, a simple or two-thirds majority), every rule
under a plain label (kpsim.output.i18n), withdrawals as their own outcome, which
results are structural, the median years to adoption with intervals ("not
reached" drawn as such), who blocks, only the assumptions that apply, what the
intervals cover, and the sources as a short numbered list of publishers.

The PDF is one A4 page composed with matplotlib (no browser, no system
libraries), laid out top to bottom and measured as it goes; content that would
run past the bottom margin is set again smaller, and as a last resort the
source list is shortened with a pointer to scenario.yaml.
"""

from __future__ import annotations

import html
import io
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from kpsim.analysis.blockers import blockers_by_bloc
from kpsim.analysis.discovery import prim_lines
from kpsim.analysis.results import Results
from kpsim.analysis.thresholds import outvoted
from kpsim.atomic import claim, write_bytes, write_text
from kpsim.errors import InputError
from kpsim.output.i18n import Lang, Source, assumptions, bloc_name, language, robustness_lines, rules_compared, source_line, sources, suffix
from kpsim.output.slides import CHARTS, Outcome, chart_figure, figure_bytes, outcomes
from kpsim.output.style import INK, MUTED, house_style
from kpsim.version import __version__

A4 = (8.27, 11.69)  # inches
MARGIN = 0.6
MAX_WORDS = 25  # in the headline
EN = language("en")


# ------------------------------------------------------------------ outcomes and the headline


def baseline_rule(results: Results) -> str:
    """The status quo to compare against: consensus (or its equal, a majority of 1) if run, else the first rule."""
    rules = {r.label: r for r in results.scenario.rules}
    return next((r for r in results.rules if r in rules and rules[r].count_threshold() == 1), results.rules[0])


def simplest_rule(results: Results, exclude: str) -> str | None:
    """The simplest alternative to name beside the best one: a simple majority, else a two-thirds majority, else the
    qualified majority nearest two-thirds."""
    ranks = {}
    for r in results.scenario.rules:
        if r.label not in results.rules or r.label == exclude:
            continue
        q = r.count_threshold() if r.rule in ("simple_majority", "qualified_majority") else None
        if q is not None and q < 1:
            ranks[r.label] = (0 if r.rule == "simple_majority" or (q == 0.5 and r.tie_rule() == "fail") else 1, abs(float(q) - 2 / 3))
    return min(ranks, key=ranks.get) if ranks else None


def headline_rules(results: Results) -> list[str]:
    """Baseline, the alternative with the shortest deadlock (restricted mean), and the simplest alternative if it differs."""
    base = baseline_rule(results)
    others = [r for r in results.rules if r != base]
    if not others:
        return [base]
    mean = results.summary.set_index("rule")["mean_meetings"]
    best = min(others, key=lambda r: mean[r])
    simple = simplest_rule(results, base)
    return [base, best] + ([simple] if simple and simple != best else [])


def _off(o: Outcome, lang: Lang) -> str:
    """Withdrawals as their own outcome: " (withdrawn in 45%)", or "" when none."""
    share = o.withdrawn + o.dropped
    if share < 0.005:
        return ""
    which = lang._("withdrawn") if o.dropped < 0.005 else lang._("abandoned") if o.withdrawn < 0.005 else lang._("withdrawn or abandoned")
    return " " + lang._("({which} in {share})", which=which, share=lang.pct(share))


def _result(o: Outcome, horizon: str, lang: Lang, terse: bool) -> str:
    if o.median_meetings == 1:
        return lang._("adopted at the first meeting") if terse else lang._("is adopted at the first meeting")
    if not math.isnan(o.median_meetings):
        years = lang.years(o.median_years)
        return lang._("adopted in about {years}", years=years) if terse else lang._("is adopted in about {years}", years=years)
    if o.adopted > 0:
        share = lang.pct(o.adopted)
        return (lang._("{share} adopted within {horizon}", share=share, horizon=horizon) if terse
                else lang._("is adopted within {horizon} in only {share} of simulations", share=share, horizon=horizon))
    return lang._("not adopted within {horizon}", horizon=horizon) if terse else lang._("is not adopted within {horizon}", horizon=horizon)


def word_count(text: str) -> int:
    """Words: the tokens between spaces that hold a letter or a digit ("45 %" and "1,5 an" are two words, ";" none)."""
    return sum(any(c.isalnum() for c in token) for token in text.split())


def headline(results: Results, lang: Lang = EN) -> str:
    """The main comparison in at most 25 plain words: consensus against the best alternative and the simplest one.

    Tried in order, the first that fits: a sentence; the same as "Rule: result" pairs; the baseline against
    the simplest alternative alone (the best is never promoted without it). Alternatives with the same result share a clause.
    """
    o, cal = outcomes(results, lang), results.scenario.calendar
    horizon = lang.years(cal.horizon / cal.meetings_per_year)
    rows = [o[n] for n in headline_rules(results)]
    join = lambda rs, attr: lang._("{a} or {b}", a=", ".join(getattr(r, attr) for r in rs[:-1]), b=getattr(rs[-1], attr)) if len(rs) > 1 else getattr(rs[0], attr)  # noqa: E731

    def clauses(rows, terse):
        out: list[tuple[list[Outcome], str]] = []
        for r in rows:
            result = _result(r, horizon, lang, terse) + _off(r, lang)
            out[-1][0].append(r) if len(out) > 1 and out[-1][1] == result else out.append(([r], result))  # never into the baseline's
        return out

    first, *rest = clauses(rows, False)
    sentence = lang._("Under {rule}, the proposal {result}", rule=first[0][0].prose, result=first[1])
    sentence += "".join(lang._("; under {rule}, it {result}", rule=join(rs, "prose"), result=res) for rs, res in rest)
    terse = lambda rows: lang.sep.join(lang._("{rule}: {result}", rule=join(rs, "label"), result=res) for rs, res in clauses(rows, True))  # noqa: E731
    candidates = [sentence + ".", terse(rows) + ".", terse(rows[:1] + rows[2:]) + "."]
    fit = next((c for c in candidates if word_count(c) <= MAX_WORDS), None)
    return fit or " ".join(candidates[-1].split()[: MAX_WORDS - 1]) + " …"


# ------------------------------------------------------------------ what else the brief says


def uncertainty(results: Results, lang: Lang) -> str:
    """What the intervals cover, from the run's own meta.json (kpsim.analysis.uncertainty)."""
    meta, level = results.meta, lang.pct(0.95)
    mode = meta.get("uncertainty", "montecarlo")
    if mode == "montecarlo":
        return lang._("Intervals are {level} Monte-Carlo intervals over {n} simulated runs per rule, given the model's parameters and the "
                      "coded positions and saliences; they do not include the uncertainty of those parameters or codings, which is larger.",
                      n=lang.num(results.replications, 0), level=level)
    d, n = lang.num(meta.get("draws", 0), 0), lang.num(meta.get("replications_per_draw", 0), 0)
    if mode == "parameters" or (meta.get("posterior") and not meta.get("codings", 1)):  # full, but no coding is a range
        return lang._("Intervals are the {level} range of each figure over {d} draws of the model's parameters from their calibrated "
                      "posterior ({n} simulated runs each), widened by each draw's Monte-Carlo error; they do not include the uncertainty "
                      "of the coded positions and saliences.", level=level, d=d, n=n)
    if meta.get("posterior"):
        return lang._("Intervals are the {level} range of each figure over {d} draws of the model's parameters (from their calibrated "
                      "posterior) and of the coded positions, saliences and red lines (from the ranges the record allows), {n} simulated "
                      "runs each, widened by each draw's Monte-Carlo error: how sure the result is, given what the record leaves open.",
                      level=level, d=d, n=n)
    return lang._("Intervals are the {level} range of each figure over {d} draws of the coded positions, saliences and red lines (from "
                  "the ranges the record allows), {n} simulated runs each, widened by each draw's Monte-Carlo error; the model's "
                  "parameters are held fixed.", level=level, d=d, n=n)


def withdrawals(o: dict[str, Outcome], lang: Lang) -> list[str]:
    off = [f"{r.label} {lang.pct(r.withdrawn + r.dropped)}" for r in o.values() if r.withdrawn + r.dropped >= 0.005]
    return [lang._("Withdrawn or abandoned before adoption — its own outcome, never counted as adopted: {rules}.", rules=", ".join(off))] if off else []


def structure(results: Results, o: dict[str, Outcome], lang: Lang) -> list[str]:
    """Which results the win-set decides (structural) and which the dynamics decide, where the results folder says."""
    if "win_set" not in results.summary or "decided_by" not in results.summary:
        return []
    s, out = results.summary.set_index("rule"), []
    group = lambda ws, by: ", ".join(o[r].prose for r in results.rules if s.loc[r, "win_set"] == ws and s.loc[r, "decided_by"] == by)  # noqa: E731
    if rules := group("empty", "structural"):
        out.append(lang._("Structural: under {rules}, no text within the mandate passes with the positions as tabled, so the "
                          "proposal cannot pass unless positions move.", rules=rules))
    if rules := group("passable", "structural"):
        out.append(lang._("Structural: under {rules}, a text passes with the positions as tabled.", rules=rules))
    dynamic = [o[r].prose for r in results.rules if s.loc[r, "decided_by"] == "dynamic"]
    if len(dynamic) == len(results.rules):
        out.append(lang._("Dynamic: under every rule, the result depends on chance, moving positions and time, not on the rule alone."))
    elif dynamic:
        rules = lang._("every other rule") if len(dynamic) > 2 else ", ".join(dynamic)  # the others are the structural ones above
        out.append(lang._("Dynamic: under {rules}, the result depends on chance, moving positions and time, not on the rule alone.", rules=rules))
    return out


def top_blocker(results: Results, o: dict[str, Outcome], lang: Lang) -> list[str]:
    base = baseline_rule(results)
    b = blockers_by_bloc(results.blockers, results.scenario)
    b = b[(b["rule"] == base) & (b["failed_decisions"] > 0)].sort_values("objection_rate", ascending=False)
    if not len(b) or not b["objection_rate"].iloc[0] > 0:
        return []
    r = b.iloc[0]
    if r.bloc == "(no bloc)":
        return [lang._("Under {rule}, participants without a bloc object most often: the average one at {share} of failed meetings.",
                       rule=o[base].prose, share=lang.pct(r.objection_rate))]
    return [lang._("Under {rule}, the average member of the {bloc} bloc objects most often: at {share} of failed meetings.",
                   rule=o[base].prose, bloc=bloc_name(lang, r.bloc), share=lang.pct(r.objection_rate))]


def summary_rows(results: Results, lang: Lang = EN) -> pd.DataFrame:
    """The summary table: plain labels, figures with 95% intervals, and each rule's identifier in the files."""
    cal = results.scenario.calendar
    o, out = outcomes(results, lang), outvoted(results.runs).set_index("rule")
    any_off = any(r.withdrawn + r.dropped > 0 for r in o.values())
    rows = []
    for r in results.summary.itertuples(index=False):
        v = out.loc[r.rule]
        row = {
            lang._("Rule"): o[r.rule].label,
            lang._("Adopted within {horizon}", horizon=lang.years(cal.horizon / cal.meetings_per_year)): lang.ci(r.adopted, r.adopted_lo, r.adopted_hi, lang.pct),
            lang._("Median years to adoption"): lang.ci(r.median_years, r.median_years_lo, r.median_years_hi, lang.num),
        }
        if any_off:
            row[lang._("Withdrawn")] = lang.pct(o[r.rule].withdrawn + o[r.rule].dropped)
        row[lang._("Text surviving")] = lang.ci(r.surviving_share, r.surviving_lo, r.surviving_hi, lang.pct, nr="—")
        row[lang._("Outvoted at adoption")] = lang.ci(v.outvoted, v.outvoted_lo, v.outvoted_hi, lambda x: lang.num(x, 1), nr="—")
        if "decided_by" in results.summary:
            row[lang._("Result")] = lang._("structural") if r.decided_by == "structural" else lang._("dynamic")
        row[lang._("Name in files")] = r.rule
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ the brief


@dataclass
class Brief:
    """What the brief (and the deck, kpsim.output.slides) says, independent of its format."""

    lang: Lang
    title: str
    subtitle: str
    headline: str
    outcomes: dict[str, Outcome]
    lead: list[str]  # the headline's rules: baseline, best alternative, simplest alternative
    withdrawals: list[str]
    structure: list[str]
    changes: list[str]  # what would change the result (from a `kpsim robustness` folder, when given)
    blocker: list[str]
    uncertainty: str
    table: pd.DataFrame
    assumptions: list[str]
    rules: list[str]
    sources: list[Source]
    footer: str

    @property
    def points(self) -> list[str]:
        """What the headline cannot say: withdrawals, structural results, who blocks, what the intervals cover."""
        return [*self.withdrawals, *self.structure, *self.changes, *self.blocker, self.uncertainty]

    def prose(self) -> list[str]:
        """Every sentence a reader reads (the table's identifier column and the footer's command line excepted)."""
        return [self.title, self.subtitle, self.headline, *self.points, *self.assumptions, *self.rules, *(source_line(s, self.lang) for s in self.sources)]


def footer(results: Results, lang: Lang) -> str:
    values = {"run": results.run_id, "version": __version__, "command": results.meta.get("command", "")}
    if date := lang.date(results.meta.get("started_utc")):
        return lang._("run {run} of {date} · kpsim {version} · rebuilt from the results folder · {command}", date=date, **values)
    return lang._("run {run} · kpsim {version} · rebuilt from the results folder · {command}", **values)


def build(results: Results, lang: Lang | str = "en", robustness: Path | None = None) -> Brief:
    lang = language(lang) if isinstance(lang, str) else lang
    sc, o = results.scenario, outcomes(results, lang)
    lead = headline_rules(results)
    labels = {r: x.label for r, x in o.items()}
    titled = sc.proposal.title != "proposal"
    return Brief(
        lang=lang,
        title=lang._("{title}: what would another decision rule change?", title=sc.proposal.title if titled else sc.description or sc.name),
        subtitle=sc.description if titled else "",
        headline=headline(results, lang),
        outcomes=o,
        lead=lead,
        withdrawals=withdrawals(o, lang),
        structure=structure(results, o, lang),
        # the tornado's top lines, then where PRIM finds the baseline rule's verdict flips (kpsim robustness)
        changes=robustness_lines(robustness, labels, lead, lang) + prim_lines(robustness, labels, lead[:1], lang),
        blocker=top_blocker(results, o, lang),
        uncertainty=uncertainty(results, lang),
        table=summary_rows(results, lang),
        assumptions=assumptions(results, lang),
        rules=rules_compared(results, lang),
        sources=sources(results),
        footer=footer(results, lang),
    )


# ------------------------------------------------------------------ HTML and Markdown


def titles(lang: Lang) -> dict[str, str]:
    return {"years": lang._("How long until adoption?"), "blockers": lang._("Who blocks?"), "survival": lang._("Still deadlocked, year by year"),
            "summary": lang._("Summary ({level} intervals)", level=lang.pct(0.95)), "assumptions": lang._("Assumptions"), "rules": lang._("Rules compared"),
            "sources": lang._("Sources"), "none": lang._("none listed: see scenario.yaml")}


CSS = """body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; max-width: 190mm; margin: 2em auto; line-height: 1.4; }
h1 { font-size: 20pt; margin: 0 0 .2em; } .subtitle { color: #555; margin: 0 0 1em; } h2 { font-size: 13pt; margin: 1.2em 0 .3em; }
.headline { font-size: 15pt; font-weight: bold; background: #EEF4FA; border-left: 5px solid #0072B2; padding: .6em .8em; }
table { border-collapse: collapse; font-size: 10pt; width: 100%; } th { text-align: left; border-bottom: 2px solid #555; padding: 3px 6px; }
td { padding: 3px 6px; border-bottom: 1px solid #ddd; } td:first-child { font-weight: bold; } code { color: #555; }
ul, ol { padding-left: 1.3em; } .sources a { color: #555; } footer { font-size: 9pt; color: #777; margin-top: 1.5em; } svg { width: 100%; height: auto; }"""


def render_html(brief: Brief, svgs: dict[str, str]) -> str:
    e, t = html.escape, titles(brief.lang)
    items = lambda xs: "".join(f"<li>{e(x)}</li>" for x in xs)  # noqa: E731
    cols = list(brief.table.columns)
    cell = lambda j, v: f"<td><code>{e(str(v))}</code></td>" if j == len(cols) - 1 else f"<td>{e(str(v))}</td>"  # noqa: E731
    rows = "".join("<tr>" + "".join(cell(j, v) for j, v in enumerate(row)) + "</tr>" for row in brief.table.itertuples(index=False))
    links = lambda s: "".join(f' <a href="{e(u)}">[{k}]</a>' for k, u in enumerate(s.urls, 1))  # noqa: E731
    srcs = "".join(f"<li>{e(source_line(s, brief.lang))}{links(s)}</li>" for s in brief.sources) or f"<li>{e(t['none'])}</li>"
    charts = "".join(f"<h2>{e(t[k])}</h2>{svg}" for k, svg in svgs.items())
    return f"""<!DOCTYPE html>
<html lang="{brief.lang.code}"><head><meta charset="utf-8"><title>{e(brief.title)}</title><style>{CSS}</style></head><body>
<h1>{e(brief.title)}</h1><p class="subtitle">{e(brief.subtitle)}</p>
<p class="headline">{e(brief.headline)}</p><ul>{items(brief.points)}</ul>
{charts}
<h2>{e(t['summary'])}</h2><table><thead><tr>{''.join(f'<th>{e(c)}</th>' for c in cols)}</tr></thead><tbody>{rows}</tbody></table>
<h2>{e(t['assumptions'])}</h2><ul>{items(brief.assumptions)}</ul><h2>{e(t['rules'])}</h2><ul>{items(brief.rules)}</ul>
<h2>{e(t['sources'])}</h2><ol class="sources">{srcs}</ol><footer>{e(brief.footer)}</footer>
</body></html>
"""


def render_markdown(brief: Brief, images: dict[str, str]) -> str:
    t = titles(brief.lang)
    esc = lambda v: str(v).replace("|", "\\|")  # noqa: E731
    cols = list(brief.table.columns)
    table = ["| " + " | ".join(map(esc, cols)) + " |", "|" + "---|" * len(cols)]
    table += ["| " + " | ".join(esc(v) if j < len(cols) - 1 else f"`{v}`" for j, v in enumerate(row)) + " |" for row in brief.table.itertuples(index=False)]
    srcs = [f"{k}. {source_line(s, brief.lang)}" + "".join(f" [{j}]({u})" for j, u in enumerate(s.urls, 1)) for k, s in enumerate(brief.sources, 1)]
    out = [f"# {brief.title}", "", brief.subtitle, "", f"**{brief.headline}**", ""] + [f"- {p}" for p in brief.points] + [""]
    for key, path in images.items():
        out += [f"## {t[key]}", "", f"![{t[key]}]({path})", ""]
    out += [f"## {t['summary']}", "", *table, "", f"## {t['assumptions']}", ""] + [f"- {a}" for a in brief.assumptions]
    out += ["", f"## {t['rules']}", ""] + [f"- {r}" for r in brief.rules] + ["", f"## {t['sources']}", ""] + (srcs or [t["none"]])
    return "\n".join(out + ["", brief.footer, ""])


# ------------------------------------------------------------------ PDF: one A4 page


class _Page:
    """A top-to-bottom flow on one A4 figure; `y` is inches from the top."""

    def __init__(self, scale: float, draw: bool = True):
        self.draw = draw  # False: lay out only (the charts take their height, undrawn)
        self.fig = Figure(figsize=A4, dpi=300)  # measured at print resolution: hinting at 100 dpi narrows small text
        self.renderer = FigureCanvasAgg(self.fig).get_renderer()
        self.scale, self.width, self.y = scale, A4[0] - 2 * MARGIN, MARGIN

    def _measure(self, text: str, size: float, weight="normal") -> float:
        return self.renderer.get_text_width_height_descent(text, FontProperties(size=size, weight=weight), ismath=False)[0] / self.fig.dpi

    def _wrap(self, text: str, size: float, width: float, weight="normal") -> str:
        """Wrap to `width` inches as measured: narrow the line until the widest fits."""
        chars = int(width * 72 / (size * 0.5))
        while True:
            lines = textwrap.wrap(text, chars, break_on_hyphens=False) or [""]
            widest = max(self._measure(ln, size, weight) for ln in sorted(lines, key=len)[-8:])
            if chars < 10 or widest <= width:
                return "\n".join(lines)
            chars = min(chars - 1, int(chars * width / widest))

    def text(self, text: str, size: float, weight="normal", color=INK, gap=0.08, indent=0.0, box=None) -> None:
        size *= self.scale
        wrapped = self._wrap(text, size, self.width - indent - (0.2 if box else 0), weight)
        t = self.fig.text((MARGIN + indent + (0.1 if box else 0)) / A4[0], 1 - self.y / A4[1], wrapped, fontsize=size, fontweight=weight,
                          color=color, va="top", linespacing=1.3, bbox=box)
        self.y += t.get_window_extent(self.renderer).height / self.fig.dpi + gap * self.scale + (0.1 if box else 0)

    def charts(self, results: Results, brief: Brief, draws: list[tuple[str, float]], height: float) -> None:
        """A row of charts, (name, share of the width) each: its axes shrink until ticks, labels and legend lie within its box."""
        height *= self.scale
        gap, t, x = 0.3, titles(brief.lang), MARGIN
        free = self.width - gap * (len(draws) - 1)
        with house_style(scale=0.5 * self.scale):
            for key, share in draws if self.draw else ():
                box = (x / A4[0], 1 - (self.y + height) / A4[1], free * share / A4[0], height / A4[1])
                x += free * share + gap
                ax = self.fig.add_axes(box)
                CHARTS[key](ax, results, brief)
                ax.set_title(t[key], loc="left")
                for _ in range(3):
                    tb = ax.get_tightbbox(self.renderer).transformed(self.fig.transFigure.inverted())
                    p = ax.get_position()
                    left, bottom = p.x0 + box[0] - tb.x0, p.y0 + box[1] - tb.y0
                    right, top = p.x1 - (tb.x1 - box[0] - box[2]), p.y1 - (tb.y1 - box[1] - box[3])
                    ax.set_position([left, bottom, max(right - left, 0.05), max(top - bottom, 0.03)])
        self.y += height + 0.12 * self.scale

    def table(self, table: pd.DataFrame, size: float) -> None:
        size *= self.scale
        cells = [list(map(str, table.columns))] + [list(map(str, r)) for r in table.itertuples(index=False)]
        heads = [textwrap.fill(c, 16) for c in cells[0]]
        while True:
            widths = [max(max(self._measure(ln, size, "bold") for ln in h.split("\n")),
                          max(self._measure(r[j], size, "bold" if j == 0 else "normal") for r in cells[1:])) + 0.14 for j, h in enumerate(heads)]
            if sum(widths) <= self.width or size < 5:
                break
            size -= 0.25
        line, x = size * 1.45 / 72, np.cumsum([0] + widths) + MARGIN
        for j, h in enumerate(heads):
            self.fig.text(x[j] / A4[0], 1 - self.y / A4[1], h, fontsize=size, fontweight="bold", va="top", color=INK, linespacing=1.2)
        self.y += max(h.count("\n") + 1 for h in heads) * line + 0.06
        for row in cells[1:]:
            for j, v in enumerate(row):
                self.fig.text(x[j] / A4[0], 1 - self.y / A4[1], v, fontsize=size, va="top", color=MUTED if j == len(row) - 1 else INK,
                              fontweight="bold" if j == 0 else "normal")
            self.y += line
        self.y += 0.08

    @property
    def room(self) -> float:
        return A4[1] - MARGIN - self.y


def _compose(brief: Brief, results: Results, layout: tuple[float, float], max_sources: int | None, draw: bool = False) -> _Page:
    chart, t, page = layout[1], titles(brief.lang), _Page(layout[0], draw)
    page.text(brief.title, 16, weight="bold", gap=0.04)
    if brief.subtitle:
        page.text(brief.subtitle, 9, color=MUTED, gap=0.14)
    page.text(brief.headline, 12.5, weight="bold", gap=0.14, box={"facecolor": "#EEF4FA", "edgecolor": "#0072B2", "boxstyle": "square,pad=0.5"})
    for p in brief.points:
        page.text("• " + p, 8, gap=0.03, indent=0.1)
    page.y += 0.1
    page.charts(results, brief, [("years", 0.55), ("blockers", 0.45)], max(chart, 0.28 * len(results.rules) + 0.8))
    page.charts(results, brief, [("survival", 1.0)], chart * 0.85)
    page.text(t["summary"], 10, weight="bold", gap=0.05)
    page.table(brief.table, 7.5)
    for key, lines in (("assumptions", brief.assumptions), ("rules", brief.rules)):
        page.text(t[key], 10, weight="bold", gap=0.04)
        for a in lines:
            page.text("• " + a, 7.2, gap=0.02, indent=0.1)
        page.y += 0.06
    shown = brief.sources[:max_sources] if max_sources is not None else brief.sources
    rest = len(brief.sources) - len(shown)
    text = "   ".join(f"{k}. {source_line(s, brief.lang)}" for k, s in enumerate(shown, 1)) or t["none"]
    page.text(t["sources"], 10, weight="bold", gap=0.04)
    page.text(text + ("   " + brief.lang._("and {n} more in scenario.yaml", n=rest) if rest else ""), 7.2, color=MUTED)
    page.fig.text(MARGIN / A4[0], MARGIN * 0.5 / A4[1], page._wrap(brief.footer, 6, page.width), fontsize=6, color=MUTED, va="bottom")
    return page


# (font scale, chart height in inches) from roomiest to tightest
LAYOUTS = tuple((round(1 - 0.03 * k, 2), round(2.5 - 0.05 * k, 2)) for k in range(12))


def compose_pdf(brief: Brief, results: Results) -> Figure:
    """The A4 page, set smaller until it fits; the source list is shortened only as a last resort.

    Layouts are tried with the charts undrawn (they take a fixed height), then the one that fits is drawn."""
    fits = lambda layout, n=None: _compose(brief, results, layout, n).room >= 0.15  # noqa: E731
    if fits(LAYOUTS[-1]):
        lo, hi = -1, len(LAYOUTS) - 1  # LAYOUTS[hi] fits, LAYOUTS[lo] does not (or lo = -1): bisect for the roomiest that fits
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if fits(LAYOUTS[mid]) else (mid, hi)
        return _compose(brief, results, LAYOUTS[hi], None, draw=True).fig
    if not fits(LAYOUTS[-1], 0):
        raise InputError("the brief does not fit on one page even at its smallest: shorten the scenario's description, title or rule names")
    lo, hi = 0, len(brief.sources)  # lo sources fit, hi do not: bisect for the most that fit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(LAYOUTS[-1], mid) else (lo, mid)
    return _compose(brief, results, LAYOUTS[-1], lo, draw=True).fig


BRIEF_CHARTS = ("years", "blockers", "survival")


def write_brief(results: Results, folder: Path, lang: Lang | str = "en", robustness: Path | None = None) -> tuple[Brief, list[Path]]:
    """brief.html, brief.pdf and brief.md (brief.fr.* in French) into `folder`, with their charts as charts/brief_*.png;
    each file written whole or not at all. `robustness`: a `kpsim robustness` folder, for "what would change it"."""
    brief = build(results, lang, robustness)
    folder, sfx = Path(folder), suffix(brief.lang.code)
    figs = {k: chart_figure(CHARTS[k], results, brief, size=(7.4, 3.3 if k == "survival" else 3.6), scale=0.62) for k in BRIEF_CHARTS}
    with house_style():
        pdf = figure_bytes(compose_pdf(brief, results), "pdf")
    images = {k: f"charts/brief_{k}{sfx}.png" for k in figs}
    page = render_html(brief, {k: _svg(f) for k, f in figs.items()})
    with claim(folder):
        (folder / "charts").mkdir(exist_ok=True)
        paths = [write_text(folder / f"brief{sfx}.html", page), write_bytes(folder / f"brief{sfx}.pdf", pdf),
                 write_text(folder / f"brief{sfx}.md", render_markdown(brief, images))]
        return brief, paths + [write_bytes(folder / images[k], figure_bytes(fig)) for k, fig in figs.items()]


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", facecolor="white")
    return buf.getvalue()[buf.getvalue().index("<svg"):]
