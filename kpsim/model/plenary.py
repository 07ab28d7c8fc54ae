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
from fractions import Fraction
from functools import cache

import numpy as np
from scipy.special import ndtri
from threadpoolctl import ThreadpoolController

from kpsim.fields import PARTICIPANT
from kpsim.model.actors import AGENT_CLASSES, ally_matrix, apply_red_lines, objection_cut
from kpsim.model.chair import CHAIRS
from kpsim.model.dynamics import DYNAMICS
from kpsim.model.lean_mesa import import_mesa
from kpsim.model.streams import POSITION, Streams
from kpsim.rules import (
    ABSTAIN,
    OBJECT,
    SUPPORT,
    Chambers,
    DoubleMajority,
    Electorate,
    WeightedMajority,
    meets,
    tally,
)
from kpsim.scenario.events import schedule
from kpsim.scenario.paths import resolve_path, with_values
from kpsim.scenario.schema import Scenario

mesa = import_mesa()  # without its grids and networks (kpsim.model.lean_mesa)


@dataclass(frozen=True)
class Meeting:
    """What one poll of a meeting did, for the replications that were still open."""

    number: int
    replications: np.ndarray  # indices within the batch
    text: np.ndarray
    stances: np.ndarray  # (replications, actors), SUPPORT / ABSTAIN / OBJECT
    adopted: np.ndarray
    round: int = 1  # the draft within the meeting (calendar.rounds_per_meeting)


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
        self.kinds = tuple(e.kind for e in entries)
        self.weights = {
            name: np.array([e.weights.get(name, 0.0) for e in entries[:p]]) for name in {w for e in entries for w in e.weights}
        }
        self.electorate = Electorate(n_participants=p, kinds=self.kinds, weights=self.weights)
        self._electorates: dict[bytes, Electorate] = {}  # by membership
        self._allies: dict[bytes, np.ndarray] = {}  # by membership; cleared when an event sets values (actors.ally_matrix shares them between models)
        self.revision = 0  # how many set events have changed the parameters (the setter chair re-plans on a change)
        self.streams = Streams(scenario.seed, reps, [e.id for e in entries])

        n = len(reps)
        self.stances = np.zeros((n, len(entries)), dtype=np.int8)
        self.failures = np.zeros(n, dtype=np.int64)
        self.meetings = np.zeros(n, dtype=np.int64)
        self.adopted = np.zeros(n, dtype=bool)
        self.abandoned = np.zeros(n, dtype=bool)
        self.withdrawn = np.zeros(n, dtype=bool)
        self.active = np.arange(n)
        self.meeting = 0
        self.polls = 0  # polls held so far (rounds of every meeting)
        self.members = None  # this meeting's members (None: everybody), set at each step
        self._set_parameters(entries, scenario)
        self.text = np.full(n, scenario.proposal.position)
        # observers with patience walk out; gone[r, j]: actor j has left in replication r
        self.patience = np.array([np.nan if e.patience is None else e.patience for e in entries])
        self.gone = np.zeros((n, len(entries)), dtype=bool) if np.isfinite(self.patience).any() else None
        self.exit_meeting = np.zeros((n, len(entries)), dtype=np.int64) if self.gone is not None else None
        joined = np.array([np.nan if e.joined is None else e.joined for e in entries])
        left = np.array([np.nan if e.left is None else e.left for e in entries])
        self.membership = (joined, left) if np.isfinite(joined).any() or np.isfinite(left).any() else None
        self.events = schedule(scenario)
        self.chair = CHAIRS[scenario.chair.strategy if scenario.chair else "toward_objectors"](self)
        # per-actor tallies over every failed decision, for the blockers table
        self.objections = np.zeros(len(entries), dtype=np.int64)
        self.pivotal = np.zeros(len(entries), dtype=np.int64)
        self.failed_decisions = 0

    def _set_parameters(self, entries, scenario: Scenario, keep_positions: bool = False) -> None:
        """Every array the dynamics read, from the scenario's values (again after an event changes them)."""
        dyn = self.dynamics = scenario.dynamics
        p = self.n_participants
        prop = scenario.proposal
        self.text_bounds = (min(prop.floor, prop.position), max(prop.floor, prop.position))
        self.status_quo = prop.status_quo
        self.direction = np.sign(prop.position - prop.status_quo)
        x0 = np.array([e.position for e in entries])
        if dyn.position_noise > 0:
            # per-replication jitter of initial positions: how unsure the coding of positions is
            jitter = ndtri(self.streams.uniform(np.arange(len(self.replication_ids)), 0, POSITION))
            x0 = np.clip(x0 + dyn.position_noise * jitter, 0.0, 1.0)
        else:
            x0 = x0[None, :]
        if not keep_positions:
            self.positions = x0.copy()
            self.prejudice = x0[:, :p].copy()  # each participant's own view (Friedkin–Johnsen's x₀); lobbying persuades it
        self.salience = np.array([e.salience for e in entries])
        self.reluctance = dyn.reluctance + np.array([e.reluctance for e in entries])
        red = np.array([np.nan if e.reservation is None else e.reservation for e in entries])
        self.red_line = red if np.isfinite(red).any() else None
        self.red_cols = np.flatnonzero(np.isfinite(red))  # the actors with a red line, and their lines
        self.red_values = red[self.red_cols]

        stub = held_view(np.array([e.stubbornness for e in entries[:p]]), dyn.stubbornness_scale)
        self.susceptibility = 1.0 - stub
        self.held = stub
        # lobbying's limit is s·(coded view) + (1 − s)·lobby (Observer.lobby): its fixed part, once per parameter set
        coded = np.array([e.stubbornness for e in entries[:p]])
        self.persuasion_anchor, self.openness = coded * x0[:, :p], 1.0 - coded
        self.influence_matrix = ally_matrix(entries[:p])

        strength = np.array([e.lobbying for e in entries[p:]])
        self.lobby_strength = strength
        if self.strategy.lobbies and dyn.lobbying > 0 and strength.sum() > 0:
            self.lobby_weights = strength / strength.sum()
            self.lobby_pull = np.minimum(1.0, dyn.lobbying * strength.sum() * (1.0 - stub))
        else:
            self.lobby_weights = self.lobby_pull = None
        self._threshold = self._objection_threshold()

    # ---------------------------------------------------------------- a meeting

    def step(self) -> None:
        rows = self.active
        if rows.size == 0 or self.meeting >= self.spec.calendar.horizon:
            self.running = False
            return
        self.meeting += 1
        if self.meeting in self.events:
            self._apply_events(self.events[self.meeting], rows)
            rows = self.active
            if rows.size == 0:
                self.running = False
                return
        self.members = members = self.members_now()
        self._threshold = self._objection_threshold()
        for phase in self.strategy.phases:
            phase(self, rows)
        rounds = self.spec.calendar.rounds_per_meeting
        open_rows = rows
        for round_ in range(rounds):
            if self.strategy.drafts:
                self.chair.draft(self, open_rows, round_)
            poll = (self.meeting - 1) * rounds + round_ + 1  # with one round, the meeting
            stances = self.strategy.stances(self, open_rows, poll)
            if self.gone is not None:
                stances[self.gone[open_rows]] = ABSTAIN  # who walked out takes no side
            if members is not None:
                stances[:, ~members] = ABSTAIN  # nor does a non-member
            passed = self.decide(stances, members)
            self.polls += 1
            self.stances[open_rows] = stances
            self.meetings[open_rows] = self.meeting
            self._tally_blockers(stances[~passed], members)
            if self.record:
                self.history.append(Meeting(self.meeting, open_rows, self.text[open_rows].copy(), stances, passed, round_ + 1))
            self.adopted[open_rows[passed]] = True
            open_rows = open_rows[~passed]
            if open_rows.size == 0:
                break

        failed = open_rows
        self.failures[failed] += 1
        limit = self.spec.proposal.abandon_after
        if limit is not None:
            self.abandoned[failed[self.failures[failed] >= limit]] = True
        if self.gone is not None:
            self._walk_out(failed)
        self.active = rows[~(self.adopted[rows] | self.abandoned[rows])]
        if self.active.size == 0 or self.meeting >= self.spec.calendar.horizon:
            self.running = False

    def positions_at(self, rows: np.ndarray) -> np.ndarray:
        """Positions of these replications; one shared row when positions do not vary by replication."""
        return self.positions[rows] if self.positions.shape[0] > 1 else self.positions

    def stances_for(self, x, text, noise=None, isolation=None) -> np.ndarray:
        """Support (1), abstain (0) or object (−1) of actors at positions x on a text, with noise draws ε (None: noise 0).

        Shapes broadcast to (..., actors); `isolation` is the others objecting, (..., participants), from
        PlenaryModel.isolation. See Actor.take_stances for the rule.
        """
        gain = np.abs(self.status_quo - x) - np.abs(text - x)
        if noise is not None:
            gain = gain + self.dynamics.noise * noise
        d = self.salience * gain
        out = (d > self.dynamics.reluctance).view(np.int8) - (d < objection_cut(self, isolation)).view(np.int8)
        return apply_red_lines(self, out, text)

    def below_red_line(self, text) -> np.ndarray:
        """Per actor with a red line (columns red_cols): is the text on the status-quo side of it? Then it objects, whatever its gain."""
        return self.direction * (text - self.red_values) < 0

    def objection_threshold(self) -> np.ndarray:
        """How bad a text must be before an actor objects: its reluctance, plus the pressure of time on participants (per meeting)."""
        return self._threshold

    def _objection_threshold(self) -> np.ndarray:
        dyn = self.dynamics
        if not dyn.acquiescence_time:
            return self.reluctance
        extra = np.zeros(len(self.reluctance))
        extra[: self.n_participants] = dyn.acquiescence_time * (self.meeting - 1) / self.spec.calendar.meetings_per_year
        return self.reluctance + extra

    def isolation(self, rows: np.ndarray):
        """Per replication and participant, how many other participants objected at the last poll (its isolation is
        1 − that / (participants − 1)); None before the first poll, or without acquiescence to isolation."""
        if not self.dynamics.acquiescence_isolation or self.polls == 0:
            return None
        objecting = self.stances[rows, : self.n_participants] == OBJECT
        return objecting.sum(axis=1, keepdims=True) - objecting

    def members_now(self) -> np.ndarray | None:
        """Who is a member at this meeting (by calendar year), or None when everybody is."""
        if self.membership is None:
            return None
        year = self.spec.calendar.year(max(self.meeting, 1))
        joined, left = self.membership
        members = ~((joined > year) | (left <= year))  # NaN compares False: no limit
        return None if members.all() else members

    def allies_now(self) -> np.ndarray:
        """The influence matrix among this meeting's members: a participant that has not joined (or has left) pulls nobody."""
        if self.members is None:
            return self.influence_matrix
        key = self.members.tobytes()
        if key not in self._allies:
            self._allies[key] = ally_matrix([a.entry for a in self.actors[: self.n_participants]], self.members)
        return self._allies[key]

    def decide(self, stances: np.ndarray, members: np.ndarray | None = None) -> np.ndarray:
        """The rule on these stance profiles; only members' stances count, and only members make up the electorate."""
        if members is None:
            return self.rule.passes(stances, self.electorate)
        return self.rule.passes(stances[:, members], self._electorate_of(members))

    def _electorate_of(self, members: np.ndarray) -> Electorate:
        key = members.tobytes()
        if key not in self._electorates:
            p = self.n_participants
            self._electorates[key] = Electorate(
                n_participants=int(members[:p].sum()),
                kinds=tuple(k for k, m in zip(self.kinds, members) if m),
                weights={name: w[members[:p]] for name, w in self.weights.items()},
            )
        return self._electorates[key]

    def _walk_out(self, failed: np.ndarray) -> None:
        """Observers whose patience is spent by these failed meetings leave, for good."""
        leaving = (self.failures[failed, None] >= self.patience[None, :]) & ~self.gone[failed]
        if leaving.any():
            self.gone[failed] |= leaving
            self.exit_meeting[failed] = np.where(leaving, self.meeting, self.exit_meeting[failed])

    def _apply_events(self, events, rows: np.ndarray) -> None:
        """What happens to the process at this meeting, before anyone speaks: a new rule, new values, a withdrawal."""
        for event in events:
            if event.withdraw:
                self.abandoned[rows] = self.withdrawn[rows] = True
                self.active = rows[:0]
                return
            if event.rule is not None:
                self.rule = event.rule
                continue
            paths = list(event.set)
            keys = [resolve_path(self.spec, path)[0] for path in paths]
            # rebuilt without its events, which were checked when the scenario was loaded
            base = self.spec.model_copy(update={"events": []})
            self.spec = with_values(base, keys, tuple(event.set[path] for path in paths)).model_copy(update={"events": self.spec.events})
            entries = sorted(self.spec.actors, key=lambda a: a.kind != PARTICIPANT)
            moved = [self.actor_ids.index(self.spec.actors[k[1]].id) for k in keys if k[0] == "actors" and k[-1] == "position"]
            self._set_parameters(entries, self.spec, keep_positions=True)
            self._allies.clear()  # blocs or capabilities may have changed
            self.revision += 1
            for j in moved:
                self.positions[:, j] = entries[j].position
                if j < self.n_participants:
                    self.prejudice[:, j] = entries[j].position
            for agent, entry in zip(self.actors, entries):
                agent.entry = entry

    def _tally_blockers(self, failed: np.ndarray, members: np.ndarray | None = None) -> None:
        """Who objected at each failed decision, and whose objection alone sank the text."""
        if failed.size == 0:
            return
        self.failed_decisions += len(failed)
        objecting = failed == OBJECT
        self.objections += column_counts(objecting)
        if members is not None:
            pivotal = pivotal_counts(failed[:, members], objecting[:, members], self.rule, self._electorate_of(members))
            self.pivotal[members] += pivotal
        else:
            self.pivotal += pivotal_counts(failed, objecting, self.rule, self.electorate)

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
        """Run every replication to adoption, abandonment or the horizon (its matrix products on one BLAS thread)."""
        with one_blas_thread():
            while self.running:
                self.step()
        return self


def pivotal_counts(failed: np.ndarray, objecting: np.ndarray, rule, electorate: Electorate) -> np.ndarray:
    """Per column: at how many of these failed decisions withdrawing that one objection would have passed the text."""
    out = np.zeros(failed.shape[1], dtype=np.int64)
    p = electorate.n_participants
    if p == 0:  # no participant is a member yet (membership by year): nobody's objection decided anything
        return out
    test = rule.count_test() if rule.anonymous else None
    if test is not None:  # the rule is a test on the counts (rules.CountTest): one objector fewer, for every row at once
        sup, left = tally(failed[:, :p])
        left -= 1
        score = test.gain * sup - test.loss * left + test.offset
        passes = (score > 0 if test.strict else score >= 0) & (left >= 0)
        if test.veto:
            passes &= left == 0
        if test.need_support:
            passes &= sup > 0
        out[:p] = column_counts(objecting[passes, :p])
        return out
    if isinstance(rule, Chambers):
        return _pivotal_in_chambers(failed, objecting, rule, electorate)
    if isinstance(rule, WeightedMajority | DoubleMajority):
        return _pivotal_by_weight(failed, objecting, rule, electorate)
    return pivotal_by_trial(failed, objecting, rule, electorate)


def column_counts(mask: np.ndarray) -> np.ndarray:
    """Per column, the rows where a boolean matrix holds: sums of its bytes, 4× faster than sum(axis=0)."""
    return mask.view(np.int8).sum(axis=0, dtype=np.int16 if len(mask) < 2**15 else np.int64).astype(np.int64)


def pivotal_by_trial(failed, objecting, rule, electorate) -> np.ndarray:
    """The general check, for any rule: re-decide with each objection withdrawn in turn."""
    out = np.zeros(failed.shape[1], dtype=np.int64)
    # an objector can be pivotal only where withdrawing every objection would pass the text
    relaxed = np.where(objecting, ABSTAIN, failed).astype(np.int8)
    rows, cols = np.nonzero(objecting & rule.passes(relaxed, electorate)[:, None])
    if rows.size == 0:
        return out
    trial = failed[rows]
    trial[np.arange(len(rows)), cols] = ABSTAIN
    passes = rule.passes(trial, electorate)
    return out + np.bincount(cols[passes], minlength=failed.shape[1])


def _pivotal_in_chambers(failed, objecting, rule, electorate) -> np.ndarray:
    """Chambers in closed form: withdrawing an objection takes one objector from each chamber of its kind; the
    others keep their verdict. Integer counts, so exactly the verdict `rule.passes` gives."""
    out = np.zeros(failed.shape[1], dtype=np.int64)
    kinds = np.asarray(electorate.kinds)
    inside = [np.isin(kinds, ch.kinds) for ch in rule.chambers]
    tallies = [tally(failed[:, cols]) for cols in inside]
    anyone = np.logical_or.reduce([sup > 0 for sup, _ in tallies])  # withdrawing an objection adds no supporter
    ok = [ch.approves(sup, obj) for ch, (sup, obj) in zip(rule.chambers, tallies)]
    ok_less_one = [ch.approves(sup, obj - 1) for ch, (sup, obj) in zip(rule.chambers, tallies)]
    for kind in np.unique(kinds):
        cols = np.flatnonzero(kinds == kind)
        mine = [c for c, cols_in in enumerate(inside) if cols_in[cols[0]]]
        if not mine:
            continue  # a kind in no chamber: its stance counts nowhere
        passes = anyone & np.logical_and.reduce([ok_less_one[c] if c in mine else ok[c] for c in range(len(ok))])
        out[cols] = column_counts(objecting[passes][:, cols])
    return out


def _pivotal_by_weight(failed, objecting, rule, electorate) -> np.ndarray:
    """Weighted and double majorities in closed form: withdrawing objector j's objection leaves the supporters' weight
    and takes w_j from the weight of those taking a side (base "voting"; under base "all" it changes nothing).

    Subtracting w_j rounds differently from the dot product `rule.passes` computes, so a pair within a hair of the
    threshold is re-decided by the rule itself: the counts are exactly the general check's."""
    out = np.zeros(failed.shape[1], dtype=np.int64)
    p = electorate.n_participants
    if rule.base != "voting":
        return out
    s, obj = failed[:, :p], objecting[:, :p]
    w = electorate.weights[rule.weight]
    q = Fraction(rule.q if isinstance(rule, WeightedMajority) else rule.weight_q)
    sup_w = (s == SUPPORT) @ w
    ok = (sup_w > 0) & obj.any(axis=1)
    if isinstance(rule, DoubleMajority):  # its count threshold, with one objector fewer: integers, exact
        sup, n_obj = tally(s)
        ok &= meets(sup, sup + n_obj - 1, rule.q, rule.ties)
    candidates = np.flatnonzero(ok)
    step = max(1, 2**18 // p)  # rows at a time: (rows, participants) temporaries of a few MB
    for start in range(0, len(candidates), step):
        r = candidates[start : start + step]
        sup_r, obj_r = sup_w[r, None], obj[r]
        side_w = (sup_w[r] + obj_r @ w)[:, None] - w  # (rows, participants): without j's objection
        # rules._at_least_weight / _above_weight: margin ≥ −tol passes a tie, margin > tol fails one (tol = 1e-9·side·num)
        margin = sup_r * q.denominator - side_w * q.numerator
        cut = 1e-9 * np.maximum(side_w, 1e-300) * q.numerator
        if rule.ties == "pass":
            cut = -cut
        band = 1e-12 * (sup_r * q.denominator + np.abs(side_w) * q.numerator + w.sum() * q.numerator)
        sure = np.abs(margin - cut) > band  # far beyond the rounding of a sum of p weights
        wins = obj_r & sure & (margin >= cut if rule.ties == "pass" else margin > cut)
        out[:p] += column_counts(wins)
        unsure = obj_r & ~sure
        if unsure.any():  # re-decide these few pairs exactly
            i, j = np.nonzero(unsure)
            trial = failed[r[i]]
            trial[np.arange(len(i)), j] = ABSTAIN
            out += np.bincount(j[rule.passes(trial, electorate)], minlength=failed.shape[1])
    return out


@cache
def _blas_pools():
    """The BLAS libraries this process loaded, found once (threadpoolctl scans them)."""
    return ThreadpoolController().select(user_api="blas")


def one_blas_thread():
    """Matrix products on one BLAS thread: kpsim runs replications in processes, and the threads OpenBLAS starts for a
    product of over about 460,000 cells spin on a busy machine (1,000 × 960 stances: 7 ms of CPU for 40 µs of work).
    One thread gives the same sums: OpenBLAS splits a product's rows among its threads."""
    return _blas_pools().limit(limits=1)


def held_view(stubbornness: np.ndarray, scale: float) -> np.ndarray:
    """Each participant's weight on its own initial view: its stubbornness with the odds scaled by `scale`.

    s' = k·s / (k·s + 1 − s): any k > 0 keeps s' strictly between 0 and 1
    where s is, so no value of the calibrated scale can switch influence or
    lobbying off for everybody (a scale that multiplied s and clipped at 1 did).
    k = 1 leaves the coded stubbornness exactly as written.
    """
    if scale == 1:
        return stubbornness
    return scale * stubbornness / (scale * stubbornness + (1.0 - stubbornness))
