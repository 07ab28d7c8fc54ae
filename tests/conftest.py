"""Fixtures shared by every test folder: the repository root, the toy plenary, quick results, rules with valid parameters.

The toy plenary is one roster (tests/toys.py) that the tests of every room use,
each with the variations it needs: `toy_scenario(...)` validates it into a
Scenario, `toy_yaml(...)` writes it as the text of a scenario file.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import pytest

from tests.toys import default_rule, make_toy_scenario, make_toy_yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def toy_scenario():
    """toy_scenario(actors=TOY_IDS, rules=("consensus",), *, observers, weights, changes, name, proposal, horizon, **sections) -> Scenario.

    See tests/toys.py (toy_data) for what each argument varies.
    """
    return make_toy_scenario


@pytest.fixture(scope="session")
def toy_yaml():
    """toy_yaml(...same arguments as toy_scenario...) -> the text of the scenario file."""
    return make_toy_yaml


@pytest.fixture(scope="session")
def rule_with_defaults():
    """rule_with_defaults(name) -> an instance of kpsim.rules.RULES[name] with valid parameters."""
    return default_rule


# ------------------------------------------------------------------ results without a results folder


def make_results(scenario, reps: int, meta: dict | None = None, run_id: str = "test"):
    """Results of `reps` replications of every rule, in memory, through the one pipeline (kpsim.compare), in this process."""
    from kpsim.analysis.compare import compare

    results = compare(scenario, reps=reps, jobs=1)
    results.meta = {} if meta is None else meta
    results.run_id = run_id
    return results


@pytest.fixture(scope="session")
def results_of():
    """results_of(scenario, reps, meta=None, run_id="test") -> Results."""
    return make_results


@pytest.fixture(scope="session")
def censored_results():
    """censored_results(reps) -> Results: sixty coin flips, simple majority against unanimity, for 30 meetings.

    Unanimity (A = 2^-60) is never reached within the horizon, so every one of
    its replications is censored; simple majority passes within a few meetings.
    Computed once per `reps`; each call returns its own Results (whose tables
    are shared: do not modify them).
    """
    from kpsim.analysis.thresholds import threshold_scenario
    from kpsim.scenario.load import load_scenario

    @functools.cache
    def computed(reps):
        base = load_scenario(ROOT / "scenarios" / "null_model.yaml")
        short = base.model_copy(update={"calendar": base.calendar.model_copy(update={"horizon": 30})})
        return make_results(threshold_scenario(short, ["1"]), reps, {"command": "test"}, "censored")

    return lambda reps: dataclasses.replace(computed(reps), meta=dict(computed(reps).meta))


# ------------------------------------------------------------------ skips are said loudly


def pytest_terminal_summary(terminalreporter):
    """A skipped test is a part of the suite that did not run here: say which and why, at the end, in red."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        if not reason.startswith("not applicable"):  # a property of the parameter (a contract test of a rule), not of the machine
            reasons[reason] = reasons.get(reason, 0) + 1
    if not reasons:
        return
    terminalreporter.write_sep("!", f"NOT THE WHOLE SUITE: {sum(reasons.values())} tests skipped on this machine", red=True, bold=True)
    for reason, n in reasons.items():
        terminalreporter.write_line(f"  {n} × {reason}", red=True)
