"""Withdrawal is its own outcome: counted with its interval, censored at its meeting, never read as adopted nor as open to the horizon."""

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from kpsim.analysis.summary import format_summary, summarise, withdrawal_phrase
from kpsim.cli import main
from tests.toys import TOY_PROPOSAL


def runs(rule: str, adopted_at=(), withdrawn_after=(), open_at=()) -> pd.DataFrame:
    """Hand-made runs.csv rows: adopted at these meetings, withdrawn after these, still open at these (the horizon)."""
    meetings = [*adopted_at, *withdrawn_after, *open_at]
    adopted = np.arange(len(meetings)) < len(adopted_at)
    withdrawn = (np.arange(len(meetings)) >= len(adopted_at)) & (np.arange(len(meetings)) < len(adopted_at) + len(withdrawn_after))
    return pd.DataFrame({
        "rule": rule, "adopted": adopted, "abandoned": withdrawn, "censored": ~adopted, "meetings": meetings,
        "surviving_share": np.where(adopted, 1.0, np.nan), "n_objectors": 0,
    })


def test_withdrawn_share_has_its_wilson_interval_and_the_horizon_counts_only_the_open():
    row = summarise(runs("r", adopted_at=[2, 3, 4, 5], withdrawn_after=[6, 6, 6], open_at=[10] * 3), horizon=10, meetings_per_year=2).iloc[0]
    ci = stats.binomtest(3, 10).proportion_ci(0.95, method="wilson")
    assert (row.withdrawn, row.withdrawn_lo, row.withdrawn_hi) == pytest.approx((0.3, ci.low, ci.high))
    assert (row.withdrawn_after_min, row.withdrawn_after_max) == (6, 6)
    assert row.deadlocked_at_horizon == pytest.approx(0.3) and row.adopted == pytest.approx(0.4)
    assert row.adopted + row.withdrawn + row.deadlocked_at_horizon == pytest.approx(1)
    assert row.mean_within == 10  # some stayed open to the horizon: the curve is known up to it


def test_withdrawn_replications_are_censored_at_their_meeting():
    """Adopted at 1..5, five withdrawn after meeting 2. Kaplan–Meier: 0.9, 0.8, then 0.8·2/3, 0.8·1/3 -> median 4.

    Counted as adopted at 2 the median would be 2; kept open to the horizon, 5.
    """
    row = summarise(runs("r", adopted_at=[1, 2, 3, 4, 5], withdrawn_after=[2] * 5), horizon=30, meetings_per_year=2).iloc[0]
    assert row.median_meetings == 4
    assert row.mean_within == 30  # every replication left is adopted by meeting 5: the curve is 0 from there on


def test_a_rule_whose_every_open_replication_was_withdrawn_is_not_reported_as_deadlocked_to_the_horizon():
    row = summarise(runs("consensus", withdrawn_after=[16] * 50), horizon=30, meetings_per_year=2).iloc[0]
    assert row.withdrawn == 1 and row.deadlocked_at_horizon == 0 and row.adopted == 0
    assert math.isnan(row.median_meetings)
    # the mean reaches only as far as anything was observed: 16 meetings, not 30
    assert row.mean_within == 16 and row.mean_meetings == pytest.approx(16) and row.mean_years == pytest.approx(8)
    assert withdrawal_phrase(row) == "withdrawn after meeting 16 in 100%"
    table = format_summary(summarise(runs("consensus", withdrawn_after=[16] * 50), 30, 2), 30)
    head, _, line = table.splitlines()[:3]
    assert "withdrawn (after meeting)" in head
    assert "100% [93%, 100%] after 16" in line and "16.0 [16.0, 16.0] (≤16)" in line and "30.0" not in line
    assert "(≤N): the mean within the first N meetings" in table


def test_no_withdrawn_column_where_nothing_was_withdrawn():
    summary = summarise(runs("r", adopted_at=[1, 2], open_at=[10]), horizon=10, meetings_per_year=1)
    assert summary.withdrawn.iloc[0] == 0 and math.isnan(summary.withdrawn_after_min.iloc[0])
    assert withdrawal_phrase(summary.iloc[0]) == ""
    table = format_summary(summary, 10)
    assert "withdrawn" not in table and "(≤" not in table
    # a summary.csv from before the withdrawn columns still prints
    assert "withdrawn" not in format_summary(summary.drop(columns=["withdrawn", "withdrawn_lo", "withdrawn_hi", "mean_within"]), 10)


def test_withdrawals_at_several_meetings_say_the_range():
    row = summarise(runs("r", withdrawn_after=[12, 16, 16, 14]), horizon=30, meetings_per_year=2).iloc[0]
    assert withdrawal_phrase(row) == "withdrawn after meetings 12–16 in 100%"


@pytest.mark.parametrize("how", ["abandon_after", "event"])
def test_compare_reports_withdrawals_end_to_end(how, toy_scenario, results_of, tmp_path, toy_yaml):
    """Through the model: abandoned after 3 failed meetings, or withdrawn by an event at meeting 4 (after meeting 3)."""
    kw = {"proposal": TOY_PROPOSAL | {"abandon_after": 3}} if how == "abandon_after" else {"events": [{"at": 4, "withdraw": True}]}
    sc = toy_scenario(rules=["consensus", "simple_majority"], horizon=10, dynamics={"noise": 0.3}, seed=5, **kw)
    res = results_of(sc, 200)
    s = res.summary.set_index("rule")
    for rule, g in res.runs.groupby("rule"):
        assert s.at[rule, "withdrawn"] == pytest.approx(g["abandoned"].mean())
        assert s.at[rule, "withdrawn"] == pytest.approx((~g["adopted"]).mean())  # nothing stays open past meeting 3
        assert s.at[rule, "deadlocked_at_horizon"] == 0
        assert s.at[rule, "mean_within"] == 3 and s.at[rule, "mean_meetings"] <= 3
    assert s.at["consensus", "withdrawn"] > 0.5 and s.at["consensus", "withdrawn_after_max"] == 3
    (tmp_path / "toy.yaml").write_text(toy_yaml(rules=["consensus", "simple_majority"], horizon=10, dynamics={"noise": 0.3}, seed=5,
                                                replications=200, **kw))
    out = CliRunner().invoke(main, ["compare", str(tmp_path / "toy.yaml"), "--out", str(tmp_path / "out"), "-q", "--no-charts", "--jobs", "1"])
    assert out.exit_code == 0, out.output
    assert "withdrawn (after meeting)" in out.output and "after 3" in out.output
    written = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert {"withdrawn", "withdrawn_lo", "withdrawn_hi", "withdrawn_after_min", "withdrawn_after_max", "mean_within"} <= set(written)
