"""kpsim robustness: one-at-a-time swings find a planted driver, and nothing else flips (--samples 0: PRIM is tested in test_robustness_prim.py)."""

import json

import pandas as pd
from click.testing import CliRunner

from kpsim.cli import main
from kpsim.scenario.prior import BOX


def planted(tmp_path, toy_yaml):
    """Consensus, noise 0.02 (the prior's least): a blocker at 0 objects to every text of the mandate [0.5, 1]; one coding level up (0.25) it
    abstains at 0.5, which the chair reaches by amending, and the text passes. Nothing else decides anything."""
    p = tmp_path / "planted.yaml"
    p.write_text(toy_yaml(
        actors=[{"id": "pro", "position": 1.0, "salience": 1.0}, {"id": "blocker", "position": 0.0, "salience": 0.9},
                {"id": "bystander", "position": 0.5, "salience": 0.1}],
        rules=("consensus",), proposal={"status_quo": 0.0, "position": 1.0, "reservation": 0.5}, horizon=8,
        dynamics={"noise": 0.02, "reluctance": 0.05, "amendment_step": 0.5, "lobbying": 0.0},
    ))
    # a posterior of one point at the scenario's own dynamics: no parameter swings, only the codings
    from kpsim.scenario.load import load_scenario

    dyn = load_scenario(p).dynamics
    pd.DataFrame([{**{k: float(getattr(dyn, k)) for k in BOX}, "weight": 1.0}]).to_csv(tmp_path / "posterior.csv", index=False)
    return p


def test_robustness_finds_the_planted_driver(tmp_path, toy_yaml):
    p = planted(tmp_path, toy_yaml)
    out = tmp_path / "rob"
    res = CliRunner().invoke(main, ["robustness", str(p), "--reps", "20", "--samples", "0", "--jobs", "1", "-q", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    (rule,) = json.loads(res.output[res.output.index("{"):])["rules"]
    assert rule["rule"] == "consensus" and rule["adopted_base"] == 0.0 and rule["passes"] is False
    top, *rest = rule["swings"]
    assert top["swing"] == "actors.blocker.position" and top["flips"] is True and top["adopted_high"] == 1.0
    assert not any(s["flips"] for s in rest)  # the proposer one level lower, the bystander (not named): nothing
    assert {s["swing"] for s in rule["swings"]} == {"actors.blocker.position", "actors.pro.position"}
    table = pd.read_csv(out / "robustness.csv")
    assert table.loc[0, "swing"] == "actors.blocker.position" and bool(table.loc[0, "flips"])
    assert (out / "charts" / "tornado_consensus.png").stat().st_size > 10_000 and (out / "meta.json").is_file()


def test_robustness_input_errors(tmp_path, toy_yaml):
    p = planted(tmp_path, toy_yaml)
    res = CliRunner().invoke(main, ["robustness", str(p), "--rule", "nope", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "no rule named 'nope'" in res.output


def test_the_brief_and_the_slides_say_what_would_change_the_result(tmp_path, toy_yaml):
    p = planted(tmp_path, toy_yaml)
    rob, res_dir = tmp_path / "rob", tmp_path / "res"
    assert CliRunner().invoke(main, ["robustness", str(p), "--reps", "20", "--samples", "0", "--jobs", "1", "-q", "--out", str(rob)]).exit_code == 0
    assert CliRunner().invoke(main, ["compare", str(p), "--reps", "20", "--jobs", "1", "-q", "--no-charts", "--out", str(res_dir)]).exit_code == 0
    res = CliRunner().invoke(main, ["report", str(res_dir), "--robustness", str(rob)])
    assert res.exit_code == 0, res.output
    md = (res_dir / "brief.md").read_text()
    assert "What would change it under Consensus: 1 of 2 one-at-a-time swings flip the verdict; the largest, actors.blocker.position: " in md
    res = CliRunner().invoke(main, ["slides", str(res_dir), "--robustness", str(rob), "--lang", "fr"])
    assert res.exit_code == 0, res.output
    from pptx import Presentation

    text = " ".join(sh.text_frame.text for s in Presentation(res_dir / "slides.fr.pptx").slides for sh in s.shapes if sh.has_text_frame)
    assert "Ce qui changerait le résultat sous Consensus : 1 des 2 variations une à une renversent le verdict" in text
    res = CliRunner().invoke(main, ["report", str(res_dir), "--robustness", str(tmp_path)])
    assert res.exit_code == 2 and "no robustness.csv" in res.output


def test_a_range_written_in_the_scenario_is_swung_whole(toy_scenario):
    from kpsim.sweep.robustness import swings

    sc = toy_scenario(changes={"a": {"position": [0.1, 0.95]}, "b": {"position": "for_with_reservations"},
                               "d": {"stubbornness": [0.2, 0.8]}})
    by = {s.path: s for s in swings(sc, None)}
    assert (by["actors.a.position"].low, by["actors.a.position"].high) == (0.1, 0.95)  # wider than one level: all of it
    assert (by["actors.b.position"].low, by["actors.b.position"].high) == (0.5, 1.0)  # a level's band is within one level
    assert (by["actors.d.stubbornness"].low, by["actors.d.stubbornness"].high, by["actors.d.stubbornness"].base) == (0.2, 0.8, 0.5)
