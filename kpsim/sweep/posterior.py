"""Calibration by ABC-SMC (pyabc): a weighted sample of the global dynamics given every recorded case.

Each simulation runs every case once (one replication, a fresh seed) and
counts the recorded facts it misses: a case whose outcome falls outside its
recorded window (calibrate.observed_window), and a recorded objection
(`record.objected`) that did not happen. The last generation accepts only
draws that miss nothing (ε = 0): exact rejection ABC on discrete data, so the
accepted draws, weighted by prior over proposal density (pyabc), sample the
posterior P(θ | facts) ∝ prior(θ) · P(every fact | θ). The earlier generations
(ε = 3, 2, 1 by default) only steer the proposals toward where that happens.

pyabc is imported here only (about 5 s): `kpsim calibrate` needs it, nothing else.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.analysis.posterior import Posterior
from kpsim.errors import InputError
from kpsim.model.plenary import PlenaryModel
from kpsim.rules import OBJECT
from kpsim.scenario.prior import BOX
from kpsim.sweep.calibrate import Case, observed_window, with_dynamics

EPSILONS = (3, 2, 1, 0)  # facts a draw may miss, generation by generation; the last must be 0
MIN_POPULATION = 200  # the default population: posterior.csv holds at least this many weighted draws


# ------------------------------------------------------------------ one simulation


def misses(case: Case, params: dict, seed: int) -> int:
    """How many of the case's recorded facts one simulated history (seed) misses."""
    sc = with_dynamics(case.scenario, params, 1, seed)
    record = sc.record
    m = PlenaryModel(sc, record.rule, 1, record=bool(record.objected)).run()
    adopted, meeting = bool(m.adopted[0]), int(m.meetings[0])
    was_adopted, lo, hi = observed_window(record)
    in_window = (adopted and lo <= meeting <= hi) if was_adopted else not (adopted and meeting <= hi)
    missed = int(not in_window)
    for fact in record.objected:
        meetings = fact.meetings(sc.calendar)
        polls = [h for h in m.history if h.number in meetings and len(h.replications)]
        ids = [m.actor_ids.index(a) for a in fact.actors]
        objected = {j for h in polls for j in ids if h.stances[0, j] == OBJECT}
        missed += len(ids) > len(objected)
    return missed


def _model(cases: list[Case]):
    """The pyabc model: parameters in, {'missed': facts missed by one history of every case} out."""

    def model(params) -> dict:
        values = {k: float(params[k]) for k in BOX}
        seed = int(np.random.randint(0, 2**31 - 1))  # pyabc seeds numpy per worker; each history its own stream
        return {"missed": sum(misses(c, values, seed + i) for i, c in enumerate(cases))}

    return model


def _distance(x: dict, x0: dict) -> float:
    return float(x["missed"])


# ------------------------------------------------------------------ ABC-SMC


def run_abc(
    cases: list[Case],
    population: int = MIN_POPULATION,
    epsilons: tuple[float, ...] = EPSILONS,
    jobs: int = 1,
    scheduler: str | None = None,
    seed: int = 2011,
    database: Path | None = None,
    max_simulations: int = 2_000_000,
    progress=None,
) -> Posterior:
    """ABC-SMC over the box with pyabc; the last generation's weighted draws are the posterior.

    Runs locally (`jobs` processes) or on a Dask cluster (`scheduler`, as `kpsim sweep`).
    With one local process the result is reproducible for a seed; with more, which draws
    are accepted depends on timing (pyabc's parallel samplers), the posterior only in law.
    """
    import logging

    try:
        import pyabc
    except ImportError:
        raise InputError("kpsim calibrate needs pyabc: python3 -m pip install -e '.[calibrate]'") from None

    for name in ("ABC", "Sampler", "Epsilon", "Distance", "History", "Acceptor", "Transition", "Population"):
        logging.getLogger(f"ABC.{name}").setLevel(logging.WARNING)
        logging.getLogger(name).setLevel(logging.WARNING)
    if epsilons[-1] != 0:
        raise InputError(f"--epsilons must end in 0 (the exact posterior), not {epsilons[-1]:g}")
    prior = pyabc.Distribution(**{k: pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in BOX.items()})
    if scheduler:
        from distributed import Client

        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=Client(scheduler))
    elif jobs > 1:
        sampler = pyabc.sampler.MulticoreEvalParallelSampler(n_procs=jobs)
    else:
        sampler = pyabc.sampler.SingleCoreSampler()
    np.random.seed(seed)
    abc = pyabc.ABCSMC(_model(cases), prior, _distance, population_size=population,
                       eps=pyabc.epsilon.ListEpsilon(list(epsilons)), sampler=sampler)
    db = f"sqlite:///{database}" if database else "sqlite://"
    history = abc.new(db, {"missed": 0})
    for _ in epsilons:  # one generation at a time, to report each as it ends
        done = int(history.get_all_populations().query("t >= 0")["samples"].sum())
        if done >= max_simulations:
            break
        abc.run(minimum_epsilon=0, max_nr_populations=1, max_total_nr_simulations=max_simulations - done)
        pops = history.get_all_populations()
        last = pops.iloc[-1]
        if progress:
            progress(f"generation {int(last['t']) + 1} of {len(epsilons)}: ε = {float(last['epsilon']):g}, {int(last['samples']):,} histories "
                     f"({population / max(int(last['samples']), 1):.1%} accepted)")
        if float(last["epsilon"]) == 0:
            break
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    if pops.empty or float(pops["epsilon"].iloc[-1]) != 0:
        raise InputError(f"ABC-SMC stopped before ε = 0 after {int(pops['samples'].sum()) if len(pops) else 0:,} simulations "
                         "(--max-simulations): no draw reproduced every recorded fact — the model cannot match the record in this box")
    df, w = history.get_distribution(m=0, t=history.max_t)
    draws = df[list(BOX)].reset_index(drop=True).assign(weight=np.asarray(w, float) / np.sum(w))
    generations = [{"epsilon": float(r.epsilon), "simulations": int(r.samples), "acceptance": population / max(int(r.samples), 1)}
                   for r in pops.itertuples()]
    return Posterior(draws, generations, int(pops["samples"].sum()))


# ------------------------------------------------------------------ posterior-predictive check


def posterior_predictive(cases: list[Case], post: Posterior, draws: int, replications: int, seed: int, progress=None) -> pd.DataFrame:
    """Per case and posterior draw: the simulated chance of the recorded outcome and the median meeting of adoption."""
    from kpsim.analysis.survival import kaplan_meier
    from kpsim.sweep.calibrate import _quantile, simulate

    rows = []
    for d, params in enumerate(post.resample(draws, seed).to_dict("records")):
        for case in cases:
            runs = simulate(case, params, replications, seed + 1 + d)
            t, adopted = runs["meetings"].to_numpy(), runs["adopted"].to_numpy()
            was, lo, hi = observed_window(case.scenario.record)
            hit = (adopted & (t >= lo) & (t <= hi)) if was else ~(adopted & (t <= hi))
            median = _quantile(kaplan_meier(t, ~adopted), 0.5)
            rows.append({"case": case.name, "draw": d, "p_recorded": float(hit.mean()),
                         "median_meetings": math.nan if median is None else median, "horizon": case.scenario.calendar.horizon})
        if progress:
            progress()
    return pd.DataFrame(rows)


def predictive_table(ppc: pd.DataFrame, cases: list[Case]) -> pd.DataFrame:
    """One row per case: the recorded window, and across posterior draws the chance of it (mean, 5–95%) and the median meeting."""
    out = []
    for case in cases:
        g = ppc[ppc["case"] == case.name]
        was, lo, hi = observed_window(case.scenario.record)
        med = g["median_meetings"].fillna(g["horizon"] + 1)
        fmt = lambda v, h=int(g["horizon"].iloc[0]): f">{h}" if v > h else f"{v:g}"  # noqa: E731
        out.append({
            "case": case.name,
            "recorded": f"adopted at meeting {lo}–{hi}" if was else f"not adopted by meeting {hi}",
            "p_recorded": g["p_recorded"].mean(),
            "p_recorded_90": f"{g['p_recorded'].quantile(0.05):.0%}–{g['p_recorded'].quantile(0.95):.0%}",
            "median_meetings": fmt(float(med.median())),
            "median_90": f"{fmt(float(med.quantile(0.05, interpolation='lower')))}–{fmt(float(med.quantile(0.95, interpolation='higher')))}",
        })
    return pd.DataFrame(out)
