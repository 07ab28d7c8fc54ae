"""Parameter and coding uncertainty: a comparison run over dynamics drawn from the calibration's posterior, and over codings drawn from their ranges.

Under `montecarlo` an interval is the Monte-Carlo error of one parameter point and
one coding (ranges at their nominal values). Under `parameters` the replications
are spread over D posterior draws (drawn by weight, systematic resampling, from the
scenario's seed); under `full` each draw also takes every coding written as a range
from that range (kpsim.scenario.codings). Each draw runs N / D replications of
every rule on the same streams (paired), and a figure's interval runs from the 2.5%
quantile of the draws' lower bounds to the 97.5% quantile of their upper bounds:
the spread across parameter values the record allows (and codings it does not rule
out), widened by each draw's Monte-Carlo error. A binomial interval of the pooled
replications would hide that spread.
"""

from __future__ import annotations

from math import floor
from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.errors import InputError
from kpsim.model.streams import Streams
from kpsim.scenario.codings import WHOLE, with_values
from kpsim.scenario.schema import Scenario

MODES = ("montecarlo", "parameters", "full")
DEFAULT_DRAWS = 50
POSTERIOR_FILE = "posterior.csv"


def posterior_beside(source: str | Path | None) -> Path | None:
    """The posterior a scenario file runs with by default: posterior.csv in its folder (the KP cases' calibration)."""
    if source is None:
        return None
    p = Path(source).parent / POSTERIOR_FILE
    return p if p.is_file() else None


def drawn_scenarios(scenario: Scenario, posterior: Path | None, draws: int, codings: bool = False) -> list[Scenario]:
    """The scenario at `draws` parameter points resampled from the posterior by weight (seeded by the scenario's seed),
    each with its codings drawn from their ranges if `codings` (draw k from the streams keyed by seed and k)."""
    return [at_draw(scenario, k, update, codings) for k, update in enumerate(posterior_updates(scenario, posterior, draws))]


def posterior_updates(scenario: Scenario, posterior: Path | None, draws: int) -> list[dict]:
    """The dynamics of each draw, resampled from the posterior by weight (seeded by the scenario's seed); {} each without one."""
    if posterior is None:
        return [{}] * draws
    from kpsim.analysis.posterior import read_posterior

    post = read_posterior(posterior)
    if scenario.dynamics.mode != "agents":
        raise InputError(f"{scenario.name}: --uncertainty parameters draws agent dynamics; this scenario runs the null model")
    return post.resample(draws, scenario.seed).to_dict("records")


def at_draw(scenario: Scenario, k: int, update: dict, codings: bool) -> Scenario:
    """Draw k of a scenario: its dynamics updated from the posterior, its codings drawn from their ranges if `codings`."""
    sc = scenario.model_copy(update={"dynamics": scenario.dynamics.model_copy(update=update)}) if update else scenario
    return with_codings_drawn(sc, k) if codings else sc


def check_mode(scenario: Scenario, mode: str, posterior: Path | None) -> Path | None:
    """The posterior a mode runs with (None: none), or an InputError saying what the mode lacks."""
    if mode not in MODES:
        raise InputError(f"uncertainty = {mode!r} — allowed: {', '.join(MODES)}")
    if mode == "full" and scenario.dynamics.mode != "agents":
        posterior = None  # the null model has no dynamics to draw: codings only
    if posterior is None and mode == "parameters":
        raise InputError(f"{scenario.name}: --uncertainty parameters needs a posterior (--posterior FILE; none beside the scenario file)")
    if posterior is None and mode == "full" and not scenario.codings:
        raise InputError(f"{scenario.name}: --uncertainty full draws the posterior and the codings written as ranges; "
                         "this scenario has neither (--posterior FILE, or write a coding as [low, high])")
    return Path(posterior) if posterior is not None else None


def coding_uniforms(seed: int, draw: int, names: list[str]) -> np.ndarray:
    """One uniform per coding for draw `draw`: a pure function of (seed, draw, name), so any worker count gives the same codings."""
    return Streams(seed, np.array([draw]), names).uniform(slice(None), meeting=-1)[0]  # meeting -1: a slot the model never reads


def with_codings_drawn(scenario: Scenario, draw: int) -> Scenario:
    """The scenario with every coded range set to one value drawn for `draw` (uniform; whole fields: a whole number)."""
    if not scenario.codings:
        return scenario
    unique = list({c.name: c for c in scenario.codings}.values())
    u = coding_uniforms(scenario.seed, draw, [c.name for c in unique])
    values = {}
    for c, x in zip(unique, u):
        values[c] = floor(c.low + x * (c.high - c.low + 1)) if c.field in WHOLE else c.low + x * (c.high - c.low)
    by_actor: dict[str | None, list] = {}
    for c, v in values.items():
        by_actor.setdefault(c.actor, []).append((c, v))
    actors = [a.model_copy(update=with_values(a.model_dump(include={"weights"}), by_actor[a.id])) if a.id in by_actor else a for a in scenario.actors]
    update = {"actors": actors}
    if None in by_actor:
        update["proposal"] = scenario.proposal.model_copy(update=with_values({}, by_actor[None]))
    return scenario.model_copy(update=update)


def interval_label(mode: str, draws: int = 0, posterior: bool = True, codings: bool = True) -> str:
    """What a summary's intervals cover, in one line (the `interval` column, the console, the brief); `codings`: does
    the scenario write any coding as a range (under full, without one only the parameters are drawn)."""
    if mode == "montecarlo":
        return "montecarlo: 95% Monte-Carlo interval at the scenario's dynamics and codings"
    full = ("draws of the parameters and codings" if codings else "draws of the parameters (no coding is a range)") if posterior \
        else "draws of the codings (no posterior: parameters fixed)"
    what = {"parameters": "posterior draws", "full": full}[mode]
    return f"{mode}: 95% range over {draws} {what}, each with its Monte-Carlo error"


def interval_pairs(summary: pd.DataFrame) -> list[tuple[str, str]]:
    """The (lower, upper) interval columns of a summary: every `x_lo` with its `x_hi`."""
    return [(c, c[:-3] + "_hi") for c in summary.columns if c.endswith("_lo") and c[:-3] + "_hi" in summary.columns]


def across_draws(pooled: pd.DataFrame, per_draw: pd.DataFrame, label: str) -> pd.DataFrame:
    """The pooled summary with every interval replaced by the range across draws (see the module's docstring).

    `per_draw` holds one summary row per rule and draw. A bound that is NaN in a draw means a median
    not reached within the horizon: it counts as beyond the horizon, so the range says so too. The
    surviving share is NaN in a draw that adopted nothing: undefined there, so that draw is left out.
    """
    out = pooled.copy()
    for lo, hi in interval_pairs(pooled):
        undefined_if_nan = lo.startswith("surviving")
        for i, rule in enumerate(pooled["rule"]):
            g = per_draw[per_draw["rule"] == rule]
            lows, highs = g[lo].to_numpy(float), g[hi].to_numpy(float)
            if undefined_if_nan:
                lows, highs = lows[~np.isnan(lows)], highs[~np.isnan(highs)]
            out.loc[i, [lo, hi]] = draw_range(lows, highs)
    out["interval"] = label
    return out


def from_draws(runs: pd.DataFrame) -> bool:
    """Do these runs come from several draws (--uncertainty parameters or full: a `draw` column)? Then every interval
    shown is draw_range's, not a Monte-Carlo one."""
    return "draw" in runs and runs["draw"].nunique() > 1


def draw_range(lows, highs, axis: int | None = None):
    """The 95% range across draws of a figure, from each draw's own 95% interval: 2.5% of the draws' lower bounds to
    97.5% of their upper bounds, so each draw's Monte-Carlo error widens it (NaN, not reached, ranks above every
    number; a bound with no draws: NaN). Every interval under --uncertainty parameters or full is this one; with
    `axis`, at every point of a curve at once (the draws along that axis)."""
    return _quantile(np.asarray(lows, dtype=float), 0.025, axis), _quantile(np.asarray(highs, dtype=float), 0.975, axis)


def _quantile(x: np.ndarray, q: float, axis: int | None = None):
    """A quantile where NaN (not reached) ranks above every number, and comes back as NaN; of nothing, NaN."""
    if x.size == 0:
        return float("nan")
    v = np.quantile(np.where(np.isnan(x), np.inf, x), q, axis=axis, method="inverted_cdf")
    return np.where(np.isfinite(v), v, np.nan) if axis is not None else (float(v) if np.isfinite(v) else float("nan"))


def pooled_blockers(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Blocker tallies summed over draws, rates recomputed from the sums."""
    keys = ["rule", "actor", "kind", "bloc"]
    df = pd.concat(parts, ignore_index=True).groupby(keys, sort=False, as_index=False)[["failed_decisions", "objections", "pivotal"]].sum()
    failed = df["failed_decisions"].where(df["failed_decisions"] > 0)
    return df.assign(objection_rate=df["objections"] / failed, pivotal_rate=df["pivotal"] / failed)
