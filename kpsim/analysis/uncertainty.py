"""Parameter uncertainty: a comparison run over dynamics drawn from the calibration's posterior.

Under `montecarlo` an interval is the Monte-Carlo error of one parameter point.
Under `parameters` the replications are spread over D posterior draws (drawn
by weight, systematic resampling, from the scenario's seed); each draw runs
N / D replications of every rule on the same streams (paired), and a
figure's interval runs from the 2.5% quantile of the draws' lower bounds to
the 97.5% quantile of their upper bounds: the spread across parameter
values the record allows, widened by each draw's Monte-Carlo error. A binomial
interval of the pooled replications would hide that spread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.errors import InputError
from kpsim.scenario.schema import Scenario

MODES = ("montecarlo", "parameters")
DEFAULT_DRAWS = 50
POSTERIOR_FILE = "posterior.csv"


def posterior_beside(source: str | Path | None) -> Path | None:
    """The posterior a scenario file runs with by default: posterior.csv in its folder (the KP cases' calibration)."""
    if source is None:
        return None
    p = Path(source).parent / POSTERIOR_FILE
    return p if p.is_file() else None


def drawn_scenarios(scenario: Scenario, posterior: Path, draws: int) -> list[Scenario]:
    """The scenario at `draws` parameter points resampled from the posterior by weight (seeded by the scenario's seed)."""
    from kpsim.analysis.posterior import read_posterior

    post = read_posterior(posterior)
    if scenario.dynamics.mode != "agents":
        raise InputError(f"{scenario.name}: --uncertainty parameters draws agent dynamics; this scenario runs the null model")
    return [scenario.model_copy(update={"dynamics": scenario.dynamics.model_copy(update=p)})
            for p in post.resample(draws, scenario.seed).to_dict("records")]


def interval_pairs(summary: pd.DataFrame) -> list[tuple[str, str]]:
    """The (lower, upper) interval columns of a summary: every `x_lo` with its `x_hi`."""
    return [(c, c[:-3] + "_hi") for c in summary.columns if c.endswith("_lo") and c[:-3] + "_hi" in summary.columns]


def across_draws(pooled: pd.DataFrame, per_draw: pd.DataFrame, draws: int) -> pd.DataFrame:
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
            out.loc[i, lo] = _quantile(lows, 0.025) if len(lows) else float("nan")
            out.loc[i, hi] = _quantile(highs, 0.975) if len(highs) else float("nan")
    out["interval"] = f"parameters: 95% range over {draws} posterior draws, each with its Monte-Carlo error"
    return out


def _quantile(x: np.ndarray, q: float) -> float:
    """A quantile where NaN (not reached) ranks above every number, and comes back as NaN."""
    v = float(np.quantile(np.where(np.isnan(x), np.inf, x), q, method="inverted_cdf"))
    return v if np.isfinite(v) else float("nan")


def pooled_blockers(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Blocker tallies summed over draws, rates recomputed from the sums."""
    keys = ["rule", "actor", "kind", "bloc"]
    df = pd.concat(parts, ignore_index=True).groupby(keys, sort=False, as_index=False)[["failed_decisions", "objections", "pivotal"]].sum()
    failed = df["failed_decisions"].where(df["failed_decisions"] > 0)
    return df.assign(objection_rate=df["objections"] / failed, pivotal_rate=df["pivotal"] / failed)
