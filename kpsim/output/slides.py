"""The plenary deck: a 16:9 PPTX of six slides (python-pptx), and the charts it shares with the brief.

Slides: the headline; adopted, withdrawn or still deadlocked by rule; years to
adoption; who blocks; what would change the result (said honestly when no
robustness analysis was run); sources. Every text is at least 18 pt; every chart
on a slide is also saved at 16:9 as DIR/charts/slide_<n>_<name>.png. The charts
are drawn from a Brief (kpsim.output.report.build), so the deck and the brief
say the same thing in the same words and language; the brief sets the same
charts smaller.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Inches, Pt

from kpsim.analysis.blockers import blockers_by_bloc
from kpsim.analysis.survival import kaplan_meier
from kpsim.atomic import claim, write_bytes, write_file
from kpsim.output.chart_data import ChartData, from_draws, survival_band
from kpsim.output.i18n import Lang, bloc_name, rule_labels, source_line, suffix
from kpsim.output.style import (
    CENSORED,
    INK,
    MUTED,
    SLIDE,
    house_style,
    percent_axis,
    rule_styles,
)

# ------------------------------------------------------------------ outcomes


@dataclass
class Outcome:
    """One rule's result in plain terms; shares of all runs, years from the Kaplan–Meier median."""

    name: str
    label: str
    prose: str
    adopted: float
    median_meetings: float
    median_years: float
    withdrawn: float  # withdrawn (an event) before adoption
    dropped: float  # abandoned after too many failed meetings
    blocked: float  # still deadlocked at the horizon
    mean_meetings: float
    verdict: str | None  # "structural" / "dynamic", where the results folder says


def _share_column(summary: pd.DataFrame) -> str | None:
    """summary.csv's share withdrawn (withdraw events and abandon_after alike), where the folder has one."""
    cols = [c for c in summary.columns if "withdrawn" in c and not c.endswith(("_lo", "_hi", "_min", "_max"))]
    return "withdrawn" if "withdrawn" in cols else cols[0] if cols else None


def outcomes(results, lang: Lang) -> dict[str, Outcome]:
    """Each rule's result in plain terms, by its identifier: what the headline, the table and every chart read."""
    words = rule_labels([r for r in results.scenario.rules if r.label in results.rules], lang)
    s = results.summary.set_index("rule")
    col = _share_column(results.summary)
    runs = results.runs.groupby("rule", sort=False)
    out = {}
    for name in results.rules:
        row, g = s.loc[name], runs.get_group(name)
        off = float(g["abandoned"].mean())
        withdrawn = float(row[col]) if col else float(g["withdrawn"].mean()) if "withdrawn" in g else 0.0
        w = words.get(name)
        out[name] = Outcome(
            name, w.label if w else name, w.prose if w else name, float(row.adopted), float(row.median_meetings), float(row.median_years),
            withdrawn, max(0.0, off - withdrawn), float(row.deadlocked_at_horizon), float(row.mean_meetings),
            row.get("decided_by") if isinstance(row.get("decided_by"), str) else None,
        )
    return out


# ------------------------------------------------------------------ charts: (ax, results, brief)


def _wrap(text: str, width: int = 26) -> str:
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def years_panel(ax, results, brief, rules: list[str] | None = None) -> None:
    """Median years to adoption, dot, with its 95% interval, line; a median not reached within the horizon is a hatched
    bar to the horizon that says so, and an open upper limit an arrow."""
    lang, cal = brief.lang, results.scenario.calendar
    horizon = cal.horizon / cal.meetings_per_year
    rules = rules or results.rules
    s, styles = results.summary.set_index("rule"), rule_styles(results.rules)
    for y, r in enumerate(rules):
        row, colour = s.loc[r], styles[r]["color"]
        if math.isnan(row.median_years):
            ax.barh(y, horizon, height=0.56, color="white", edgecolor=CENSORED, hatch="///", linewidth=1)
            note = lang._("not reached in {horizon}", horizon=lang.years(horizon))
            note += " · " + lang._("{share} adopted", share=lang.pct(row.adopted)) if row.adopted > 0 else ""
            ax.text(horizon * 0.02, y, note, va="center", ha="left", fontsize="small", color=INK, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5})
            continue
        open_hi = math.isnan(row.median_years_hi)
        hi = horizon if open_hi else row.median_years_hi
        ax.plot([row.median_years_lo, hi], [y, y], color=colour, linewidth=4, solid_capstyle="butt")
        if open_hi:
            ax.annotate("", (horizon, y), (row.median_years, y), arrowprops={"arrowstyle": "->", "color": colour, "linewidth": 2})
        ax.plot([row.median_years], [y], "o", color=colour, markersize=9, markeredgecolor="white")
        text = lang.years(row.median_years) + (" (" + lang._("upper limit not reached") + ")" if open_hi else "")
        ax.annotate(text, (hi, y), xytext=(6, 0), textcoords="offset points", va="center", fontsize="small", color=INK)
    ax.set_yticks(range(len(rules)), [_wrap(brief.outcomes[r].label, 34) for r in rules])
    ax.set_ylim(len(rules) - 0.5, -0.5)
    ax.set_xlim(0, horizon * 1.3)
    ax.axvline(horizon, color=MUTED, linewidth=1, linestyle=":")
    ax.set_xticks([t for t in ax.get_xticks() if 0 <= t <= horizon])
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(_wrap(lang._("Median years to adoption (dot) and {level} interval (line); dotted: the horizon", level=lang.pct(0.95)), 46))


def blockers_panel(ax, results, brief, rules: list[str] | None = None) -> None:
    """Per bloc (the seven with most members objecting), how many of its members object at a failed meeting, on average,
    under the baseline and the headline's last alternative, and which member objects most (a bloc where two members
    always object is not hidden behind a low average rate)."""
    lang, styles = brief.lang, rule_styles(results.rules)
    b = blockers_by_bloc(results.blockers, results.scenario)
    failed = b.groupby("rule", sort=False)["failed_decisions"].max()
    rules = [r for r in (rules or dict.fromkeys([brief.lead[0], brief.lead[-1]])) if failed.get(r, 0) > 0]
    if not rules:
        ax.axis("off")
        ax.text(0.5, 0.5, _wrap(lang._("Nobody blocked: every decision passed at its first meeting."), 40), ha="center", va="center", color=MUTED)
        return
    table = lambda col: b[b["rule"].isin(rules)].pivot_table(index="bloc", columns="rule", values=col, sort=False).reindex(columns=rules)  # noqa: E731
    members, top_rate = table("members_objecting"), table("top_objection_rate")
    top = b[b["rule"].isin(rules)].pivot(index="bloc", columns="rule", values="top_actor").reindex(columns=rules)
    order = members.max(axis=1).sort_values(ascending=False, kind="stable").index[:7]
    h = 0.8 / len(rules)
    for k, r in enumerate(rules):
        y = np.arange(len(order)) - 0.4 + h * (k + 0.5)
        v = members.loc[order, r].fillna(0).to_numpy()
        ax.barh(y, v, height=h * 0.9, color=styles[r]["color"], label=brief.outcomes[r].label)
        for yi, vi, who, rate in zip(y, v, top.loc[order, r], top_rate.loc[order, r].fillna(0)):
            note = lang.num(vi) + ("" if not isinstance(who, str) or not who or rate < 0.01 else
                                   " · " + lang._("most: {actor} {rate}", actor=who, rate=lang.pct(rate)))
            ax.annotate(note, (vi, yi), xytext=(4, 0), textcoords="offset points", va="center", fontsize="x-small", color=INK)
    ax.set_yticks(range(len(order)), [_wrap(bloc_name(lang, x), 22) for x in order])
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlim(0, max(0.5, float(np.nanmax(members.to_numpy()))) * 1.6)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(_wrap(lang._("Members objecting at a failed meeting (average), and the member who objects most"), 46))
    ax.legend(loc="lower right", fontsize="x-small")


def survival_panel(ax, results, brief) -> None:
    """Share still deadlocked by year, per rule; curves that lie on each other (within 1 point) are drawn once and
    labelled as a group ("6 rules: never adopted")."""
    lang, cal, styles = brief.lang, results.scenario.calendar, rule_styles(results.rules)
    bands = ChartData.of(results)  # the endings (per draw too, for the bands) counted once, not once per rule
    shade = 0.08 if from_draws(bands) else 0.15  # ranges across draws are wide and overlap: lighter, as on the chart
    kms = {r: kaplan_meier(g["meetings"].to_numpy(), g["censored"].to_numpy()) for r, g in results.runs.groupby("rule", sort=False)}
    grid = np.arange(cal.horizon + 1)
    groups: list[list[str]] = []
    for r in results.rules:
        same = next((g for g in groups if np.max(np.abs(kms[g[0]].at(grid) - kms[r].at(grid))) <= 0.01), None)
        same.append(r) if same else groups.append([r])
    for g in groups:
        km, st, labels = kms[g[0]], styles[g[0]], [brief.outcomes[r].label for r in g]
        end = cal.horizon if km.survival[-1] == 0 or km.times[-1] >= cal.horizon else km.times[-1]
        meetings = np.concatenate(([0.0], km.times, [end]))
        x = meetings / cal.meetings_per_year
        what = lang._("never adopted") if all(brief.outcomes[r].adopted == 0 for r in g) else lang._("the same curve")
        if len(g) == 1:
            label = _wrap(lang._("{rule}: {result}", rule=labels[0], result=what) if what == lang._("never adopted") else labels[0], 40)
        else:
            label = lang._("{rule}: {result}", rule=lang.ngettext("{n} rule", "{n} rules", len(g)), result=what) + "\n" + _wrap(", ".join(labels), 40)
        ax.step(x, np.concatenate(([1.0], km.survival, [km.survival[-1]])), where="post", label=label, linewidth=3.5 if len(g) > 1 else 2, **st)
        if len(g) == 1:
            band = x <= km.times[-1] / cal.meetings_per_year
            lo, hi = survival_band(bands, g[0], km, meetings)
            ax.fill_between(x[band], lo[band], hi[band], step="post", color=st["color"], alpha=shade, linewidth=0)
    ax.set_xlim(0, cal.horizon / cal.meetings_per_year)
    ax.set_ylim(-0.01, 1.02)
    percent_axis(ax)
    ax.set_xlabel(lang._("Years since the proposal was tabled"))
    ax.set_ylabel(lang._("Still deadlocked"))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="x-small", handlelength=2.5)


def outcome_panel(ax, results, brief) -> None:
    """Per rule, every run's outcome by the horizon: adopted, withdrawn or abandoned, still deadlocked (never counted as adopted)."""
    lang, cal, styles = brief.lang, results.scenario.calendar, rule_styles(results.rules)
    bands = ChartData.of(results)  # the endings (per draw too, for the bands) counted once, not once per rule
    shade = 0.08 if from_draws(bands) else 0.15  # ranges across draws are wide and overlap: lighter, as on the chart
    horizon = lang.years(cal.horizon / cal.meetings_per_year)
    off_label, open_label = lang._("withdrawn or abandoned"), lang._("still deadlocked after {horizon}", horizon=horizon)
    any_off = any(o.withdrawn + o.dropped > 0 for o in brief.outcomes.values())
    for y, r in enumerate(results.rules):
        o = brief.outcomes[r]
        off = o.withdrawn + o.dropped
        ax.barh(y, o.adopted, color=styles[r]["color"], height=0.6)
        ax.barh(y, off, left=o.adopted, color=CENSORED, height=0.6, label=off_label if any_off and y == 0 else None)
        ax.barh(y, max(0.0, 1 - o.adopted - off), left=o.adopted + off, color="white", edgecolor=CENSORED, hatch="///", height=0.6,
                label=open_label if y == 0 else None)
        ax.annotate(lang._("{share} adopted", share=lang.pct(o.adopted)), (1, y), xytext=(8, 0), textcoords="offset points", va="center",
                    fontsize="small", color=INK)
    ax.set_yticks(range(len(results.rules)), [_wrap(brief.outcomes[r].label, 34) for r in results.rules])
    ax.set_ylim(len(results.rules) - 0.5, -0.5)
    ax.set_xlim(0, 1.32)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1])
    percent_axis(ax, "x")
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(_wrap(lang._("Share of simulated runs; coloured: adopted within {horizon}", horizon=horizon), 46))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, fontsize="small")


CHARTS = {"years": years_panel, "blockers": blockers_panel, "survival": survival_panel, "outcome": outcome_panel}


def chart_figure(draw, results, brief, size=SLIDE, scale: float = 1.0) -> Figure:
    with house_style(scale=scale):
        fig = Figure(figsize=size, layout="constrained")
        draw(fig.add_subplot(), results, brief)
    return fig


def figure_bytes(fig: Figure, fmt: str = "png", dpi: int = 200) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white")
    return buf.getvalue()


# ------------------------------------------------------------------ the deck

WIDE, HIGH = 40 / 3, 7.5  # inches: exactly 16:9 (12,192,000 × 6,858,000 EMU)
BODY, SMALL, TITLE = 20, 18, 30  # points; nothing on a slide is smaller than 18
ACCENT = RGBColor(0x00, 0x72, 0xB2)


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#"))


def _text(slide, box: tuple[float, float, float, float], paragraphs: list[str], size: int = BODY, bold: bool = False, colour: str = INK,
          fill: RGBColor | None = None, bullet: bool = False) -> None:
    """A text box at (left, top, width, height) inches; every run set to `size` points."""
    shape = slide.shapes.add_textbox(*(Inches(v) for v in box))
    if fill is not None:
        shape.fill.solid()
        shape.fill.fore_color.rgb = fill
    frame = shape.text_frame
    frame.word_wrap = True
    for k, text in enumerate(paragraphs):
        p = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        p.space_after = Pt(8)
        run = p.add_run()
        run.text = ("• " if bullet else "") + text
        run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, _rgb(colour)


def _slide(deck, title: str):
    slide = deck.slides.add_slide(deck.slide_layouts[6])  # blank
    _text(slide, (0.5, 0.25, 12.3, 1.15), [title], size=TITLE, bold=True)
    return slide


def _picture(slide, png: bytes, left: float, top: float, width: float) -> None:
    slide.shapes.add_picture(io.BytesIO(png), Inches(left), Inches(top), width=Inches(width))


def robustness_note(folder: Path, lang, brief=None) -> str:
    """What the results folder (or the robustness folder given to the brief) says about robustness, and nothing it does not."""
    if brief is not None and brief.changes:
        return " ".join(brief.changes)
    found = sorted(p.name for p in Path(folder).glob("robustness*") if p.is_file())
    if found:
        return lang._("Robustness results in this folder: {files}.", files=", ".join(found))
    return lang._("Robustness analysis not run: nothing here yet says which codings or parameters would flip these results.")


def deck(results, brief, folder: Path) -> tuple[Presentation, dict[str, bytes]]:
    """The presentation and the PNG of each slide's chart, by file name."""
    lang, sfx = brief.lang, suffix(brief.lang.code)
    cal = results.scenario.calendar
    horizon = lang.years(cal.horizon / cal.meetings_per_year)
    pngs = {}

    def chart(n: int, name: str, draw) -> bytes:
        pngs[f"slide_{n}_{name}{sfx}.png"] = png = figure_bytes(chart_figure(draw, results, brief, scale=1.6))
        return png

    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(WIDE), Inches(HIGH)
    topic = results.scenario.proposal.title if results.scenario.proposal.title != "proposal" else brief.title
    s = _slide(prs, textwrap.shorten(topic, 95, placeholder="…"))  # two lines at most; the headline answers the question
    _text(s, (0.5, 1.45, 12.3, 1.45), [brief.headline], size=26, bold=True, fill=_rgb("#EEF4FA"))
    _picture(s, chart(1, "headline", lambda ax, r, b: years_panel(ax, r, b, b.lead)), 0.5, 3.1, 7.4)
    _text(s, (8.2, 3.2, 4.6, 4.0), [brief.uncertainty], size=SMALL, colour=MUTED)

    s = _slide(prs, lang._("Adopted, withdrawn or still deadlocked after {horizon}?", horizon=horizon))
    _picture(s, chart(2, "deadlock", outcome_panel), 0.4, 1.4, 9.0)
    _text(s, (9.6, 1.6, 3.4, 5.4), brief.withdrawals or [lang._("Hatched: still deadlocked at the horizon — never counted as adopted.")], size=SMALL)

    s = _slide(prs, lang._("How long until adoption?"))
    _picture(s, chart(3, "years", years_panel), 0.4, 1.4, 9.0)
    _text(s, (9.6, 1.6, 3.4, 5.4), [lang._("Median: the time by which half of the simulated runs have adopted the proposal.")], size=SMALL)

    s = _slide(prs, lang._("Who blocks?"))
    _picture(s, chart(4, "blockers", blockers_panel), 0.4, 1.4, 9.0)
    _text(s, (9.6, 1.6, 3.4, 5.4), brief.blocker or [lang._("Nobody blocked.")], size=SMALL)

    s = _slide(prs, lang._("What would change the result?"))
    _text(s, (0.5, 1.5, 12.3, 5.6), [*(brief.changes or [robustness_note(folder, lang)]), *brief.structure], bullet=True)

    s = _slide(prs, lang._("Sources"))
    items = [f"{k}. {source_line(x, lang)}" for k, x in enumerate(brief.sources, 1)] or [lang._("none listed: see scenario.yaml")]
    if len(items) > 16:
        items = items[:15] + [lang._("and {n} more in scenario.yaml", n=len(items) - 15)]
    half = math.ceil(len(items) / 2) if len(items) > 8 else len(items)
    _text(s, (0.5, 1.4, 6.1, 5.0), items[:half], size=SMALL)
    _text(s, (6.8, 1.4, 6.1, 5.0), items[half:] or [""], size=SMALL)
    _text(s, (0.5, 6.5, 12.3, 0.9), [textwrap.shorten(brief.footer, 150, placeholder="…")], size=SMALL, colour=MUTED)
    return prs, pngs


def write_slides(results, brief, folder: Path) -> list[Path]:
    """DIR/slides.pptx (slides.fr.pptx in French) and each slide's chart as DIR/charts/slide_*.png, each written whole or not at all."""
    folder = Path(folder)
    prs, pngs = deck(results, brief, folder)
    with claim(folder):
        (folder / "charts").mkdir(exist_ok=True)
        paths = [write_bytes(folder / "charts" / name, data) for name, data in pngs.items()]
        return [write_file(folder / f"slides{suffix(brief.lang.code)}.pptx", lambda tmp: prs.save(str(tmp)))] + paths
