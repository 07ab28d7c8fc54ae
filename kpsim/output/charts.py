"""Every chart, each registered in the outputs registry (kpsim.analysis.outputs) so Results.write draws it.

Each chart is a function of the results (and the analysis tables it reads)
that returns a matplotlib Figure in the house style (kpsim.output.style); the
registrations at the bottom say which file each becomes. A new chart is one
function and one entry there.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps, rcParams
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator

from kpsim.analysis import outputs
from kpsim.analysis.blockers import bloc_labels
from kpsim.analysis.results import Results
from kpsim.analysis.summary import PCT, format_ci
from kpsim.analysis.survival import kaplan_meier
from kpsim.output.style import (
    CENSORED,
    INK,
    MUTED,
    OKABE_ITO,
    SLIDE,
    STYLE,
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


# ------------------------------------------------------------------ charts


def draw_survival(ax, results: Results) -> None:
    """Kaplan–Meier curves with 95% bands into `ax`: for the slide chart and for the brief."""
    horizon = results.scenario.calendar.horizon
    per_year = results.scenario.calendar.meetings_per_year
    styles = rule_styles(results.rules)
    summary = results.summary.set_index("rule")
    any_censored = bool(results.runs["censored"].any())
    right = horizon if any_censored else int(results.runs["meetings"].max())
    for rule, g in results.runs.groupby("rule", sort=False):
        km = kaplan_meier(g["meetings"].to_numpy(), g["censored"].to_numpy())
        # the curve is known up to the last observed time; past it only if nobody is left deadlocked
        end = right if km.survival[-1] == 0 else km.times[-1]
        x = np.concatenate(([0.0], km.times, [end]))
        y, lo, hi = (np.concatenate(([1.0], v, [v[-1]])) for v in (km.survival, km.lower, km.upper))
        st = styles[rule]
        row = summary.loc[rule]
        label = f"{rule}: median {format_ci(row.median_meetings, row.median_lo, row.median_hi, '{:g}')}"
        ax.step(x, y, where="post", label=label, **st)
        band = x <= km.times[-1]  # no band past the last observation
        ax.fill_between(x[band], lo[band], hi[band], step="post", color=st["color"], alpha=0.18, linewidth=0)
        censored_here = km.at_risk - km.event_counts - np.append(km.at_risk[1:], 0)
        t_c = km.times[censored_here > 0]
        ax.plot(t_c, km.at(t_c), linestyle="none", marker="|", markersize=marker_size(12), markeredgewidth=2, color=st["color"])
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
    # below the axes, so that no curve is ever hidden behind it
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=min(2, len(results.rules)), handlelength=3)


def survival_chart(results: Results) -> Figure:
    """Kaplan–Meier share still deadlocked, per rule, with its 95% band; ticks mark censoring."""
    fig = figure()
    draw_survival(fig.add_subplot(), results)
    frame(
        fig,
        results,
        "How long does the deadlock last under each rule?",
        subtitle(results, extra="shaded: 95% confidence band"),
        "Kaplan–Meier estimates; a proposal not adopted by the horizon (or abandoned) is censored (|), never counted as adopted. "
        "Dotted line: half adopted (the median).",
    )
    return fig


def deadlock_chart(results: Results) -> Figure:
    """When proposals pass, per rule; the ones that never passed stand apart, hatched."""
    horizon = results.scenario.calendar.horizon
    rules = results.rules
    styles = rule_styles(rules)
    adopted_t = results.runs.loc[results.runs["adopted"], "meetings"]
    last = int(adopted_t.max()) if len(adopted_t) else 1
    width = max(1, math.ceil(last / 50))
    edges = np.arange(0.5, last + width + 0.5, width)
    gap = 3 * width
    cens_x = edges[-1] + gap
    height = max(SLIDE[1], min(9.5, 1.9 + 1.0 * len(rules)))
    fig = figure((SLIDE[0], height))
    axes = fig.subplots(len(rules), 1, sharex=True, squeeze=False)[:, 0]
    for ax, rule in zip(axes, rules):
        g = results.runs[results.runs["rule"] == rule]
        n = len(g)
        counts, _ = np.histogram(g.loc[g["adopted"], "meetings"], bins=edges)
        st = styles[rule]
        ax.bar(edges[:-1] + width / 2, counts / n, width=width * 0.9, color=st["color"])
        abandoned = g["abandoned"].mean()
        open_ = (g["censored"] & ~g["abandoned"]).mean()
        ax.bar(cens_x, open_, width=gap * 0.8, color="white", edgecolor=CENSORED, hatch="///", linewidth=1.5)
        if abandoned > 0:
            ax.bar(cens_x, abandoned, bottom=open_, width=gap * 0.8, color=CENSORED, edgecolor=CENSORED)
        share = g["censored"].mean()
        ax.annotate(PCT.format(share), (cens_x, share), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", fontsize=12, color=INK)
        ax.axvline(edges[-1] + gap / 2 - width / 2, color=MUTED, linewidth=1, linestyle=":")
        ax.set_title(rule, fontsize=13, loc="left", pad=2, color=st["color"])
        ax.grid(axis="x", visible=False)
        percent_axis(ax)
        ax.set_ylim(0, max(0.05, float(ax.get_ylim()[1]) * 1.18))
    ticks = [t for t in axes[-1].get_xticks() if 0 <= t <= edges[-1]]
    axes[-1].set_xticks(ticks + [cens_x], [f"{t:g}" for t in ticks] + [f"not adopted\nby {horizon:,}"])
    axes[-1].set_xlim(0, cens_x + gap)
    axes[-1].set_xlabel("Meeting at which the proposal was adopted" + (f" (bins of {width} meetings)" if width > 1 else ""))
    fig.supylabel("Share of replications", fontsize=14, color=INK)
    frame(
        fig,
        results,
        "When would the proposal pass?",
        subtitle(results),
        "Bars: share of all replications adopted at each meeting. Hatched: not adopted by the horizon (censored); "
        "solid grey: abandoned. Neither is counted as adopted.",
    )
    return fig


def _heatmap(ax, table: pd.DataFrame, title: str, width_in: float, fmt=PCT.format) -> None:
    """Rows × columns, each cell coloured and labelled; blank (–) where the value does not exist.

    `width_in` is about the width the axes get, to size the cell labels so they fit their cells.
    """
    values = table.to_numpy(dtype=float)
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    cmap = colormaps["cividis"].with_extremes(bad="#F2F2F2")
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=max(top, 1e-12), aspect="auto")
    size = min(12.0, 72 * width_in / max(1, values.shape[1]) / 3.4) * rcParams["font.size"] / STYLE["font.size"]
    for (i, j), v in np.ndenumerate(values):
        dark = np.isfinite(v) and v < 0.55 * top
        ax.text(j, i, "–" if not np.isfinite(v) else fmt(v), ha="center", va="center", fontsize=size,
                color=MUTED if not np.isfinite(v) else "white" if dark else INK)
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=30, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(table.shape[0]), table.index)
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=13)


def blockers_chart(results: Results, by_bloc: pd.DataFrame) -> Figure:
    """Per bloc and rule: how often a member's objection alone sank the text, and how often members objected."""
    failed = by_bloc.groupby("rule", sort=False)["failed_decisions"].first()
    rules = [r for r in results.rules if failed.get(r, 0) > 0]
    none = [r for r in results.rules if r not in rules]
    title = "Who blocks? Share of failed decisions, by bloc (mean member)"
    if not rules:
        fig = figure()
        nothing_to_show(fig, "Every decision passed at its first meeting under every rule: nobody blocked.")
        frame(fig, results, title, subtitle(results))
        return fig
    data = by_bloc[by_bloc["rule"].isin(rules)]
    pivot = {col: data.pivot_table(index="bloc", columns="rule", values=col, sort=False).reindex(columns=rules) for col in ("pivotal_rate", "objection_rate")}
    order = pivot["pivotal_rate"].max(axis=1).sort_values(ascending=False, kind="stable").index
    fig = figure((SLIDE[0], max(SLIDE[1], 3.6 + 0.45 * len(order))))
    axes = fig.subplots(1, 2, sharey=True)
    _heatmap(axes[0], pivot["pivotal_rate"].reindex(order), "Pivotal: its objection alone sank the text", 4.6)
    _heatmap(axes[1], pivot["objection_rate"].reindex(order), "Objected", 4.6)
    axes[1].tick_params(labelleft=False)
    counts = ", ".join(f"{r} {failed[r]:,}" for r in rules)
    frame(
        fig,
        results,
        title,
        subtitle(results, extra=f"no failed decision under {', '.join(none)}" if none else ""),
        "Pivotal: withdrawing that one objection would have passed the text. Blocs ranked by their highest pivotal rate; "
        "–: not a voter under that rule. Rates pool every failed decision of every replication (no interval: decisions "
        f"within a replication are not independent). Failed decisions: {counts}.",
    )
    return fig


def power_chart(results: Results, power: pd.DataFrame) -> Figure:
    """Per rule (one row each): Coleman's power to act, and each bloc's share of voting power (exact indices)."""
    styles = rule_styles(results.rules)
    per_rule = power.groupby("rule", sort=False).agg(coleman=("coleman_power_to_act", "first"), note=("note", "first"))
    ok = per_rule[per_rule["coleman"].notna()]
    rules = list(ok.index)
    missing = per_rule[per_rule["coleman"].isna()]
    unavailable = "; ".join(f"{r}: not available — {n}" for r, n in missing["note"].items())
    if not rules:
        fig = figure()
        nothing_to_show(fig, "No rule of this run is a yes/no game, so no power index is defined (see below).")
        frame(fig, results, "Who holds power under each rule?", subtitle(results), unavailable)
        return fig
    shown = power[power["rule"].isin(rules)].assign(bloc=lambda t: bloc_labels(t), voters=1.0)
    shares = {
        col: shown.pivot_table(index="rule", columns="bloc", values=col, aggfunc="sum", sort=False).reindex(index=rules)
        for col in ("shapley_shubik", "banzhaf_normalized", "voters")
    }
    order = shares["shapley_shubik"].max(axis=0).sort_values(ascending=False, kind="stable").index
    seats = shares["voters"].div(shares["voters"].sum(axis=1), axis=0).reindex(columns=order)
    fig = figure((SLIDE[0], max(SLIDE[1], 3.9 + 0.42 * len(rules))))
    gs = fig.add_gridspec(1, 3, width_ratios=[0.8, 1, 1])
    ax_c = fig.add_subplot(gs[0])
    y = np.arange(len(rules))
    ax_c.barh(y, ok["coleman"], color=[styles[r]["color"] for r in rules], height=0.6)
    ax_c.set_xscale("log")
    ax_c.set_yticks(y, rules)
    ax_c.set_ylim(len(rules) - 0.5, -0.5)  # first rule on top, as in the heatmaps
    for yi, v in zip(y, ok["coleman"]):
        ax_c.annotate(f"{v:.3g}", (v, yi), xytext=(4, 0), textcoords="offset points", va="center", fontsize=11, color=INK)
    lo = max(min(ok["coleman"].min() / 10, 0.1), 1e-300)
    ax_c.set_xlim(lo, 30)
    ax_c.xaxis.set_major_locator(LogLocator(numticks=4))
    ax_c.set_title("Power to act (Coleman):\nchance a text passes", fontsize=13)
    ax_c.set_xlabel("each voting yes or no\nby the toss of a coin", fontsize=12)
    ax_c.grid(axis="y", visible=False)
    for k, (col, title) in enumerate((("shapley_shubik", "Shapley–Shubik"), ("banzhaf_normalized", "Banzhaf, normalised")), start=1):
        ax = fig.add_subplot(gs[k], sharey=ax_c)
        _heatmap(ax, shares[col].reindex(columns=order), f"Bloc's share of power:\n{title}", 4.0)
        ax.tick_params(labelleft=False)
    seat_text = ", ".join(f"{b} {PCT.format(v)}" for b, v in seats.iloc[0].dropna().items())
    frame(
        fig,
        results,
        "Who holds power under each rule?",
        subtitle(results, rules, extra="exact indices, assuming every voter takes a side (no abstention)"),
        f"Blocs' shares of the voters under {rules[0]}: {seat_text}. " + unavailable,
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
    hi = table["median_hi"].fillna(horizon).to_numpy()
    ax.errorbar(q[reached], med[reached], yerr=[med[reached] - table["median_lo"].to_numpy()[reached], hi[reached] - med[reached]],
                fmt="o-", color=colours[0], capsize=5, markersize=8)
    for x in q[~reached]:
        ax.plot([x], [horizon], marker="^", markersize=12, color=colours[0], markerfacecolor="white", markeredgewidth=2)
        ax.annotate("not\nreached", (x, horizon), xytext=(0, -12), textcoords="offset points",
                    ha="center", va="top", fontsize=11, color=colours[0], linespacing=1.1)
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
        f"Median: Kaplan–Meier (▲ not reached within the horizon of {horizon:,} meetings; a bar reaches the horizon when its "
        "upper limit is not reached). "
        "Surviving share and outvoted count: means over adopted replications. All thresholds see the same random draws.",
    )
    return fig


# ------------------------------------------------------------------ the registry's entries


def _entry(name: str, draw):
    """Register `draw(results, tables) -> Figure | None` as chart `name` (None: nothing to draw for these results)."""

    def write(results, tables, folder: Path) -> list[Path]:
        with house_style():
            fig = draw(results, tables)
        return [] if fig is None else save(fig, Path(folder), name)

    outputs.chart(name, write)


_entry("survival", lambda results, tables: survival_chart(results))
_entry("deadlock", lambda results, tables: deadlock_chart(results))
_entry("blockers", lambda results, tables: blockers_chart(results, tables["blockers_by_bloc.csv"]))
_entry("power", lambda results, tables: power_chart(results, tables["power.csv"]))
_entry("threshold", lambda results, tables: threshold_chart(results, tables["threshold.csv"]) if len(tables["threshold.csv"]) else None)
