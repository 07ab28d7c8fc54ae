"""compare: every rule of a scenario on the same random draws, run and summarised into Results.

The one pipeline: the command line, the browser view and the notebooks all
call it, then `Results.write` if they want a folder.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from kpsim.analysis.results import Results
from kpsim.analysis.summary import summarise
from kpsim.analysis.uncertainty import (
    DEFAULT_DRAWS,
    MODES,
    across_draws,
    check_mode,
    drawn_scenarios,
    interval_label,
    pooled_blockers,
    posterior_beside,
)
from kpsim.analysis.winset import label_summary
from kpsim.run.pool import completed, default_jobs, process_pool
from kpsim.run.provenance import run_meta
from kpsim.run.runner import concat_runs, run
from kpsim.scenario.load import load_scenario
from kpsim.scenario.schema import Scenario


def compare(
    scenario: Scenario | str | Path,
    rules: list[str] | None = None,
    reps: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    *,
    progress: bool = False,
    command: str = "kpsim.compare",
    source: str | None = None,
    uncertainty: str | None = None,
    draws: int | None = None,
    posterior: str | Path | None = None,
) -> Results:
    """Run `reps` replications (default: the scenario's) of every rule (or `rules`) on the same draws, and summarise.

    `scenario` is a Scenario or a scenario file. Results do not depend on `jobs`
    (default: every core). `command` and `source` are recorded in meta.json.
    `uncertainty` (default: the scenario's own, `montecarlo` unless it says otherwise):
    "parameters" spreads the replications over `draws` posterior draws (default 50;
    `posterior`: a posterior.csv, default the one beside the scenario file), "full" draws
    the codings written as ranges too; both give intervals across the draws
    (kpsim.analysis.uncertainty).
    """
    started = time.time()
    if not isinstance(scenario, Scenario):
        source = source or str(scenario)
        scenario = load_scenario(scenario)
    update = {k: v for k, v in {"seed": seed, "replications": reps}.items() if v is not None}
    scenario = scenario.model_copy(update=update)
    rules = list(rules) if rules else [r.label for r in scenario.rules]
    jobs = jobs or default_jobs()
    cal = scenario.calendar
    uncertainty = uncertainty or scenario.uncertainty
    if uncertainty not in MODES:
        check_mode(scenario, uncertainty, None)  # says what is allowed
    if uncertainty == "montecarlo":
        runs, blockers = run(scenario, rules, jobs=jobs, progress=progress, years=False)  # runs.csv derives its years column on writing
        summary = summarise(runs, cal.horizon, cal.meetings_per_year).assign(interval=interval_label("montecarlo"))
        extra = {"uncertainty": "montecarlo"}
    else:
        runs, blockers, summary, extra = _over_draws(scenario, rules, jobs, progress, draws, posterior or posterior_beside(source), uncertainty)
    summary = label_summary(summary, scenario)
    meta = run_meta(scenario, rules, jobs, started, source, command) | extra
    return Results(scenario, runs, summary, blockers, meta)


def one_draw(sc: Scenario, k: int, rules, n: int, horizon: int, per_year: float):
    """Draw k: every rule, replications k·n … (k+1)·n − 1, its tables and its summary (on a worker, or here)."""
    runs, blk = run(sc, rules, replications=n, jobs=1, progress=False, first=k * n, years=False)
    return runs.assign(draw=k), blk, summarise(runs, horizon, per_year).assign(draw=k)


def _over_draws(scenario: Scenario, rules, jobs, progress, draws, posterior, mode):
    """Every rule at each of `draws` draws (posterior, and codings under full), N / D replications each, on consecutive replication numbers."""
    posterior = check_mode(scenario, mode, posterior)
    d = min(draws or DEFAULT_DRAWS, scenario.replications)
    n = scenario.replications // d
    cal = scenario.calendar
    scenarios = drawn_scenarios(scenario, posterior, d, codings=mode == "full")
    pool = process_pool(jobs) if jobs > 1 and d > 1 else None
    args = (rules, n, cal.horizon, cal.meetings_per_year)
    bar = tqdm(total=d, desc=f"{scenario.name}: {mode} draws", unit="draw", disable=not progress, leave=False)
    done = [None] * d
    try:
        # a draw is the unit of work: each worker (and this process, while they start) simulates, assembles and
        # summarises whole draws, so collecting them costs little (assembling 50 draws here left the workers waiting)
        for k, result in completed(one_draw, [(sc, k, *args) for k, sc in enumerate(scenarios)], pool, window=2 * jobs):
            done[k] = result
            bar.update(1)
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    parts, blockers, summaries = (list(x) for x in zip(*done))
    runs = concat_runs(parts)  # rule by rule, replications in order, as montecarlo writes them; one copy at a time
    pooled = summarise(runs, cal.horizon, cal.meetings_per_year)
    label = interval_label(mode, d, posterior is not None, codings=bool(scenario.codings))
    summary = across_draws(pooled, pd.concat(summaries, ignore_index=True), label)
    extra = {"uncertainty": mode, "draws": d, "replications_per_draw": n, "posterior": str(posterior) if posterior else None,
             "codings": len(scenario.codings) if mode == "full" else 0}
    return runs, pooled_blockers(blockers), summary, extra
