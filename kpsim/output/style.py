"""The house style: palette, fonts, the frame every chart has (title, subtitle, footnote), saving.

Slides are read from the back of a room and printed in grey: the palette is
Okabe–Ito (safe for colour-blind readers) with a line style per rule, the
fonts are large, and every chart says what it shows (title), on what
(subtitle: scenario, rules, replications) and from where (footnote: run id,
kpsim version, sources). Uncertainty is drawn, never dropped: bands on
curves, intervals on points, and censored replications shown as such.

Figures are built with matplotlib's object API (no pyplot), so nothing here
changes the backend of a notebook that imports it; files render with Agg.
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from matplotlib import rc_context, rcParams
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from kpsim.version import __version__

# Okabe–Ito, with Tol's olive in place of its yellow, which all but vanishes on white
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999933"]
LINESTYLES = ["-", "--", "-.", ":"]
INK, MUTED, GRID = "#222222", "#555555", "#DDDDDD"
CENSORED = "#888888"  # still open at the horizon: hatched in this grey
WITHDRAWN = "#BBBBBB"  # withdrawn before adoption: solid, so it stays apart from the hatching in grey print
SLIDE = (12.0, 6.75)  # inches, 16:9
DPI = 200
FORMATS = ("png", "svg")  # by default: PNG for slides, SVG for print and editing (PDF on request: it takes as long as the other two)
ALL_FORMATS = ("png", "svg", "pdf")

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 14,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 14,
    "axes.labelcolor": INK,
    "axes.edgecolor": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.8,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.fontsize": 12,
    "legend.frameon": False,
    "lines.linewidth": 2.5,
    # unhinted glyphs, as in SVG and PDF: the same shapes and widths at 200 dpi, drawn a third faster (no hinting bytecode per glyph)
    "text.hinting": "no_hinting",
    "svg.fonttype": "none",  # text stays text in SVG: searchable, editable
    "pdf.fonttype": 42,  # TrueType in PDF: editable in slide software
}


_SCALED = {"size", "titlesize", "labelsize", "fontsize", "linewidth"}


@contextmanager
def house_style(scale: float = 1.0):
    """The style for a slide; `scale` < 1 shrinks text and lines for a chart set into a page."""
    with rc_context({k: v * scale if isinstance(v, (int, float)) and k.split(".")[-1] in _SCALED else v for k, v in STYLE.items()}):
        yield


def marker_size(points: float) -> float:
    """A marker size in step with the current font scale."""
    return points * rcParams["font.size"] / STYLE["font.size"]


def rule_styles(rules: list[str]) -> dict[str, dict]:
    """The same colour and line style for a rule on every chart of a run."""
    return {r: {"color": OKABE_ITO[i % len(OKABE_ITO)], "linestyle": LINESTYLES[i % len(LINESTYLES)]} for i, r in enumerate(rules)}


def _source_label(source: str) -> str:
    """URLs by their site, other sources as written (shortened): a footnote, not a bibliography."""
    url = urlparse(source.strip())
    if url.scheme in ("http", "https") and url.netloc:
        return url.netloc.removeprefix("www.")
    return textwrap.shorten(source.strip(), 50, placeholder="…")


def sources_line(sources: list[str], width: int) -> str:
    """The scenario's sources in at most about `width` characters, the rest counted."""
    if not sources:
        return "sources: see scenario.yaml"
    labels = list(dict.fromkeys(_source_label(s) for s in sources))
    shown = []
    for lab in labels:
        if len("; ".join(shown + [lab])) > width - 40:
            break
        shown.append(lab)
    rest = len(labels) - len(shown)
    return "sources: " + "; ".join(shown) + (f"; and {rest} more in scenario.yaml" if rest else "")


def frame(fig: Figure, results, title: str, subtitle: str, note: str = "") -> None:
    """Title and subtitle on top, footnote at the bottom, the axes laid out in between."""
    width_in, height_in = fig.get_size_inches()
    chars = int(width_in * 72 / (13 * 0.56))
    sub = "\n".join(textwrap.wrap(subtitle, chars))
    foot_chars = int(width_in * 72 / (10 * 0.56))
    foot = f"run {results.run_id} · kpsim {__version__} · " + sources_line(results.scenario.sources, foot_chars * 2)
    foot = "\n".join(textwrap.wrap(foot, foot_chars) + textwrap.wrap(note, foot_chars))
    pad = 0.18
    top_in = pad + 20 * 1.3 / 72 + (sub.count("\n") + 1) * 13 * 1.35 / 72 + 0.15
    bottom_in = pad + (foot.count("\n") + 1) * 10 * 1.35 / 72 + 0.1
    fig.text(0.012, 1 - pad / height_in, title, fontsize=20, fontweight="bold", color=INK, va="top")
    fig.text(0.012, 1 - (pad + 20 * 1.45 / 72) / height_in, sub, fontsize=13, color=MUTED, va="top", linespacing=1.35)
    fig.text(0.012, pad / height_in, foot, fontsize=10, color=MUTED, va="bottom", linespacing=1.35)
    fig.get_layout_engine().set(rect=(0.005, bottom_in / height_in, 0.99, 1 - (top_in + bottom_in) / height_in))


def subtitle(results, rules: list[str] | None = None, extra: str = "", replications: bool = True) -> str:
    """Scenario, proposal, rules and replications: what every chart is about (no replications for exact figures)."""
    rules = rules or results.rules
    prop = results.scenario.proposal.title
    parts = [f"Scenario {results.scenario.name}" + (f" — {prop}" if prop and prop != "proposal" else "")]
    parts.append(f"rules: {', '.join(rules)}")
    if replications:
        meta = getattr(results, "meta", None) or {}
        mode = meta.get("uncertainty", "montecarlo")
        full = ("of the parameters and codings" if meta.get("codings", 1) else "of the parameters (no coding is a range)") if meta.get("posterior") \
            else "of the codings"
        drawn = {"parameters": "of the parameters", "full": full}
        over = f" ({mode}: over {meta.get('draws', 0)} draws {drawn[mode]})" if mode in drawn else ""
        parts.append(f"{results.replications:,} replications per rule{over}")
    return " · ".join(parts + ([extra] if extra else []))


def figure(size=SLIDE) -> Figure:
    return Figure(figsize=size, layout="constrained")


def nothing_to_show(fig: Figure, message: str) -> None:
    """Say so in the chart, rather than leave an empty frame that looks like a failure."""
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=16, color=MUTED, wrap=True, transform=ax.transAxes)


def percent_axis(ax, axis="y"):
    """Tick labels in percent."""
    getattr(ax, f"{axis}axis").set_major_formatter(PercentFormatter(1.0, decimals=0))


def save(fig: Figure, folder: Path, name: str, formats=None) -> list[Path]:
    """PNG at 200 dpi for slides, SVG (and PDF, on request) for print and editing: one figure, laid out once.

    The first save runs the layout; the others reuse it (the layout engine is
    frozen), so the files agree and the layout is not paid again.
    PNG compression level 3 instead of 6: a third less time encoding, files 2–5% larger.
    PDF costs most (fontTools subsets the fonts for every file), hence not by default.
    """
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    with house_style():
        for i, fmt in enumerate(formats or FORMATS):
            path = folder / f"{name}.{fmt}"
            extra = {"pil_kwargs": {"compress_level": 3}} if fmt == "png" else {}
            fig.savefig(path, dpi=DPI if fmt == "png" else "figure", facecolor="white", **extra)
            paths.append(path)
            if i == 0:
                fig.set_layout_engine("none")  # keeps the positions the layout just computed
    return paths
