"""The win-set (kpsim winset): known answers, monotonicity in veto players, and agreement with a simulation of the static model."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kpsim.analysis.winset import decided_by, static_scenario, win_set, win_sets
from kpsim.cli import main
from kpsim.errors import InputError
from kpsim.run.runner import run
from kpsim.scenario.load import load_scenario, load_tree

ROOT = Path(__file__).resolve().parents[2]


def romer_rosenthal(toy_scenario, r):
    """Status quo 0, the chair's text 1, mandate [0, 1]; one veto player at 0.3, salience 1, reluctance r."""
    return toy_scenario(
        actors=[{"id": "chair", "position": 1.0, "salience": 1.0}, {"id": "veto", "position": 0.3, "salience": 1.0}],
        rules=("consensus", "simple_majority"),
        proposal={"status_quo": 0.0, "position": 1.0, "reservation": 0.0},
        dynamics={"reluctance": r},
    )


@pytest.mark.parametrize("r", [0.0, 0.05, 0.1])
def test_romer_rosenthal_the_best_text_a_veto_player_lets_pass(toy_scenario, r):
    """The veto abstains while |0 − 0.3| − |t − 0.3| ≥ −r, i.e. up to t = 0.6 + r; abstention does not block."""
    w = win_set(romer_rosenthal(toy_scenario, r), "consensus")
    assert w.passable and w.best_text == pytest.approx(0.6 + r, abs=1e-6)
    assert w.veto_players == ["chair", "veto"]
    assert w.pivotal == ["chair", "veto"]  # at the best text, either one's objection sinks it


def test_an_empty_win_set_names_the_objectors_whose_abstention_would_pass(toy_scenario):
    sc = romer_rosenthal(toy_scenario, 0.05)
    sc = sc.model_copy(update={"proposal": sc.proposal.model_copy(update={"reservation": 0.8})})  # mandate [0.8, 1]
    w = win_set(sc, "consensus")
    assert not w.passable and w.best_text is None
    assert w.evaluated_text == pytest.approx(0.8) and w.pivotal == ["veto"]
    assert win_set(sc, "simple_majority").passable is False  # one for, one against: a tie fails


def test_adding_a_veto_player_never_enlarges_the_win_set(toy_scenario):
    """Tsebelis: a new veto player's consent is one more condition. (The proposer, who supports every text it tables,
    sits in both bodies: consensus also needs one supporter, and a newcomer who supports would otherwise supply it.)"""
    rng = np.random.default_rng(7)
    texts = np.linspace(0, 1, 501)
    shrunk = 0
    for _ in range(50):
        actors = [{"id": "proposer", "position": 1.0, "salience": 1.0}]
        actors += [{"id": f"p{i}", "position": float(x), "salience": float(s)} for i, (x, s) in enumerate(rng.uniform(size=(2, 2)))]
        base = toy_scenario(actors=actors, rules=("consensus",), proposal={"status_quo": 0.0, "position": 1.0, "reservation": 0.0})
        more = toy_scenario(
            actors=actors + [{"id": "extra", "position": float(rng.uniform()), "salience": float(rng.uniform())}],
            rules=("consensus",), proposal={"status_quo": 0.0, "position": 1.0, "reservation": 0.0},
        )
        before, after = win_set(base, "consensus", texts).passes, win_set(more, "consensus", texts).passes
        assert not (after & ~before).any()
        shrunk += bool((before & ~after).any())
    assert shrunk >= 5  # the newcomer does bind in many draws: the check has teeth


def _bundled():
    files = [p for p in sorted((ROOT / "scenarios").rglob("*.yaml")) if {"name", "rules"} <= set(load_tree(p))]
    return [f for f in files if load_scenario(f).dynamics.mode == "agents"]


@pytest.mark.parametrize("path", _bundled(), ids=lambda p: str(p.relative_to(ROOT / "scenarios")))
def test_a_simulation_of_the_static_model_agrees_with_the_win_set(path):
    """Noise 0, nothing moving: a rule adopts within the horizon exactly when some text of the mandate passes."""
    sc = load_scenario(path)
    sets = {w.rule: w for w in win_sets(sc)}
    runs, _ = run(static_scenario(sc), replications=1, progress=False)
    for r in runs.itertuples():
        assert bool(r.adopted) == sets[r.rule].passable, f"{r.rule}: adopted {r.adopted}, win-set {'passable' if sets[r.rule].passable else 'empty'}"


def test_the_definition_reform_is_structurally_blocked_except_under_tripartite(root):
    """At the tabled positions no text in [0.5, 1] passes under any rule but tripartite: adoptions elsewhere are dynamic."""
    sets = win_sets(load_scenario(root / "scenarios/kp/definition_reform.yaml"))
    assert {w.rule for w in sets if w.passable} == {"tripartite"}


def test_decided_by():
    assert decided_by(False, 0.0, float("nan")) == "structural"
    assert decided_by(False, 0.36, float("nan")) == "dynamic"
    assert decided_by(True, 1.0, 1) == "structural"
    assert decided_by(True, 1.0, 3) == "dynamic"


def test_winset_command_json_and_errors(root, tmp_path):
    res = CliRunner().invoke(main, ["winset", str(root / "scenarios/kp/marange.yaml"), "--rule", "consensus", "--rule", "tripartite", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert [r["rule"] for r in out["rules"]] == ["consensus", "tripartite"]
    assert set(out["rules"][0]) == {"rule", "passable", "best_text", "veto_players", "pivotal"}
    assert out["rules"][0]["passable"] is True and 0.5 <= out["rules"][0]["best_text"] <= 1
    assert out["rules"][1] == {**out["rules"][1], "passable": False, "best_text": None}
    assert "static model" in out["assumptions"]
    res = CliRunner().invoke(main, ["winset", str(root / "scenarios/null_model.yaml")])
    assert res.exit_code == 2 and "needs actors' positions" in res.output
    res = CliRunner().invoke(main, ["winset", str(root / "scenarios/kp/marange.yaml"), "--rule", "nope"])
    assert res.exit_code == 2 and "no rule named 'nope'" in res.output


def test_static_scenario_refuses_the_null_model(root):
    with pytest.raises(InputError):
        static_scenario(load_scenario(root / "scenarios/null_model.yaml"))
