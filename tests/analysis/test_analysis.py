"""Blockers by bloc, log-rank with Holm, and the cost of deciding against the null model's exact law."""

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from kpsim.analysis.blockers import blockers_by_actor, blockers_by_bloc
from kpsim.analysis.summary import summarise
from kpsim.analysis.survival import holm, logrank_table
from kpsim.analysis.thresholds import outvoted, threshold_scenario, threshold_table
from kpsim.cli import main
from kpsim.errors import InputError
from kpsim.scenario.load import load_scenario


@pytest.fixture(scope="module")
def null_sweep(root, results_of):
    """Sixty coin-flip participants under simple majority and three-fifths: exact answers known."""
    sc = load_scenario(root / "scenarios" / "null_model.yaml")
    return results_of(threshold_scenario(sc, ["3/5"]), 4000)


def exact_null(k: int, n: int = 60):
    """Pass chance A, geometric median deadlock, and mean and sd of objectors given at least k support."""
    a = stats.binom.sf(k - 1, n, 0.5)
    s = np.arange(k, n + 1)
    w = stats.binom.pmf(s, n, 0.5) / a
    mean = float(((n - s) * w).sum())
    return a, math.ceil(math.log(0.5) / math.log(1 - a)), mean, math.sqrt(float((((n - s) - mean) ** 2 * w).sum()))


def test_cost_of_deciding_matches_the_null_model(null_sweep):
    table = threshold_table(null_sweep)
    assert list(table.threshold) == ["> 1/2", "≥ 3/5"] and list(table.q) == [0.5, 0.6]
    for row, k in zip(table.itertuples(), (31, 36)):
        _, median, out_mean, out_sd = exact_null(k)
        assert row.median_lo <= median <= row.median_hi  # exact median 2, then 9 meetings
        assert row.surviving_share == 1.0  # nothing amends the text in the null model
        se = out_sd / math.sqrt(row.replications)
        assert abs(row.outvoted - out_mean) < 4 * se  # 26.57, then 22.74 objectors
    # P(T <= 1) = 0.449 and P(T <= 2) = 0.696 are both > 6 standard errors from 1/2: the median is 2, no less, no more
    assert table.median_meetings.iloc[0] == 2


def test_without_censoring_the_km_median_is_the_sample_median(null_sweep):
    runs = null_sweep.runs
    assert not runs.censored.any()
    for rule, g in runs.groupby("rule"):
        lower_median = np.quantile(g.meetings, 0.5, method="inverted_cdf")  # first t with F(t) >= 1/2
        assert threshold_table(null_sweep).set_index("rule").loc[rule, "median_meetings"] == lower_median


def test_heavy_censoring_reports_not_reached(censored_results):
    res = censored_results(300)  # unanimity of 60 coin flips within 30 meetings: A = 2^-60
    table = threshold_table(res).set_index("threshold")
    assert math.isnan(table.loc["unanimity", "median_meetings"]) and math.isnan(table.loc["unanimity", "surviving_share"])
    assert res.runs[res.runs.rule == "q=1"].censored.all()
    assert math.isnan(outvoted(res.runs).set_index("rule").loc["q=1", "outvoted"])


def test_threshold_scenario_pairs_every_threshold_on_one_run(root):
    base = load_scenario(root / "scenarios" / "null_model.yaml")
    sc = threshold_scenario(base, ["3/4", "0.6", "2/3", "3/4"])
    assert [r.label for r in sc.rules] == ["simple_majority", "q=3/5", "q=2/3", "q=3/4"]
    assert sc.seed == base.seed and sc.actors == base.actors
    with pytest.raises(InputError, match="at most 1"):
        threshold_scenario(base, ["3/2"])


# the toy plenary: blocs w (a, b) and e (c), d in no bloc, an industry observer that votes in the one chamber
TOY = {
    "actors": ("a", "b", "c", "d", "wdc"),
    "rules": [{"rule": "consensus"}, {"rule": "chambers", "chambers": [{"name": "all", "kinds": ["participant", "industry"], "q": "1/2"}]}],
    "changes": {"d": {"bloc": None}},
    "proposal": {},
}


def test_blockers_by_bloc_known_answer(toy_scenario):
    sc = toy_scenario(**TOY)
    rows = []
    for rule, failed in (("consensus", 10), ("chambers", 4)):
        for actor, kind, bloc, obj, piv in (("a", "participant", "w", 6, 2), ("b", "participant", "w", 2, 0), ("c", "participant", "e", 9, 5),
                                            ("d", "participant", "", 1, 1), ("wdc", "industry", "", 3, 1)):
            rows.append({"rule": rule, "actor": actor, "kind": kind, "bloc": bloc, "failed_decisions": failed, "objections": obj, "pivotal": piv})
    blockers = pd.DataFrame(rows).assign(objection_rate=lambda t: t.objections / t.failed_decisions, pivotal_rate=lambda t: t.pivotal / t.failed_decisions)
    by_bloc = blockers_by_bloc(blockers, sc).set_index(["rule", "bloc"])
    # observers vote only under chambers
    assert "(industry)" not in by_bloc.loc["consensus"].index and "(industry)" in by_bloc.loc["chambers"].index
    w = by_bloc.loc[("consensus", "w")]
    assert (w.members, w.objections, w.pivotal) == (2, 8, 2)
    assert w.objection_rate == pytest.approx(8 / 20) and w.pivotal_rate == pytest.approx(2 / 20)
    assert w.share_of_objections == pytest.approx(8 / 18) and w.share_of_pivotal == pytest.approx(2 / 8)
    assert by_bloc.loc[("chambers", "(industry)"), "pivotal_rate"] == pytest.approx(1 / 4)
    # ranked within each rule by pivotal rate (e 50%, then w and no bloc at 10%), ties by objection rate (w 40%, no bloc 10%)
    ranked = blockers_by_bloc(blockers, sc)
    assert list(ranked[ranked.rule == "consensus"].bloc) == ["e", "w", "(no bloc)"]
    assert list(ranked[ranked.rule == "consensus"]["rank"]) == [1, 2, 3]
    actors = blockers_by_actor(blockers, sc)
    assert list(actors[actors.rule == "consensus"].actor) == ["c", "a", "d", "b"]


def test_bloc_tallies_add_up_to_the_runners(toy_scenario, results_of):
    sc = toy_scenario(**TOY, dynamics={"noise": 0.3})
    res = results_of(sc, 400)
    by_bloc = blockers_by_bloc(res.blockers, sc)
    for rule, g in by_bloc.groupby("rule"):
        voters = res.blockers[(res.blockers.rule == rule) & ((res.blockers.kind == "participant") | (rule == "chambers"))]
        assert g.objections.sum() == voters.objections.sum() > 0 and g.pivotal.sum() == voters.pivotal.sum()
        assert g.members.sum() == len(voters)
        assert g.share_of_objections.sum() == pytest.approx(1)


def test_holm_known_answer():
    assert holm([0.01, 0.04, 0.03, np.nan]) == pytest.approx([0.03, 0.06, 0.06, np.nan], nan_ok=True)
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_logrank_table_between_rules(null_sweep):
    table = logrank_table(null_sweep.runs)
    assert len(table) == 1 and table.pvalue.iloc[0] < 1e-10  # 2.2 against 12.9 meetings on average
    assert table.pvalue_holm.iloc[0] == table.pvalue.iloc[0]


def test_threshold_command_writes_the_sweep_and_its_chart(root, tmp_path):
    out = tmp_path / "sweep"
    args = ["threshold", str(root / "scenarios" / "null_model.yaml"), "--q", "3/5,0.6", "--reps", "300", "--out", str(out), "-q", "--jobs", "1"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "the cost of deciding" in res.output and "> 1/2" in res.output and "≥ 3/5" in res.output
    table = pd.read_csv(out / "threshold.csv")
    assert list(table.rule) == ["simple_majority", "q=3/5"]
    assert (table.median_lo <= [2, 9]).all() and (table.median_hi >= [2, 9]).all()  # the exact geometric medians
    assert (out / "charts" / "threshold.png").stat().st_size > 10_000
    assert [r.label for r in load_scenario(out / "scenario.yaml").rules] == ["simple_majority", "q=3/5"]  # re-runnable
    bad = CliRunner().invoke(main, ["threshold", str(root / "scenarios" / "null_model.yaml"), "--q", "2/3,7/5", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "--q '7/5'" in bad.output and not (tmp_path / "x").exists()


def test_blockers_command_prints_a_ranking(tmp_path, toy_yaml):
    sc = tmp_path / "toy.yaml"
    sc.write_text(toy_yaml(**TOY, dynamics={"noise": 0.3}, replications=200))
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["compare", str(sc), "--out", str(out), "-q", "--no-charts", "--jobs", "1"]).exit_code == 0
    res = CliRunner().invoke(main, ["blockers", str(out)])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("consensus: ") and "failed decisions" in res.output and "pivotal" in res.output
    table = pd.read_csv(out / "blockers_by_bloc.csv")
    first = table[table.rule == "consensus"].iloc[0]
    assert f"1  {first.bloc}" in res.output  # the CSV's first-ranked bloc is printed first
    res = CliRunner().invoke(main, ["blockers", str(out), "--by", "actor", "--top", "2"])
    assert res.exit_code == 0 and "  3  " not in res.output


def test_threshold_sweep_of_a_recorded_case_drops_the_record(root):
    sc = threshold_scenario(load_scenario(root / "scenarios" / "kp" / "definition_reform.yaml"))
    assert sc.record is None and [r.label for r in sc.rules][0] == "simple_majority"


def test_shares_carry_scipy_wilson_intervals():
    """The Wilson interval is written out (summaries need no scipy.stats import); it must be binomtest's.

    Checked through summarise, on runs with k of n replications adopted (and the other n - k deadlocked at the horizon).
    """
    cases = [(k, n) for n in [*range(1, 40), 100, 999, 5000] for k in sorted({0, 1, n // 3, n // 2, n - 1, n} & set(range(n + 1)))]
    frames = []
    for k, n in cases:
        adopted = np.arange(n) < k
        frames.append(
            pd.DataFrame(
                {
                    "rule": f"{k} of {n}",
                    "adopted": adopted,
                    "abandoned": False,
                    "censored": ~adopted,
                    "meetings": np.where(adopted, 1, 10),
                    "surviving_share": np.where(adopted, 1.0, np.nan),
                    "n_objectors": 0,
                }
            )
        )
    summary = summarise(pd.concat(frames, ignore_index=True), horizon=10, meetings_per_year=2).set_index("rule")
    for k, n in cases:
        row = summary.loc[f"{k} of {n}"]
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert (row.adopted, row.adopted_lo, row.adopted_hi) == (k / n, ci.low, ci.high), (k, n)
        ci = stats.binomtest(n - k, n).proportion_ci(0.95, method="wilson")
        assert (row.deadlocked_at_horizon, row.deadlocked_lo, row.deadlocked_hi) == ((n - k) / n, ci.low, ci.high), (k, n)
