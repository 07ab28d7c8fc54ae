"""The scenario schema: what a scenario file may say, validated field by field (pydantic).

Nothing here knows about the Kimberley Process: any body that decides by
votes of participants, lobbied by observers, can be written down. The rules
part of the schema is built from kpsim.rules.RULES, the actor kinds from
kpsim.fields.ACTOR_KINDS.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from kpsim.errors import InputError
from kpsim.fields import MAX_REPLICATIONS, MAX_SEED, OBSERVER_KINDS, PARTICIPANT, ActorKind, NonNeg, Strict, Unit
from kpsim.rules import AnyRule, RuleParams
from kpsim.scenario.codings import Coding, coding_issues, extract
from kpsim.scenario.events import Event, event_issues
from kpsim.scenario.sweepspec import Sweep


class ActorEntry(Strict):
    """One actor as the scenario file describes it (the agent that plays it is kpsim.model.actors)."""

    id: str = Field(min_length=1)
    name: str | None = None
    kind: ActorKind = PARTICIPANT
    bloc: str | None = None
    position: Unit = 0.5
    salience: Unit = 0.5
    capability: NonNeg = 1.0
    weights: dict[str, NonNeg] = Field(default_factory=dict)
    stubbornness: Unit = 0.5
    reluctance: NonNeg = 0.0
    lobbying: Unit = 0.0
    reservation: Unit | None = None  # its red line: it objects to any text on the status-quo side of it
    patience: Annotated[int, Field(ge=1)] | None = None  # an observer leaves after this many failed meetings in a row
    joined: float | None = None  # a member (it votes) at meetings whose year lies in [joined, left)
    left: float | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _observers_only(self):
        observers = f"kind {', '.join(OBSERVER_KINDS[:-1])} or {OBSERVER_KINDS[-1]}"
        if self.kind == PARTICIPANT and self.lobbying:
            raise ValueError(f"lobbying is for observers only ({observers})")
        if self.kind == PARTICIPANT and self.patience is not None:
            raise ValueError(f"patience is for observers only ({observers}): participants do not walk out")
        if self.joined is not None and self.left is not None and self.left <= self.joined:
            raise ValueError(f"left = {self.left:g} must come after joined = {self.joined:g}")
        return self


class Proposal(Strict):
    title: str = "proposal"
    status_quo: Unit = 0.0
    position: Unit = 1.0
    proposer: str | None = None
    reservation: Unit | None = None
    abandon_after: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _reservation_between(self):
        if self.position == self.status_quo:
            raise ValueError("position must differ from status_quo: there is nothing to decide")
        r = self.reservation
        if r is not None and not (min(self.status_quo, self.position) <= r <= max(self.status_quo, self.position)):
            raise ValueError(
                f"reservation = {r:g} must lie between status_quo ({self.status_quo:g}) and position ({self.position:g})"
            )
        return self

    @property
    def floor(self) -> float:
        """How far the chair may water the text down: the reservation point, else the proposal itself."""
        return self.position if self.reservation is None else self.reservation


class Calendar(Strict):
    meetings_per_year: Annotated[float, Field(gt=0)] = 2.0
    horizon: Annotated[int, Field(ge=1, le=100_000)] = 28
    start_year: float | None = None
    rounds_per_meeting: Annotated[int, Field(ge=1, le=100)] = 1  # drafts put to the vote within one meeting

    def year(self, meeting: int) -> float | None:
        """The calendar year of a meeting: start_year + (meeting − 1) / meetings_per_year."""
        return None if self.start_year is None else self.start_year + (meeting - 1) / self.meetings_per_year


def _whole_year(v):
    """A year as a mapping key: 2012 in a scenario file, '2012' once written back as JSON-style YAML (a results folder)."""
    return int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else v


Year = Annotated[int, BeforeValidator(_whole_year)]


class Chair(Strict):
    """Who chairs and how: `toward_objectors` moves a failed text toward those who objected (an anonymous chair);
    `setter` puts to the vote the text within the mandate that the chair expects to serve it best (Romer–Rosenthal)."""

    actor: str | None = None
    strategy: Literal["toward_objectors", "setter"] = "toward_objectors"
    # the chair rotates: {year: actor id}, each from that calendar year on (needs calendar.start_year);
    # before the first listed year, `actor` chairs (or, without one, the anonymous chair moves toward the objectors)
    by_year: dict[Year, str | None] = Field(default_factory=dict)  # null: no chair known that year

    def actor_in(self, year: float | None) -> str | None:
        """Who chairs in this calendar year."""
        listed = [y for y in self.by_year if year is not None and y <= year]
        return self.by_year[max(listed)] if listed else self.actor


class Dynamics(Strict):
    mode: Literal["agents", "null"] = "agents"
    support_probability: Unit = 0.5
    noise: NonNeg = 0.1
    reluctance: NonNeg = 0.05
    amendment_step: Unit = 0.2
    lobbying: NonNeg = 0.1
    stubbornness_scale: NonNeg = 1.0  # multiplies every actor's odds of holding its view (never clips to 1)
    position_noise: NonNeg = 0.0
    influence: bool = True  # participants move toward their bloc (Friedkin–Johnsen); false: only lobbying moves them
    acquiescence_isolation: NonNeg = 0.0  # extra cost of objecting when few others object
    acquiescence_time: NonNeg = 0.0  # extra cost of objecting per year since tabling


class Target(Strict):
    """What the model must reproduce for the record to count as matched (the calibration's pass/fail)."""

    median_meetings: Annotated[list[NonNeg], Field(min_length=2, max_length=2)] | None = None  # [low, high]
    within: Annotated[int, Field(ge=1)] | None = None
    adopted_at_least: Unit | None = None
    adopted_at_most: Unit | None = None
    adopted_at_first: Annotated[list[Unit], Field(min_length=2, max_length=2)] | None = None  # [low, high] share adopted at meeting 1
    surviving_share: Annotated[list[Unit], Field(min_length=2, max_length=2)] | None = None  # [low, high] median share of the text adopted

    @model_validator(mode="after")
    def _within_needed(self):
        if (self.adopted_at_least is not None or self.adopted_at_most is not None) and self.within is None:
            raise ValueError("adopted_at_least / adopted_at_most need 'within' (a number of meetings)")
        for name in ("median_meetings", "adopted_at_first", "surviving_share"):
            band = getattr(self, name)
            if band is not None and band[0] > band[1]:
                raise ValueError(f"{name} is [low, high] with low <= high")
        return self


class Objected(Strict):
    """A recorded objection: these actors objected at this meeting, or at some meeting of this calendar year."""

    actors: list[str] = Field(min_length=1)
    meeting: Annotated[int, Field(ge=1)] | None = None
    year: Year | None = None
    source: str

    @model_validator(mode="after")
    def _one_time(self):
        if (self.meeting is None) == (self.year is None):
            raise ValueError("give either 'meeting' or 'year'")
        return self

    def meetings(self, calendar: "Calendar") -> set[int]:
        """The meetings the objection may have been made at."""
        if self.meeting is not None:
            return {self.meeting}
        return {m for m in range(1, calendar.horizon + 1) if int(math.floor(calendar.year(m))) == int(self.year)}


class Record(Strict):
    """What actually happened, for calibration: adopted at meeting `meetings`, or not adopted after it."""

    rule: str
    adopted: bool
    meetings: Annotated[int, Field(ge=1)]
    source: str
    target: Target = Target()
    objected: list[Objected] = Field(default_factory=list)  # who objected when, where the record names them (fitted too)




class Scenario(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")  # a folder name under results/: no '.', '..' or hidden names
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    actors: list[ActorEntry] = Field(min_length=1)
    proposal: Proposal
    calendar: Calendar = Calendar()
    chair: Chair | None = None
    dynamics: Dynamics = Dynamics()
    rules: list[AnyRule] = Field(min_length=1)
    replications: Annotated[int, Field(ge=1, le=MAX_REPLICATIONS)] = 1000
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0  # the random streams take a 64-bit seed (kpsim.model.streams)
    events: list[Event] = Field(default_factory=list)  # what happens to the process at a meeting or in a year
    record: Record | None = None
    sweep: Sweep | None = None  # what `kpsim sweep` and `kpsim sensitivity` vary
    # fields written as ranges ([low, high] or a coding level) run at their nominal value; listed here (kpsim.scenario.codings)
    codings: list[Coding] = Field(default_factory=list)
    # which intervals a run shows unless --uncertainty says otherwise (kpsim.analysis.uncertainty)
    uncertainty: Literal["montecarlo", "parameters", "full"] = "montecarlo"

    @model_validator(mode="before")
    @classmethod
    def _ranges(cls, data):
        return extract(data)

    @model_validator(mode="after")
    def _consistent(self):
        issues = self.issues()
        if issues:
            raise PydanticCustomError(
                "scenario_issues", "{summary}", {"summary": "; ".join(m for _, m in issues), "issues": issues}
            )
        return self

    def issues(self) -> list[tuple[tuple, str]]:
        """Every cross-field problem, each with the path of the field to point at."""
        out = []
        ids = [a.id for a in self.actors]
        for i, a in enumerate(self.actors):
            if a.id in ids[:i]:
                out.append((("actors", i, "id"), f"= {a.id!r} — actor ids must be unique; it is already used"))
        if not any(a.kind == PARTICIPANT for a in self.actors):
            out.append((("actors",), "— at least one actor must be of kind participant"))
        if self.proposal.proposer is not None and self.proposal.proposer not in ids:
            out.append((("proposal", "proposer"), f"= {self.proposal.proposer!r} — not an actor id"))
        if self.chair is not None and self.chair.actor is not None and self.chair.actor not in ids:
            out.append((("chair", "actor"), f"= {self.chair.actor!r} — not an actor id"))
        if self.chair is not None:
            if self.chair.strategy == "setter" and self.chair.actor is None and not self.chair.by_year:
                out.append((("chair", "strategy"), "= 'setter' — a setter chair needs an actor (chair: {actor: <id>, strategy: setter}) or a by_year schedule"))
            for year, who in self.chair.by_year.items():
                if who is not None and who not in ids:
                    out.append((("chair", "by_year", year), f"= {who!r} — not an actor id"))
            if self.chair.by_year and self.calendar.start_year is None:
                out.append((("chair", "by_year"), "— a chair schedule by year needs calendar.start_year"))
        for i, a in enumerate(self.actors):
            for field in ("joined", "left"):
                if getattr(a, field) is not None and self.calendar.start_year is None:
                    out.append((("actors", i, field), "— membership years need calendar.start_year"))
        labels = [r.label for r in self.rules]
        if self.record is not None and self.record.rule not in labels:
            out.append((("record", "rule"), f"= {self.record.rule!r} — must be one of the scenario's rules: {', '.join(labels)}"))
        for i, fact in enumerate(self.record.objected if self.record is not None else ()):
            for j, who in enumerate(fact.actors):
                if who not in ids:
                    out.append((("record", "objected", i, "actors", j), f"= {who!r} — not an actor id"))
            if fact.year is not None and self.calendar.start_year is None:
                out.append((("record", "objected", i, "year"), "— an objection dated by year needs calendar.start_year"))
            elif not fact.meetings(self.calendar):
                out.append((("record", "objected", i), "— no meeting of the horizon falls at that time"))
        known = {w for a in self.actors for w in a.weights}
        kinds = {a.kind for a in self.actors}
        for i, r in enumerate(self.rules):
            if r.label in labels[:i]:
                out.append((("rules", i, "name"), f"= {r.label!r} — rule names must be unique (give each a distinct 'name')"))
            out += [(("rules", i, *path), message) for path, message in r.issues(kinds, known)]
        return out + event_issues(self) + coding_issues(self, ActorEntry, Proposal)

    def rule(self, label: str):
        for r in self.rules:
            if r.label == label:
                return r
        raise InputError(f"no rule named {label!r} in scenario {self.name!r}; rules: {', '.join(r.label for r in self.rules)}")

    def voters(self, rule: RuleParams) -> list[ActorEntry]:
        """The players of a rule's game: the participants, or every actor (participants first) where observers vote."""
        if rule.observers_vote:
            return sorted(self.actors, key=lambda a: a.kind != PARTICIPANT)
        return [a for a in self.actors if a.kind == PARTICIPANT]
