"""Dynamics strategies: what happens at a meeting before the vote, and how stances are taken.

`PlenaryModel.step` runs its strategy's phases in order, then asks it for the
stances; the scenario's `dynamics.mode` names the strategy in DYNAMICS. A new
kind of dynamics is one class here and one entry in the schema's `mode`.
"""

from __future__ import annotations

from typing import Callable, ClassVar

import numpy as np

from kpsim.model.actors import Actor, Observer, Participant


def _amend_after_failure(model, rows: np.ndarray) -> None:
    """From the second meeting on, the chair amends the text that failed at the last one."""
    if model.meeting > 1:
        model.chair_amends(rows)


class AgentDynamics:
    """Observers lobby, participants move toward their allies (Friedkin–Johnsen), the chair amends; stances from utility."""

    title: ClassVar[str] = "agent-based model"
    lobbies: ClassVar[bool] = True
    # the dynamics settings this strategy reads, for sweeps and sensitivity
    parameters: ClassVar[tuple[str, ...]] = ("noise", "reluctance", "amendment_step", "lobbying", "stubbornness_scale", "position_noise")
    phases: ClassVar[tuple[Callable, ...]] = (
        lambda model, rows: Observer.lobby(model),
        lambda model, rows: Participant.influence(model),
        _amend_after_failure,
    )

    @staticmethod
    def stances(model, rows: np.ndarray, meeting: int) -> np.ndarray:
        return Actor.take_stances(model, rows, meeting)


class NullDynamics:
    """The coin-flip null model: each actor supports with probability p, else objects; nothing moves."""

    title: ClassVar[str] = "null model"
    lobbies: ClassVar[bool] = False
    parameters: ClassVar[tuple[str, ...]] = ("support_probability",)
    phases: ClassVar[tuple[Callable, ...]] = ()

    @staticmethod
    def stances(model, rows: np.ndarray, meeting: int) -> np.ndarray:
        yes = model.streams.bernoulli(rows, meeting, model.dynamics.support_probability)
        out = yes.view(np.int8) << 1  # True -> 2, False -> 0
        out -= 1  # SUPPORT = 1, OBJECT = -1
        return out


# by the scenario's dynamics.mode
DYNAMICS = {"agents": AgentDynamics, "null": NullDynamics}
