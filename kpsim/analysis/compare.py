"""compare: every rule of a scenario on the same random draws, run and summarised into Results.

The one pipeline: the command line, the browser view and the notebooks all
call it, then `Results.write` if they want a folder.
"""

from __future__ import annotations

import time
from pathlib import Path

from kpsim.analysis.results import Results
from kpsim.analysis.summary import summarise
from kpsim.analysis.winset import label_summary
from kpsim.run.pool import default_jobs
from kpsim.run.provenance import run_meta
from kpsim.run.runner import run
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
) -> Results:
    """Run `reps` replications (default: the scenario's) of every rule (or `rules`) on the same draws, and summarise.

    `scenario` is a Scenario or a scenario file. Results do not depend on `jobs`
    (default: every core). `command` and `source` are recorded in meta.json.
    """
    started = time.time()
    if not isinstance(scenario, Scenario):
        source = source or str(scenario)
        scenario = load_scenario(scenario)
    update = {k: v for k, v in {"seed": seed, "replications": reps}.items() if v is not None}
    scenario = scenario.model_copy(update=update)
    rules = list(rules) if rules else [r.label for r in scenario.rules]
    jobs = jobs or default_jobs()
    runs, blockers = run(scenario, rules, jobs=jobs, progress=progress)
    cal = scenario.calendar
    summary = label_summary(summarise(runs, cal.horizon, cal.meetings_per_year), scenario)
    meta = run_meta(scenario, rules, jobs, started, source, command)
    return Results(scenario, runs, summary, blockers, meta)
