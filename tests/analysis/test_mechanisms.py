"""Each mechanism switched off alone, paired with the baseline: known answers at noise 0, and the command.

Every toy is at noise 0 (unless said), where each replication runs the same
way and the change off − on is exact: a 0-wide interval at the known value.
"""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from kpsim.analysis.mechanisms import (
    COLUMNS,
    MECHANISMS,
    format_mechanisms,
    mechanism_effects,
    switched_off_in_effect,
)
from kpsim.cli import main
from kpsim.scenario.schema import Scenario

QUIET = {"noise": 0.0, "reluctance": 0.0, "lobbying": 0.0}
REPS = 12


def toy_data(actors, rules=("consensus",), proposal=None, dynamics=None, chair=None, horizon=30) -> dict:
    data = {
        "name": "mechanisms_toy",
        "actors": actors,
        "proposal": proposal or {"status_quo": 0.0, "position": 1.0},
        "rules": [{"rule": r} for r in rules],
        "dynamics": {**QUIET, **(dynamics or {})},
        "calendar": {"horizon": horizon},
        "replications": REPS,
        "seed": 7,
    }
    if chair:
        data["chair"] = chair
    return data


def toy(*args, **kwargs) -> Scenario:
    return Scenario.model_validate(toy_data(*args, **kwargs), strict=False)


def effects(scenario, **kwargs):
    return mechanism_effects(scenario, jobs=1, **kwargs)


def row(table, mechanism, rule="consensus"):
    hit = table[(table["mechanism"] == mechanism) & (table["rule"] == rule)]
    assert len(hit) == 1
    return hit.iloc[0]


def exact(r, adopted_change, median_on=None, median_off=None):
    """A change with no uncertainty: every replication ran the same way."""
    assert r["active"]
    assert r["adopted_change"] == pytest.approx(adopted_change)
    assert r["adopted_change_lo"] == pytest.approx(adopted_change) and r["adopted_change_hi"] == pytest.approx(adopted_change)
    if median_on is not None:
        assert r["median_on"] == median_on
    if median_off is not None:
        assert r["median_off"] == median_off


# ------------------------------------------------------------------ the toys


def lobbied():
    """A participant at 0.2 (it supports a text of 1 only from 0.5) pulled a quarter of the way to a lobby at 1 each meeting:
    0.4 at meeting 1 (objects), 0.55 at meeting 2 (supports). Without lobbying it stays at 0.2 and objects forever."""
    actors = [
        {"id": "target", "position": 0.2, "salience": 1.0, "stubbornness": 0.0},
        {"id": "for", "position": 1.0, "salience": 1.0},
        {"id": "ngo", "kind": "civil_society", "position": 1.0, "lobbying": 1.0},
    ]
    return toy(actors, dynamics={"lobbying": 0.25})


def amended(chair=None, step=0.5):
    """A veto at 0.2 objects to any text above 0.4; the chair steps half-way toward it: 1 → 0.6 → 0.4, passed at meeting 3."""
    actors = [{"id": "for", "position": 1.0, "salience": 1.0}, {"id": "veto", "position": 0.2, "salience": 1.0}]
    return toy(actors, proposal={"status_quo": 0.0, "position": 1.0, "reservation": 0.0}, dynamics={"amendment_step": step}, chair=chair)


def walkout():
    """Chambers: a civil-society chamber that objects forever, with patience 2, is gone after meeting 2."""
    actors = [
        {"id": "gov", "position": 1.0, "salience": 1.0},
        {"id": "ind", "kind": "industry", "position": 1.0, "salience": 1.0},
        {"id": "ngo", "kind": "civil_society", "position": 0.0, "salience": 1.0, "patience": 2},
    ]
    return toy(actors, rules=("chambers",))


def holdout(**dynamics):
    """A text fixed at 0.5, a holdout at 0 (loss 0.5) and three supporters; objecting costs 0.1 more each year (two meetings)."""
    actors = [{"id": "holdout", "position": 0.0, "salience": 1.0}] + [{"id": f"s{i}", "position": 1.0, "salience": 1.0} for i in range(3)]
    return toy(actors, proposal={"status_quo": 0.0, "position": 0.5}, dynamics={"acquiescence_time": 0.1, **dynamics})


# ------------------------------------------------------------------ known answers


def test_the_table_has_a_row_per_mechanism_and_rule_with_the_documented_columns():
    table = effects(amended())
    assert list(table.columns[: len(COLUMNS)]) == COLUMNS
    assert list(table["mechanism"]) == list(MECHANISMS)  # one rule: one row each, in the registry's order
    assert set(MECHANISMS) == {"influence", "lobbying", "chair_amendment", "acquiescence", "exit"}


def test_without_lobbying_the_lobbied_participant_never_gives_way():
    table = effects(lobbied())
    exact(row(table, "lobbying"), -1.0, median_on=2.0)
    r = row(table, "lobbying")
    assert r["adopted_on"] == 1.0 and r["adopted_off"] == 0.0
    assert r["median_change"] != r["median_change"]  # NaN: not reached without lobbying


def test_lobbying_with_noise_lowers_the_share_adopted_with_a_paired_interval():
    """With noise the lobbied participant is a coin flip at first: switching lobbying off lowers the share, and the interval says so."""
    sc = lobbied().model_copy(update={"replications": 300})
    sc = sc.model_copy(update={"dynamics": sc.dynamics.model_copy(update={"noise": 0.3}), "calendar": sc.calendar.model_copy(update={"horizon": 3})})
    r = row(effects(sc), "lobbying")
    assert r["adopted_change"] < 0 and r["adopted_change_hi"] < 0
    assert r["adopted_change_lo"] <= r["adopted_change"] <= r["adopted_change_hi"]
    assert r["adopted_change"] == pytest.approx(r["adopted_off"] - r["adopted_on"])


def test_without_amendment_the_text_as_tabled_never_passes():
    table = effects(amended())
    exact(row(table, "chair_amendment"), -1.0, median_on=3.0)
    assert row(table, "chair_amendment")["adopted_off"] == 0.0


def test_a_setter_chair_is_amendment_too_even_with_amendment_step_0():
    """The setter tables 0.4 at once (the veto's edge, passes at meeting 1); with no chair the text stays at 1."""
    sc = amended(chair={"actor": "for", "strategy": "setter"}, step=0.0)
    assert MECHANISMS["chair_amendment"].is_on(sc)
    exact(row(effects(sc), "chair_amendment"), -1.0, median_on=1.0)
    off = MECHANISMS["chair_amendment"].off(sc)
    assert off.chair is None and off.dynamics.amendment_step == 0


def test_without_exit_the_objecting_chamber_blocks_forever():
    table = effects(walkout())
    r = row(table, "exit", "chambers")
    exact(r, -1.0, median_on=3.0)
    assert r["adopted_off"] == 0.0
    assert all(a.patience is None for a in MECHANISMS["exit"].off(walkout()).actors)


def test_without_acquiescence_the_holdout_never_gives_way():
    """Its cost of objecting reaches its loss of 0.5 after 5 years: it abstains at meeting 11, and the text passes."""
    table = effects(holdout())
    exact(row(table, "acquiescence"), -1.0, median_on=11.0)


def test_a_mechanism_off_in_the_scenario_is_reported_inactive_with_zero_changes():
    table = effects(holdout())  # lobbying 0, no mandate to amend, nobody with patience, no bloc
    for name in ("influence", "lobbying", "chair_amendment", "exit"):
        r = row(table, name)
        assert not r["active"] and r["why_off"]
        assert r["adopted_change"] == r["adopted_change_lo"] == r["adopted_change_hi"] == 0.0
        assert r["median_change"] == r["median_change_lo"] == r["median_change_hi"] == 0.0
    assert "lobbying = 0" in row(table, "lobbying")["why_off"]
    text = format_mechanisms(table)
    assert "lobbying: off in this scenario (dynamics.lobbying = 0)" in text
    assert "95% Monte-Carlo intervals in brackets, at the scenario's own dynamics and nominal codings" in text  # not a range across draws
    assert "exit: off in this scenario (no observer has a patience)" in text


def test_identical_runs_give_a_zero_width_interval():
    """A bloc of two at the same position with lobbying on: influence is on but moves nobody, so off and on run alike."""
    actors = [
        {"id": "a", "bloc": "w", "position": 0.7, "salience": 0.8},
        {"id": "b", "bloc": "w", "position": 0.7, "salience": 0.8},
        {"id": "c", "position": 0.3, "salience": 0.5, "stubbornness": 1.0},
    ]
    sc = toy(actors, rules=("consensus", "simple_majority"), dynamics={"noise": 0.4}, horizon=2).model_copy(update={"replications": 200})
    table = effects(sc)
    for rule in ("consensus", "simple_majority"):
        r = row(table, "influence", rule)
        assert r["active"]
        assert 0 < r["adopted_on"] < 1  # noise makes it a matter of chance, yet the pairs agree exactly
        assert r["adopted_change"] == r["adopted_change_lo"] == r["adopted_change_hi"] == 0.0
        assert r["median_change"] == 0.0 or r["median_change"] != r["median_change"]
    assert "influence" in switched_off_in_effect(table)


def test_the_null_model_has_no_mechanism():
    sc = toy([{"id": "a"}, {"id": "b"}], dynamics={"mode": "null", "support_probability": 0.5})
    table = effects(sc)
    assert not table["active"].any()
    assert "no mechanism applies" in format_mechanisms(table)


def test_switched_off_in_effect_names_only_mechanisms_that_change_nothing():
    table = effects(lobbied())
    idle = switched_off_in_effect(table)
    assert "lobbying" not in idle and {"chair_amendment", "acquiescence", "exit"} <= set(idle)
    last = format_mechanisms(table).splitlines()[-1]
    assert last.startswith("switched off in effect: ") and "lobbying" not in last.split("—")[0]


def test_reps_and_seed_override_the_scenario():
    table = mechanism_effects(amended(), reps=3, seed=11, jobs=1)
    assert table.attrs["replications"] == 3 and table.attrs["seed"] == 11


# ------------------------------------------------------------------ the command


def write(tmp_path, data, name="toy.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def walkout_data():
    actors = [
        {"id": "gov", "position": 1.0, "salience": 1.0},
        {"id": "ind", "kind": "industry", "position": 1.0, "salience": 1.0},
        {"id": "ngo", "kind": "civil_society", "position": 0.0, "salience": 1.0, "patience": 2},
    ]
    return toy_data(actors, rules=("chambers", "consensus"))


def test_the_command_prints_a_block_per_mechanism_and_the_closing_line(tmp_path):
    path = write(tmp_path, walkout_data())
    result = CliRunner().invoke(main, ["mechanisms", str(path), "--reps", "5", "--jobs", "1"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "exit (observers walk out after their patience):" in out
    assert "  chambers   adopted 100% → 0% (−100 points [−100, −100]); median 3 → not reached\n" in out
    assert "lobbying: off in this scenario" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith("switched off in effect: influence (off in this scenario), lobbying (off in this scenario)")
    assert "exit" not in last.split("—")[0]
    assert "mechanisms: running" in result.stderr  # the progress note, not in the table


def test_the_command_prints_json_with_changes_off_minus_on_and_null_medians(tmp_path):
    path = write(tmp_path, walkout_data())
    result = CliRunner().invoke(main, ["mechanisms", str(path), "--reps", "5", "--jobs", "1", "--json", "-q"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["mechanisms"]
    rows = {(r["mechanism"], r["rule"]): r for r in data["mechanisms"]}
    assert len(rows) == len(MECHANISMS) * 2
    for r in data["mechanisms"]:
        assert {"mechanism", "rule", "adopted_change", "median_change", "active"} <= set(r)
    ex = rows[("exit", "chambers")]
    assert ex["active"] is True and ex["adopted_change"] == -1.0 and ex["median_change"] is None
    assert ex["median_on"] == 3.0 and ex["median_off"] is None
    blocked = rows[("exit", "consensus")]  # the participants alone: it passes at once either way
    assert blocked["adopted_change"] == 0.0 and blocked["median_change"] == 0.0
    assert rows[("lobbying", "chambers")]["active"] is False


def test_a_bad_scenario_is_a_file_and_line_error_and_exit_2(tmp_path):
    data = walkout_data()
    data["actors"][0]["salince"] = 0.5
    path = write(tmp_path, data, "bad.yaml")
    result = CliRunner().invoke(main, ["mechanisms", str(path), "--jobs", "1"])
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr and "salince" in result.stderr
    assert "Traceback" not in result.output
    missing = CliRunner().invoke(main, ["mechanisms", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "none.yaml" in missing.stderr


def test_the_terminal_lines_read_as_documented():
    """Hand-made figures: signs as off − on, whole points, the median's interval, and ∞ where a limit is not reached."""
    import pandas as pd

    nan = float("nan")
    rows = [
        ["lobbying", "consensus", True, 0.45, 0.33, -0.12, -0.15, -0.09, 14.0, 17.0, 3.0, 1.0, 5.0, None],
        ["lobbying", "two_thirds", True, 0.9, 0.904, 0.004, -0.001, 0.009, 2.0, 4.0, 2.0, 1.0, nan, None],
    ]
    table = pd.DataFrame(rows, columns=[*COLUMNS, "why_off"])
    table.attrs.update(scenario="s", replications=100, seed=1, horizon=40, mode="agents")
    lines = format_mechanisms(table).splitlines()
    assert lines[2] == "  consensus   adopted 45% → 33% (−12 points [−15, −9]); median 14 → 17 meetings (+3 [+1, +5])"
    assert lines[3] == "  two_thirds  adopted 90% → 90% (+0.4 points [−0.1, +0.9]); median 2 → 4 meetings (+2 [+1, +∞])"
    assert lines[-1].startswith("switched off in effect: none")
