"""Dynamics strategies: what happens at a meeting before the vote, and how stances are taken.

`PlenaryModel.step` runs its strategy's phases in order, lets the chair
draft (where the strategy has one), then asks it for the stances; the scenario's `dynamics.mode` names the strategy in DYNAMICS. A new
kind of dynamics is one class here and one entry in the schema's `mode`.
"""

from __future__ import annotations

from typing import Callable, ClassVar

import numpy as np

from kpsim.model.actors import Actor, Observer, Participant


class AgentDynamics:
    """Observers lobby, participants move toward their allies (Friedkin–Johnsen), the chair drafts; stances from utility."""

    title: ClassVar[str] = "agent-based model"
    lobbies: ClassVar[bool] = True
    drafts: ClassVar[bool] = True  # the chair (kpsim.model.chair) drafts the text before each poll
    # the dynamics settings this strategy reads, for sweeps and sensitivity
    parameters: ClassVar[tuple[str, ...]] = (
        "noise", "reluctance", "amendment_step", "lobbying", "stubbornness_scale", "position_noise",
        "acquiescence_isolation", "acquiescence_time",
    )
    # once per meeting, before the chair drafts and the rounds of polls
    phases: ClassVar[tuple[Callable, ...]] = (
        lambda model, rows: Observer.lobby(model),
        lambda model, rows: Participant.influence(model),
    )

    @staticmethod
    def stances(model, rows: np.ndarray, poll: int) -> np.ndarray:
        return Actor.take_stances(model, rows, poll)


class NullDynamics:
    """The coin-flip null model: each actor supports with probability p, else objects; nothing moves."""

    title: ClassVar[str] = "null model"
    lobbies: ClassVar[bool] = False
    drafts: ClassVar[bool] = False
    parameters: ClassVar[tuple[str, ...]] = ("support_probability",)
    phases: ClassVar[tuple[Callable, ...]] = ()

    @staticmethod
    def stances(model, rows: np.ndarray, poll: int) -> np.ndarray:
        yes = model.streams.bernoulli(rows, poll, model.dynamics.support_probability)
        out = yes.view(np.int8) << 1  # True -> 2, False -> 0
        out -= 1  # SUPPORT = 1, OBJECT = -1
        return out


# by the scenario's dynamics.mode
DYNAMICS = {"agents": AgentDynamics, "null": NullDynamics}
