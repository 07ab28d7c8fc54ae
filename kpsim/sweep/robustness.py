"""What flips a verdict: one-at-a-time swings of the dynamics and the codings, run as a resumable sweep (a tornado).

Each swing moves one value and holds every other at the scenario's:
- each calibrated dynamics parameter to the 10% and 90% quantiles of the posterior beside the
  scenario file (posterior.csv), or, without one, to the edges of its prior box;
- each named actor's position, and each red line, one coding level (0.25, the roster's step
  between "for", "for with reservations", "silent", "against with reservations", "against")
  down and up, within [0, 1]. A named actor is one the case codes with a salience of at least
  0.3 (the roster's placeholders sit at 0.1).
A rule's verdict is whether it adopts the text within the horizon in at least half of the
replications; a swing *flips* it when the verdict at either end differs from the baseline's.
Swings are ranked by how far they move the share adopted. All points run on the same seed, so
the comparison with the baseline is paired. PRIM boxes over a joint sweep are not built yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.scenario.prior import BOX
from kpsim.scenario.schema import Scenario
from kpsim.sweep.design import Design, design_from_rows

LEVEL = 0.25  # one coding level on the roster's scale
NAMED = 0.3  # salience from which an actor counts as coded by the case, not a placeholder
VERDICT = 0.5  # adopted within the horizon in at least this share: the rule "passes it"


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
    for actor in scenario.actors:
        if actor.salience < NAMED:
            continue
        out.append(_level(f"actors.{actor.id}.position", actor.position))
        if actor.reservation is not None:
            out.append(_level(f"actors.{actor.id}.reservation", actor.reservation))
    return [s for s in out if s.low != s.base or s.high != s.base]


def _level(path: str, v: float) -> Swing:
    return Swing(path, "coding", float(v), max(0.0, v - LEVEL), min(1.0, v + LEVEL))


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
