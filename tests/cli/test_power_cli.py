"""`kpsim power`: the known answers through the command line, and clean errors."""

import json

import pytest
from click.testing import CliRunner

from kpsim.cli import main

UNSC = ["--quota", "39", "--weights", ",".join(["7"] * 5 + ["1"] * 10)]


def power(*args):
    return CliRunner().invoke(main, ["power", *args])


def power_json(*args):
    res = power(*args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_un_security_council():
    out = power_json(*UNSC)
    ss = [p["shapley_shubik"] for p in out["players"]]
    bz = [p["banzhaf_normalized"] for p in out["players"]]
    assert ss[:5] == pytest.approx([421 / 2145] * 5, abs=1e-12) and ss[5:] == pytest.approx([4 / 2145] * 10, abs=1e-12)
    assert bz[:5] == pytest.approx([0.166929] * 5, abs=5e-7) and bz[5:] == pytest.approx([0.016535] * 10, abs=5e-7)
    text = power(*UNSC).output
    assert "0.196270" in text and "0.001865" in text and "0.166929" in text and "0.016535" in text


def test_luxembourg_has_no_power_in_the_eec_of_1958():
    out = power_json("--quota", "12", "--weights", "4,4,4,2,2,1", "--names", "FR,DE,IT,BE,NL,LU")
    lux = out["players"][-1]
    assert lux["name"] == "LU" and lux["shapley_shubik"] == lux["banzhaf_normalized"] == lux["banzhaf_absolute"] == 0
    assert out["players"][0]["shapley_shubik"] == pytest.approx(7 / 30, abs=1e-15)


@pytest.mark.parametrize("quota, weights", [("51", "49,48,3"), ("0.51", "0.49,0.48,0.03")])
def test_weight_is_not_power(quota, weights):
    out = power_json("--quota", quota, "--weights", weights)
    for index in ("shapley_shubik", "banzhaf_normalized"):
        assert [p[index] for p in out["players"]] == pytest.approx([1 / 3] * 3, abs=1e-15)
    assert out["coleman_power_to_act"] == 0.5


def test_rules_of_a_scenario(root):
    out = power_json(str(root / "scenarios" / "null_model.yaml"), "--rule", "two_thirds")
    (rule,) = out
    assert rule["rule"] == "two_thirds" and rule["game"] == "[40; 1 × 60]"
    assert rule["coleman_power_to_act"] == pytest.approx(0.006745, abs=5e-7)
    assert len(rule["players"]) == 60 and rule["players"][0]["shapley_shubik"] == pytest.approx(1 / 60, abs=1e-15)
    res = power(str(root / "scenarios" / "null_model.yaml"), "--by-bloc")
    assert res.exit_code == 0 and "rule simple_majority: game [31; 1 × 60]" in res.output and "0.448711" in res.output
    assert "(no bloc)" in res.output and "1.000000" in res.output  # the one group holds all the power


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give a scenario FILE, or both --quota and --weights"),
        (["--quota", "3"], "give a scenario FILE, or both --quota and --weights"),
        (["--quota", "10", "--weights", "1,2"], "at most the total weight 3"),
        (["--quota", "0", "--weights", "1,2"], "above 0"),
        (["--quota", "1", "--weights", "1,two"], "give numbers separated by commas"),
        (["--quota", "1", "--weights", "1,-2"], "≥ 0"),
        (["--quota", "1", "--weights", "1,2", "--names", "a"], "got 1 names for 2 weights"),
        (["--quota", "1", "--weights", "1,2", "--rule", "x"], "need a scenario FILE"),
        (["scenarios/null_model.yaml", "--quota", "1", "--weights", "1"], "not both"),
        (["scenarios/null_model.yaml", "--rule", "nope"], "no rule named 'nope'"),
        (["no_such_file.yaml"], "file not found"),
    ],
)
def test_bad_input_is_exit_code_2_with_a_message(args, message, root, monkeypatch):
    monkeypatch.chdir(root)
    res = power(*args)
    assert res.exit_code == 2, res.output
    assert message in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("command", ["power", "threshold", "charts", "blockers", "report"])
def test_help_explains_every_analysis_command(command):
    res = CliRunner().invoke(main, [command, "--help"])
    assert res.exit_code == 0 and "Usage" in res.output
    if command == "threshold":
        for opt in ("--q", "--reps", "--seed", "--jobs", "--out", "--no-charts"):
            assert opt in res.output
