"""Sensitivity: SALib's wiring against functions with known indices, and `kpsim sensitivity` end to end."""

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kpsim.cli import main
from kpsim.errors import InputError
from kpsim.scenario.load import load_scenario
from kpsim.sweep.sensitivity import (
    morris_design,
    morris_table,
    outputs,
    problem,
    ranges_of,
    sobol_design,
    sobol_table,
)


def ishigami_truth(a=7.0, b=0.1):
    """Analytical first-order and total indices of y = sin x1 + a sin² x2 + b x3⁴ sin x1 on [-π, π]³."""
    v = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_ishigami_sobol_indices_match_the_analytical_values():
    s1, st = ishigami_truth()
    assert np.allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4) and np.allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)
    prob = problem({f"x{i}": (-math.pi, math.pi) for i in (1, 2, 3)})
    x = sobol_design(prob, 2048, seed=11)
    assert x.shape == (2048 * 5, 3)
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    table = sobol_table(prob, y, seed=11)
    # SALib's *_conf is a 95% bootstrap half-width (1.96 standard errors): allow 4 standard errors
    for col, truth in (("S1", s1), ("ST", st)):
        conf = table[f"{col}_conf"].to_numpy()
        assert (conf < 0.07).all()  # tight enough for the check to mean something
        assert (np.abs(table[col].to_numpy() - truth) <= 4 / 1.96 * conf).all(), table


def test_morris_on_a_linear_function_gives_its_slopes_exactly():
    """μ* is the mean |elementary effect| per whole range: 3 x1 on [0, 2] → 6, σ = 0; x2 has no effect."""
    prob = problem({"x1": (0.0, 2.0), "x2": (0.0, 2.0), "x3": (1.0, 5.0)})
    x = morris_design(prob, 12, seed=3)
    assert x.shape == (12 * 4, 3)
    table = morris_table(prob, x, 3 * x[:, 0] + x[:, 2] ** 2, seed=3).set_index("parameter")
    assert table.loc["x1", "mu_star"] == pytest.approx(6.0) and table.loc["x1", "sigma"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["x2", "mu_star"] == 0.0
    assert table.loc["x3", "mu_star"] > 6.0 and table.loc["x3", "sigma"] > 0  # non-linear: effects vary


def test_constant_output_has_no_indices_rather_than_noise():
    prob = problem({"x1": (0.0, 1.0), "x2": (0.0, 1.0)})
    table = sobol_table(prob, np.ones(len(sobol_design(prob, 16, seed=1))), seed=1)
    assert table[["S1", "ST"]].isna().all().all()


def test_median_not_reached_counts_as_the_horizon():
    summary = pd.DataFrame({"point": [0, 0, 1], "rule": ["a", "b", "a"], "median_meetings": [3.0, np.nan, np.nan], "adopted": [0.9, 0.2, 0.1]})
    got = outputs(summary, pd.Series([40, 25]))
    assert got["median_deadlock"].tolist() == [3.0, 40.0, 25.0] and got["adopted"].tolist() == [0.9, 0.2, 0.1]


# five coin flips under unanimity and simple majority; only the support probability moves anything
NULL = {
    "actors": 5,
    "rules": ["consensus", "simple_majority"],
    "name": "null_sa",
    "proposal": {},
    "horizon": 60,
    "dynamics": {"mode": "null"},
    "replications": 200,
    "seed": 3,
}
SWEEP = {"ranges": {"dynamics.support_probability": [0.3, 0.8], "dynamics.noise": [0.0, 0.5]}, "samples": 8}


def test_sensitivity_command_end_to_end(tmp_path, toy_yaml):
    """In the null model only support_probability moves anything: noise's indices are exactly 0."""
    p = tmp_path / "null.yaml"
    p.write_text(toy_yaml(**NULL, sweep=SWEEP))
    out = tmp_path / "sa"
    args = ["sensitivity", str(p), "--samples", "16", "--trajectories", "4", "--out", str(out), "-q", "--jobs", "1"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["rule"]) == {"consensus", "simple_majority"} and set(table["output"]) == {"median_deadlock", "adopted"}
    noise = table[table["parameter"] == "dynamics.noise"]
    assert (noise["mu_star"] == 0).all() and (noise["ST"].dropna() == 0).all()
    # the one NaN: under simple majority every point adopts within the horizon, so there is no variance to apportion
    assert noise["ST"].isna().sum() == 1
    p_row = table[(table["parameter"] == "dynamics.support_probability") & (table["output"] == "median_deadlock")]
    assert (p_row["ST"] > 0.5).all() and (p_row["mu_star"] > 0).all()
    for name in ("sobol_median_deadlock", "sobol_adopted"):
        assert (out / "charts" / f"{name}.png").stat().st_size > 10_000
    assert (out / "meta.json").is_file() and (out / "sobol" / "meta.json").is_file() and (out / "morris" / "meta.json").is_file()
    assert "Median deadlock (meetings; not reached = horizon) — consensus" in res.output
    # 16 samples: support_probability's indices are known to ± far more than 0.1, and the command says so
    assert "Sobol' indices are known only to ± more than 0.1" in res.output and "raise --samples (now 16)" in res.output
    # run again: both designs resume as complete sweeps and the table is the same
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    pd.testing.assert_frame_equal(pd.read_csv(out / "sensitivity.csv"), table)
    res = CliRunner().invoke(main, ["sensitivity", str(p), "--samples", "12", "--out", str(out)])
    assert res.exit_code == 2 and "power of two" in res.output


def test_default_box_and_its_limits(tmp_path, toy_yaml):
    p = tmp_path / "s.yaml"
    p.write_text(toy_yaml(**NULL))  # no sweep: section
    with pytest.raises(InputError, match="null model moves only dynamics.support_probability"):
        ranges_of(load_scenario(p))
    p.write_text(toy_yaml(**NULL | {"dynamics": {"mode": "agents"}}))
    assert set(ranges_of(load_scenario(p))) == {
        "dynamics.noise", "dynamics.reluctance", "dynamics.amendment_step", "dynamics.lobbying", "dynamics.stubbornness_scale",
        "dynamics.acquiescence_isolation", "dynamics.acquiescence_time",
    }  # fmt: skip


def test_small_sample_warnings_read_the_intervals():
    from kpsim.sweep.sensitivity import small_sample_warnings

    tight = pd.DataFrame({"S1": [0.6, 0.0], "S1_conf": [0.05, 0.01], "ST": [0.7, 0.0], "ST_conf": [0.05, 0.01]})
    assert small_sample_warnings(tight, 1024) == []
    noisy = pd.DataFrame({"S1": [-1.07, 0.2], "S1_conf": [0.5, 0.05], "ST": [17.0, 0.3], "ST_conf": [16.0, 0.05]})
    out = small_sample_warnings(noisy, 64)
    assert out[0].startswith("Sobol' indices outside [0, 1] beyond their 95% interval: 1 (e.g. -1.07); the sample is too small")
    assert out[1].startswith("2 of 4 Sobol' indices are known only to ± more than 0.1 (widest ± 16)")
