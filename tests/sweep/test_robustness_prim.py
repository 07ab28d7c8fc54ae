"""kpsim robustness, scenario discovery: PRIM and the tornado recover a planted driver; the joint sweep resumes; PRIM's wrapper on known data."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kpsim.analysis.discovery import find_boxes, prim_lines
from kpsim.cli import main
from tests.toys import write_planted


def planted(tmp_path):
    """The planted driver (the blocker swung over [0, 0.25]) and two supporters, also named and swung one level
    (positions 0.55–1), that decide nothing; nor do the dynamics (a posterior of one point)."""
    return write_planted(tmp_path, supporters=[{"id": "pro2", "position": 0.9, "salience": 0.8}, {"id": "pro3", "position": 0.8, "salience": 0.5}])


ARGS = ["--reps", "20", "--samples", "60", "--seed", "3", "--jobs", "1", "-q"]


def test_prim_and_the_tornado_recover_the_planted_driver(tmp_path):
    p = planted(tmp_path)
    out = tmp_path / "rob"
    res = CliRunner().invoke(main, ["robustness", str(p), *ARGS, "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    (rule,) = json.loads(res.output[res.output.index("{"):])["rules"]
    assert rule["passes"] is False and rule["swings"][0]["swing"] == "actors.blocker.position" and rule["swings"][0]["flips"]
    prim = rule["prim"]
    assert prim["samples"] == 60 and 6 <= prim["flipped"] <= 24  # the blocker above ~0.21 of [0, 0.25]: about 16% of 60
    first = prim["boxes"][0]
    assert first["reliable"] and first["coverage"] >= 0.9 and first["density"] >= 0.9
    assert [lim["input"] for lim in first["limits"]] == ["actors.blocker.position"]  # that coding, and nothing else
    (lim,) = first["limits"]
    assert 0.15 <= lim["low"] <= 0.23 and lim["high"] == 0.25 and lim["range"] == [0.0, 0.25] and lim["qp"] < 0.001
    table = pd.read_csv(out / "prim.csv")
    assert table.loc[0, "input"] == "actors.blocker.position" and table.loc[0, "box"] == 1
    assert (out / "charts" / "prim_consensus.png").stat().st_size > 10_000
    (line,) = prim_lines(out, {"consensus": "Consensus"})
    assert line.startswith("Drawn jointly, the verdict under Consensus flips in ") and "where blocker.position is at least 0." in line
    assert "(coded 0)" in line
    # the brief says it under "what would change this result", in English and French
    res = CliRunner().invoke(main, ["compare", str(p), "--reps", "20", "--jobs", "1", "-q", "--no-charts", "--out", str(tmp_path / "res")])
    assert res.exit_code == 0, res.output
    for lang, words in (("en", "Drawn jointly, the verdict under"), ("fr", "Tirés ensemble, le verdict sous")):
        res = CliRunner().invoke(main, ["report", str(tmp_path / "res"), "--robustness", str(out), "--lang", lang])
        assert res.exit_code == 0, res.output
        assert words in (tmp_path / "res" / ("brief.md" if lang == "en" else "brief.fr.md")).read_text()


def test_the_joint_sweep_resumes_to_the_same_boxes(tmp_path):
    p = planted(tmp_path)
    out = tmp_path / "rob"
    args = ["robustness", str(p), *ARGS, "--out", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "consensus: " in res.output and "joint samples flip the verdict" in res.output  # the console says it too, ranked
    assert "  box 1: coverage 100%" in res.output and "actors.blocker.position ≥ 0." in res.output
    before = pd.read_csv(out / "prim.csv")
    # as if killed part-way through the joint sweep: some chunks of OUT/prim/ never written
    parts = sorted((out / "prim" / "summary").glob("part-*.parquet"))
    assert len(parts) >= 4
    for f in parts[1::2]:
        f.unlink()
    for f in ("meta.json", "summary.csv"):
        (out / "prim" / f).unlink(missing_ok=True)
    (out / "prim.csv").unlink()
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "prim.csv"), before)
    # another joint sample in the same folder is refused, not mixed in
    res = CliRunner().invoke(main, [*args, "--samples", "40"])
    assert res.exit_code == 2 and "holds a different sweep" in res.output
    # --samples 0: the tornado only, and no prim.csv left over from before
    res = CliRunner().invoke(main, [*args, "--samples", "0", "--json"])
    assert res.exit_code == 0, res.output
    assert not (out / "prim.csv").exists() and "prim" not in json.loads(res.output[res.output.index("{"):])["rules"][0]
    assert prim_lines(out) == []


# ---------------------------------------------------------------- PRIM's wrapper, on data whose answer is known


@pytest.fixture(scope="module")
def uniform():
    rng = np.random.default_rng(7)
    return pd.DataFrame(rng.uniform(size=(300, 8)), columns=[f"x{i}" for i in range(8)]), rng


def test_one_threshold_is_found_alone(uniform):
    x, _ = uniform
    (box,) = find_boxes(x, (x["x5"] > 0.7).to_numpy(), {c: (0.0, 1.0) for c in x})
    assert box.reliable and box.coverage == 1.0 and box.density >= 0.9  # PRIM peels 5% at a time: it may stop short of the edge
    (lim,) = box.limits
    assert lim.input == "x5" and 0.6 <= lim.low <= 0.71 and lim.high == 1.0 and lim.qp < 1e-6


def test_no_flip_no_box_all_flips_one_box_restricting_nothing(uniform):
    x, _ = uniform
    assert find_boxes(x, np.zeros(len(x), bool)) == []
    (box,) = find_boxes(x, np.ones(len(x), bool))
    assert box.reliable and box.limits == [] and box.coverage == box.density == box.mass == 1.0


def test_noise_gives_no_reliable_box(uniform):
    x, rng = uniform
    boxes = find_boxes(x, rng.uniform(size=len(x)) < 0.3)
    assert len(boxes) == 1 and not boxes[0].reliable


def test_a_dense_box_without_a_significant_restriction_is_said_unreliable_for_that_reason(tmp_path):
    from kpsim.analysis.discovery import Box, Discovery, Limit, format_prim, prim_lines, table
    from kpsim.output.i18n import language

    def frame(density, qp):
        box = Box(1, 1.0, density, 0.4, 31, False, [Limit("dynamics.noise", 0.1, 0.2, 0.0, 0.3, qp)], pd.DataFrame())
        return table([Discovery("consensus", 60, 0.1, 25, [box])], {"dynamics.noise": ("parameter", 0.1)})

    assert "dense enough, but no restriction is significant (qp ≤ 0.05): not a reliable box" in format_prim(frame(0.81, 0.12), 5)
    assert "no box reaches 80% flips" not in format_prim(frame(0.81, 0.12), 5)  # it does reach them (it said so before)
    assert "no box reaches 80% flips; the densest" in format_prim(frame(0.6, 0.01), 5)
    # the brief says the same (it blamed the density too), in both languages
    frame(0.81, 0.12).to_csv(tmp_path / "prim.csv", index=False)
    (en,) = prim_lines(tmp_path, rules=["consensus"], lang=language("en"))
    assert "81% of the combinations flip it, but none of that region's limits stands out from chance" in en
    (fr,) = prim_lines(tmp_path, rules=["consensus"], lang=language("fr"))
    assert "ne se distingue du hasard" in fr
    frame(0.6, 0.01).to_csv(tmp_path / "prim.csv", index=False)
    assert "no region of them does so reliably (at best 60% of the combinations in it)" in prim_lines(tmp_path, rules=["consensus"])[0]
