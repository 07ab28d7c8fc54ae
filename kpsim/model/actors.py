"""The actors: participants who vote, observers who lobby.

Each agent is a mesa Agent that owns one column of the model's state arrays,
so `agent.position` and `agent.stance` hold one value per replication. The
behaviour is written once per kind as a vectorised class method that moves
every agent of that kind in every replication at once: a batch of a thousand
replications costs about as much as one.
"""

from __future__ import annotations

from typing import ClassVar

import mesa
import numpy as np
from scipy.special import ndtri

from kpsim.fields import ACTOR_KINDS


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
        give way years later. See PlenaryModel.stances_for.
        """
        x = model.positions_at(rows)
        text = model.text[rows, None]
        noise = ndtri(model.streams.uniform(rows, poll)) if model.dynamics.noise > 0 else None
        return model.stances_for(x, text, noise, model.isolation(rows))


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
        model.positions[:, :p] = model.susceptibility * (x @ model.allies_now().T) + model.held * model.prejudice


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
