"""Global sensitivity of the deadlock to the model's parameters: Sobol' indices, Morris as a screen.

Two outputs per point and rule, each one number over the point's replications:

- `median_deadlock`: the Kaplan–Meier median (meetings; censoring-aware, as in
  kpsim.summary). Where it is "not reached" (at least half the replications
  still deadlocked at the horizon) it is set to the horizon: a floor on the
  true median, so a parameter's effect among points that never reach their
  median is not seen — read it with `adopted`.
- `adopted`: the share of replications adopted within the horizon.

Parameters and their ranges: the `ranges` of the scenario's `sweep:`
section; without any, the dynamics box that `kpsim calibrate` searches
(kpsim.calibrate.BOX). Sobol' uses Saltelli's design, N × (D + 2) points
(first-order and total indices, no second order); Morris r × (D + 1) points
on 4 levels. Both are SALib's (Herman & Usher 2017; Iwanaga et al. 2022),
with bootstrap 95% intervals. Every point runs on the same seed (common random
numbers), so simulation noise is mostly shared between points and does not
inflate the indices as much as independent draws would.
"""

from __future__ import annotations

import json
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from kpsim.analysis.results import Results
from kpsim.atomic import check_free, write_text
from kpsim.errors import InputError
from kpsim.model.dynamics import DYNAMICS
from kpsim.output.style import OKABE_ITO, SLIDE, frame, house_style, save
from kpsim.run.provenance import run_meta, write_meta
from kpsim.scenario.schema import Scenario
from kpsim.scenario.prior import BOX
from kpsim.sweep.design import Design, design_from_rows
from kpsim.sweep.execute import run_sweep

OUTPUTS = {
    "median_deadlock": "Median deadlock (meetings; not reached = horizon)",
    "adopted": "Share adopted within the horizon",
}
MORRIS_LEVELS = 4
RESAMPLES = 1000
XLIM = (-0.2, 1.2)  # indices are shares of variance; estimates beyond are labelled, not drawn


def ranges_of(scenario: Scenario) -> dict[str, tuple[float, float]]:
    """The parameter box: the scenario's sweep ranges, else the calibration box on the dynamics."""
    if scenario.sweep is not None and scenario.sweep.ranges:
        return {k: tuple(v) for k, v in scenario.sweep.ranges.items()}
    strategy = DYNAMICS[scenario.dynamics.mode]
    box = {f"dynamics.{k}": v for k, v in BOX.items() if k in strategy.parameters}
    if not box:
        moves = ", ".join(f"dynamics.{p}" for p in strategy.parameters)
        raise InputError(
            f"{scenario.name}: the {strategy.title} moves only {moves} — "
            f"declare the box under sweep: ranges: (e.g. dynamics.{strategy.parameters[0]}: [0.4, 0.6])"
        )
    return box


def problem(ranges: dict[str, tuple[float, float]]) -> dict:
    return {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(b) for b in ranges.values()]}


def sobol_design(prob: dict, n: int, seed: int) -> np.ndarray:
    """Saltelli's design for first-order and total indices: n × (D + 2) rows; n a power of two."""
    return sobol_sample.sample(prob, n, calc_second_order=False, seed=seed)


def morris_design(prob: dict, trajectories: int, seed: int) -> np.ndarray:
    return morris_sample.sample(prob, trajectories, num_levels=MORRIS_LEVELS, seed=seed)


def sobol_table(prob: dict, y: np.ndarray, seed: int) -> pd.DataFrame:
    """S1 and ST with 95% half-widths; NaN when y does not vary (there is nothing to apportion)."""
    names = prob["names"]
    if np.ptp(y) == 0:
        nan = np.full(len(names), np.nan)
        return pd.DataFrame({"parameter": names, "S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = sobol_analyze.analyze(prob, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=0.95, seed=seed)
    return pd.DataFrame({"parameter": names, **{k: np.asarray(res[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")}})


def morris_table(prob: dict, x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    """μ* (mean absolute elementary effect, in the output's units per whole range) with its 95% half-width, and σ."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = morris_analyze.analyze(
            prob, x, y, num_resamples=RESAMPLES, conf_level=0.95, num_levels=MORRIS_LEVELS, seed=seed, scaled=False
        )
    return pd.DataFrame({"parameter": prob["names"], **{k: np.asarray(res[k], dtype=float) for k in ("mu_star", "mu_star_conf", "sigma")}})


def outputs(summary: pd.DataFrame, horizons: pd.Series) -> pd.DataFrame:
    """Per (point, rule): the two outputs; a median not reached is the point's horizon."""
    median = summary["median_meetings"].fillna(summary["point"].map(horizons))
    return pd.DataFrame({"point": summary["point"], "rule": summary["rule"], "median_deadlock": median, "adopted": summary["adopted"]})


def analyse(prob: dict, sobol_out: pd.DataFrame | None, morris_x, morris_out: pd.DataFrame | None, rules: list[str], seed: int) -> pd.DataFrame:
    """One row per (rule, output, parameter): Sobol' S1, ST and Morris μ*, σ, each with its 95% half-width."""
    rows = []
    for rule in rules:
        for out in OUTPUTS:
            parts = []
            if sobol_out is not None:
                y = sobol_out[sobol_out["rule"] == rule].sort_values("point")[out].to_numpy(float)
                parts.append(sobol_table(prob, y, seed))
            if morris_out is not None:
                y = morris_out[morris_out["rule"] == rule].sort_values("point")[out].to_numpy(float)
                parts.append(morris_table(prob, morris_x, y, seed))
            table = parts[0]
            for extra in parts[1:]:
                table = table.merge(extra, on="parameter")
            table.insert(0, "output", out)
            table.insert(0, "rule", rule)
            rows.append(table)
    return pd.concat(rows, ignore_index=True)


READABLE = 0.1  # an index known only to ± more than this cannot rank the parameters


def small_sample_warnings(table: pd.DataFrame, samples: int) -> list[str]:
    """Why a sensitivity table cannot be read: Sobol' indices outside [0, 1] beyond their interval, or intervals too wide."""
    s = table[["S1", "S1_conf", "ST", "ST_conf"]].dropna() if "S1" in table else pd.DataFrame()
    if s.empty:
        return []
    values = pd.concat([s["S1"], s["ST"]], ignore_index=True)
    halves = pd.concat([s["S1_conf"], s["ST_conf"]], ignore_index=True)
    out = []
    impossible = (values + halves < 0) | (values - halves > 1)
    if impossible.any():
        worst = values[impossible].iloc[int((values[impossible] - 0.5).abs().argmax())]
        out.append(f"Sobol' indices outside [0, 1] beyond their 95% interval: {int(impossible.sum())} (e.g. {worst:.2f}); "
                   f"the sample is too small to read — raise --samples (now {samples}) or --reps")
    wide = halves > READABLE
    if wide.any():
        out.append(f"{int(wide.sum())} of {len(halves)} Sobol' indices are known only to ± more than {READABLE:g} "
                   f"(widest ± {halves.max():.2g}): do not rank parameters on them — raise --samples (now {samples}) or --reps")
    return out


def sobol_chart(table: pd.DataFrame, output: str, results, subtitle: str) -> Figure:
    """First-order and total indices per parameter, with 95% intervals, one panel per rule."""
    data = table[table["output"] == output]
    rules = list(dict.fromkeys(data["rule"]))
    names = list(dict.fromkeys(data["parameter"]))
    height = max(SLIDE[1], 2.2 + 0.5 * len(names) * max(1, (len(rules) + 1) // 2))
    with house_style():
        fig = Figure(figsize=(SLIDE[0], height), layout="constrained")
        cols = min(len(rules), 3)
        axes = fig.subplots((len(rules) + cols - 1) // cols, cols, squeeze=False, sharex=True, sharey=True).ravel()
        y = np.arange(len(names))[::-1]
        for ax, rule in zip(axes, rules):
            g = data[data["rule"] == rule].set_index("parameter").reindex(names)
            for k, col in enumerate(("S1", "ST")):
                at = y + (0.2 if k == 0 else -0.2)
                ax.barh(at, g[col], height=0.38, xerr=g[f"{col}_conf"], color=OKABE_ITO[k], hatch=(None, "//")[k],
                        edgecolor="white", error_kw={"ecolor": "#222222", "capsize": 3, "linewidth": 1.2})
                for yi, v in zip(at, g[col]):  # estimates far outside [0, 1] are noise; say so rather than rescale
                    if abs(v - 0.5) > 0.5 - XLIM[0]:
                        ax.annotate(f"{v:.2g}", (min(max(v, XLIM[0]), XLIM[1]), yi), ha="right" if v > 0 else "left",
                                    va="center", fontsize=10, color="#222222")
            if g["S1"].isna().all():
                ax.text(0.5, 0.5, "output does not vary:\nnothing to apportion", transform=ax.transAxes, ha="center", va="center", color="#555555")
            ax.set_title(rule, fontsize=13)
            ax.set_xlim(*XLIM)
            ax.axvline(0, color="#555555", linewidth=1)
            ax.grid(axis="y", visible=False)
            ax.set_xlabel("Sobol' index (share of variance)")
        for ax in axes[len(rules):]:
            ax.set_visible(False)
        axes[0].set_yticks(y, names)
        frame(
            fig,
            results,
            f"What drives it? {OUTPUTS[output]}",
            f"{subtitle} · blue: first order (alone); orange, hatched: total (with interactions)",
            "Bars: Sobol' indices (Saltelli design, SALib); whiskers: 95% bootstrap intervals. First order: the share of the "
            "output's variance a parameter explains alone; total: including its interactions. Numbers mark estimates off the scale. "
            + ("A median not reached within the horizon counts as the horizon." if output == "median_deadlock" else ""),
        )
    return fig


# ------------------------------------------------------------------ the whole analysis, as `kpsim sensitivity` runs it


def plan(scenario: Scenario, tree, samples: int, trajectories: int, reps=None, seed=None, source=None, out=None) -> "Analysis":
    """Both designs over the scenario's box, every point checked before anything runs."""
    ranges = ranges_of(scenario)
    prob = problem(ranges)
    sample_seed = scenario.seed if seed is None else seed
    designs = {"sobol": sobol_design(prob, samples, sample_seed), "morris": morris_design(prob, trajectories, sample_seed)}
    plans = {k: design_from_rows(scenario, ranges, x, tree, reps, seed, source) for k, x in designs.items()}
    out = Path(out) if out else Path("results") / scenario.name / "sensitivity"
    return Analysis(scenario, ranges, prob, sample_seed, samples, trajectories, designs, plans, out, source)


@dataclass
class Analysis:
    """A Sobol' and a Morris design over one box, run as two resumable sweeps in out/sobol/ and out/morris/."""

    scenario: Scenario
    ranges: dict
    prob: dict
    seed: int
    samples: int
    trajectories: int
    designs: dict[str, np.ndarray]
    plans: dict[str, Design]
    out: Path
    source: str | None

    @property
    def base(self) -> Scenario:
        return self.plans["sobol"].base

    def open(self, force: bool = False) -> None:
        """Claim the folder (resuming one that holds this analysis); it is not complete until meta.json is written."""
        out, base = self.out, self.base
        if out.exists() and any(out.iterdir()) and not (out / "sensitivity.json").is_file() and not force:
            raise InputError(f"{out}: folder exists, is not empty and holds no sensitivity analysis — choose another --out or pass --force")
        if force:
            check_free(out, force, ours=("sensitivity.json", "meta.json"))
            shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        (out / "meta.json").unlink(missing_ok=True)
        settings = {"parameters": self.ranges, "samples": self.samples, "trajectories": self.trajectories,
                    "morris_levels": MORRIS_LEVELS, "seed": base.seed, "replications": base.replications}
        write_text(out / "sensitivity.json", json.dumps(settings, indent=2) + "\n")

    def describe(self) -> str:
        sweep = self.scenario.sweep
        held = list(sweep.grid) if sweep else []
        points = {k: len(p.points) for k, p in self.plans.items()}
        return (
            f"{self.scenario.name}: {len(self.ranges)} parameters; Sobol' N = {self.samples} ({points['sobol']:,} points), "
            f"Morris r = {self.trajectories} ({points['morris']:,} points); {self.base.replications:,} replications per point and rule"
            + (f"; held at the scenario's value: {', '.join(held)}" if held else "")
        )

    def run(self, executor, workers: int, here: bool, progress: bool = True, command: str = "") -> pd.DataFrame:
        """Run both sweeps (resuming), then write sensitivity.csv, the charts and meta.json; returns the table."""
        started = time.time()
        out, base = self.out, self.base
        stores = {k: run_sweep(p, out / k, executor, workers, here, progress=progress, command=command) for k, p in self.plans.items()}
        y = {k: outputs(stores[k].summary_parts(), _horizons(p)) for k, p in self.plans.items()}
        rules = self.plans["sobol"].rules
        table = analyse(self.prob, y["sobol"], self.designs["morris"], y["morris"], rules, self.seed)
        write_text(out / "sensitivity.csv", table.to_csv(index=False))
        results = Results(base, pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), {}, out.resolve().name)  # for the charts' footnote
        subtitle = (f"Scenario {base.name} · rules: {', '.join(rules)} · {len(self.plans['sobol'].points):,} points × "
                    f"{base.replications:,} replications per rule")
        for output in OUTPUTS:
            save(sobol_chart(table, output, results, subtitle), out / "charts", f"sobol_{output}")
        meta = run_meta(base, rules, workers + here, started, self.source, command)
        write_meta(out / "meta.json", meta)
        return table


def _horizons(plan: Design) -> pd.Series:
    """Each point's horizon (by point number): swept, or the scenario's."""
    table = plan.table()
    return table["calendar.horizon"] if "calendar.horizon" in table else table["point"] * 0 + plan.base.calendar.horizon
