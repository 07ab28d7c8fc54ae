"""noisy_stances' compiled loop (kpsim.model.chances.bounded_stances) gives the stances of the numpy statement it
replaces (actors.noisy_stances_numpy), bit for bit.

Random positions (shared by all rows, or one row each), texts (some right on a red line), saliences (some 0),
objection thresholds, red lines, isolation cuts per row and noise, with fixed seeds, and the model's own random
streams (the loop mixes their bits itself). Coarse bins (16) put a sixteenth of the draws in the top bin (ε reaching
∞: NaN bounds) and many close calls on the exact path.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from kpsim.model import actors
from kpsim.model.plenary import PlenaryModel
from kpsim.model.streams import Streams


class Drawn:
    """What noisy_stances reads of a PlenaryModel, drawn at random (seeded)."""

    below_red_line = PlenaryModel.below_red_line

    def __init__(self, seed: int):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(1, 40))
        self.n_participants = int(rng.integers(0, n + 1))
        self.status_quo = float(rng.choice([0.0, 1.0, rng.random()]))
        self.direction = np.float64(rng.choice([-1.0, 1.0]))
        self.salience = np.where(rng.random(n) < 0.2, 0.0, rng.random(n) * 2)
        self.dynamics = SimpleNamespace(noise=float(rng.choice([0.05, 0.3, 2.0])),
                                        reluctance=float(rng.choice([0.0, 0.1 * rng.random()])),
                                        acquiescence_isolation=float(rng.choice([0.0, 0.3])))
        self.threshold = self.dynamics.reluctance + 0.2 * rng.random(n)
        red = np.where(rng.random(n) < 0.3, rng.random(n), np.nan)
        self.red_line = red if np.isfinite(red).any() else None
        self.red_cols = np.flatnonzero(np.isfinite(red))
        self.red_values = red[self.red_cols]
        self.streams = Streams(seed, np.arange(5000) * 3 + 11, [f"actor{j}" for j in range(n)])
        self.rng, self.n = rng, n

    def objection_threshold(self):
        return self.threshold

    def inputs(self, rows: int, shared: bool, isolated: bool):
        rng, p = self.rng, self.n_participants
        x = rng.choice([0.0, 1.0, self.status_quo, 0.5], size=(1 if shared else rows, self.n))
        x = np.where(rng.random(x.shape) < 0.5, rng.random(x.shape), x)
        text = np.where(rng.random((rows, 1)) < 0.2, self.status_quo, rng.random((rows, 1)))
        if len(self.red_values):  # texts right on a red line (not below it)
            text = np.where(rng.random((rows, 1)) < 0.2, rng.choice(self.red_values, size=(rows, 1)), text)
        isolation = rng.integers(0, max(p, 1), size=(rows, p)) if isolated and self.dynamics.acquiescence_isolation else None
        return rng.choice(5000, size=rows, replace=False), x, text, isolation


@pytest.mark.parametrize("bins", [4, 14])
@pytest.mark.parametrize("seed", range(12))
def test_the_compiled_stances_are_numpys_to_the_bit(seed, bins, monkeypatch):
    monkeypatch.setattr(actors, "BIN_BITS", bins)
    m = Drawn(seed)
    sided = 0
    for rows in (1, 3, 40, 700):
        for shared in (True, False):
            for isolated in (False, True):
                state = m.rng.bit_generator.state
                rows_, x, text, isolation = m.inputs(rows, shared, isolated)
                want = actors.noisy_stances_numpy(m, rows_, 5, x, text, isolation)
                m.rng.bit_generator.state = state  # the same draws again
                rows_, x, text, isolation = m.inputs(rows, shared, isolated)
                got = actors.noisy_stances(m, rows_, 5, x, text, isolation)
                assert got.dtype == want.dtype == np.int8 and got.shape == want.shape
                assert got.tobytes() == want.tobytes()
                sided += (want != 0).sum()
    assert sided > 0


def test_the_draws_reach_the_cases_the_loop_must_keep(monkeypatch):
    """The seeds above see NaN bounds (top bin), salience 0, red lines below and above the text, and isolation cuts."""
    monkeypatch.setattr(actors, "BIN_BITS", 4)
    m = Drawn(3)
    assert m.red_line is not None and (m.salience == 0).any() and m.dynamics.acquiescence_isolation
    rows, _, text, isolation = m.inputs(700, False, True)
    assert isolation is not None
    below = m.below_red_line(text)
    assert below.any() and not below.all() and (text == m.red_values).any()
    b = m.streams.bits(rows, 5) >> np.uint64(64 - actors.BIN_BITS)
    _, reach = actors._noise_bins(actors.BIN_BITS, m.dynamics.noise)
    assert np.isinf(reach[b]).any()


@pytest.mark.parametrize("rows", [1, 40, 5000])
def test_the_compiled_bits_are_the_streams(rows, monkeypatch):
    """The loop's bits of the close calls are Streams.bits' (with two bins and wide noise most pairs are close calls)."""
    monkeypatch.setattr(actors, "BIN_BITS", 1)
    m = Drawn(5)
    m.salience, m.dynamics.noise = np.ones(m.n), 2.0
    m.red_line, m.red_cols, m.red_values = None, np.zeros(0, np.intp), np.zeros(0)
    rows_, x, text, _ = m.inputs(rows, False, False)
    middle, reach = actors._noise_bins(actors.BIN_BITS, m.dynamics.noise)
    cut = actors.objection_cut(m).reshape(1, -1)
    _, close, bits = actors.compiled().bounded_stances(
        m.streams.keys[rows_], m.streams.lane_keys(9), x, text, m.status_quo, middle, reach, m.salience,
        m.dynamics.reluctance, cut, m.red_cols, m.red_values, m.direction, np.uint64(64 - actors.BIN_BITS))
    assert close.size > rows * m.n / 2 and bits.tobytes() == m.streams.bits(rows_, 9).ravel()[close].tobytes()
