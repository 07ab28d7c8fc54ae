"""--uncertainty parameters: draws from the posterior, paired and identical on any worker count, one point = montecarlo."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kpsim.analysis.compare import compare
from kpsim.analysis.uncertainty import across_draws
from kpsim.cli import main
from kpsim.scenario.load import load_scenario
from kpsim.scenario.prior import BOX

TOY = {"rules": ["consensus", "simple_majority"], "horizon": 12, "dynamics": {"noise": 0.3, "lobbying": 0.2}, "replications": 400, "seed": 5}


@pytest.fixture
def toy(tmp_path, toy_yaml):
    p = tmp_path / "toy.yaml"
    p.write_text(toy_yaml(**TOY))
    return p


def _posterior(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_a_posterior_of_one_point_reproduces_montecarlo(toy, tmp_path):
    sc = load_scenario(toy)
    point = {k: float(getattr(sc.dynamics, k)) for k in BOX}
    post = _posterior(tmp_path / "posterior.csv", [{**point, "weight": 1.0}])
    mc = compare(sc, jobs=1)
    par = compare(sc, jobs=1, uncertainty="parameters", draws=8, posterior=post)
    assert par.meta["draws"] == 8 and par.meta["replications_per_draw"] == 50
    pd.testing.assert_frame_equal(par.runs.drop(columns="draw"), mc.runs)  # the same replications, the same numbers
    for col in ("adopted", "median_meetings", "mean_meetings", "surviving_share"):
        np.testing.assert_allclose(par.summary[col], mc.summary[col])
    # the intervals are across draws of 50: wider than the pooled Monte-Carlo interval of 400
    assert (par.summary["adopted_hi"] - par.summary["adopted_lo"] >= mc.summary["adopted_hi"] - mc.summary["adopted_lo"] - 1e-12).all()


def test_parameter_draws_are_identical_on_any_worker_count_and_spread_the_intervals(toy, tmp_path):
    sc = load_scenario(toy)
    rows = [{**{k: (lo + hi) / 2 for k, (lo, hi) in BOX.items()}, "noise": x, "weight": 1.0} for x in (0.05, 0.5, 0.95)]
    post = _posterior(tmp_path / "posterior.csv", rows)
    one = compare(sc, jobs=1, uncertainty="parameters", draws=10, posterior=post)
    two = compare(sc, jobs=2, uncertainty="parameters", draws=10, posterior=post)
    pd.testing.assert_frame_equal(one.runs, two.runs)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    assert set(one.runs["draw"]) == set(range(10))
    assert one.summary["interval"].str.startswith("parameters: 95% range over 10 posterior draws").all()


def test_across_draws_reads_not_reached_as_beyond_the_horizon():
    pooled = pd.DataFrame({"rule": ["r"], "median_meetings": [5.0], "median_lo": [4.0], "median_hi": [6.0],
                           "surviving_share": [0.5], "surviving_lo": [0.4], "surviving_hi": [0.6]})
    per = pd.DataFrame({"rule": ["r"] * 40, "median_lo": [3.0] * 39 + [np.nan], "median_hi": [7.0] * 38 + [np.nan] * 2,
                        "surviving_lo": [0.3] * 39 + [np.nan], "surviving_hi": [0.7] * 39 + [np.nan]})
    out = across_draws(pooled, per, "parameters: test")
    assert out.loc[0, "median_lo"] == 3.0 and np.isnan(out.loc[0, "median_hi"])  # 2 of 40 draws never reach it: beyond 97.5%
    assert out.loc[0, "surviving_lo"] == 0.3 and out.loc[0, "surviving_hi"] == 0.7  # a draw that adopted nothing has no text


def test_cli_parameters_mode_and_its_errors(toy, tmp_path, root):
    rows = [{**{k: (lo + hi) / 2 for k, (lo, hi) in BOX.items()}, "weight": 1.0}]
    res = CliRunner().invoke(main, ["compare", str(toy), "--uncertainty", "parameters", "--jobs", "1", "--no-charts", "-q", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "needs a posterior" in res.output
    _posterior(toy.parent / "posterior.csv", rows)  # found beside the scenario file
    res = CliRunner().invoke(main, ["compare", str(toy), "--uncertainty", "parameters", "--draws", "4", "--jobs", "1", "--no-charts", "-q", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "intervals in brackets (parameters): 95% range over 4 posterior draws" in res.output and "100 replications each" in res.output
    runs = pd.read_csv(tmp_path / "o" / "runs.csv")
    assert sorted(runs["draw"].unique()) == [0, 1, 2, 3]
    bad = tmp_path / "bad.csv"
    pd.DataFrame([{**rows[0], "weight": -1.0}]).to_csv(bad, index=False)
    res = CliRunner().invoke(main, ["compare", str(toy), "--uncertainty", "parameters", "--posterior", str(bad), "--out", str(tmp_path / "p")])
    assert res.exit_code == 2 and f"{bad}:2: weight = -1 — weights must be ≥ 0" in res.output
    res = CliRunner().invoke(main, ["compare", str(root / "scenarios/null_model.yaml"), "--uncertainty", "parameters", "--posterior",
                                    str(toy.parent / "posterior.csv"), "--out", str(tmp_path / "q")])
    assert res.exit_code == 2 and "null model" in res.output


def test_threshold_takes_parameter_uncertainty_too(toy, tmp_path):
    import json

    rows = [{**{k: (lo + hi) / 2 for k, (lo, hi) in BOX.items()}, "noise": x, "weight": 1.0} for x in (0.1, 0.9)]
    post = _posterior(tmp_path / "p.csv", rows)
    out = tmp_path / "thr"
    res = CliRunner().invoke(main, ["threshold", str(toy), "--uncertainty", "parameters", "--posterior", str(post), "--draws", "4",
                                    "--jobs", "1", "-q", "--no-charts", "--out", str(out)])
    assert res.exit_code == 0, res.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["uncertainty"] == "parameters" and meta["draws"] == 4
    assert "intervals in brackets (parameters): 95% range over 4 posterior draws" in res.output


def test_the_interval_label_says_what_was_drawn():
    from kpsim.analysis.uncertainty import interval_label

    assert interval_label("full", 50) == "full: 95% range over 50 draws of the parameters and codings, each with its Monte-Carlo error"
    assert "draws of the parameters (no coding is a range)" in interval_label("full", 50, codings=False)
    assert "draws of the codings (no posterior: parameters fixed)" in interval_label("full", 20, posterior=False)


def test_under_full_the_share_that_walked_out_has_the_range_across_draws():
    from kpsim.scenario.schema import Scenario

    # patience drawn from 2..20 meetings, horizon 10, a text that never passes under chambers: in some draws the NGO
    # always leaves, in others never. Pooled, it leaves in about half the replications with a narrow Wilson interval;
    # across draws, anything from none to all, as summary.csv's intervals say
    actors = [
        {"id": "gov", "position": 1.0, "salience": 1.0},
        {"id": "ind", "kind": "industry", "position": 1.0, "salience": 1.0},
        {"id": "ngo", "kind": "civil_society", "position": 0.0, "salience": 1.0, "patience": [2, 20]},
    ]
    sc = Scenario.model_validate(
        {"name": "exits", "actors": actors, "proposal": {"status_quo": 0.0, "position": 1.0}, "dynamics": {"noise": 0.0, "reluctance": 0.0, "lobbying": 0.0},
         "calendar": {"horizon": 10}, "rules": [{"rule": "chambers"}], "replications": 200},
        strict=False,
    )
    results = compare(sc, jobs=1, uncertainty="full", draws=20)
    (row,) = results.tables()["exits.csv"].itertuples(index=False)
    assert 0.2 < row.left < 0.8
    assert row.left_lo == 0.0 and row.left_hi > 0.95
