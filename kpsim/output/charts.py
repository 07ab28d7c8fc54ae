"""Every chart, each registered in the outputs registry (kpsim.analysis.outputs) so Results.write draws it.

Each chart is a function of the results (and the analysis tables it reads)
that returns a matplotlib Figure in the house style (kpsim.output.style); the
registrations at the bottom say which file each becomes and which tables it
reads. A new chart is one function and one entry there. Charts read the
results through kpsim.output.chart_data (their endings, not the runs), which
is all that a worker process drawing them is sent.

A replication ends adopted, withdrawn, or still open at the horizon; every
chart keeps the three apart (withdrawn: an x on the curves, a solid grey
segment in the bars) and says so in a legend.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from kpsim.analysis import outputs
from kpsim.analysis.blockers import bloc_labels, mean_count
from kpsim.analysis.results import Results
from kpsim.analysis.summary import PCT, format_ci
from kpsim.analysis.survival import kaplan_meier
from kpsim.output.chart_data import ChartData, endings, from_draws, survival_band
from kpsim.output.style import (
    CENSORED,
    GRID,
    INK,
    MUTED,
    OKABE_ITO,
    SLIDE,
    WITHDRAWN,
    figure,
    frame,
    house_style,
    marker_size,
    nothing_to_show,
    percent_axis,
    rule_styles,
    save,
    subtitle,
)

OPEN_LABEL = "still open at the horizon (censored)"
WITHDRAWN_LABEL = "withdrawn before adoption (censored at its last meeting)"


# ------------------------------------------------------------------ charts


def _censoring_keys(open_: bool, withdrawn: bool) -> list[Line2D]:
    """Legend keys for the two ways a replication ends unadopted, where they occur."""
    keys = []
    if open_:
        keys.append(Line2D([], [], linestyle="none", marker="|", markersize=marker_size(12), markeredgewidth=2, color=MUTED, label=OPEN_LABEL))
    if withdrawn:
        keys.append(Line2D([], [], linestyle="none", marker="x", markersize=marker_size(9), markeredgewidth=2.2, color=MUTED, label=WITHDRAWN_LABEL))
    return keys


def draw_survival(ax, results: Results) -> None:
    """Kaplan–Meier curves with 95% bands (ranges across draws under parameters or full: chart_data.survival_band) into `ax`."""
    horizon = results.scenario.calendar.horizon
    per_year = results.scenario.calendar.meetings_per_year
    styles = rule_styles(results.rules)
    summary = results.summary.set_index("rule")
    ends = endings(results)
    right = horizon if ends["censored"].any() else int(ends["meetings"].max())
    seen = {"open": False, "withdrawn": False}
    shade = 0.08 if from_draws(results) else 0.18  # ranges across draws are wide and overlap: lighter, so the curves stay readable
    for rule, g in ends.groupby("rule", sort=False):
        meetings, n, censored, withdrawn = (g[c].to_numpy() for c in ("meetings", "n", "censored", "abandoned"))
        km = kaplan_meier(meetings, censored, counts=n)
        # the curve is known up to the last observed time; past it only if nobody is left deadlocked
        end = right if km.survival[-1] == 0 else km.times[-1]
        x = np.concatenate(([0.0], km.times, [end]))
        y = np.concatenate(([1.0], km.survival, [km.survival[-1]]))
        lo, hi = survival_band(results, rule, km, x)
        st = styles[rule]
        row = summary.loc[rule]
        label = f"{rule}: median {format_ci(row.median_meetings, row.median_lo, row.median_hi, '{:g}')}"
        label += f", withdrawn {PCT.format(n[withdrawn].sum() / n.sum())}" if withdrawn.any() else ""
        ax.step(x, y, where="post", label=label, **st)
        band = x <= km.times[-1]  # no band past the last observation
        ax.fill_between(x[band], lo[band], hi[band], step="post", color=st["color"], alpha=shade, linewidth=0)
        for kind, mask, marker, size in (("open", censored & ~withdrawn, "|", 12), ("withdrawn", withdrawn, "x", 9)):
            t_c = np.unique(meetings[mask])
            if t_c.size:
                seen[kind] = True
                ax.plot(t_c, km.at(t_c), linestyle="none", marker=marker, markersize=marker_size(size), markeredgewidth=2.2, color=st["color"])
    ax.axhline(0.5, color=MUTED, linewidth=1, linestyle=":")
    ax.set_xlim(0, right * 1.01)
    ax.set_ylim(-0.01, 1.02)
    percent_axis(ax)
    ax.set_xlabel(f"Meetings since tabling (horizon {horizon:,} meetings = {horizon / per_year:g} years)")
    ax.set_ylabel("Still deadlocked")
    years = ax.secondary_xaxis("top", functions=(lambda m: m / per_year, lambda y: y * per_year))
    years.set_xlabel("Years", color=MUTED, fontsize="small")
    years.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, _ = ax.get_legend_handles_labels()
    # below the axes, so that no curve is ever hidden behind it
    ax.legend(handles=handles + _censoring_keys(seen["open"], seen["withdrawn"]), loc="upper center", bbox_to_anchor=(0.5, -0.2),
              ncols=min(2, len(results.rules)), handlelength=3)


def survival_chart(results: Results) -> Figure:
    """Kaplan–Meier share still deadlocked, per rule, with its 95% band; | and x mark censoring."""
    fig = figure()
    draw_survival(fig.add_subplot(), results)
    frame(
        fig,
        results,
        "How long does the deadlock last under each rule?",
        subtitle(results, extra="shaded: 95% range over the draws" if from_draws(results) else "shaded: 95% confidence band"),
        "Kaplan–Meier estimates; a proposal still open at the horizon (|) or withdrawn (x) is censored at its last meeting, never "
        "counted as adopted nor as running on. Dotted line: half adopted (the median).",
    )
    return fig


TALL = 0.62  # of a row of the deadlock chart, for its tallest bar: room above it for the rule's name


def _bars(ax, x, base: float, heights, width: float, **style) -> None:
    """Vertical bars from `base` as one collection (one draw call, not one patch per bar); zero heights are left out."""
    keep = np.asarray(heights) > 0
    x, h = np.asarray(x, dtype=float)[keep], np.asarray(heights, dtype=float)[keep]
    verts = [[(xi - width / 2, base), (xi - width / 2, base - hi), (xi + width / 2, base - hi), (xi + width / 2, base)] for xi, hi in zip(x, h)]
    ax.add_collection(PolyCollection(verts, **style))


def deadlock_chart(results: Results) -> Figure:
    """When proposals pass, per rule, and how many never did (still open, or withdrawn); each column on one scale for every rule.

    One row per rule in two axes (adopted by meeting; not adopted), rather
    than two axes per rule: the same picture at a fraction of the drawing.
    """
    horizon = results.scenario.calendar.horizon
    rules = results.rules
    styles = rule_styles(rules)
    ends = endings(results)
    adopted_t = ends.loc[ends["adopted"], "meetings"]
    last = int(adopted_t.max()) if len(adopted_t) else 1
    width = max(1, math.ceil(last / 50))
    edges = np.arange(0.5, last + width + 0.5, width)
    groups = dict(list(ends.groupby("rule", sort=False)))
    total = {r: g["n"].sum() for r, g in groups.items()}  # replications of the rule
    hist = {r: np.histogram(g["meetings"], bins=edges, weights=g["n"] * g["adopted"])[0] / total[r] for r, g in groups.items()}
    top = max(0.01, max(float(h.max()) for h in hist.values()))
    ref = max(x for x in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0) if x <= max(top, 0.01))  # one gridline a row, at a round share
    scale = TALL / top  # a row is 1 high; the tallest bar of all reaches TALL of it, on the same scale in every row
    fig = figure((SLIDE[0], max(SLIDE[1], min(9.5, 2.6 + 0.85 * len(rules)))))
    ax, ax_n = fig.subplots(1, 2, gridspec_kw={"width_ratios": [7, 1]})  # rows aligned by equal limits; ticks differ, so not shared
    any_open = any_withdrawn = False
    for i, rule in enumerate(rules):
        g, base, colour = groups[rule], i + 1.0, styles[rule]["color"]
        _bars(ax, edges[:-1] + width / 2, base, hist[rule] * scale, width * 0.9, facecolor=colour, edgecolor="none", label=rule)
        withdrawn = float(g.loc[g["abandoned"], "n"].sum() / total[rule])
        open_ = float(g.loc[g["censored"] & ~g["abandoned"], "n"].sum() / total[rule])
        ax_n.bar(0, open_ * TALL, bottom=base - open_ * TALL, width=0.7, color="white", edgecolor=CENSORED, hatch="///", linewidth=1.5)
        if withdrawn > 0:
            ax_n.bar(0, withdrawn * TALL, bottom=base - (open_ + withdrawn) * TALL, width=0.7, color=WITHDRAWN, edgecolor=CENSORED, linewidth=1.5)
        any_open |= open_ > 0
        any_withdrawn |= withdrawn > 0
        ax_n.annotate(PCT.format(open_ + withdrawn), (0.4, base - (open_ + withdrawn) * TALL), xytext=(3, 0), textcoords="offset points",
                      ha="left", va="center", fontsize=12, color=INK)
        ax.text(0.005, base - TALL - 0.04, rule, transform=ax.get_yaxis_transform(), fontsize=13, fontweight="bold", color=colour, va="bottom")
        for a, y in ((ax, base - ref * scale), (ax_n, base - TALL)):
            a.axhline(y, color=GRID, linewidth=0.8, zorder=0)
        for a in (ax, ax_n):
            a.axhline(base, color=MUTED, linewidth=1)
    bases = np.arange(1, len(rules) + 1, dtype=float)
    ax.set_yticks(np.concatenate((bases, bases - ref * scale)), ["0%"] * len(rules) + [PCT.format(ref)] * len(rules))
    ax_n.set_yticks(np.concatenate((bases, bases - TALL)), ["0%"] * len(rules) + ["100%"] * len(rules))
    for a in (ax, ax_n):
        a.set_ylim(len(rules) + 0.05, 0.0)
    for a in (ax, ax_n):
        a.grid(False)
        a.spines["left"].set_visible(False)
        a.spines["bottom"].set_visible(False)
        a.tick_params(axis="y", length=0)
    ax.set_xlim(0, edges[-1] + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=8, integer=True))
    ax.set_xlabel("Meeting at which the proposal was adopted" + (f" (bins of {width} meetings)" if width > 1 else ""))
    ax_n.set_xlim(-0.6, 1.8)
    ax_n.set_xticks([])
    ax_n.set_xlabel("not adopted")
    ax.set_ylabel("Share of replications")
    keys = [Patch(facecolor="white", edgecolor=CENSORED, hatch="///", label=f"still open at the horizon ({horizon:,} meetings)")] if any_open else []
    keys += [Patch(facecolor=WITHDRAWN, edgecolor=CENSORED, label="withdrawn before adoption")] if any_withdrawn else []
    if keys:
        ax.legend(handles=keys, title="not adopted:", title_fontsize=11, loc="lower right", bbox_to_anchor=(1.0, 1.0),
                  ncols=len(keys), fontsize=11, borderaxespad=0.2, alignment="left")
    frame(
        fig,
        results,
        "When would the proposal pass?",
        subtitle(results),
        "Left: share of all replications adopted at each meeting, one row per rule, on one scale for every rule. Right: the share "
        "never adopted, on its own scale (0–100%) for every rule: hatched, still open at the horizon; solid grey, withdrawn "
        "(abandoned, or a withdraw event). Neither is counted as adopted.",
    )
    return fig


def _heatmap(ax, values: pd.DataFrame, title: str, labels=None, size: float = 12, fmt=PCT.format, vmax: float | None = None) -> None:
    """Rows × columns, each cell coloured and labelled (`labels`, or `values` through `fmt`); – where the value does not exist.

    Drawn as a mesh (vector cells, not an image resampled at each dpi); the
    first row on top. `size` is the cell labels' font size in points: the
    caller sizes the figure so that they fit their cells.
    """
    v = values.to_numpy(dtype=float)
    finite = np.isfinite(v)
    top = vmax if vmax is not None else (np.nanmax(v) if finite.any() else 1.0)
    ax.pcolormesh(np.ma.masked_invalid(v), cmap=colormaps["cividis"], vmin=0, vmax=max(top, 1e-12))
    ax.set_facecolor("#F2F2F2")  # cells without a value
    for (i, j), x in np.ndenumerate(v):
        dark = finite[i, j] and x < 0.55 * top
        text = "–" if not finite[i, j] else labels[i][j] if labels is not None else fmt(x)
        ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=size, linespacing=1.15,
                color=MUTED if not finite[i, j] else "white" if dark else INK)
    ax.set_xlim(0, v.shape[1])
    ax.set_ylim(v.shape[0], 0)
    ax.set_xticks(np.arange(v.shape[1]) + 0.5, values.columns, rotation=30 if v.shape[1] <= 5 else 40, ha="right", rotation_mode="anchor")
    ax.set_yticks(np.arange(v.shape[0]) + 0.5, values.index)
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=13)


def blockers_chart(results: Results, by_bloc: pd.DataFrame) -> Figure:
    """Per bloc and rule: how many members object at a failed decision, and the member that objects most, with its rate."""
    failed = by_bloc.groupby("rule", sort=False)["failed_decisions"].first()
    rules = [r for r in results.rules if failed.get(r, 0) > 0]
    none = [r for r in results.rules if r not in rules]
    title = "Who blocks? Members objecting at a failed decision, by bloc"
    if not rules:
        fig = figure()
        nothing_to_show(fig, "Every decision passed at its first meeting under every rule: nobody blocked.")
        frame(fig, results, title, subtitle(results))
        return fig
    data = by_bloc[by_bloc["rule"].isin(rules)]
    wide = {col: data.pivot(index="bloc", columns="rule", values=col).reindex(columns=rules)
            for col in ("members_objecting", "top_actor", "top_objection_rate")}
    members = data.groupby("bloc", sort=False)["members"].max()
    rank = pd.DataFrame({"n": wide["members_objecting"].max(axis=1), "top": wide["top_objection_rate"].max(axis=1)})
    order = rank.sort_values(["n", "top"], ascending=False, kind="stable").index
    count = wide["members_objecting"].reindex(order)
    labels = [[f"{mean_count(count.iat[i, j])} of {members[b]}\n{wide['top_actor'].at[b, r]}\n{wide['top_objection_rate'].at[b, r]:.0%}"
               if count.iat[i, j] == count.iat[i, j] else "" for j, r in enumerate(rules)] for i, b in enumerate(order)]
    fig = figure((SLIDE[0], max(SLIDE[1], 3.9 + 0.72 * len(order))))
    ax = fig.add_subplot()
    _heatmap(ax, count.rename(index=lambda b: f"{b} ({members[b]})"), "Members objecting (mean, of the bloc's), the member objecting most, "
             "and its share", labels=labels, size=11 if len(rules) <= 8 else 9.5)
    counts = ", ".join(f"{r} {failed[r]:,}" for r in rules)
    frame(
        fig,
        results,
        title,
        subtitle(results, extra=f"no failed decision under {', '.join(none)}" if none else ""),
        "Each cell: how many of the bloc's members objected at a failed decision, on average; the member that objected most, and "
        "the share of failed decisions at which it did. Blocs (members in brackets) ranked by members objecting. –: not a voter under "
        "that rule. Pivotal rates (an objection alone sank the text): blockers_by_bloc.csv, kpsim blockers. Pooled over every failed "
        f"decision of every replication (no interval: decisions within a replication are not independent). Failed decisions: {counts}.",
    )
    return fig


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def chance(p: float) -> str:
    """A probability a slide can say: "44.9%", "0.0067%", or "1 in 10¹⁸" where a percentage would be all zeros."""
    if p >= 1e-6:
        return f"{100 * p:.3g}%" if p >= 0.001 else f"{100 * p:.2g}%"
    if p <= 0:
        return "0"
    mant, exp = f"{1 / p:.0e}".split("e")  # "3e+13"
    return f"1 in {'' if mant == '1' else mant + '×'}10{str(int(exp)).translate(_SUPERSCRIPT)}"


def power_chart(results: Results, power: pd.DataFrame) -> Figure:
    """Per rule (one row each): Coleman's power to act, and each bloc's share of voting power (exact indices)."""
    styles = rule_styles(results.rules)
    per_rule = power.groupby("rule", sort=False).agg(coleman=("coleman_power_to_act", "first"), note=("note", "first"))
    ok = per_rule[per_rule["coleman"].notna()]
    rules = list(ok.index)
    missing = per_rule[per_rule["coleman"].isna()]
    unavailable = "; ".join(f"{r}: not available — {n}" for r, n in missing["note"].items())
    title = "Who holds power under each rule?"
    if not rules:
        fig = figure()
        nothing_to_show(fig, "No rule of this run is a yes/no game, so no power index is defined (see below).")
        frame(fig, results, title, subtitle(results, replications=False), unavailable)
        return fig
    shown = power[power["rule"].isin(rules)].assign(bloc=lambda t: bloc_labels(t), voters=1.0)
    shares = {
        col: shown.pivot_table(index="rule", columns="bloc", values=col, aggfunc="sum", sort=False).reindex(index=rules)
        for col in ("shapley_shubik", "banzhaf_normalized", "voters")
    }
    order = shares["shapley_shubik"].max(axis=0).sort_values(ascending=False, kind="stable").index
    seats = shares["voters"].div(shares["voters"].sum(axis=1), axis=0).reindex(columns=order)
    fig = figure((SLIDE[0], max(SLIDE[1], 4.4 + 0.5 * len(rules))))
    gs = fig.add_gridspec(1, 2, width_ratios=[0.8, 1.5])
    ax_c = fig.add_subplot(gs[0])
    y = np.arange(len(rules)) + 0.5
    coleman = ok["coleman"].to_numpy(dtype=float)
    ax_c.barh(y, coleman, color=[styles[r]["color"] for r in rules], height=0.6)
    for yi, v in zip(y, coleman):
        ax_c.annotate(chance(v), (v, yi), xytext=(5, 0), textcoords="offset points", va="center", fontsize=12, color=INK)
    ax_c.set_xlim(0, max(0.05, float(coleman.max())) * 1.6)
    ax_c.xaxis.set_major_locator(MaxNLocator(nbins=3))
    percent_axis(ax_c, "x")
    ax_c.set_yticks(y, rules)
    ax_c.set_ylim(len(rules), 0)  # first rule on top, as in the heatmap
    ax_c.set_title("Power to act (Coleman):\nchance a text passes", fontsize=13)
    ax_c.set_xlabel("each voter for or against\nby the toss of a coin", fontsize=12)
    ax_c.grid(axis="y", visible=False)
    ax = fig.add_subplot(gs[1], sharey=ax_c)
    ss, bz = (shares[c].reindex(columns=order) for c in ("shapley_shubik", "banzhaf_normalized"))
    # Banzhaf beside Shapley–Shubik only where the two tell different stories: the chart stays readable
    labels = [[PCT.format(a) + (f"\n({PCT.format(b)})" if abs(a - b) >= 0.05 else "") for a, b in zip(ra, rb)] for ra, rb in zip(ss.to_numpy(), bz.to_numpy())]
    _heatmap(ax, ss, "Bloc's share of power: Shapley–Shubik\n(Banzhaf, normalised, where 5 points apart)", labels=labels, size=12)
    ax.tick_params(labelleft=False)
    banzhaf = "In brackets: Banzhaf's normalised index, where it differs from Shapley–Shubik by 5 points or more (both in power.csv). "
    seat_text = ", ".join(f"{b} {PCT.format(v)}" for b, v in seats.iloc[0].dropna().items())
    frame(
        fig,
        results,
        title,
        subtitle(results, rules, extra="exact indices, assuming every voter takes a side (no abstention)", replications=False),
        banzhaf + f"Blocs' shares of the voters under {rules[0]}: {seat_text}. " + unavailable,
    )
    return fig


def threshold_chart(results: Results, table: pd.DataFrame) -> Figure:
    """The cost of deciding: how fast a text passes, how much of it survives, and how many are outvoted, by threshold."""
    horizon = results.scenario.calendar.horizon
    fig = figure((SLIDE[0], max(SLIDE[1], 8.0)))
    axes = fig.subplots(3, 1, sharex=True)
    q = table["q"].to_numpy() + np.where(table["threshold"].str.startswith(">"), 0.004, 0.0)  # a rule where a tie fails sits just right of its q
    colours = OKABE_ITO[:3]
    ax = axes[0]
    reached = table["median_meetings"].notna().to_numpy()
    med = table["median_meetings"].to_numpy()
    withdrawn = table["withdrawn"].fillna(0).to_numpy() if "withdrawn" in table else np.zeros(len(table))
    after = table["withdrawn_after_max"].to_numpy() if "withdrawn_after_max" in table else np.full(len(table), np.nan)
    # an upper limit not reached runs to the last meeting observed: the horizon, or the withdrawal
    hi = table["median_hi"].fillna(pd.Series(np.where(withdrawn > 0, after, horizon), index=table.index)).to_numpy()
    ax.errorbar(q[reached], med[reached], yerr=[med[reached] - table["median_lo"].to_numpy()[reached], hi[reached] - med[reached]],
                fmt="o-", color=colours[0], capsize=5, markersize=8)
    for x, w, a in zip(q[~reached], withdrawn[~reached], after[~reached]):
        # not reached because the text was withdrawn first: marked where it was withdrawn, not at the horizon
        at, text = (a, f"withdrawn\nafter {a:g}") if w > 0 else (horizon, "not\nreached")
        ax.plot([x], [at], marker="x" if w > 0 else "^", markersize=12, color=colours[0], markerfacecolor="white", markeredgewidth=2)
        ax.annotate(text, (x, at), xytext=(0, -12), textcoords="offset points", ha="center", va="top", fontsize=11, color=colours[0], linespacing=1.1)
    ax.set_ylim(0, horizon * 1.12 if (~reached).any() else np.nanmax(hi) * 1.15)
    ax.set_title("Median deadlock, meetings", fontsize=13)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    for ax, key, colour, label in (
        (axes[1], "surviving", colours[1], "Share of the proposed change that survives (mean over adopted)"),
        (axes[2], "outvoted", colours[2], "Participants outvoted at adoption (mean over adopted)"),
    ):
        v = table["surviving_share" if key == "surviving" else key].to_numpy()
        lo, hi_ = table[f"{key}_lo"].to_numpy(), table[f"{key}_hi"].to_numpy()
        ax.errorbar(q, v, yerr=[v - lo, hi_ - v], fmt="o-", color=colour, capsize=5, markersize=8)
        top = 1.0 if key == "surviving" else max(1.0, float(np.nanmax(hi_)) if np.isfinite(hi_).any() else 1.0)
        ax.set_ylim(0, top * 1.15)
        for x in q[np.isnan(v)]:
            ax.annotate("none adopted", (x, top * 0.5), ha="center", va="center", fontsize=11, color=MUTED)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.set_title(label, fontsize=13)
    axes[1].set_yticks([0, 0.25, 0.5, 0.75, 1])
    percent_axis(axes[1])
    axes[2].set_xticks(q, table["threshold"])
    axes[2].set_xlabel("Threshold: share of those taking a side who must support")
    for ax in axes:
        ax.set_xlim(0.45, 1.05)
    frame(
        fig,
        results,
        "The cost of deciding: speed against consent",
        subtitle(results, list(table["rule"]), extra="bars: 95% intervals"),
        f"Median: Kaplan–Meier (▲ not reached within the horizon of {horizon:,} meetings; x not reached before the text was "
        "withdrawn, at that meeting; a bar reaches the horizon when its upper limit is not reached). "
        "Surviving share and outvoted count: means over adopted replications. All thresholds see the same random draws.",
    )
    return fig


# ------------------------------------------------------------------ the registry's entries


class _Chart:
    """A registry entry, `write(results, tables, folder, formats=None) -> files`; pickled by name, so a process pool can run it."""

    def __init__(self, name: str, draw, reads: tuple[str, ...]):
        self.name, self.draw, self.reads = name, draw, reads

    def __call__(self, results, tables, folder: Path, formats=None) -> list[Path]:
        with house_style():
            fig = self.draw(ChartData.of(results), *(tables[k] for k in self.reads))
        return [] if fig is None else save(fig, Path(folder), self.name, formats)

    def __reduce__(self):
        return (_registered, (self.name,))


def _registered(name: str) -> _Chart:
    return outputs.CHARTS[name]


READS: set[str] = set()  # the analysis tables the charts read


def _entry(name: str, draw, reads: tuple[str, ...] = ()) -> None:
    """Register `draw(results, *tables) -> Figure | None` as chart `name` (None: nothing to draw for these results).

    `results` is a ChartData (kpsim.output.chart_data), followed by the tables
    named in `reads`, in that order: each table is named once, here.
    """
    READS.update(reads)
    outputs.chart(name, _Chart(name, draw, reads))


def chart_inputs(results, tables: dict[str, pd.DataFrame]) -> tuple[ChartData, dict[str, pd.DataFrame]]:
    """What the charts are given, made once per results folder: each worker process is sent this, not the whole."""
    return ChartData.of(results), {k: tables[k] for k in READS}


_entry("survival", survival_chart)
_entry("deadlock", deadlock_chart)
_entry("blockers", blockers_chart, reads=("blockers_by_bloc.csv",))
_entry("power", power_chart, reads=("power.csv",))
_entry("threshold", lambda results, table: threshold_chart(results, table) if len(table) else None, reads=("threshold.csv",))
outputs.register_chart_inputs(chart_inputs)
