"""`kpsim calibrate` end to end on a reduced budget, and the pieces it is built from."""

import json
import shutil

import yaml
from click.testing import CliRunner

from kpsim.cli import main
from kpsim.scenario.load import load_scenario
from kpsim.scenario.prior import BOX
from kpsim.sweep.calibrate import load_cases, observed_window
from kpsim.analysis.posterior import read_posterior


def test_calibrate_runs_end_to_end_and_writes_the_posterior(root, tmp_path):
    """ABC-SMC on a tiny budget: posterior.csv and calibration.yaml (its median) beside the cases, a report folder, warnings."""
    kp = tmp_path / "kp"
    shutil.copytree(root / "scenarios" / "kp", kp)
    before = (kp / "calibration.yaml").read_text()
    cases = [kp / "permanent_secretariat.yaml", kp / "car_suspension.yaml"]
    report = tmp_path / "report"
    res = CliRunner().invoke(
        main,
        ["calibrate", "--population", "12", "--epsilons", "1,0", "--check-reps", "40", "--ppc-draws", "3", "--ppc-reps", "10",
         "--jobs", "1", "-q", "--report", str(report), *map(str, cases)],
    )
    assert res.exit_code == 0, res.output
    for case in ("kp_permanent_secretariat", "kp_car_suspension"):
        assert case in res.output
    assert "identifiability" in res.output and "posterior-predictive check" in res.output
    # 12 draws: far too few, and the command says so
    assert "warning: only 12 accepted draws (at least 200 are needed)" in res.output
    assert "mechanisms at the posterior median" in res.output
    for m in ("influence", "lobbying", "chair_amendment", "acquiescence", "exit"):
        assert f"  {m} " in res.output
    post = read_posterior(kp / "posterior.csv")
    assert len(post.draws) == 12 and abs(post.weights.sum() - 1) < 1e-6
    after = (kp / "calibration.yaml").read_text()
    assert after != before and after.startswith("# Written by `kpsim calibrate`")
    fitted = yaml.safe_load(after)["dynamics"]
    assert set(fitted) == {"mode", *BOX}
    assert fitted == {"mode": "agents", **post.median()}
    for name in ("meta.json", "identifiability.csv", "fit_at_median.csv", "posterior_predictive.csv", "charts/posterior_predictive.png", "abc.db"):
        assert (report / name).is_file(), name
    # every case now runs with the new parameters: they extend the file
    sc = load_scenario(kp / "marange.yaml")
    assert sc.dynamics.noise == fitted["noise"]


def test_calibrate_refuses_a_bad_epsilon_list(tmp_path):
    res = CliRunner().invoke(main, ["calibrate", "--epsilons", "2,1"])
    assert res.exit_code == 2 and "ending in 0" in res.output


def test_only_files_with_a_record_are_cases(root):
    cases = load_cases(sorted((root / "scenarios" / "kp").glob("*.yaml")))
    assert len(cases) == 16  # the case book; roster.yaml and calibration.yaml are fragments, skipped


def test_recorded_windows(root):
    windows = {c.name: observed_window(c.scenario.record) for c in load_cases(sorted((root / "scenarios" / "kp").glob("*.yaml")))}
    assert windows["kp_definition_reform"] == (False, 1, 28)
    assert windows["kp_marange"] == (True, 3, 7)
    assert windows["kp_car_suspension"] == (True, 1, 1)


def test_no_cases_is_an_input_error(tmp_path):
    res = CliRunner().invoke(main, ["calibrate", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2 and "file not found" in res.output


def test_a_fitted_value_at_an_edge_of_its_box_is_flagged():
    from kpsim.scenario.prior import BOX
    from kpsim.sweep.calibrate import at_edge

    inside = {k: (lo + hi) / 2 for k, (lo, hi) in BOX.items()}
    assert at_edge(inside) == []
    lo, hi = BOX["noise"]
    (flag,) = at_edge(inside | {"noise": hi - 0.01 * (hi - lo)})
    assert flag.startswith("noise = ") and "upper edge" in flag
    (flag,) = at_edge(inside | {"lobbying": 0.0})
    assert "lower edge" in flag


def test_score_reads_every_case_against_its_record_without_writing(root, tmp_path):
    kp = tmp_path / "kp"
    shutil.copytree(root / "scenarios" / "kp", kp)
    before = {p: p.read_bytes() for p in kp.rglob("*") if p.is_file()}
    files = [str(kp / "marange.yaml"), str(kp / "permanent_secretariat.yaml")]
    res = CliRunner().invoke(main, ["score", *files, "--reps", "200", "--json"])
    assert res.exit_code == 0, res.output
    cases = json.loads(res.output)["cases"]
    assert [c["case"] for c in cases] == ["kp_marange", "kp_permanent_secretariat"]
    assert [c["file"] for c in cases] == files
    assert all(isinstance(c["pass"], bool) for c in cases)
    assert {"adopted_at_first", "text_surviving", "median_meetings", "target"} <= set(cases[0])
    assert {p: p.read_bytes() for p in kp.rglob("*") if p.is_file()} == before  # nothing refitted or rewritten
    # --strict: exit 1 exactly when a case misses its band (Marange misses it at the fitted point: see the xfail in test_kp_record)
    strict = CliRunner().invoke(main, ["score", *files, "--reps", "200", "--strict"])
    assert strict.exit_code == (1 if not all(c["pass"] for c in cases) else 0)
    ok = CliRunner().invoke(main, ["score", str(kp / "permanent_secretariat.yaml"), "--reps", "200", "--strict"])
    assert ok.exit_code == (0 if cases[1]["pass"] else 1)


def test_score_input_errors(root, tmp_path):
    res = CliRunner().invoke(main, ["score", str(root / "scenarios/kp/roster.yaml")])
    assert res.exit_code == 2 and "no `record:` section" in res.output
    kp = tmp_path / "kp"
    shutil.copytree(root / "scenarios" / "kp", kp)
    p = kp / "marange.yaml"
    text = p.read_text()
    assert "target: {" in text
    p.write_text(text.replace("target: {", "target: {surviving_share: [0.9, 0.2], ", 1))
    res = CliRunner().invoke(main, ["score", str(p)])
    assert res.exit_code == 2 and "surviving_share is [low, high] with low <= high" in res.output


def test_new_targets_bound_the_first_meeting_and_the_text(root):
    import pandas as pd

    from kpsim.scenario.schema import Target
    from kpsim.sweep.calibrate import check, load_cases

    case = load_cases([root / "scenarios/kp/permanent_secretariat.yaml"])[0]
    runs = pd.DataFrame({"meetings": [1, 1, 2, 5], "adopted": [True, True, True, False], "surviving_share": [1.0, 0.8, 0.6, float("nan")]})
    record = case.scenario.record
    for target, expected in (
        ({"adopted_at_first": [0.4, 0.6]}, True),  # 2 of 4 at meeting 1
        ({"adopted_at_first": [0.6, 1.0]}, False),
        ({"surviving_share": [0.75, 0.85]}, True),  # median of 1.0, 0.8, 0.6
        ({"surviving_share": [0.9, 1.0]}, False),
    ):
        sc = case.scenario.model_copy(update={"record": record.model_copy(update={"target": Target(**target)})})
        assert check(type(case)(case.path, sc), runs)["pass"] is expected, target


def test_score_at_another_calibration(root, tmp_path):
    """--calibration FILE: every case at that file's dynamics (out-of-sample scoring), the case files untouched."""
    kp = root / "scenarios" / "kp"
    files = [str(kp / "marange.yaml")]
    own = json.loads(CliRunner().invoke(main, ["score", *files, "--reps", "100", "--json"]).output)["cases"][0]
    same = CliRunner().invoke(main, ["score", *files, "--reps", "100", "--json", "--calibration", str(kp / "calibration.yaml")])
    assert same.exit_code == 0, same.output
    same = json.loads(same.output)["cases"][0]
    assert same["calibration"] == str(kp / "calibration.yaml")
    assert {k: v for k, v in same.items() if k != "calibration"} == own  # the file it extends anyway: the same result
    still = tmp_path / "still.yaml"
    still.write_text("dynamics:\n  noise: 0.0\n  lobbying: 0.0\n  acquiescence_time: 0.0\n  acquiescence_isolation: 0.0\n")
    other = CliRunner().invoke(main, ["score", *files, "--reps", "100", "--json", "--calibration", str(still)])
    assert other.exit_code == 0, other.output
    assert json.loads(other.output)["cases"][0] != own  # another point, another result
    text = CliRunner().invoke(main, ["score", *files, "--reps", "100", "--calibration", str(still)])
    assert f"at the dynamics of {still}" in text.output


def test_score_calibration_input_errors(root, tmp_path):
    case = str(root / "scenarios/kp/marange.yaml")
    res = CliRunner().invoke(main, ["score", case, "--calibration", str(root / "scenarios/kp/roster.yaml")])
    assert res.exit_code == 2 and "no `dynamics:` section" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("dynamics:\n  noise: -1\n")
    res = CliRunner().invoke(main, ["score", case, "--calibration", str(bad)])
    assert res.exit_code == 2 and f"{bad}:2: dynamics.noise = -1" in res.output
    res = CliRunner().invoke(main, ["score", case, "--calibration", str(tmp_path / "none.yaml")])
    assert res.exit_code == 2 and "file not found" in res.output
