"""The figures of one plenary as the browser view steps through it: every actor's stance, and where the text stands."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from kpsim.model.plenary import PlenaryModel
from kpsim.output.style import GRID, INK, MUTED, OKABE_ITO
from kpsim.rules import ABSTAIN, OBJECT, STANCE_NAMES, SUPPORT

# Okabe–Ito blue and vermillion, and a light grey: apart for colour-blind readers; the glyphs keep them apart in grey print
STANCE_STYLE = {SUPPORT: (OKABE_ITO[0], "✓"), ABSTAIN: ("#BBBBBB", "–"), OBJECT: (OKABE_ITO[1], "✗")}

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


def stance_figure(model: PlenaryModel, columns: int = 7) -> Figure:
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
    ax.text(0, 0.3, title, fontsize=14, fontweight="bold", color=INK, va="center")
    y = 0.9
    for label, members in rows:
        if members is None:
            ax.text(0, y + 0.3, label, fontsize=12, color=INK, va="center", fontweight="bold")
            y += 0.5
            continue
        for i, a in enumerate(members):
            colour, glyph = STANCE_STYLE[int(a.stance[0])] if voted else ("white", "")
            ax.add_patch(FancyBboxPatch((i + 0.06, y + 0.05), 0.26, 0.42, boxstyle="round,pad=0.02", facecolor=colour, edgecolor=MUTED, linewidth=0.6))
            ax.text(i + 0.19, y + 0.27, glyph, ha="center", va="center", color="white" if glyph != "–" else INK, fontsize=11, fontweight="bold")
            ax.text(i + 0.36, y + 0.27, short(a.entry.id), ha="left", va="center", fontsize=9, color=INK)
        y += 1.0
    for j, (k, (c, g)) in enumerate(STANCE_STYLE.items()):
        x = columns - 3.3 + j * 1.15
        ax.add_patch(FancyBboxPatch((x, 0.12), 0.22, 0.34, boxstyle="round,pad=0.02", facecolor=c, edgecolor=MUTED, linewidth=0.6))
        ax.text(x + 0.11, 0.29, g, ha="center", va="center", color="white" if g != "–" else INK, fontsize=10, fontweight="bold")
        ax.text(x + 0.3, 0.29, STANCE_NAMES[k], va="center", fontsize=11, color=INK)
    return fig


def text_figure(model: PlenaryModel) -> Figure:
    """The text at every meeting so far, against the status quo, the reservation point and the proposal, on the whole horizon."""
    prop = model.spec.proposal
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    horizon = model.spec.calendar.horizon
    if prop.reservation is not None:
        ax.axhspan(min(prop.reservation, prop.position), max(prop.reservation, prop.position), color=OKABE_ITO[5], alpha=0.12, linewidth=0)
    for value, name, style in (
        (prop.status_quo, "status quo", "--"),
        (prop.position, "proposal as tabled", "-"),
        (prop.reservation, "reservation point (the chair amends no further)", ":"),
    ):
        if value is not None:
            ax.axhline(value, color=MUTED, linestyle=style, linewidth=1.5)
            ax.annotate(name, (horizon, value), xytext=(-4, 4), textcoords="offset points", ha="right", va="bottom", fontsize=10, color=MUTED)
    t = [0] + [m.number for m in model.history]
    x = [prop.position] + [float(m.text[0]) for m in model.history]
    ax.plot(t, x, color=OKABE_ITO[0], marker="o", markersize=5, linewidth=2)
    failed = [(m.number, float(m.text[0])) for m in model.history if not m.adopted[0]]
    if failed:
        ax.plot(*zip(*failed), linestyle="none", marker="o", markersize=7, markerfacecolor="white", markeredgecolor=OKABE_ITO[1], markeredgewidth=2, label="failed meeting")
    if model.adopted[0]:
        ax.plot(t[-1], x[-1], marker="*", markersize=18, color=OKABE_ITO[2], linestyle="none", label=f"adopted at meeting {t[-1]}")
    ax.set_xlim(0, horizon)
    ax.set_ylim(-0.05, 1.12)
    ax.set_xlabel(f"Meeting (horizon {horizon})", fontsize=12)
    ax.set_ylabel("Position of the text", fontsize=12)
    ax.set_title("Where the text stands", fontsize=14, loc="left", fontweight="bold")
    ax.tick_params(labelsize=11)
    ax.grid(color=GRID)
    if failed or model.adopted[0]:
        fig.legend(loc="outside lower right", ncols=2, frameon=False, fontsize=11)  # under the plot, clear of the path and the labels
    return fig
