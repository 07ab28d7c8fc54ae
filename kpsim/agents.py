"""The actors: participants who vote, observers who lobby.

Each agent is a mesa Agent that owns one column of the model's state arrays,
so `agent.position` and `agent.stance` hold one value per replication. The
behaviour is written once per kind as a vectorised class method that moves
every agent of that kind in every replication at once: a batch of a thousand
replications costs about as much as one.
"""

from __future__ import annotations

import mesa
import numpy as np
from scipy.special import ndtri



class Actor(mesa.Agent):
    """An actor with an ideal position on the issue; the spec is its scenario entry."""

    def __init__(self, model, spec, column: int):
        super().__init__(model)
        self.spec = spec
        self.column = column

    @property
    def position(self) -> np.ndarray:
        return self.model.positions[:, self.column]

    @property
    def stance(self) -> np.ndarray:
        return self.model.stances[:, self.column]

    @staticmethod
    def take_stances(model, rows: np.ndarray, meeting: int) -> np.ndarray:
        """Support, abstain or object, from the utility of the text against the status quo.

        Gain g = |status quo − x| − |text − x| (the text is better than the
        status quo when g > 0). The actor weighs the gain and an evaluation
        noise by its salience, d = salience·(g + noise·ε). Taking a side in
        public has a cost r (dynamics.reluctance): it supports when d > r and
        objects only when d < −(r + its own reluctance to object); otherwise
        it abstains. So an actor that does not care (low salience) abstains
        rather than deciding the matter by coin flip, and never blocks.
        """
        if model.dynamics.mode == "null":
            yes = model.streams.bernoulli(rows, meeting, model.dynamics.support_probability)
            out = yes.view(np.int8) << 1  # True -> 2, False -> 0
            out -= 1  # SUPPORT = 1, OBJECT = -1
            return out
        x = model.positions_at(rows)
        text = model.text[rows, None]
        gain = np.abs(model.status_quo - x) - np.abs(text - x)
        if model.dynamics.noise > 0:
            gain += model.dynamics.noise * ndtri(model.streams.uniform(rows, meeting))
        d = model.salience * gain
        # SUPPORT = 1 where d > r, OBJECT = -1 where d < −(r + own reluctance), else ABSTAIN = 0
        return (d > model.dynamics.reluctance).view(np.int8) - (d < -model.reluctance).view(np.int8)


class Participant(Actor):
    """A government (or the EU): it votes and is influenced by its allies."""

    @staticmethod
    def influence(model) -> None:
        """Friedkin–Johnsen step among allies: x ← ΛWx + (I − Λ)x₀.

        Λ is each participant's susceptibility (1 − stubbornness); W weights
        the members of its bloc by capability. Stubborn actors keep returning
        to their initial view, so blocs converge to a known fixed point.
        """
        p = model.n_participants
        x = model.positions[:, :p]
        model.positions[:, :p] = model.susceptibility * (x @ model.influence_matrix.T) + model.anchor


class Observer(Actor):
    """A non-voting actor (industry, civil society, an intergovernmental body) that lobbies."""

    @staticmethod
    def lobby(model) -> None:
        """Pull each participant toward the observers' lobbying-weighted position.

        The pull is scaled by the global lobbying parameter, the observers'
        strengths and the target's openness (1 − stubbornness), capped at 1.
        """
        if model.lobby_pull is None:
            return
        p = model.n_participants
        x = model.positions[:, :p]
        target = model.positions[:, p:] @ model.lobby_weights
        model.positions[:, :p] = x + model.lobby_pull * (target[:, None] - x)


class Industry(Observer):
    """The diamond industry's representative body (e.g. the World Diamond Council)."""


class CivilSociety(Observer):
    """A civil-society coalition."""


class Intergovernmental(Observer):
    """An intergovernmental observer (e.g. a producers' association)."""


AGENT_CLASSES = {
    "participant": Participant,
    "industry": Industry,
    "civil_society": CivilSociety,
    "intergovernmental": Intergovernmental,
}
