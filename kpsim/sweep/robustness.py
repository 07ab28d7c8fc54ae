"""What flips a verdict: one-at-a-time swings of the dynamics and the codings, run as a resumable sweep (a tornado).

Each swing moves one value and holds every other at the scenario's:
- each calibrated dynamics parameter to the 10% and 90% quantiles of the posterior beside the
  scenario file (posterior.csv), or, without one, to the edges of its prior box;
- each named actor's position, and each red line, one coding level (0.25, the roster's step
  between "for", "for with reservations", "silent", "against with reservations", "against")
  down and up, within [0, 1], or over the range the scenario writes for it where that is wider.
  A named actor is one the case codes with a salience of at least 0.3 (the roster's placeholders
  sit at 0.1);
- every other field the scenario writes as an explicit range, [low, high], over that range
  (kpsim.scenario.codings; a named level's band is within one level of its value, so it adds none).
A rule's verdict is whether it adopts the text within the horizon in at least half of the
replications; a swing *flips* it when the verdict at either end differs from the baseline's.
Swings are ranked by how far they move the share adopted. All points run on the same seed, so
the comparison with the baseline is paired.

Scenario discovery draws the same inputs jointly — a Latin hypercube over each swing's
[low, high], seeded by the run's seed — runs the points as a second resumable sweep and finds,
per rule, PRIM's boxes of inputs where the verdict flips (kpsim.analysis.discovery).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# VERDICT: adopted within the horizon in at least this share, the rule "passes it" (tornado and PRIM alike)
from kpsim.analysis.discovery import DENSITY, QP_MAX, VERDICT, discover
from kpsim.scenario.prior import BOX
from kpsim.scenario.schema import Scenario
from kpsim.sweep.design import Design, design_from_rows

LEVEL = 0.25  # one coding level on the roster's scale
NAMED = 0.3  # salience from which an actor counts as coded by the case, not a placeholder


@dataclass(frozen=True)
class Swing:
    path: str  # the dotted path it moves (as in `sweep:`)
    kind: str  # parameter | coding
    base: float
    low: float
    high: float


def swings(scenario: Scenario, posterior: Path | None) -> list[Swing]:
    """Every one-at-a-time swing of this scenario (see the module's docstring)."""
    out = []
    post = None
    if posterior is not None and scenario.dynamics.mode == "agents":
        from kpsim.analysis.posterior import read_posterior

        post = read_posterior(posterior)
    if scenario.dynamics.mode == "agents":
        for k, (lo, hi) in BOX.items():
            a, b = post.interval(k) if post is not None else (lo, hi)
            out.append(Swing(f"dynamics.{k}", "parameter", float(getattr(scenario.dynamics, k)), a, b))
    written = {f"{'proposal' if c.actor is None else 'actors.' + c.actor}.{c.field}": c for c in scenario.codings}
    for actor in scenario.actors:
        if actor.salience < NAMED:
            continue
        out.append(_level(f"actors.{actor.id}.position", actor.position, written))
        if actor.reservation is not None:
            out.append(_level(f"actors.{actor.id}.reservation", actor.reservation, written))
    seen = {s.path for s in out}
    out += [Swing(path, "coding", c.value, c.low, c.high) for path, c in written.items()
            if c.level is None and path not in seen and ".weights." not in path]
    return [s for s in out if s.low != s.base or s.high != s.base]


def _level(path: str, v: float, written: dict) -> Swing:
    lo, hi = max(0.0, v - LEVEL), min(1.0, v + LEVEL)
    if path in written:  # a range written wider than one level: swing over all of it
        lo, hi = min(lo, written[path].low), max(hi, written[path].high)
    return Swing(path, "coding", float(v), lo, hi)


def plan(scenario: Scenario, tree, swung: list[Swing], replications: int | None, seed: int | None, source: str | None) -> Design:
    """The points: the baseline, then each swing's low and high end, every other value at the baseline."""
    base = np.array([s.base for s in swung])
    rows = [base]
    for i, s in enumerate(swung):
        for v in (s.low, s.high):
            row = base.copy()
            row[i] = v
            rows.append(row)
    ranges = {s.path: (min(s.low, s.base), max(s.high, s.base)) for s in swung}
    return design_from_rows(scenario.model_copy(update={"sweep": None}), ranges, np.array(rows), tree, replications, seed, source)


def joint_plan(scenario: Scenario, tree, swung: list[Swing], samples: int, replications: int | None, seed: int | None,
               source: str | None) -> Design:
    """The points of scenario discovery: `samples` draws of every swung input at once, a Latin hypercube over [low, high]."""
    from scipy.stats import qmc  # here: importing scipy.stats takes a quarter of a second

    rng = np.random.default_rng(scenario.seed if seed is None else seed)
    unit = qmc.LatinHypercube(len(swung), rng=rng).random(samples)
    low, high = np.array([s.low for s in swung]), np.array([s.high for s in swung])
    ranges = {s.path: (s.low, s.high) for s in swung}
    return design_from_rows(scenario.model_copy(update={"sweep": None}), ranges, low + unit * (high - low), tree, replications, seed, source)


def discovery(baseline: pd.DataFrame, joint: Design, summary: pd.DataFrame, swung: list[Swing]):
    """PRIM's boxes per rule over the joint sweep's `summary`, each point's verdict against the baseline's (point 0 of
    the tornado's summary `baseline`: same seed, same replications)."""
    base = baseline[baseline["point"] == 0].set_index("rule")["adopted"].to_dict()
    adopted = summary.pivot(index="point", columns="rule", values="adopted").sort_index()
    x = joint.table().set_index("point").loc[adopted.index, joint.names]
    return discover(x, adopted, base, joint.rules, {s.path: (s.low, s.high) for s in swung})


def tornado(summary: pd.DataFrame, swung: list[Swing], rules: list[str]) -> pd.DataFrame:
    """One row per rule and swing: the share adopted at the baseline and at each end, how far it moves, and whether it flips."""
    rows = []
    share = summary.pivot(index="point", columns="rule", values="adopted")[rules]  # the scenario's order
    median = summary.pivot(index="point", columns="rule", values="median_meetings")[rules]
    for rule in share.columns:
        b = float(share.loc[0, rule])
        for i, s in enumerate(swung):
            lo, hi = float(share.loc[1 + 2 * i, rule]), float(share.loc[2 + 2 * i, rule])
            flips = any((v >= VERDICT) != (b >= VERDICT) for v in (lo, hi))
            rows.append({
                "rule": rule, "swing": s.path, "kind": s.kind, "base_value": s.base, "low_value": s.low, "high_value": s.high,
                "adopted_base": b, "adopted_low": lo, "adopted_high": hi, "swing_size": max(abs(lo - b), abs(hi - b)),
                "median_base": median.loc[0, rule], "median_low": median.loc[1 + 2 * i, rule], "median_high": median.loc[2 + 2 * i, rule],
                "flips": flips,
            })
    table = pd.DataFrame(rows)
    order = {r: k for k, r in enumerate(share.columns)}
    return table.sort_values(["rule", "flips", "swing_size"], ascending=[True, False, False], key=lambda c: c.map(order) if c.name == "rule" else c,
                             kind="stable").reset_index(drop=True)


def format_tornado(table: pd.DataFrame, top: int) -> str:
    """Per rule: the baseline verdict, then the swings that move it most (flips first)."""
    pct = "{:.0%}".format
    blocks = []
    for rule, g in table.groupby("rule", sort=False):
        b = g["adopted_base"].iloc[0]
        flips = int(g["flips"].sum())
        head = f"{rule}: adopted within the horizon in {pct(b)} at the baseline — {'passes' if b >= VERDICT else 'does not pass'}; " \
               f"{flips} of {len(g)} swings flip that"
        lines = [head]
        for r in g.head(top).itertuples(index=False):
            mark = "FLIPS  " if r.flips else "       "
            lines.append(f"  {mark}{r.swing:<40} {r.low_value:.3g} → {pct(r.adopted_low):>4}   {r.base_value:.3g} → {pct(r.adopted_base):>4}   "
                         f"{r.high_value:.3g} → {pct(r.adopted_high):>4}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def records(table: pd.DataFrame) -> dict:
    """The JSON shape: per rule, its baseline and every swing, ranked."""
    out = []
    for rule, g in table.groupby("rule", sort=False):
        out.append({
            "rule": rule,
            "adopted_base": float(g["adopted_base"].iloc[0]),
            "passes": bool(g["adopted_base"].iloc[0] >= VERDICT),
            "swings": [{"swing": r.swing, "kind": r.kind, "low": r.low_value, "high": r.high_value, "adopted_low": r.adopted_low,
                        "adopted_high": r.adopted_high, "flips": bool(r.flips)} for r in g.itertuples(index=False)],
        })
    return {"rules": out}


def tornado_chart(table: pd.DataFrame, rule: str, top: int, subtitle: str):
    """The swings that move this rule's share adopted most: a bar from the low end to the high end, the baseline as a line."""
    from matplotlib.figure import Figure

    from kpsim.output.style import INK, MUTED, OKABE_ITO, SLIDE, house_style, percent_axis

    g = table[table["rule"] == rule].head(top)
    with house_style():
        fig = Figure(figsize=SLIDE, layout="constrained")
        ax = fig.subplots()
        y = np.arange(len(g))
        for yi, r in zip(y, g.itertuples(index=False)):
            ax.plot([r.adopted_low, r.adopted_high], [yi, yi], color=OKABE_ITO[1] if r.flips else OKABE_ITO[0], linewidth=8, solid_capstyle="butt")
            ax.plot([r.adopted_low], [yi], marker="<", color=INK)
            ax.plot([r.adopted_high], [yi], marker=">", color=INK)
        if len(g):
            ax.axvline(g["adopted_base"].iloc[0], color=MUTED, linestyle="--", linewidth=1.2)
        ax.axvline(VERDICT, color=MUTED, linestyle=":", linewidth=1)
        ax.set_yticks(y, [s.replace("actors.", "").replace("dynamics.", "") for s in g["swing"]])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        percent_axis(ax, "x")
        ax.set_xlabel("share adopted within the horizon, at the low (◀) and high (▶) end of each swing")
        fig.suptitle(f"What would change this result: {rule}", x=0.01, ha="left", fontweight="bold")
        ax.set_title(subtitle + " · dashed: baseline · dotted: the 50% verdict line · orange: flips it", loc="left", fontsize=11,
                     color=MUTED, fontweight="normal")
    return fig


def prim_chart(found, subtitle: str):
    """One rule's first PRIM box: its peeling trajectory (coverage against density, the box kept marked) and its limits on
    each input it restricts, as a share of the input's sampled range."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from kpsim.output.style import INK, MUTED, OKABE_ITO, SLIDE, house_style, nothing_to_show, percent_axis

    with house_style():
        fig = Figure(figsize=SLIDE, layout="constrained")
        fig.suptitle(f"Where the verdict flips: {found.rule}", x=0.01, ha="left", fontweight="bold")
        if not found.boxes:
            nothing_to_show(fig, f"None of the {found.samples} joint samples flips the verdict.")
            return fig
        box = found.boxes[0]
        left, right = fig.subplots(1, 2, width_ratios=[1, 1.6])
        t = box.trajectory
        points = left.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=36, zorder=3)
        left.plot(t["coverage"], t["density"], color=MUTED, linewidth=0.8, zorder=2)
        left.scatter([box.coverage], [box.density], s=260, facecolors="none", edgecolors=OKABE_ITO[1], linewidths=2.5, zorder=4, clip_on=False)
        left.axhline(DENSITY, color=MUTED, linestyle=":", linewidth=1)
        left.set_xlim(0, 1.05)
        left.set_ylim(0, 1.05)
        percent_axis(left, "x")
        percent_axis(left, "y")
        left.set_xlabel("coverage (share of all flips in the box)")
        left.set_ylabel("density (share of the box that flips)")
        bar = fig.colorbar(points, ax=left, label="inputs restricted", shrink=0.8)
        bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        left.set_title("peeling trajectory of box 1 (circled: kept)", fontsize=12)
        lims = box.limits[:12]
        if not lims:
            right.axis("off")
            right.text(0.5, 0.5, "box 1 restricts nothing:\nthe verdict flips anywhere in the ranges", ha="center", va="center", color=MUTED)
        for yi, lim in enumerate(lims):
            span = (lim.range_high - lim.range_low) or 1.0
            lo, hi = (lim.low - lim.range_low) / span, (lim.high - lim.range_low) / span
            right.plot([0, 1], [yi, yi], color="#DDDDDD", linewidth=10, solid_capstyle="butt")
            right.plot([lo, hi], [yi, yi], color=OKABE_ITO[1] if lim.qp <= QP_MAX else OKABE_ITO[0], linewidth=10, solid_capstyle="butt")
            right.annotate(f"{lim.low:.3g}–{lim.high:.3g}", (hi, yi), xytext=(6, 0), textcoords="offset points", va="center", fontsize=10, color=INK)
        if lims:
            right.set_yticks(range(len(lims)), [f"{lm.input.replace('actors.', '').replace('dynamics.', '')} (qp {lm.qp:.2g})" for lm in lims])
            right.set_ylim(max(len(lims), 6) - 0.5, -0.5)  # the first on top; a few bars stay bars, not a spread
            right.set_xlim(0, 1.5)
            right.set_xticks([0, 0.5, 1], ["low end", "middle", "high end"])
            right.set_xlabel(f"within each input's range · orange: qp ≤ {QP_MAX:g}", fontsize=11)
            right.grid(axis="y", visible=False)
            weak = "" if box.reliable else " — not reliable"
            right.set_title(f"box 1: coverage {box.coverage:.0%}, density {box.density:.0%}{weak}", fontsize=12)
        fig.supxlabel(subtitle, x=0.01, ha="left", fontsize=10, color=MUTED)
    return fig
