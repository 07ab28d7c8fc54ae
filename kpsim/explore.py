"""A comparison held in memory, for notebooks and the browser view.

`kpsim compare` writes a results folder and the charts are drawn from it;
here the same `Results` comes straight from the runner, so a notebook can
change a scenario in code and chart it at once, with nothing written to disk.
"""

from __future__ import annotations

from kpsim.analysis import Results
from kpsim.runner import run
from kpsim.scenario import Scenario
from kpsim.summary import summarise


def compare(scenario: Scenario, replications: int | None = None, rules: list[str] | None = None, run_id: str = "in memory") -> Results:
    """Every rule (or `rules`) on the same random draws, as `load_results` would read it back from a folder."""
    sc = scenario.model_copy(update={"replications": replications or scenario.replications})
    result = run(sc, rules, progress=False)
    summary = summarise(result.runs, sc.calendar.horizon, sc.calendar.meetings_per_year)
    meta = {"seed": sc.seed, "replications": sc.replications, "command": "kpsim.explore.compare"}
    return Results(sc, result.runs, summary, result.blockers, meta, run_id)
