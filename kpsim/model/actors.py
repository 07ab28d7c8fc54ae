"""The actors: participants who vote, observers who lobby.

Each agent is a mesa Agent that owns one column of the model's state arrays,
so `agent.position` and `agent.stance` hold one value per replication. The
behaviour is written once per kind as a vectorised class method that moves
every agent of that kind in every replication at once: a batch of a thousand
replications costs about as much as one.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import ClassVar

import numpy as np
from scipy.special import ndtri

from kpsim.fields import ACTOR_KINDS
from kpsim.model.lean_mesa import import_mesa
from kpsim.model.streams import to_uniform
from kpsim.rules import OBJECT

mesa = import_mesa()  # without its grids and networks (kpsim.model.lean_mesa)

# (replication, actor) pairs whose stances are taken at once: a block's temporaries stay in the CPU cache. Counted in
# pairs, not rows: 256 rows of 960 actors made 2 MB arrays, and every step went out to memory
CELLS = 2**14


class Actor(mesa.Agent):
    """An actor with an ideal position on the issue; `entry` is its scenario entry (kpsim.scenario.schema.ActorEntry)."""

    kind: ClassVar[str | None] = None

    def __init__(self, model, entry, column: int):
        super().__init__(model)
        self.entry = entry
        self.column = column

    @property
    def position(self) -> np.ndarray:
        return self.model.positions[:, self.column]

    @property
    def stance(self) -> np.ndarray:
        return self.model.stances[:, self.column]

    @staticmethod
    def take_stances(model, rows: np.ndarray, poll: int) -> np.ndarray:
        """Support, abstain or object, from the utility of the text against the status quo.

        Gain g = |status quo − x| − |text − x| (the text is better than the
        status quo when g > 0). The actor weighs the gain and an evaluation
        noise by its salience, d = salience·(g + noise·ε). Taking a side in
        public has a cost r (dynamics.reluctance): it supports when d > r and
        objects only when d < −(r + its own reluctance to object); otherwise
        it abstains. So an actor that does not care (low salience) abstains
        rather than deciding the matter by coin flip, and never blocks.

        Two additions, both off by default: an actor with a red line (its own
        `reservation`) objects to any text on the status-quo side of it,
        whatever its gain; and a participant's cost of objecting grows with
        its isolation and with time (dynamics.acquiescence_*), so holdouts can
        give way years later. See PlenaryModel.stances_for; every path takes
        its cut from objection_cut and its red lines from apply_red_lines.
        """
        # in blocks of rows: every step is elementwise, and a block's temporaries stay in the CPU cache
        out = np.empty((len(rows), len(model.actor_ids)), dtype=np.int8)
        block = max(1, CELLS // len(model.actor_ids))
        for a in range(0, len(rows), block):
            part = rows[a : a + block]
            x, text, isolation = model.positions_at(part), model.text[part, None], model.isolation(part)
            if model.dynamics.noise > 0:
                out[a : a + block] = noisy_stances(model, part, poll, x, text, isolation)
            else:
                out[a : a + block] = model.stances_for(x, text, None, isolation)
        return out


def objection_cut(model, isolation=None) -> np.ndarray:
    """The d below which each actor objects, −(its objection threshold), broadcast to (..., actors). Given `isolation`
    (PlenaryModel.isolation), a participant's threshold grows by a·isolation = a − a·others/(p − 1): a lone holdout gives way."""
    threshold = model.objection_threshold()
    if isolation is None:
        return -threshold
    p, a = isolation.shape[-1], model.dynamics.acquiescence_isolation
    cut = np.empty(isolation.shape[:-1] + threshold.shape)
    cut[..., p:] = -threshold[p:]
    cut[..., :p] = (a / max(p - 1, 1)) * isolation - (threshold[:p] + a)
    return cut


def apply_red_lines(model, out: np.ndarray, text) -> np.ndarray:
    """Stances `out` (..., actors), in place, with every actor whose red line the text is below objecting, whatever its gain."""
    if model.red_line is not None:
        out[..., model.red_cols] = np.where(model.below_red_line(text), np.int8(OBJECT), out[..., model.red_cols])
    return out


@cache
def _normal_bins(bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The middle and half-width of ε = ndtri(u) over each of 2^bits bins of the stream's 64 random bits (by their
    top bits): u is computed from the bits as Streams.uniform does, so every draw of a bin lies between its edges."""
    b = np.arange(2**bits, dtype=np.uint64)
    shift = np.uint64(53 - bits)
    edges = []
    for k in (b << shift, ((b + np.uint64(1)) << shift) - np.uint64(1)):  # the bin's first and last u
        edges.append(ndtri(to_uniform(k << np.uint64(11))))  # k as the stream's top 53 bits
    lo, hi = edges
    return (lo + hi) / 2, (hi - lo) / 2 + 1e-12  # (+ a hair for any non-monotone rounding in ndtri)


@lru_cache(maxsize=16)  # (a calibration tries a new noise level at every draw: 256 kB each)
def _noise_bins(bits: int, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """Per bin: η × the middle of ε, and how far η·ε may lie from it, with a margin far above any rounding of d."""
    mid, half = _normal_bins(bits)
    return eta * mid, eta * (half + 1e-9) + 1e-9


BIN_BITS = 14  # 16,384 bins: their tables stay in the CPU cache; a close call (about 2 in 10,000 pairs) is taken again exactly


@cache
def compiled():
    """The compiled kernels (kpsim.model.chances), imported and warmed up once per process: when stances are first
    taken with noise, or a setter first plans (numba costs about 0.4 s to import, and the first run after installing
    compiles the kernels, about 4 s; kpsim.run.worker has them ready in a worker server).

    Ctrl-C or SIGTERM during the warm-up takes effect when it ends: raised inside numba's compiler, the interrupt was
    swallowed by a ctypes callback (the command ran on and exited 0) or came back as a SystemError (measured, in a fresh
    clone's first run)."""
    from kpsim.model import chances

    with interrupts_deferred():
        chances.warm_up()
    return chances


@contextmanager
def interrupts_deferred():
    """SIGINT and SIGTERM recorded, not acted on, inside the block, then handed to their handlers (in the main thread;
    elsewhere signals cannot be handled, so nothing changes). A signal ignored, or handled from C (its handler None),
    is left as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            handler = signal.getsignal(sig)
            if handler is not None and handler != signal.SIG_IGN:
                signal.signal(sig, lambda signum, frame: caught.append(signum))
                previous[sig] = handler
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for sig in dict.fromkeys(caught):  # after the block, not in its `finally`: an error of the block stays the error
        handler = previous[sig]
        if callable(handler):
            handler(sig, None)
        else:  # SIG_DFL: its default action, now that it is restored
            os.kill(os.getpid(), sig)


def noisy_stances(model, rows, poll, x, text, isolation) -> np.ndarray:
    """PlenaryModel.stances_for with the noise drawn for these rows, without ndtri on every draw (its main cost).

    d = salience·(g + η·ε) is monotone in ε, and so is the stance in d: where the lowest and the highest d that ε's
    bin allows give the same stance, that is the stance. The rare other pairs, the close calls, are taken again one by
    one with the exact ε: the stances are exactly those of stances_for. (Taking their whole rows again cost a row
    of ndtri per close call: at 960 actors a fifth of all rows.) The bits, the bins' stances and red lines are one
    compiled loop (chances.bounded_stances: at 40 rows numpy's two dozen calls were mostly their overhead), the numbers of
    noisy_stances_numpy to the bit (tests/model/test_bounded_stances.py).
    """
    middle, reach = _noise_bins(BIN_BITS, model.dynamics.noise)
    cut = objection_cut(model, isolation)
    out, close, bits = compiled().bounded_stances(
        model.streams.keys[rows], model.streams.lane_keys(poll), x, text, float(model.status_quo), middle, reach,
        model.salience, float(model.dynamics.reluctance), cut.reshape(-1, cut.shape[-1]), model.red_cols, model.red_values,
        np.float64(model.direction), np.uint64(64 - BIN_BITS))
    retake_close_calls(model, out, close, bits, x, text, cut)  # (below a red line no pair is a close call: it objects anyway)
    return out


def noisy_stances_numpy(model, rows, poll, x, text, isolation) -> np.ndarray:
    """noisy_stances in numpy: the statement its compiled loop is held to, bit for bit."""
    bits = model.streams.bits(rows, poll)
    b = (bits >> np.uint64(64 - BIN_BITS)).view(np.intp)  # below 2**BIN_BITS: the same number as an index
    middle, reach = _noise_bins(BIN_BITS, model.dynamics.noise)
    g = np.abs(model.status_quo - x) - np.abs(text - x)
    g += middle[b]
    spread = reach[b]
    with np.errstate(invalid="ignore"):  # the top bin reaches ε = ∞: its lowest d is NaN (no side), a close call
        lowest = np.subtract(g, spread)
        lowest *= model.salience
        g += spread
        g *= model.salience  # the highest d
    r = model.dynamics.reluctance
    cut = objection_cut(model, isolation)
    out = (lowest > r).view(np.int8) - (lowest < cut).view(np.int8)
    close = np.flatnonzero(out != (g > r).view(np.int8) - (g < cut).view(np.int8))  # (10× faster than a 2-d nonzero)
    retake_close_calls(model, out, close, bits.ravel()[close], x, text, cut)
    return apply_red_lines(model, out, text)


def retake_close_calls(model, out, close, bits, x, text, cut) -> None:
    """The close calls (flat indices into `out`, with their bits) taken again with their exact noise, in place."""
    if close.size:
        i, j = np.divmod(close, out.shape[1])
        pair_cut = np.broadcast_to(cut, out.shape)[i, j]
        out[i, j] = exact_stances(model, x[i if x.shape[0] > 1 else 0, j], text[i, 0], ndtri(to_uniform(bits)), pair_cut, j)


def exact_stances(model, x, text, noise, cut, cols) -> np.ndarray:
    """PlenaryModel.stances_for, pair by pair: actor cols[k] at x[k] on text[k] with noise draw noise[k] and objection
    cut cut[k] (objection_cut's for that pair), before red lines. The same operations, so the same numbers."""
    gain = np.abs(model.status_quo - x) - np.abs(text - x)
    gain = gain + model.dynamics.noise * noise
    d = model.salience[cols] * gain
    return (d > model.dynamics.reluctance).view(np.int8) - (d < cut).view(np.int8)


class Participant(Actor):
    """A government (or the EU): it votes and is influenced by its allies."""

    kind = "participant"

    @staticmethod
    def influence(model) -> None:
        """Friedkin–Johnsen step among allies: x ← ΛWx + (I − Λ)x₀.

        Λ is each participant's susceptibility (1 − stubbornness); W weights
        the members of its bloc by capability. Stubborn actors keep returning
        to their initial view, so blocs converge to a known fixed point.
        """
        if not model.dynamics.influence:
            return
        p = model.n_participants
        x = model.positions[:, :p]
        model.positions[:, :p] = model.susceptibility * allied_view(model.allies_now(), x) + model.held * model.prejudice


class Observer(Actor):
    """A non-voting actor (industry, civil society, an intergovernmental body) that lobbies."""

    @staticmethod
    def lobby(model) -> None:
        """Persuade each participant toward the observers' lobbying-weighted position.

        The pull is scaled by the global lobbying parameter, the observers'
        strengths and the target's openness (1 − stubbornness), capped at 1.
        It moves both the participant's current position and its own view
        (Friedkin–Johnsen's x₀, to which the stubborn return): persuasion
        that only moved the current position was undone by the next
        influence step, so at a stubborn fit lobbying moved nobody. The own
        view moves toward a limit, s·(coded view) + (1 − s)·(lobby), with s the
        coded stubbornness: persuasion is bounded, and the lobbying parameter
        sets how fast it comes.
        """
        if model.lobby_pull is None:
            return
        p = model.n_participants
        x = model.positions[:, :p]
        gone = None if model.gone is None else model.gone[model.active, p:]
        if gone is None or not gone.any():
            target = (model.positions[:, p:] @ model.lobby_weights)[:, None]
            model.positions[:, :p] = x + model.lobby_pull * (target - x)
            _persuade(model, model.lobby_pull, target)
            return
        if model.positions.shape[0] == 1:
            if (gone == gone[0]).all():  # everyone still open has lost the same observers: one shared lobby
                gone = gone[:1]
            else:  # lobbies now differ by replication: positions do too, from here on
                model.positions = np.repeat(model.positions, len(model.gone), axis=0)
                model.prejudice = np.repeat(model.prejudice, len(model.gone), axis=0) if len(model.prejudice) == 1 else model.prejudice
                x = model.positions[:, :p]
                gone = model.gone[:, p:]
        else:
            gone = model.gone[:, p:]
        # observers that walked out lobby no more
        strength = model.lobby_strength * ~gone
        total = strength.sum(axis=1, keepdims=True)
        target = (model.positions[:, p:] * strength).sum(axis=1, keepdims=True) / np.maximum(total, 1e-300)
        pull = np.minimum(1.0, model.dynamics.lobbying * total * model.susceptibility)
        model.positions[:, :p] = x + pull * (target - x)
        _persuade(model, pull, target)


def _persuade(model, pull, target) -> None:
    """Own views move a share `pull` of the way to their persuaded limit (see Observer.lobby)."""
    limit = model.persuasion_anchor + model.openness * target
    model.prejudice = model.prejudice + pull * (limit - model.prejudice)


DENSE_INFLUENCE = 256  # up to this many participants influence is the dense product it always was (bit for bit)


@dataclass(frozen=True)
class BlocMeans:
    """The influence matrix of many participants, kept as what it is: each bloc member listens to one capability-
    weighted mean of its bloc. x ↦ W x costs O(blocs · n) per replication instead of O(n²)."""

    means: np.ndarray  # (blocs, participants): each row a bloc's capability weights, summing to 1
    bloc_of: np.ndarray  # per participant, its row of `means`, or −1 for one that listens only to itself


def allied_view(allies, x: np.ndarray) -> np.ndarray:
    """W x for every row of x: what each participant hears from its allies."""
    if isinstance(allies, BlocMeans):
        heard = (x @ allies.means.T)[:, np.maximum(allies.bloc_of, 0)]
        return np.where(allies.bloc_of >= 0, heard, x)
    return x @ allies.T


def ally_matrix(participants, members=None):
    """Row-stochastic influence: each participant listens to its bloc's members, weighted by capability.

    One pass per bloc (its rows are all alike), the same sums as one row at a time; above DENSE_INFLUENCE
    participants the matrix is kept as bloc means (BlocMeans). Read-only, and shared: every model of a
    comparison (each rule, each draw of --uncertainty) whose participants have the same capabilities and
    blocs gets the same one, built once per membership (a KP case's members change with the years)."""
    key = tuple((a.capability, a.bloc or "") for a in participants)
    return _ally_matrix(key, None if members is None else np.asarray(members[: len(key)], dtype=bool).tobytes(), DENSE_INFLUENCE)


@lru_cache(maxsize=32)  # (256 × 256 dense matrices: 0.5 MB each)
def _ally_matrix(participants: tuple[tuple[float, str], ...], members: bytes | None, dense_up_to: int):
    n = len(participants)
    cap = np.array([max(c, 1e-12) for c, _ in participants])
    blocs = np.array([b for _, b in participants], dtype=object)
    member = np.ones(n, dtype=bool) if members is None else np.frombuffer(members, dtype=bool)
    listening = (blocs != "") & member
    names = list(dict.fromkeys(blocs[listening]))
    rows = np.zeros((len(names), n))
    bloc_of = np.full(n, -1)
    for k, name in enumerate(names):
        allies = np.flatnonzero((blocs == name) & member)
        rows[k, allies] = cap[allies] / cap[allies].sum()
        bloc_of[listening & (blocs == name)] = k
    if n > dense_up_to:
        rows.flags.writeable = bloc_of.flags.writeable = False
        return BlocMeans(rows, bloc_of)
    w = rows[np.maximum(bloc_of, 0)] if names else np.zeros((n, n))
    w[bloc_of < 0] = 0.0
    w[np.flatnonzero(bloc_of < 0), np.flatnonzero(bloc_of < 0)] = 1.0
    w.flags.writeable = False
    return w


class Industry(Observer):
    kind = "industry"


class CivilSociety(Observer):
    kind = "civil_society"


class Intergovernmental(Observer):
    kind = "intergovernmental"


# one agent class per kind of kpsim.fields.ACTOR_KINDS (a contract test holds them equal); the table describes each
AGENT_CLASSES = {cls.kind: cls for cls in (Participant, Industry, CivilSociety, Intergovernmental)}
for _cls in (Industry, CivilSociety, Intergovernmental):
    _cls.__doc__ = ACTOR_KINDS[_cls.kind].description.capitalize() + "."
