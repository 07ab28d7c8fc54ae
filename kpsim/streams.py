"""Random numbers addressed by (seed, replication, meeting, purpose, column).

Every draw is a pure function of its address, so a replication sees the same
numbers whichever batch or worker runs it and whichever rule is in force
(common random numbers: rule comparisons are paired), and a replication that
ends early never shifts anybody else's draws. The generator is SplitMix64
(Steele, Lea & Flood 2014), a counter-based mixer that passes BigCrush, read
at random positions: replication r has its own stream keyed by mix(seed, r).
"""

from __future__ import annotations

import numpy as np

_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)

# what a draw is for; each purpose has its own slots so draws never collide
NOISE, POSITION = 0, 1
_PURPOSES = 2


def _mix(z: np.ndarray) -> np.ndarray:
    z = z ^ (z >> _S30)
    z *= _C1
    z ^= z >> _S27
    z *= _C2
    z ^= z >> _S31
    return z


class Streams:
    """One stream per replication; `uniform` reads a row of 32-bit uniforms from each."""

    def __init__(self, seed: int, replications: np.ndarray, width: int):
        with np.errstate(over="ignore"):
            root = _mix(np.array([seed], dtype=np.uint64) * _GAMMA + _GAMMA)
            self.keys = _mix(root + np.asarray(replications, dtype=np.uint64) * _GAMMA)
        self.width = width
        self._half = (width + 1) // 2  # each 64-bit output gives two 32-bit uniforms

    def uniform(self, rows: np.ndarray | slice, meeting: int, purpose: int = NOISE) -> np.ndarray:
        """Uniforms in (0, 1), shape (len(rows), width), for the given meeting and purpose."""
        start = (meeting * _PURPOSES + purpose) * self._half + 1
        counters = np.arange(start, start + self._half, dtype=np.uint64) * _GAMMA
        z = _mix(self.keys[rows, None] + counters)
        u = z.view(np.uint32)[:, : self.width].astype(np.float64)
        u += 0.5
        u *= 2.0**-32
        return u
