"""Codings as ranges: nominal values under montecarlo, draws from the ranges under full, paired and worker-independent."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kpsim.analysis.compare import compare
from kpsim.cli import main
from kpsim.analysis.uncertainty import coding_uniforms, with_codings_drawn
from kpsim.scenario.load import load_scenario
from kpsim.scenario.schema import Scenario

RANGED = {"a": {"position": [0.6, 1.0], "salience": "central"}, "b": {"position": "for_with_reservations"},
          "c": {"position": [0.0, 0.4], "reservation": None}, "d": {"position": [0.1, 0.5]}, "wdc": {"patience": [2, 6]}}
NOMINAL = {"a": {"position": 0.8, "salience": 0.9}, "b": {"position": 0.75}, "c": {"position": 0.2}, "d": {"position": 0.3},
           "wdc": {"patience": 4}}
RULES = ("consensus", "simple_majority")


def _toy(tmp_path, toy_yaml, changes, name="toy.yaml", **fields):
    p = tmp_path / name
    fields = {"horizon": 12, "dynamics": {"noise": 0.3}, "replications": 400, "seed": 3, **fields}
    p.write_text(toy_yaml(rules=RULES, changes=changes, **fields))
    return p


def test_ranges_run_at_their_nominal_values_under_montecarlo(tmp_path, toy_yaml):
    ranged = load_scenario(_toy(tmp_path, toy_yaml, RANGED))
    plain = load_scenario(_toy(tmp_path, toy_yaml, NOMINAL, "plain.yaml"))
    assert len(ranged.codings) == 6 and not plain.codings
    a = compare(ranged, jobs=1)
    b = compare(plain, jobs=1)
    pd.testing.assert_frame_equal(a.runs, b.runs)
    assert {c.name: (c.low, c.high, c.value) for c in ranged.codings}["a.salience"] == (0.75, 1.0, 0.9)  # the level's band


def test_full_draws_each_coding_from_its_range_the_same_on_any_worker_count(tmp_path, toy_yaml):
    sc = load_scenario(_toy(tmp_path, toy_yaml, RANGED))
    one = compare(sc, jobs=1, uncertainty="full", draws=8)
    two = compare(sc, jobs=2, uncertainty="full", draws=8)
    pd.testing.assert_frame_equal(one.runs, two.runs)
    pd.testing.assert_frame_equal(one.summary, two.summary)
    assert one.meta["uncertainty"] == "full" and one.meta["codings"] == 6 and one.meta["posterior"] is None
    assert one.summary["interval"].str.startswith("full: 95% range over 8 draws of the codings").all()
    seen = [{a.id: a for a in with_codings_drawn(sc, k).actors} for k in range(8)]
    for c in sc.codings:
        values = [getattr(s[c.actor], c.field) for s in seen]
        assert all(c.low <= v <= c.high for v in values), (c.name, values)
        assert len(set(values)) > 1, c.name  # drawn, not the nominal value each time
    assert all(isinstance(s["wdc"].patience, int) for s in seen)


def test_a_coding_draw_depends_only_on_seed_draw_and_name():
    u = coding_uniforms(7, 3, ["a.position", "b.position"])
    assert u[0] == coding_uniforms(7, 3, ["z.salience", "a.position"])[1]  # another coding does not move this one
    assert u[0] != coding_uniforms(7, 4, ["a.position"])[0] and u[0] != coding_uniforms(8, 3, ["a.position"])[0]


def test_full_intervals_contain_the_montecarlo_ones(tmp_path, toy_yaml):
    sc = load_scenario(_toy(tmp_path, toy_yaml, RANGED, replications=2000))
    mc = compare(sc, jobs=1)
    full = compare(sc, jobs=1, uncertainty="full", draws=40)
    for lo, hi in (("adopted_lo", "adopted_hi"), ("mean_lo", "mean_hi")):
        assert (full.summary[lo] <= mc.summary[lo] + 1e-12).all(), lo
        assert (full.summary[hi] >= mc.summary[hi] - 1e-12).all(), hi
    assert ((full.summary["adopted_hi"] - full.summary["adopted_lo"]) > (mc.summary["adopted_hi"] - mc.summary["adopted_lo"])).all()


def test_a_posterior_with_codings_draws_both(tmp_path, toy_yaml):
    from kpsim.scenario.prior import BOX

    path = _toy(tmp_path, toy_yaml, RANGED)
    pd.DataFrame([{**{k: (lo + hi) / 2 for k, (lo, hi) in BOX.items()}, "noise": x, "weight": 1.0} for x in (0.1, 0.9)]).to_csv(
        tmp_path / "posterior.csv", index=False)
    res = CliRunner().invoke(main, ["compare", str(path), "--uncertainty", "full", "--draws", "4", "--jobs", "1", "-q", "--no-charts",
                                    "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "intervals in brackets (full): 95% range over 4 draws of the posterior" in res.output and "6 codings are ranges" in res.output


def test_the_scenario_chooses_its_default_and_the_results_folder_reloads(tmp_path, toy_yaml):
    path = _toy(tmp_path, toy_yaml, RANGED, uncertainty="full")
    res = CliRunner().invoke(main, ["compare", str(path), "--draws", "4", "--jobs", "1", "-q", "--no-charts", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "intervals in brackets (full)" in res.output
    again = load_scenario(tmp_path / "o" / "scenario.yaml")  # the folder records nominal values and the ranges
    assert again.codings == load_scenario(path).codings
    res = CliRunner().invoke(main, ["compare", str(path), "--uncertainty", "montecarlo", "--jobs", "1", "-q", "--no-charts", "--out", str(tmp_path / "m")])
    assert res.exit_code == 0 and "run at their nominal values (--uncertainty full draws them)" in res.output


def test_full_without_ranges_or_posterior_says_what_is_missing(tmp_path, toy_yaml):
    res = CliRunner().invoke(main, ["compare", str(_toy(tmp_path, toy_yaml, {})), "--uncertainty", "full", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "has neither" in res.output


@pytest.mark.parametrize("changes,expected", [
    ({"a": {"position": [0.9, 0.1]}}, "actors[0].position = [0.9, 0.1] — a range is [low, high] with low <= high"),
    ({"a": {"position": "strongly_for"}}, "actors[0].position = 'strongly_for' — not a coding level of position; allowed: a number, [low, high], or for,"),
    ({"a": {"position": [0.1, 0.2, 0.3]}}, "actors[0].position = [0.1, 0.2, 0.3] — a range is [low, high], two numbers"),
    ({"a": {"salience": [0.5, 1.5]}}, "actors[0].salience — its coded range reaches salience = 1.5: must be between 0 and 1"),
    ({"wdc": {"patience": [1.5, 3]}}, "actors[4].patience = [1.5, 3] — patience is a whole number: give whole ends"),
])
def test_bad_ranges_are_file_line_errors(tmp_path, toy_yaml, changes, expected):
    path = _toy(tmp_path, toy_yaml, changes)
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if f"id: {next(iter(changes))}" in text)
    assert f"{path}:{line}: {expected}" in res.output, res.output


def test_a_bad_range_does_not_hide_the_other_errors(tmp_path, toy_yaml):
    path = _toy(tmp_path, toy_yaml, {"a": {"position": [0.9, 0.1]}, "b": {"salience": 2.0}, "c": {"position": "nope"}})
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 2
    assert "actors[0].position = [0.9, 0.1]" in res.output and "actors[1].salience = 2.0" in res.output and "actors[2].position = 'nope'" in res.output


def test_a_red_line_range_must_stay_between_status_quo_and_proposal(tmp_path, toy_yaml):
    proposal = {"status_quo": 0.0, "position": [0.6, 1.0], "reservation": [0.3, 0.7]}
    path = _toy(tmp_path, toy_yaml, {}, proposal=proposal)
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 2 and "proposal.reservation — its coded range reaches position = 0.6, reservation = 0.7" in res.output, res.output


def test_a_dict_built_scenario_takes_ranges_too(toy_scenario):
    sc = toy_scenario(changes={"a": {"position": [0.5, 0.9]}})
    assert isinstance(sc, Scenario) and sc.actors[0].position == pytest.approx(0.7) and sc.codings[0].name == "a.position"
    assert np.isclose(with_codings_drawn(sc, 0).actors[0].position, 0.5 + 0.4 * coding_uniforms(sc.seed, 0, ["a.position"])[0])
