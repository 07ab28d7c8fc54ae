"""Every chart is written, in three formats, not blank, labelled and sourced; censoring is drawn honestly."""

import re

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgba
from matplotlib.image import imread

from kpsim import __version__
from kpsim.cli import main
from kpsim.output.charts import deadlock_chart, survival_chart
from kpsim.output.style import DPI, OKABE_ITO, SLIDE, rule_styles
from tests.toys import TOY_SOURCES

# four participants with production shares, an industry observer; every kind of chart has something to draw
PLOTS_TOY = {
    "actors": ("a", "b", "c", "d", "wdc"),
    "rules": [
        {"rule": "consensus"},
        {"rule": "qualified_majority", "q": "3/4", "name": "three_quarters"},
        {"rule": "simple_majority"},
        {"rule": "weighted_majority", "weight": "production", "q": "1/2", "name": "production"},
        {"rule": "chambers", "chambers": [{"name": "governments", "kinds": ["participant"], "q": "1/2"}, {"name": "industry", "kinds": ["industry"], "q": "1/2"}]},
    ],
    "name": "plots_toy",
    "sources": TOY_SOURCES,
    "changes": {"d": {"bloc": None}},
    "weights": [{"production": 0.5}, {"production": 0.1}, {"production": 0.3}, {"production": 0.1}],
    "horizon": 8,
    "dynamics": {"noise": 0.3},
    "replications": 150,
    "seed": 7,
}
CHARTS = ("survival", "deadlock", "blockers", "power", "threshold")


@pytest.fixture(scope="module")
def folder(tmp_path_factory, toy_yaml):
    tmp = tmp_path_factory.mktemp("plots")
    (tmp / "toy.yaml").write_text(toy_yaml(**PLOTS_TOY))
    out = tmp / "run-1"
    res = CliRunner().invoke(main, ["compare", str(tmp / "toy.yaml"), "--out", str(out), "--jobs", "1", "-q"])
    assert res.exit_code == 0, res.output
    return out


def test_compare_writes_every_chart_in_three_formats_and_none_is_blank(folder):
    assert {p.name for p in (folder / "charts").iterdir()} == {f"{c}.{f}" for c in CHARTS for f in ("png", "svg", "pdf")}
    for chart in CHARTS:
        png = imread(folder / "charts" / f"{chart}.png")
        assert png.shape[1] >= SLIDE[0] * DPI  # at least 200 dpi on a 12-inch slide
        ink = (png[..., :3] < 0.9).any(axis=2).mean()
        assert ink > 0.03, f"{chart}.png is nearly blank ({ink:.1%} of pixels drawn)"
        assert (folder / "charts" / f"{chart}.pdf").read_bytes()[:5] == b"%PDF-"
        assert (folder / "charts" / f"{chart}.pdf").stat().st_size > 5_000


def test_every_chart_has_title_subtitle_and_footnote(folder):
    for chart in CHARTS:
        svg = (folder / "charts" / f"{chart}.svg").read_text()
        text = " ".join(re.findall(r">([^<>]+)</text>", svg))
        assert "plots_toy" in text and "150 replications per rule" in text, chart
        assert "run run-1" in text and f"kpsim {__version__}" in text, chart
        assert "kimberleyprocess.com" in text and "kp_record.md" in text, chart
        assert "consensus" in text and "three_quarters" in text, chart


def test_rule_colours_are_okabe_ito_and_distinct():
    styles = rule_styles([f"r{i}" for i in range(8)])
    colours = [s["color"] for s in styles.values()]
    assert set(colours) <= set(OKABE_ITO) and len(set(colours)) == 8


@pytest.fixture(scope="module")
def censored(censored_results):
    """Unanimity among 60 coin flips never passes in 30 meetings; simple majority passes at once."""
    return censored_results(300)


def test_survival_curves_stop_at_the_horizon_and_censored_runs_never_count_as_adopted(censored):
    fig = survival_chart(censored)
    lines = {ln.get_label().split(":")[0]: ln for ln in fig.axes[0].get_lines() if ":" in ln.get_label()}
    never = lines["q=1"]
    assert never.get_xdata().max() == 30 and np.all(never.get_ydata() == 1.0)  # flat at 100% up to the horizon, no further
    assert never.get_label() == "q=1: median not reached"
    fast = lines["simple_majority"]
    assert fast.get_ydata()[-1] == 0 and fast.get_xdata().max() == 30  # everyone adopted: the curve is known to stay at 0


def test_deadlock_chart_keeps_censored_apart(censored):
    fig = deadlock_chart(censored)
    axes = {ax.get_title(loc="left"): ax for ax in fig.axes}
    styles = rule_styles(censored.rules)
    for rule, censored_share in (("q=1", 1.0), ("simple_majority", 0.0)):
        bars = axes[rule].patches
        (hatched,) = [p for p in bars if p.get_hatch()]
        adopted = [p for p in bars if p.get_facecolor() == to_rgba(styles[rule]["color"])]
        assert hatched.get_height() == pytest.approx(censored_share)
        assert hatched.get_x() > max(p.get_x() + p.get_width() for p in adopted)  # apart, right of every adoption
        assert sum(p.get_height() for p in adopted) == pytest.approx(1 - censored_share)


def test_no_charts_flag_and_redrawing_charts_later(tmp_path, toy_yaml):
    (tmp_path / "toy.yaml").write_text(toy_yaml(**PLOTS_TOY | {"replications": 40}))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["compare", str(tmp_path / "toy.yaml"), "--out", str(out), "--jobs", "1", "-q", "--no-charts"])
    assert res.exit_code == 0, res.output
    assert not (out / "charts").exists() and (out / "blockers_by_bloc.csv").exists() and (out / "threshold.csv").exists()
    res = CliRunner().invoke(main, ["charts", str(out)])
    assert res.exit_code == 0, res.output
    assert len(list((out / "charts").glob("*.png"))) == len(CHARTS)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # nothing half-written left behind
    res = CliRunner().invoke(main, ["charts", str(tmp_path)])
    assert res.exit_code == 2 and "not a complete results folder" in res.output
