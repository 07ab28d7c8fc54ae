"""A posterior of the global dynamics: weighted draws (posterior.csv), their summaries, and reading the file safely.

Written by `kpsim calibrate` (kpsim.sweep.posterior, ABC-SMC); read by comparisons that
draw their dynamics from it (kpsim.analysis.uncertainty).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.errors import InputError
from kpsim.scenario.prior import BOX

MIN_DRAWS = 200  # fewer accepted draws than this: the posterior is too small to read
MIN_ESS = 100  # fewer effective draws than this: intervals cannot be read
UNIDENTIFIED = 0.8  # a posterior 80% interval wider than this share of the prior's is not identified by the record


@dataclass
class Posterior:
    """Weighted parameter draws (one column per parameter, `weight` summing to 1), and how they were found."""

    draws: pd.DataFrame
    generations: list[dict] = field(default_factory=list)  # epsilon, acceptance rate, simulations per generation
    simulations: int = 0

    @property
    def weights(self) -> np.ndarray:
        return self.draws["weight"].to_numpy(float)

    @property
    def ess(self) -> float:
        """Effective sample size of the weights (Kish): how many equally weighted draws they are worth."""
        w = self.weights
        return float(w.sum() ** 2 / (w**2).sum())

    def quantile(self, name: str, q: float) -> float:
        return weighted_quantile(self.draws[name].to_numpy(float), self.weights, q)

    def interval(self, name: str, level: float = 0.8) -> tuple[float, float]:
        return self.quantile(name, (1 - level) / 2), self.quantile(name, (1 + level) / 2)

    def median(self) -> dict[str, float]:
        """The posterior median of each parameter: the point the KP files run at by default."""
        return {k: round(self.quantile(k, 0.5), 4) for k in BOX}

    def resample(self, n: int, seed: int) -> pd.DataFrame:
        """n draws with probability proportional to weight (systematic resampling: low variance, reproducible)."""
        w = self.weights / self.weights.sum()
        u = (np.random.default_rng(seed).uniform() + np.arange(n)) / n
        idx = np.minimum(np.searchsorted(np.cumsum(w), u), len(w) - 1)
        return self.draws.iloc[idx][list(BOX)].reset_index(drop=True)

    def identifiability(self) -> pd.DataFrame:
        """Per parameter: prior range, posterior median and 80% interval, and the interval's share of the prior's width."""
        rows = []
        for k, (lo, hi) in BOX.items():
            a, b = self.interval(k)
            share = (b - a) / (hi - lo)
            rows.append({"parameter": k, "prior": f"{lo:g}–{hi:g}", "median": self.quantile(k, 0.5), "interval_80": f"{a:.3g}–{b:.3g}",
                         "width_share": share, "identified": share <= UNIDENTIFIED})
        return pd.DataFrame(rows)

    def warnings(self) -> list[str]:
        """Why the posterior cannot be read as it stands: too few draws, weights on few draws, mass at a box edge."""
        out = []
        if len(self.draws) < MIN_DRAWS:
            out.append(f"only {len(self.draws)} accepted draws (at least {MIN_DRAWS} are needed) — raise --population")
        if self.ess < MIN_ESS:
            out.append(f"effective sample size {self.ess:.0f} < {MIN_ESS}: the weights rest on few draws — raise --population")
        for k, (lo, hi) in BOX.items():
            x, w = self.draws[k].to_numpy(float), self.weights / self.weights.sum()
            edge = 0.025 * (hi - lo)
            for side, near in (("lower", x - lo <= edge), ("upper", hi - x <= edge)):
                if w[near].sum() >= 0.2:
                    out.append(f"{k}: {w[near].sum():.0%} of the posterior lies at the {side} edge of its box [{lo:g}, {hi:g}] — the box, not the record, may bound it")
        return out

    def write(self, path: Path) -> None:
        from kpsim.atomic import write_text

        write_text(path, self.draws[[*BOX, "weight"]].to_csv(index=False, float_format="%.6g"))


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The q-quantile of x under weights w (inverse of the weighted empirical distribution)."""
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order]) / w.sum()
    return float(x[order][min(np.searchsorted(cw, q), len(x) - 1)])


def read_posterior(path: str | Path) -> Posterior:
    """posterior.csv: one column per parameter of the box and `weight` (≥ 0, not all 0); errors name the file and line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: posterior file not found — run `kpsim calibrate`")
    try:
        df = pd.read_csv(path)
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}:1: not a CSV table ({exc})") from None
    missing = [c for c in (*BOX, "weight") if c not in df.columns]
    if missing:
        raise InputError(f"{path}:1: columns {', '.join(missing)} missing — a posterior has one column per parameter ({', '.join(BOX)}) and 'weight'")
    errors = []
    for col in (*BOX, "weight"):
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
        for i in np.flatnonzero(~np.isfinite(values))[:5]:
            errors.append(f"{path}:{i + 2}: {col} = {df[col].iloc[i]!r} — must be a finite number")
        if col == "weight":
            for i in np.flatnonzero(values < 0)[:5]:
                errors.append(f"{path}:{i + 2}: weight = {values[i]:g} — weights must be ≥ 0")
        elif col in BOX:
            lo, hi = BOX[col]
            for i in np.flatnonzero((values < lo) | (values > hi))[:5]:
                errors.append(f"{path}:{i + 2}: {col} = {values[i]:g} — outside its prior [{lo:g}, {hi:g}]")
    if errors:
        raise InputError(errors)
    if not len(df) or df["weight"].sum() <= 0:
        raise InputError(f"{path}:2: the weights sum to 0 — a posterior needs at least one draw of positive weight")
    return Posterior(df[[*BOX, "weight"]].astype(float))
