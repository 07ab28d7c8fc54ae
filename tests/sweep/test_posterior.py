"""The ABC-SMC posterior's pieces: facts missed by one history, weighted quantiles, the posterior file and its errors."""

import numpy as np
import pandas as pd
import pytest

from kpsim.errors import InputError
from kpsim.scenario.load import load_scenario
from kpsim.scenario.prior import BOX
from kpsim.sweep.calibrate import Case
from kpsim.analysis.posterior import Posterior, read_posterior, weighted_quantile
from kpsim.sweep.posterior import misses


def test_weighted_quantile_matches_repeated_values():
    x = np.array([3.0, 1.0, 2.0])
    w = np.array([1.0, 2.0, 1.0])  # the same as the sample 1, 1, 2, 3
    assert [weighted_quantile(x, w, q) for q in (0.25, 0.5, 0.75, 1.0)] == [1.0, 1.0, 2.0, 3.0]


def _posterior(n=300, seed=0):
    rng = np.random.default_rng(seed)
    draws = pd.DataFrame({k: rng.uniform(lo + 0.3 * (hi - lo), lo + 0.5 * (hi - lo), n) for k, (lo, hi) in BOX.items()})
    return Posterior(draws.assign(weight=1.0 / n))


def test_identifiability_and_warnings():
    post = _posterior()
    ident = post.identifiability()
    assert ident["identified"].all() and (ident["width_share"] < 0.2).all()  # draws span 20% of each box
    assert post.warnings() == [] and post.ess == pytest.approx(300)
    few = Posterior(post.draws.iloc[:20].assign(weight=[0.81] + [0.01] * 19))
    text = " ".join(few.warnings())
    assert "only 20 accepted draws" in text and "effective sample size 2 < 100" in text
    lo, hi = BOX["lobbying"]
    edge = Posterior(post.draws.assign(lobbying=lo))
    assert any("lobbying: 100% of the posterior lies at the lower edge" in w for w in edge.warnings())


def test_resampling_follows_the_weights():
    post = Posterior(pd.DataFrame({k: [lo, hi] for k, (lo, hi) in BOX.items()}).assign(weight=[0.25, 0.75]))
    drawn = post.resample(1000, seed=1)
    assert (drawn["noise"] == BOX["noise"][1]).mean() == pytest.approx(0.75, abs=0.001)  # systematic: exact up to 1/n


def test_a_posterior_file_round_trips_and_bad_ones_name_file_and_line(tmp_path):
    post = _posterior(10)
    p = tmp_path / "posterior.csv"
    post.write(p)
    back = read_posterior(p)
    np.testing.assert_allclose(back.draws.to_numpy(), post.draws[[*BOX, "weight"]].to_numpy(), rtol=1e-5)
    bad = post.draws.copy()
    bad.loc[2, "weight"] = -0.1
    bad.loc[4, "noise"] = 5.0
    bad.to_csv(p, index=False)
    with pytest.raises(InputError) as err:
        read_posterior(p)
    assert err.value.messages == [f"{p}:6: noise = 5 — outside its prior [0.02, 1]", f"{p}:4: weight = -0.1 — weights must be ≥ 0"]
    post.draws.drop(columns=["lobbying"]).to_csv(p, index=False)
    with pytest.raises(InputError, match=":1: columns lobbying missing"):
        read_posterior(p)
    post.draws.assign(weight=0.0).to_csv(p, index=False)
    with pytest.raises(InputError, match="the weights sum to 0"):
        read_posterior(p)


def test_misses_counts_the_window_and_each_recorded_objection(toy_yaml, tmp_path):
    """A lone objector at 0 (salience 1) under consensus: never adopted, and it objects at every meeting."""
    base = {
        "actors": [{"id": "pro", "position": 1.0, "salience": 1.0}, {"id": "no", "position": 0.0, "salience": 1.0}],
        "rules": ["consensus"],
        "horizon": 6,
        "dynamics": {"noise": 0.0, "amendment_step": 0.0},
    }
    def case(record):
        p = tmp_path / "c.yaml"
        p.write_text(toy_yaml(**base, record=record))
        return Case(p, load_scenario(p))

    params = {k: (lo + hi) / 2 for k, (lo, hi) in BOX.items()} | {"noise": BOX["noise"][0], "amendment_step": 0.0, "lobbying": 0.0}
    never = {"rule": "consensus", "adopted": False, "meetings": 6, "source": "x"}
    assert misses(case(never), params, 0) == 0
    assert misses(case({**never, "adopted": True, "meetings": 2}), params, 0) == 1
    assert misses(case({**never, "objected": [{"meeting": 2, "actors": ["no"], "source": "x"}]}), params, 0) == 0
    assert misses(case({**never, "objected": [{"meeting": 2, "actors": ["no", "pro"], "source": "x"}]}), params, 0) == 1


def test_a_recorded_objection_is_checked_like_the_rest(toy_yaml, tmp_path):
    p = tmp_path / "c.yaml"
    rec = {"rule": "consensus", "adopted": False, "meetings": 6, "source": "x",
           "objected": [{"actors": ["a"], "source": "x"}]}
    p.write_text(toy_yaml(record=rec))
    with pytest.raises(InputError, match=r"record.objected\[0\] — give either 'meeting' or 'year'"):
        load_scenario(p)
    rec["objected"] = [{"meeting": 2, "actors": ["nobody"], "source": "x"}, {"year": 2012, "actors": ["a"], "source": "x"}]
    p.write_text(toy_yaml(record=rec))
    with pytest.raises(InputError) as err:
        load_scenario(p)
    text = "\n".join(err.value.messages)
    assert "record.objected[0].actors[0] = 'nobody' — not an actor id" in text
    assert "record.objected[1].year — an objection dated by year needs calendar.start_year" in text
