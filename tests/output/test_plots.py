"""Every chart is written, in each format asked for, not blank, labelled and sourced; censoring and withdrawal are drawn honestly, on shared scales, readably."""

import pickle
import re

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.image import imread

from kpsim import __version__
from kpsim.analysis.outputs import write_charts
from kpsim.cli import main
from kpsim.output.chart_data import endings
from kpsim.output.charts import (
    TALL,
    blockers_chart,
    chance,
    chart_inputs,
    deadlock_chart,
    power_chart,
    survival_chart,
)
from kpsim.output.style import ALL_FORMATS, DPI, FORMATS, OKABE_ITO, SLIDE, WITHDRAWN, rule_styles
from kpsim.scenario.load import load_scenario
from tests.toys import TOY_PROPOSAL, TOY_SOURCES

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
    res = CliRunner().invoke(main, ["compare", str(tmp / "toy.yaml"), "--out", str(out), "--jobs", "1", "-q", "--formats", "png,svg,pdf"])
    assert res.exit_code == 0, res.output
    return out


def test_compare_writes_every_chart_in_the_three_formats_asked_for_and_none_is_blank(folder):
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
        # power indices are exact: no replications to count
        assert "plots_toy" in text and ("150 replications per rule" in text) == (chart != "power"), chart
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


def _bar_heights(collection) -> np.ndarray:
    """Heights of the bars of one rule in the deadlock chart (each a rectangle of 4 vertices)."""
    return np.array([np.ptp(path.vertices[:4, 1]) for path in collection.get_paths()])


def _bars_on_one_scale(results, ax) -> None:
    """Each rule's bars add up to its adopted share, and every rule's bars share one scale (bar height / share)."""
    bars = {c.get_label(): c for c in ax.collections}
    assert set(bars) == set(results.rules)
    scales = []
    for rule, g in results.runs.groupby("rule"):
        shares = g.loc[g.adopted, "meetings"].value_counts() / len(g)
        heights = _bar_heights(bars[rule])
        assert len(heights) == len(shares)  # one bar per meeting with an adoption, none where nothing was adopted
        if len(shares):
            scales.append(heights.max() / shares.max())
            assert heights.sum() / scales[-1] == pytest.approx(g.adopted.mean())
    assert scales and np.allclose(scales, scales[0])


def test_deadlock_chart_keeps_censored_apart(censored):
    fig = deadlock_chart(censored)
    ax, ax_n = fig.axes[:2]
    _bars_on_one_scale(censored, ax)
    # the never adopted stand in their own axes, on a 0–100% scale shared by every rule
    hatched = dict(zip(censored.rules, [p for p in ax_n.patches if p.get_hatch()]))
    assert hatched["q=1"].get_height() / TALL == pytest.approx(1.0) and hatched["simple_majority"].get_height() == pytest.approx(0)
    assert not [p for p in ax_n.patches if not p.get_hatch() and p.get_height() > 0]  # nothing was withdrawn


@pytest.fixture(scope="module")
def withdrawn(toy_scenario, results_of):
    """Abandoned after 3 failed meetings of 10: consensus mostly withdrawn, simple majority mostly adopted."""
    sc = toy_scenario(rules=["consensus", "simple_majority"], horizon=10, dynamics={"noise": 0.3}, seed=5,
                      proposal=TOY_PROPOSAL | {"abandon_after": 3})
    return results_of(sc, 200)


def test_withdrawals_are_their_own_outcome_on_the_charts(withdrawn):
    share = withdrawn.runs.groupby("rule")["abandoned"].mean()
    assert share["consensus"] > 0.5
    fig = survival_chart(withdrawn)
    ax = fig.axes[0]
    crosses = [ln for ln in ax.get_lines() if ln.get_marker() == "x"]
    assert {tuple(ln.get_xdata()) for ln in crosses} == {(3,)}  # censored where withdrawn, not at the horizon
    assert not [ln for ln in ax.get_lines() if ln.get_marker() == "|"]  # nothing was left open at the horizon
    curves = {ln.get_label().split(":")[0]: ln for ln in ax.get_lines() if ":" in ln.get_label()}
    assert curves["consensus"].get_xdata().max() == 3  # the curve stops at the withdrawal: nothing is observed after it
    assert f"withdrawn {share['consensus']:.0%}" in curves["consensus"].get_label()
    assert "withdrawn before adoption (censored at its last meeting)" in [t.get_text() for t in ax.get_legend().get_texts()]
    fig = deadlock_chart(withdrawn)
    ax, ax_n = fig.axes[:2]
    _bars_on_one_scale(withdrawn, ax)  # both rules adopt some: one scale for both
    solid = [p for p in ax_n.patches if not p.get_hatch()]
    assert [p.get_height() / TALL for p in solid] == pytest.approx([share["consensus"], share["simple_majority"]])
    assert {p.get_facecolor() for p in solid} == {to_rgba(WITHDRAWN)}
    assert "withdrawn before adoption" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def kp(root, results_of):
    """The definition reform: eight rules and eight blocs, the crowded case."""
    res = results_of(load_scenario(root / "scenarios" / "kp" / "definition_reform.yaml"), 40)
    return res, res.tables()


def _fits(fig, ax) -> None:
    """Every cell label of a heatmap fits its cell, at 11 points or more, and rotated column labels do not touch."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    cell = ax.transData.transform([(1, 1)]) - ax.transData.transform([(0, 0)])
    labels = [t for t in ax.texts if t.get_text() not in ("", "–")]
    assert labels
    for t in labels:
        assert t.get_fontsize() >= 11, t.get_text()
        box = t.get_window_extent(renderer)
        assert box.width <= abs(cell[0][0]) and box.height <= abs(cell[0][1]), t.get_text()
    ticks = ax.get_xticklabels()
    gap = abs(cell[0][0]) * np.sin(np.radians(ticks[0].get_rotation()))  # between two parallel rotated labels
    assert gap >= 1.2 * ticks[0].get_fontsize() * fig.dpi / 72


def test_power_chart_is_linear_and_readable_with_eight_blocs(kp):
    results, tables = kp
    fig = power_chart(results, tables["power.csv"])
    bars, heat = fig.axes[:2]
    assert bars.get_xscale() == "linear" and bars.get_xlim()[0] == 0
    texts = " ".join(t.get_text() for t in fig.texts + bars.texts)
    assert "replications" not in texts and "e-" not in texts  # exact figures; no scientific notation on a slide
    assert "1 in 10¹⁸" in texts  # consensus among 60: 2^-60
    assert len(heat.get_xticklabels()) == 8
    _fits(fig, heat)


def test_blockers_chart_names_how_many_object_and_who(kp):
    results, tables = kp
    by_bloc = tables["blockers_by_bloc.csv"]
    fig = blockers_chart(results, by_bloc)
    ax = fig.axes[0]
    _fits(fig, ax)
    first = by_bloc[by_bloc.rule == "consensus"].iloc[0]
    cell = ax.texts[0].get_text().splitlines()  # the top-ranked bloc under the first rule
    assert cell == [f"{first.members_objecting:.1f} of {first.members}", first.top_actor, f"{first.top_objection_rate:.0%}"]
    assert ax.get_yticklabels()[0].get_text() == f"{first.bloc} ({first.members})"


def test_probabilities_a_slide_can_say():
    assert [chance(p) for p in (0.448711, 0.006745, 6.73e-5, 2.0**-60, 3.13e-14, 0)] == [
        "44.9%", "0.674%", "0.0067%", "1 in 10¹⁸", "1 in 3×10¹³", "0"]


def test_charts_in_two_processes_are_the_charts_in_one(withdrawn, tmp_path):
    tables = withdrawn.tables()
    one = write_charts(withdrawn, tables, tmp_path / "one")
    two = write_charts(withdrawn, tables, tmp_path / "two", jobs=2)
    assert [p.name for p in one] == [p.name for p in two] and all(p.stat().st_size > 1000 for p in two)


def test_charts_shared_by_more_workers_than_needed_and_png_alone(withdrawn, tmp_path):
    files = write_charts(withdrawn, withdrawn.tables(), tmp_path, jobs=4, formats=("png",))
    assert [p.stem for p in files] == [c for c in CHARTS if (tmp_path / f"{c}.png").exists()]  # the registry's order
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files) and {p.suffix for p in files} == {".png"}


def test_a_chart_that_fails_in_two_processes_fails_the_call(withdrawn, tmp_path):
    with pytest.raises(ValueError, match="not supported"):  # raised here and in the worker; neither waits for the other forever
        write_charts(withdrawn, withdrawn.tables(), tmp_path, jobs=2, formats=("nope",))


def test_no_charts_flag_and_redrawing_charts_later(tmp_path, toy_yaml):
    (tmp_path / "toy.yaml").write_text(toy_yaml(**PLOTS_TOY | {"replications": 40}))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["compare", str(tmp_path / "toy.yaml"), "--out", str(out), "--jobs", "1", "-q", "--no-charts"])
    assert res.exit_code == 0, res.output
    assert not (out / "charts").exists() and (out / "blockers_by_bloc.csv").exists() and (out / "threshold.csv").exists()
    res = CliRunner().invoke(main, ["charts", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (out / "charts").iterdir()) == sorted(f"{c}.{f}" for c in CHARTS for f in ("png", "svg"))  # no PDF unless asked
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # nothing half-written left behind
    res = CliRunner().invoke(main, ["charts", str(tmp_path)])
    assert res.exit_code == 2 and "not a complete results folder" in res.output


def test_the_subtitle_says_which_intervals_the_charts_show(withdrawn):
    import dataclasses

    from kpsim.output.style import subtitle

    assert "replications per rule ·" in subtitle(withdrawn, extra="x") or subtitle(withdrawn).endswith("replications per rule")
    full = dataclasses.replace(withdrawn, meta={"uncertainty": "full", "draws": 50, "posterior": "p.csv"})
    assert "replications per rule (full: over 50 draws of the parameters and codings)" in subtitle(full)
    codings = dataclasses.replace(withdrawn, meta={"uncertainty": "full", "draws": 20, "posterior": None})
    assert "(full: over 20 draws of the codings)" in subtitle(codings)
    fixed = dataclasses.replace(withdrawn, meta={"uncertainty": "full", "draws": 50, "posterior": "p.csv", "codings": 0})
    assert "(full: over 50 draws of the parameters (no coding is a range))" in subtitle(fixed)


def test_formats_are_checked_before_anything_runs(tmp_path, toy_yaml):
    assert set(FORMATS) < set(ALL_FORMATS)  # the default is some of the formats --formats accepts
    (tmp_path / "toy.yaml").write_text(toy_yaml(**PLOTS_TOY | {"replications": 20}))
    res = CliRunner().invoke(main, ["compare", str(tmp_path / "toy.yaml"), "--out", str(tmp_path / "out"), "-q", "--formats", "png,jpg"])
    assert res.exit_code == 2 and "jpg: give one or more of png, svg, pdf" in res.output
    assert not (tmp_path / "out").exists()


def test_endings_count_every_replication_once(withdrawn, censored):
    for results in (withdrawn, censored):
        ends = endings(results).set_index(["rule", "meetings", "adopted", "censored", "abandoned"])["n"]
        expected = results.runs.astype({"rule": str}).groupby(list(ends.index.names)).size()
        assert ends.to_dict() == expected.to_dict()


def test_chart_workers_are_sent_endings_not_runs(censored_results):
    """What write_charts sends each worker does not grow with the replications (ten times more: a few bytes more)."""
    small, big = censored_results(300), censored_results(3000)
    sent = [len(pickle.dumps(chart_inputs(r, r.tables()))) for r in (small, big)]
    assert len(pickle.dumps(big.runs)) - len(pickle.dumps(small.runs)) > 20_000
    assert abs(sent[1] - sent[0]) < 1_000, sent


def test_under_draws_the_survival_band_is_the_range_across_draws_not_the_pooled_monte_carlo_band(censored):
    import dataclasses

    import pandas as pd

    from kpsim.output.chart_data import ChartData, survival_band
    from kpsim.analysis.survival import kaplan_meier

    # simple majority adopts at meeting 1 in draws 0-9 and never in draws 10-19 (15 replications each): pooled, half are
    # still deadlocked at meeting 5 with a narrow Monte-Carlo band; across draws, anything from 0% to 100%
    draw = np.arange(300) // 15
    runs = censored.runs[censored.runs["rule"] == "q=1"].assign(draw=draw)
    sm = pd.DataFrame({"rule": "simple_majority", "replication": np.arange(300), "adopted": draw < 10, "abandoned": False,
                       "censored": draw >= 10, "meetings": np.where(draw < 10, 1, 30), "draw": draw})
    runs = pd.concat([sm, runs], ignore_index=True).reindex(columns=[*sm.columns, *[c for c in runs if c not in sm]])
    drawn = dataclasses.replace(censored, runs=runs, meta={**censored.meta, "uncertainty": "full", "draws": 20})
    pooled = dataclasses.replace(drawn, runs=runs.drop(columns="draw"), meta=censored.meta)
    km = kaplan_meier(sm["meetings"].to_numpy(), sm["censored"].to_numpy())
    lo, hi = survival_band(pooled, "simple_majority", km, np.array([5.0]))
    assert 0.4 < lo[0] < 0.5 < hi[0] < 0.6, (lo, hi)  # the pooled Monte-Carlo band: hides the draws' spread
    lo, hi = survival_band(drawn, "simple_majority", km, np.array([0.0, 5.0]))
    assert list(lo) == [1.0, 0.0] and list(hi) == [1.0, 1.0]
    same = survival_band(ChartData.of(drawn), "simple_majority", km, np.array([0.0, 5.0]))  # what a chart worker is sent
    assert [list(v) for v in same] == [list(lo), list(hi)]
    fig = survival_chart(drawn)
    assert any("shaded: 95% range over the draws" in t.get_text() for t in fig.texts)
    shaded = [c.get_paths()[0].vertices[:, 1] for c in fig.axes[0].collections if len(c.get_paths())]
    assert any(v.min() <= 0.0 and v.max() >= 1.0 for v in shaded)  # the band runs from 0% to 100%
    assert any("shaded: 95% confidence band" in t.get_text() for t in survival_chart(pooled).texts)
