"""Random numbers addressed by (seed, replication, meeting, purpose, column).

Every draw is a pure function of its address, so a replication sees the same
numbers whichever batch or worker runs it and whichever rule is in force
(common random numbers: rule comparisons are paired), and a replication that
ends early never shifts anybody else's draws. The generator is SplitMix64
(Steele, Lea & Flood 2014), a counter-based mixer that passes BigCrush, read
at random positions: replication r has its own stream keyed by mix(seed, r),
and each actor its own lane in it keyed by a hash of its id, so adding or
reordering actors leaves every other actor's draws unchanged.
"""

from __future__ import annotations

import hashlib

import numpy as np

# _C1, _C2 and the shifts are compiled into kpsim.model.chances.bounded_stances (numba caches it by chances.py alone)
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)

# what a draw is for; each purpose has its own slots so draws never collide
NOISE, POSITION = 0, 1
_PURPOSES = 2


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place: z is overwritten."""
    t = np.right_shift(z, _S30)
    z ^= t
    z *= _C1
    np.right_shift(z, _S27, out=t)
    z ^= t
    z *= _C2
    np.right_shift(z, _S31, out=t)
    z ^= t
    return z


def _id_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """One stream per replication and lane per actor; `uniform` reads one draw from each."""

    def __init__(self, seed: int, replications: np.ndarray, actor_ids: list[str]):
        with np.errstate(over="ignore"):
            root = _mix(np.array([seed], dtype=np.uint64) * _GAMMA + _GAMMA)[0]
            self.keys = _mix(root + np.asarray(replications, dtype=np.uint64) * _GAMMA)
            self.lanes = _mix(np.array([_id_key(a) for a in actor_ids], dtype=np.uint64))
        self._last_lanes: tuple = (None, None)  # (meeting, purpose), their lane keys (lane_keys)

    def bits(self, rows: np.ndarray | slice, meeting: int, purpose: int = NOISE) -> np.ndarray:
        """64 random bits per (replication, actor), shape (len(rows), actors)."""
        return _mix(self.keys[rows, None] + self.lane_keys(meeting, purpose))

    def lane_keys(self, meeting: int, purpose: int = NOISE) -> np.ndarray:
        """Per actor, what bits adds to a replication's key before mixing (chances.bounded_stances mixes them itself);
        the last poll's kept, since every block of rows of a poll asks for them."""
        if self._last_lanes[0] != (meeting, purpose):
            counter = np.uint64((meeting * _PURPOSES + purpose + 1) * int(_GAMMA) % 2**64)
            lanes = _mix(self.lanes + counter)
            lanes.flags.writeable = False
            self._last_lanes = ((meeting, purpose), lanes)
        return self._last_lanes[1]

    def bernoulli(self, rows: np.ndarray | slice, meeting: int, p: float, purpose: int = NOISE) -> np.ndarray:
        """True with probability p, compared in integer space (no conversion to floats)."""
        return self.bits(rows, meeting, purpose) < np.uint64(min(p * 2.0**64, 2.0**64 - 2048))

    def uniform(self, rows: np.ndarray | slice, meeting: int, purpose: int = NOISE) -> np.ndarray:
        """Uniforms in (0, 1), shape (len(rows), actors), for the given meeting and purpose."""
        return to_uniform(self.bits(rows, meeting, purpose))


def to_uniform(bits: np.ndarray) -> np.ndarray:
    """The uniform in (0, 1) that 64 random bits stand for (their top 53): what Streams.uniform reads."""
    u = (bits >> _S11).astype(np.float64)
    u += 0.5
    u *= 2.0**-53
    return u
