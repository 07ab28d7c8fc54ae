"""kpsim sweep --uncertainty: each point spread over draws as `kpsim compare` spreads one, the same on any worker count."""

import pandas as pd
from click.testing import CliRunner

from kpsim.analysis.compare import compare
from kpsim.cli import main
from kpsim.scenario.load import load_scenario
from kpsim.sweep.design import point_scenario, resolve_path
from kpsim.sweep.store import SweepFolder
from tests.toys import make_toy_yaml

RANGED = {"a": {"position": [0.6, 1.0]}, "c": {"position": [0.0, 0.4]}, "d": {"position": "against_with_reservations"}}
TOY = make_toy_yaml(["a", "b", "c", "d", "e"], ["consensus", "simple_majority"], changes=RANGED, horizon=10, replications=120, seed=9,
                    dynamics={"noise": 0.3}, sweep={"grid": {"proposal.reservation": [0.2, 0.5]}})


def _sweep(tmp_path, *args):
    p = tmp_path / "toy.yaml"
    p.write_text(TOY)
    res = CliRunner().invoke(main, ["sweep", str(p), "-q", *args])
    assert res.exit_code == 0, res.output
    return p, res.output


def test_each_point_is_what_compare_gives_under_full_on_any_worker_count(tmp_path):
    p, out = _sweep(tmp_path, "--uncertainty", "full", "--draws", "6", "--jobs", "1", "--out", str(tmp_path / "one"))
    assert "intervals in brackets (full): 95% range over 6 draws per point" in out
    _sweep(tmp_path, "--uncertainty", "full", "--draws", "6", "--jobs", "2", "--out", str(tmp_path / "two"))
    one, two = SweepFolder.load(tmp_path / "one"), SweepFolder.load(tmp_path / "two")
    pd.testing.assert_frame_equal(one.summary(), two.summary())
    pd.testing.assert_frame_equal(one.runs(), two.runs())
    base = load_scenario(p).model_copy(update={"sweep": None})
    keys = [resolve_path(base, "proposal.reservation")[0]]
    for point, value in enumerate((0.2, 0.5)):
        expected = compare(point_scenario(base, keys, (value,)), jobs=1, uncertainty="full", draws=6).summary
        got = one.summary()
        got = got[got["point"] == point].reset_index(drop=True)[expected.columns.drop(["label", "win_set", "decided_by"], errors="ignore")]
        pd.testing.assert_frame_equal(got, expected[got.columns], check_dtype=False)


def test_a_montecarlo_sweep_keeps_its_folder_and_another_mode_is_a_different_sweep(tmp_path):
    _sweep(tmp_path, "--uncertainty", "montecarlo", "--jobs", "1", "--out", str(tmp_path / "s"))
    p = tmp_path / "toy.yaml"
    res = CliRunner().invoke(main, ["sweep", str(p), "-q", "--uncertainty", "full", "--draws", "4", "--jobs", "1", "--out", str(tmp_path / "s")])
    assert res.exit_code == 2 and "--force" in res.output  # not silently mixed with the montecarlo chunks
