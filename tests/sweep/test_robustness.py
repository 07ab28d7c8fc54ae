"""kpsim robustness: one-at-a-time swings find a planted driver, and nothing else flips (--samples 0: PRIM is tested in test_robustness_prim.py)."""

import json

import pandas as pd
from click.testing import CliRunner

from kpsim.cli import main
from tests.toys import write_planted


def planted(tmp_path):
    """The planted driver alone: one coding level up (0.25) the blocker abstains at 0.5 and the text passes."""
    return write_planted(tmp_path)


def test_robustness_finds_the_planted_driver(tmp_path):
    p = planted(tmp_path)
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


def test_robustness_input_errors(tmp_path):
    p = planted(tmp_path)
    res = CliRunner().invoke(main, ["robustness", str(p), "--rule", "nope", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "no rule named 'nope'" in res.output


def test_the_brief_and_the_slides_say_what_would_change_the_result(tmp_path):
    p = planted(tmp_path)
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


def test_what_would_change_it_keeps_small_values_readable(tmp_path):
    from kpsim.output.i18n import language, robustness_lines

    pd.DataFrame([{"rule": "consensus", "swing": "dynamics.acquiescence_time", "low_value": 0.00226, "high_value": 0.0251,
                   "adopted_base": 0.2, "adopted_low": 0.1, "adopted_high": 0.8, "flips": True}]).to_csv(tmp_path / "robustness.csv", index=False)
    (en,) = robustness_lines(tmp_path, {}, ["consensus"], language("en"))
    assert "dynamics.acquiescence_time: 0.0023 gives 10% adopted, 0.025 gives 80%." in en  # two significant digits, not "0" and "0.03"
    (fr,) = robustness_lines(tmp_path, {}, ["consensus"], language("fr"))
    assert "0,0023" in fr and "0,025" in fr
