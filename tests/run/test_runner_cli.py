"""The runner and the CLI end to end: reproducibility, the results folder, atomic writes."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

import kpsim.run.runner as runner
from kpsim.cli import main
from kpsim.scenario.load import load_scenario

# the whole toy roster under consensus, three quarters and chambers
TOY = {
    "rules": [{"rule": "consensus"}, {"rule": "qualified_majority", "q": "3/4", "name": "three_quarters"}, {"rule": "chambers"}],
    "horizon": 20,
    "dynamics": {"noise": 0.3, "position_noise": 0.05},
    "replications": 2500,
    "seed": 42,
}


@pytest.fixture
def toy(tmp_path, toy_yaml):
    p = tmp_path / "toy.yaml"
    p.write_text(toy_yaml(**TOY))
    return p


def test_results_identical_for_any_number_of_workers(toy):
    sc = load_scenario(toy)
    one_runs, one_blockers = runner.run(sc, jobs=1, progress=False)
    two_runs, two_blockers = runner.run(sc, jobs=2, progress=False)
    pd.testing.assert_frame_equal(one_runs, two_runs)
    pd.testing.assert_frame_equal(one_blockers, two_blockers)
    assert one_runs.groupby("rule").meetings.mean().nunique() > 1  # the rules really differ (all adopt in time since lobbying persuades)


def test_rules_are_paired_on_the_same_draws(toy):
    sc = load_scenario(toy)
    runs, _ = runner.run(sc, replications=1200, progress=False)
    # under every rule the first meeting sees the same text and the same draws: a unanimous
    # first meeting passes under consensus, hence under every weaker count rule too
    wide = runs.pivot(index="replication", columns="rule", values="meetings")
    first_cons = wide["consensus"] == 1
    assert first_cons.any() and (wide.loc[first_cons, "three_quarters"] == 1).all()
    # and replications under one seed are not copies of each other (mesa issue 2835)
    assert wide["consensus"].nunique() > 3 and runs.final_position.nunique() > 3


def test_compare_writes_a_complete_results_folder(toy, tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["compare", str(toy), "--reps", "300", "--jobs", "1", "--out", str(out), "--seed", "9"])
    assert res.exit_code == 0, res.output
    for rule in ("consensus", "three_quarters", "chambers"):
        assert rule in res.output
    assert {"runs.csv", "summary.csv", "blockers.csv", "scenario.yaml", "meta.json"} <= {p.name for p in out.iterdir()}
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 900 and {"rule", "replication", "adopted", "meetings", "censored", "final_position", "objectors"} <= set(runs)
    assert (runs.meetings <= 20).all() and (runs.censored == ~runs.adopted).all()
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.rule) == ["consensus", "three_quarters", "chambers"]
    for col in ("adopted", "median_meetings", "mean_meetings", "median_years", "deadlocked_at_horizon", "surviving_share"):
        assert col in summary and f"{col.split('_')[0]}_lo" in summary or col in summary
    meta = json.loads((out / "meta.json").read_text())
    assert meta["seed"] == 9 and meta["replications"] == 300 and meta["command"].startswith("kpsim compare")
    assert {"kpsim_version", "git_commit", "wall_time_s", "scenario_file"} <= set(meta)
    again = load_scenario(out / "scenario.yaml")  # the exact scenario used, re-runnable
    assert again.seed == 9 and again.replications == 300
    # the same command again refuses to overwrite, with exit code 2
    res = CliRunner().invoke(main, ["compare", str(toy), "--reps", "300", "--out", str(out)])
    assert res.exit_code == 2 and "exists" in res.output


def test_a_failing_run_leaves_no_folder_that_looks_complete(toy, tmp_path, monkeypatch):
    calls = []

    def flaky(*args):
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real(*args)

    real = runner.simulate_batch
    monkeypatch.setattr(runner, "simulate_batch", flaky)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["compare", str(toy), "--jobs", "1", "--out", str(out)])
    assert res.exit_code != 0 and isinstance(res.exception, RuntimeError)
    assert not out.exists() and not any(tmp_path.glob(".out*"))


def test_run_one_rule_and_default_results_location(toy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["run", str(toy), "--rule", "chambers", "--reps", "50", "-q"])
    assert res.exit_code == 0, res.output
    (folder,) = (tmp_path / "results" / "toy").iterdir()
    assert set(pd.read_csv(folder / "runs.csv").rule) == {"chambers"}


@pytest.mark.parametrize("command", [[], ["validate"], ["run"], ["compare"]])
def test_help_explains_every_command(command):
    res = CliRunner().invoke(main, command + ["--help"])
    assert res.exit_code == 0 and "Usage" in res.output
    if command[:1] in (["run"], ["compare"]):
        for opt in ("--reps", "--seed", "--jobs", "--out"):
            assert opt in res.output


def test_validate_bundled_null_model(root):
    res = CliRunner().invoke(main, ["validate", str(root / "scenarios" / "null_model.yaml")])
    assert res.exit_code == 0 and "60 participants" in res.output


def test_table_puts_results_folders_side_by_side(toy, tmp_path):
    for seed in ("1", "2"):
        res = CliRunner().invoke(
            main, ["compare", str(toy), "--reps", "100", "--seed", seed, "--out", str(tmp_path / seed), "-q", "--no-charts"]
        )
        assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, ["table", str(tmp_path / "1"), str(tmp_path / "2")])
    assert res.exit_code == 0
    assert "| case | consensus | three_quarters | chambers |" in res.output
    assert "[95% interval]" in res.output and "[95% CI]" not in res.output  # not a confidence interval under parameters or full
    assert f"- toy ({tmp_path / '1'}): montecarlo: 95% Monte-Carlo interval" in res.output  # each folder's own, from summary.csv
    summary = pd.read_csv(tmp_path / "1" / "summary.csv")
    adopted = summary.set_index("rule").adopted["consensus"]
    row = f"| toy ({tmp_path / '1'}) | "
    assert row + f"{adopted:.0%}" in res.output or row + f"{adopted:.1%}" in res.output
    assert CliRunner().invoke(main, ["table", str(tmp_path)]).exit_code == 2  # not a results folder


def test_objectors_are_voters_only(toy_scenario):
    hostile = toy_scenario(**TOY, changes={"csc": {"position": 0.0, "salience": 1.0, "lobbying": None}})
    runs, _ = runner.run(hostile, replications=400, progress=False)
    named = {rule: {a for row in g.objectors for a in row.split(";") if a} for rule, g in runs.groupby("rule")}
    assert (runs.n_objectors == runs.objectors.map(lambda s: len([a for a in s.split(";") if a]))).all()
    assert "csc" in named["chambers"]  # it objects, and under chambers it votes
    assert "csc" not in named["consensus"] | named["three_quarters"]  # elsewhere its objection is not a vote
