"""The browser view: step through one plenary process, then compare the rules (mesa SolaraViz).

`kpsim app` serves `Page` with solara. The sidebar's controls choose the
scenario, the rule and the seed (press Reset to apply them); Step holds one
meeting. The first tab shows who supports, abstains or objects, bloc by bloc,
and where the text stands between the status quo, the reservation point and
the proposal; the second runs a small comparison of every rule on the same
random draws and draws its survival chart.
"""

from __future__ import annotations

import html
import io
from functools import cache
from pathlib import Path

import numpy as np
import solara
import solara.lab
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from mesa.visualization import SolaraViz
from mesa.visualization.utils import update_counter

from kpsim.analysis.compare import compare
from kpsim.model.plenary import PlenaryModel
from kpsim.output.charts import survival_chart
from kpsim.output.style import GRID, INK, MUTED, OKABE_ITO, house_style
from kpsim.rules import ABSTAIN, OBJECT, STANCE_NAMES, SUPPORT
from kpsim.scenario.load import load_tree, validate_tree
from kpsim.scenario.schema import Scenario

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
DEFAULT_SCENARIO = "kp_definition_reform"
COMPARISON_REPS = 300

# Okabe–Ito blue and vermillion, and a light grey: apart for colour-blind readers; the glyphs keep them apart in grey print
STANCE_STYLE = {
    SUPPORT: (OKABE_ITO[0], "✓"),
    ABSTAIN: ("#BBBBBB", "–"),
    OBJECT: (OKABE_ITO[1], "✗"),
}


@cache
def bundled() -> dict[str, Scenario]:
    """Every complete scenario under scenarios/, by name; fragments (a roster, the fitted dynamics) are skipped."""
    out = {}
    for path in sorted(SCENARIO_DIR.rglob("*.yaml")):
        tree = load_tree(path)
        if {"name", "proposal", "rules"} <= set(tree):
            sc = validate_tree(tree)
            out[sc.name] = sc
    return out


def rule_labels() -> list[str]:
    """Every rule name used by a bundled scenario, in order of first appearance."""
    return list(dict.fromkeys(r.label for sc in bundled().values() for r in sc.rules))


class PlenaryView(PlenaryModel):
    """One recorded replication of a bundled scenario, built from the sidebar's controls.

    A rule the scenario does not define falls back to the scenario's first
    rule (`rule_note` says so), so every combination of controls shows something.
    """

    def __init__(self, scenario_name: str = DEFAULT_SCENARIO, rule: str = "consensus", seed: int = 0):
        # not `scenario`: SolaraViz's Reset passes mesa's own scenario object under that name
        sc = bundled()[scenario_name].model_copy(update={"seed": int(seed)})
        labels = [r.label for r in sc.rules]
        self.rule_note = "" if rule in labels else f"Rule {rule!r} is not in this scenario; showing {labels[0]!r}."
        super().__init__(sc, rule if rule in labels else labels[0], replications=1, record=True)


# ------------------------------------------------------------------ figures


def png(fig: Figure) -> bytes:
    """The figure as the browser shows it: in the house style, at screen resolution."""
    buf = io.BytesIO()
    with house_style():
        fig.savefig(buf, format="png", dpi=100, facecolor="white")
    return buf.getvalue()


def groups(model: PlenaryModel) -> list[tuple[str, list]]:
    """Participants by bloc (largest bloc first, unaligned last), then the observers."""
    parts = model.actors[: model.n_participants]
    blocs = {}
    for a in parts:
        blocs.setdefault(a.entry.bloc, []).append(a)
    named = sorted((b for b in blocs if b is not None), key=lambda b: (-len(blocs[b]), b))
    out = [(b, blocs[b]) for b in named]
    if None in blocs:
        out.append(("no bloc", blocs[None]))
    observers = model.actors[model.n_participants :]
    if observers:
        votes = "vote in their chambers" if model.rule.observers_vote else "lobby, no vote"
        out.append((f"observers ({votes})", observers))
    return out


def short(name: str, width: int = 12) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def stance_figure(model: PlenaryModel, columns: int = 9) -> Figure:
    """One tile per actor, grouped by bloc, coloured by its stance at the last meeting."""
    voted = model.meeting > 0
    rows = []  # (label, actors) per line of tiles; a header line has no actors
    for label, members in groups(model):
        counts = ""
        if voted:
            s = [int(a.stance[0]) for a in members]
            counts = " · " + ", ".join(f"{s.count(k)} {STANCE_NAMES[k]}" for k in (SUPPORT, ABSTAIN, OBJECT) if s.count(k))
        rows.append((f"{label} ({len(members)}){counts}", None))
        rows += [(None, members[i : i + columns]) for i in range(0, len(members), columns)]
    fig = Figure(figsize=(9, 0.42 + 0.36 * sum(r[1] is None for r in rows) + 0.62 * sum(r[1] is not None for r in rows)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    height = sum(0.5 if r[1] is None else 1.0 for r in rows) + 0.9
    ax.set_xlim(-0.15, columns + 0.15)
    ax.set_ylim(height, 0)
    title = f"Stances at meeting {model.meeting}" if voted else "No meeting yet: press Step"
    ax.text(0, 0.3, title, fontsize=13, fontweight="bold", color=INK, va="center")
    y = 0.9
    for label, members in rows:
        if members is None:
            ax.text(0, y + 0.3, label, fontsize=10.5, color=INK, va="center", fontweight="bold")
            y += 0.5
            continue
        for i, a in enumerate(members):
            colour, glyph = STANCE_STYLE[int(a.stance[0])] if voted else ("white", "")
            ax.add_patch(FancyBboxPatch((i + 0.06, y + 0.05), 0.28, 0.42, boxstyle="round,pad=0.02", facecolor=colour, edgecolor=MUTED, linewidth=0.6))
            ax.text(i + 0.2, y + 0.27, glyph, ha="center", va="center", color="white" if glyph != "–" else INK, fontsize=10, fontweight="bold")
            ax.text(i + 0.38, y + 0.27, short(a.entry.id), ha="left", va="center", fontsize=7.5, color=INK)
        y += 1.0
    handles = [(c, g, STANCE_NAMES[k]) for k, (c, g) in STANCE_STYLE.items()]
    for j, (c, g, name) in enumerate(handles):
        x = columns - 3.2 + j * 1.1
        ax.add_patch(FancyBboxPatch((x, 0.12), 0.22, 0.34, boxstyle="round,pad=0.02", facecolor=c, edgecolor=MUTED, linewidth=0.6))
        ax.text(x + 0.11, 0.29, g, ha="center", va="center", color="white" if g != "–" else INK, fontsize=9, fontweight="bold")
        ax.text(x + 0.3, 0.29, name, va="center", fontsize=9.5, color=INK)
    return fig


def text_figure(model: PlenaryModel) -> Figure:
    """The text at every meeting so far, against the status quo, the reservation point and the proposal."""
    prop = model.spec.proposal
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    horizon = model.spec.calendar.horizon
    right = min(horizon, max(10, model.meeting + 2))
    if prop.reservation is not None:
        ax.axhspan(min(prop.reservation, prop.position), max(prop.reservation, prop.position), color=OKABE_ITO[5], alpha=0.12, linewidth=0)
    for value, name, style in (
        (prop.status_quo, "status quo", "--"),
        (prop.position, "proposal as tabled", "-"),
        (prop.reservation, "reservation point (the chair amends no further)", ":"),
    ):
        if value is not None:
            ax.axhline(value, color=MUTED, linestyle=style, linewidth=1.5)
            ax.annotate(name, (right, value), xytext=(-4, 4), textcoords="offset points", ha="right", va="bottom", fontsize=10, color=MUTED)
    t = [0] + [m.number for m in model.history]
    x = [prop.position] + [float(m.text[0]) for m in model.history]
    ax.plot(t, x, color=OKABE_ITO[0], marker="o", markersize=5, linewidth=2)
    failed = [(m.number, float(m.text[0])) for m in model.history if not m.adopted[0]]
    if failed:
        ax.plot(*zip(*failed), linestyle="none", marker="o", markersize=7, markerfacecolor="white", markeredgecolor=OKABE_ITO[1], markeredgewidth=2, label="failed meeting")
    if model.adopted[0]:
        ax.plot(t[-1], x[-1], marker="*", markersize=18, color=OKABE_ITO[2], linestyle="none", label=f"adopted at meeting {t[-1]}")
    ax.set_xlim(0, right)
    ax.set_ylim(-0.05, 1.12)
    ax.set_xlabel(f"Meeting (horizon {horizon})", fontsize=11)
    ax.set_ylabel("Position of the text", fontsize=11)
    ax.set_title("Where the text stands", fontsize=13, loc="left", fontweight="bold")
    ax.tick_params(labelsize=10)
    ax.grid(color=GRID)
    if failed or model.adopted[0]:
        ax.legend(loc="center right", fontsize=10)
    return fig


# ------------------------------------------------------------------ panels


def plural(n: float, unit: str) -> str:
    return f"{n:g} {unit}" + ("" if n == 1 else "s")


def decision(model: PlenaryModel) -> list[str]:
    """The meeting counter and what the last meeting decided, as lines of HTML."""
    cal = model.spec.calendar
    p = model.n_participants
    e = html.escape
    lines = [
        f"<b>Meeting {model.meeting} of {cal.horizon}</b> ({plural(model.meeting / cal.meetings_per_year, 'year')})",
        f"Rule <b>{e(model.rule.label)}</b>: {e(model.rule.summary)}.",
    ]
    if model.rule_note:
        lines.append(e(model.rule_note))
    if model.meeting == 0:
        return lines + ["Decision: none yet. The text is tabled at the proposal's position."]
    last = model.history[-1].stances[0, :p]
    tally = ", ".join(f"{int((last == k).sum())} {STANCE_NAMES[k]}" for k in (SUPPORT, ABSTAIN, OBJECT))
    objectors = e(", ".join(model.actor_ids[i] for i in np.flatnonzero(last == OBJECT)))
    if model.adopted[0]:
        verdict = f"<b>adopted</b> at meeting {model.meeting}" + (f"; outvoted: {objectors}" if objectors else ", nobody objecting")
    elif model.abandoned[0]:
        verdict = f"<b>abandoned</b> after {model.failures[0]} failed meetings (censored)"
    elif not model.running:
        verdict = f"<b>not adopted</b> within the horizon of {cal.horizon} meetings (censored)"
    else:
        verdict = "<b>not adopted</b>" + (f"; objected: {objectors}" if objectors else "")
    return lines + [
        f"Participants: {tally}.",
        f"Decision: {verdict}.",
        f"Text at {model.text[0]:.2f}: {float(model.surviving_share[0]):.0%} of the proposed change.",
    ]


def paragraph(lines: list[str], classes: str = "") -> None:
    """HTML, not solara.Markdown: Markdown pulls KaTeX from the CDN, which solara-assets does not ship."""
    solara.HTML(tag="div", unsafe_innerHTML="<br>".join(lines), classes=[classes] if classes else [])


@solara.component
def PlenaryPanel(model: PlenaryModel):
    """The decision so far, the text's path, and every actor's stance; redrawn after each step."""
    update_counter.get()  # SolaraViz bumps it after Step and Play
    with solara.Columns([2, 3]):
        paragraph(decision(model), "kpsim-decision")
        solara.Image(png(text_figure(model)), width="100%", classes=["kpsim-text"])
    solara.Image(png(stance_figure(model)), width="100%", classes=["kpsim-stances"])


@solara.component
def ComparisonPanel(model: PlenaryModel):
    """Runs on demand only, for the scenario and seed in the sidebar; a chart for another choice is not shown."""
    chart, set_chart = solara.use_state(None)
    key = (model.spec.name, model.spec.seed)

    def run_comparison():
        with house_style():
            results = compare(model.spec, reps=COMPARISON_REPS, jobs=1, command="kpsim app")
            results.run_id = f"app, seed {model.spec.seed}"
            fig = survival_chart(results)
        set_chart((key, png(fig)))

    what = f"Every rule of <b>{html.escape(model.spec.name)}</b>, {COMPARISON_REPS} replications each (seed {model.spec.seed}), all on "
    paragraph([what + "the same random draws: how long does the deadlock last?"], "kpsim-comparison")
    solara.Button("Run comparison", color="primary", on_click=run_comparison)
    if chart is not None and chart[0] == key:
        solara.Image(chart[1], width="100%", classes=["kpsim-survival"])


def model_params() -> dict:
    return {
        "scenario_name": {"type": "Select", "value": DEFAULT_SCENARIO, "values": list(bundled()), "label": "Scenario"},
        "rule": {"type": "Select", "value": "consensus", "values": rule_labels(), "label": "Rule"},
        "seed": {"type": "SliderInt", "value": 0, "min": 0, "max": 999, "step": 1, "label": "Seed"},
    }


@solara.component
def Page():
    """SolaraViz supplies the controls and steps the model; the panels are laid out here.

    SolaraViz would set its components in a half-width draggable grid, too
    narrow for sixty named participants, so it gets none and the panels
    fill the page in two tabs instead.
    """
    model = solara.use_reactive(solara.use_memo(PlenaryView, []))
    SolaraViz(model, components=[], model_params=model_params(), name="kpsim: one plenary process, meeting by meeting")
    with solara.lab.Tabs():
        with solara.lab.Tab("One plenary, meeting by meeting"):
            PlenaryPanel(model.value)
        with solara.lab.Tab("Compare the rules"):
            ComparisonPanel(model.value)
