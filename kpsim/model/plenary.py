"""PlenaryModel: one step is one meeting, for a batch of replications in lockstep.

The design, said openly: this is a mesa model whose state lives in numpy
arrays with one row per replication and one column per actor. Each agent
(kpsim.model.actors) owns one column, so `agent.position` is one value per
replication; behaviour is written once per kind of actor as a vectorised
class method that moves every agent of that kind in every replication at
once. A batch of a thousand replications costs about as much as one, which
is why kpsim runs about 20× faster than a mesa model that steps agent by
agent and replication by replication. With `replications=1` the same code is
a single plenary process to inspect or watch.

What happens at a meeting is the dynamics strategy's (kpsim.model.dynamics,
chosen by the scenario's `dynamics.mode`): its phases run in order, then it
gives the stances, and the rule decides. Finished replications drop out of
the active set, so the tail of a long deadlock costs only the replications
still deadlocked.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np
from scipy.special import ndtri

from kpsim.fields import PARTICIPANT
from kpsim.model.actors import AGENT_CLASSES
from kpsim.model.dynamics import DYNAMICS
from kpsim.model.streams import POSITION, Streams
from kpsim.rules import ABSTAIN, OBJECT, Electorate
from kpsim.scenario.schema import Scenario


@dataclass(frozen=True)
class Meeting:
    """What one meeting did, for the replications that were still open."""

    number: int
    replications: np.ndarray  # indices within the batch
    text: np.ndarray
    stances: np.ndarray  # (replications, actors), SUPPORT / ABSTAIN / OBJECT
    adopted: np.ndarray


class PlenaryModel(mesa.Model):
    """A proposal negotiated meeting after meeting until adopted, abandoned or out of time."""

    def __init__(self, scenario: Scenario, rule: str | None = None, replications=1, record: bool | None = None):
        """`replications` is a count or the global replication indices to run (they key the random streams)."""
        super().__init__(rng=scenario.seed)
        reps = np.arange(replications) if np.isscalar(replications) else np.asarray(replications)
        self.spec = scenario  # not `scenario`: that is mesa's own Model.scenario
        self.rule = scenario.rule(rule) if rule else scenario.rules[0]
        self.dynamics = scenario.dynamics  # the settings
        self.strategy = DYNAMICS[scenario.dynamics.mode]  # what they drive: phases and stances
        self.replication_ids = reps
        self.record = len(reps) <= 10 if record is None else record
        self.history: list[Meeting] = []

        entries = sorted(scenario.actors, key=lambda a: a.kind != PARTICIPANT)  # participants first
        for column, entry in enumerate(entries):
            AGENT_CLASSES[entry.kind](self, entry, column)
        self.actors = sorted(self.agents, key=lambda a: a.column)
        self.actor_ids = [a.entry.id for a in self.actors]
        self.n_participants = p = sum(1 for e in entries if e.kind == PARTICIPANT)
        self.electorate = Electorate(
            n_participants=p,
            kinds=tuple(e.kind for e in entries),
            weights={
                name: np.array([e.weights.get(name, 0.0) for e in entries[:p]])
                for name in {w for e in entries for w in e.weights}
            },
        )
        self.streams = Streams(scenario.seed, reps, [e.id for e in entries])
        self._set_parameters(entries)

        n = len(reps)
        prop = scenario.proposal
        self.status_quo = prop.status_quo
        self.text = np.full(n, prop.position)
        self.text_bounds = (min(prop.floor, prop.position), max(prop.floor, prop.position))
        self.stances = np.zeros((n, len(entries)), dtype=np.int8)
        self.failures = np.zeros(n, dtype=np.int64)
        self.meetings = np.zeros(n, dtype=np.int64)
        self.adopted = np.zeros(n, dtype=bool)
        self.abandoned = np.zeros(n, dtype=bool)
        self.active = np.arange(n)
        self.meeting = 0
        # per-actor tallies over every failed decision, for the blockers table
        self.objections = np.zeros(len(entries), dtype=np.int64)
        self.pivotal = np.zeros(len(entries), dtype=np.int64)
        self.failed_decisions = 0

    def _set_parameters(self, entries) -> None:
        dyn = self.dynamics
        p = self.n_participants
        x0 = np.array([e.position for e in entries])
        if dyn.position_noise > 0:
            # per-replication jitter of initial positions: how unsure the coding of positions is
            jitter = ndtri(self.streams.uniform(np.arange(len(self.replication_ids)), 0, POSITION))
            x0 = np.clip(x0 + dyn.position_noise * jitter, 0.0, 1.0)
        else:
            x0 = x0[None, :]
        self.positions = x0.copy()
        self.salience = np.array([e.salience for e in entries])
        self.reluctance = dyn.reluctance + np.array([e.reluctance for e in entries])

        stub = np.clip(dyn.stubbornness_scale * np.array([e.stubbornness for e in entries[:p]]), 0.0, 1.0)
        self.susceptibility = 1.0 - stub
        self.influence_matrix = _ally_matrix(entries[:p])
        self.anchor = stub * x0[:, :p]

        strength = np.array([e.lobbying for e in entries[p:]])
        if self.strategy.lobbies and dyn.lobbying > 0 and strength.sum() > 0:
            self.lobby_weights = strength / strength.sum()
            self.lobby_pull = np.minimum(1.0, dyn.lobbying * strength.sum() * (1.0 - stub))
        else:
            self.lobby_weights = self.lobby_pull = None

    # ---------------------------------------------------------------- a meeting

    def step(self) -> None:
        rows = self.active
        if rows.size == 0 or self.meeting >= self.spec.calendar.horizon:
            self.running = False
            return
        self.meeting += 1
        for phase in self.strategy.phases:
            phase(self, rows)
        stances = self.strategy.stances(self, rows, self.meeting)
        passed = self.rule.passes(stances, self.electorate)
        self.stances[rows] = stances
        self.meetings[rows] = self.meeting
        self._tally_blockers(stances[~passed])
        if self.record:
            self.history.append(Meeting(self.meeting, rows, self.text[rows].copy(), stances, passed))

        self.adopted[rows[passed]] = True
        failed = rows[~passed]
        self.failures[failed] += 1
        limit = self.spec.proposal.abandon_after
        if limit is not None:
            self.abandoned[failed[self.failures[failed] >= limit]] = True
        self.active = rows[~(self.adopted[rows] | self.abandoned[rows])]
        if self.active.size == 0 or self.meeting >= self.spec.calendar.horizon:
            self.running = False

    def positions_at(self, rows: np.ndarray) -> np.ndarray:
        """Positions of these replications; one shared row when positions do not vary by replication."""
        return self.positions[rows] if self.positions.shape[0] > 1 else self.positions

    def chair_amends(self, rows: np.ndarray) -> None:
        """After a failed meeting the chair moves the text toward those who did not support it.

        The target is the salience-weighted mean position of the objectors
        (of the abstainers when nobody objected); the text moves a fraction
        `amendment_step` of the way, never past the reservation point.
        """
        p = self.n_participants  # the chair answers participants' objections, not observers'
        last = self.stances[rows, :p]
        x = self.positions_at(rows)[:, :p]
        sal = self.salience[:p]
        w = np.where(last == OBJECT, sal, 0.0)
        none = w.sum(axis=1) == 0
        if none.any():
            w[none] = np.where(last[none] == ABSTAIN, sal, 0.0)
        total = w.sum(axis=1)
        moving = total > 0
        target = (w * x).sum(axis=1)[moving] / total[moving]
        r = rows[moving]
        step = self.dynamics.amendment_step
        self.text[r] = np.clip(self.text[r] + step * (target - self.text[r]), *self.text_bounds)

    def _tally_blockers(self, failed: np.ndarray) -> None:
        """Who objected at each failed decision, and whose objection alone sank the text."""
        if failed.size == 0:
            return
        self.failed_decisions += len(failed)
        objecting = failed == OBJECT
        self.objections += objecting.sum(axis=0)
        if self.rule.anonymous:
            # only counts matter: withdrawing any one participant's objection is the same trial
            p = self.n_participants
            rows = np.flatnonzero(objecting[:, :p].any(axis=1))
            trial = failed[rows]
            trial[np.arange(len(rows)), objecting[rows, :p].argmax(axis=1)] = ABSTAIN
            passes = rows[self.rule.passes(trial, self.electorate)]
            self.pivotal[:p] += objecting[passes, :p].sum(axis=0)
            return
        # an objector can be pivotal only where withdrawing every objection would pass the text
        relaxed = np.where(objecting, ABSTAIN, failed).astype(np.int8)
        rows, cols = np.nonzero(objecting & self.rule.passes(relaxed, self.electorate)[:, None])
        if rows.size == 0:
            return
        trial = failed[rows]
        trial[np.arange(len(rows)), cols] = ABSTAIN
        passes = self.rule.passes(trial, self.electorate)
        self.pivotal += np.bincount(cols[passes], minlength=failed.shape[1])

    # ---------------------------------------------------------------- outcomes

    @property
    def censored(self) -> np.ndarray:
        return ~self.adopted

    @property
    def surviving_share(self) -> np.ndarray:
        """How much of the proposed change the final text keeps (1 = all of it)."""
        prop = self.spec.proposal
        return (self.text - prop.status_quo) / (prop.position - prop.status_quo)

    def run(self) -> "PlenaryModel":
        """Run every replication to adoption, abandonment or the horizon."""
        while self.running:
            self.step()
        return self


def _ally_matrix(participants) -> np.ndarray:
    """Row-stochastic influence: each participant listens to its bloc, weighted by capability."""
    n = len(participants)
    w = np.zeros((n, n))
    cap = np.array([max(a.capability, 1e-12) for a in participants])
    for i, a in enumerate(participants):
        if a.bloc is None:
            w[i, i] = 1.0
            continue
        allies = [j for j, b in enumerate(participants) if b.bloc == a.bloc]
        w[i, allies] = cap[allies] / cap[allies].sum()
    return w
