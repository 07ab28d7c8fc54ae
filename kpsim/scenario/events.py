"""Scenario events (issue 14): what changes during a run, and at which meeting.

    events:
      - {at: 3, rule: {rule: qualified_majority, q: 2/3}}   # from meeting 3 on, decide by this rule
      - {at: 5, set: {actors.russia.salience: 0.2}}         # from meeting 5 on, these values
      - {at: 6, withdraw: true}                             # the proposal is withdrawn (censored)
      - {year: 2015, set: {dynamics.noise: 0.2}}            # the first meeting in that calendar year

An event happens at the start of its meeting, before that meeting decides;
events of the same meeting apply in the order listed. `set` uses the dotted
paths of sweeps (kpsim.scenario.paths) but only for what can change mid-run:
identities, the calendar and the rules stay (a new rule is a `rule:` event).
This module does not import the schema (the schema imports it): the scenario
is taken duck-typed, and its own class validates the values an event sets.
"""

from __future__ import annotations

import difflib
import math
from typing import Annotated

from pydantic import Field, ValidationError, model_validator

from kpsim.fields import Strict
from kpsim.rules import AnyRule
from kpsim.scenario.paths import FIXED, LISTS, SECTIONS, resolve_path, with_values

Scalar = bool | int | float | str  # bool first: strict validation keeps `true` a bool

SETTABLE = "dynamics.<field>, proposal.<field>, actors.<id>.<field>"
STAYS = {  # heads an event may not set, and why
    "calendar": "the calendar does not change during a run",
    "rules": "rules do not change by set: give the new rule in a rule event, e.g. {at: 3, rule: {rule: qualified_majority, q: 2/3}}",
}
STRUCTURE = {
    ("dynamics", "mode"): "the model (agents or null) does not change during a run",
    ("actors", "patience"): "an observer's patience is set for the whole run",
    ("actors", "joined"): "membership years are set for the whole run (they already change who votes by year)",
    ("actors", "left"): "membership years are set for the whole run (they already change who votes by year)",
}


class Event(Strict):
    """One change at one meeting: given by meeting (`at`) or calendar year (`year`); a new rule, new values or a withdrawal."""

    at: Annotated[int, Field(ge=1)] | None = None
    year: float | None = None
    rule: AnyRule | None = None
    set: Annotated[dict[str, Scalar], Field(min_length=1)] | None = None
    withdraw: bool | None = None

    @model_validator(mode="after")
    def _one_time_one_action(self):
        if (self.at is None) == (self.year is None):
            raise ValueError("an event needs exactly one of at, year")
        if sum(x is not None for x in (self.rule, self.set, self.withdraw)) != 1:
            raise ValueError("an event does exactly one thing: rule, set or withdraw")
        if self.withdraw is False:
            raise ValueError("withdraw must be true (leave the event out to keep the proposal on the table)")
        return self

    @property
    def action(self) -> str:
        """'rule', 'set' or 'withdraw'."""
        return "rule" if self.rule is not None else "set" if self.set is not None else "withdraw"


NEVER = 2**53  # a meeting number past every horizon (at most 100,000 meetings)


def meeting_year(meeting: int, calendar) -> float:
    """The calendar year of a meeting: start_year + (meeting − 1) / meetings_per_year (ValueError without start_year)."""
    if calendar.start_year is None:
        raise ValueError("a year needs calendar.start_year")
    return calendar.start_year + (meeting - 1) / calendar.meetings_per_year


def event_meeting(event: Event, calendar) -> int:
    """The meeting an event happens at: `at`, or the first meeting whose year is ≥ `year` (1 for a year before the start)."""
    if event.at is not None:
        return event.at
    if calendar.start_year is None:
        raise ValueError("a year needs calendar.start_year")
    steps = (event.year - calendar.start_year) * calendar.meetings_per_year
    if steps > NEVER:  # far past any horizon, or infinite (1e300 years at 1e308 meetings a year), which math.ceil refuses
        return NEVER
    return 1 + max(0, math.ceil(round(steps, 9)))  # rounded: 2015 is meeting 21 from 2005, not 22 by a rounding error


def schedule(scenario) -> dict[int, list[Event]]:
    """The events by meeting, in meeting order, each meeting's in the order listed (valid scenarios only)."""
    out: dict[int, list[Event]] = {}
    for event in getattr(scenario, "events", None) or []:
        out.setdefault(event_meeting(event, scenario.calendar), []).append(event)
    return dict(sorted(out.items()))


# ---------------------------------------------------------------- cross-field checks


def event_issues(scenario) -> list[tuple[tuple, str]]:
    """Every problem of the scenario's events that needs the rest of the scenario, as (path, message) like Scenario.issues."""
    events = getattr(scenario, "events", None) or []
    if not events:
        return []
    out, when = [], {}
    for i, event in enumerate(events):
        field, problem = _timing(event, scenario.calendar)
        if problem:
            out.append((("events", i, field), problem))
        else:
            when[i] = event_meeting(event, scenario.calendar)
    kinds = {a.kind for a in scenario.actors}
    weights = {w for a in scenario.actors for w in a.weights}
    for i, event in enumerate(events):
        if event.rule is not None:
            out += [(("events", i, "rule", *path), message) for path, message in event.rule.issues(kinds, weights)]
    return out + _set_issues(scenario, events, when)


def _timing(event: Event, calendar) -> tuple[str, str | None]:
    horizon = calendar.horizon
    if event.at is not None:
        return "at", (f"= {event.at} — past the horizon ({horizon} meetings)" if event.at > horizon else None)
    if calendar.start_year is None:
        return "year", f"= {event.year:g} — a year needs calendar.start_year (or give the meeting: at)"
    if event.year < calendar.start_year:
        return "year", f"= {event.year:g} — before the start (calendar.start_year = {calendar.start_year:g})"
    meeting = event_meeting(event, calendar)
    if meeting > horizon:
        last = meeting_year(horizon, calendar)
        first = "" if meeting == NEVER else f" ({meeting})"
        return "year", f"= {event.year:g} — its first meeting{first} is past the horizon ({horizon} meetings, the last in {last:g})"
    return "year", None


def _set_issues(scenario, events, when: dict) -> list[tuple[tuple, str]]:
    """Each `set` path must name a field that may change, and its value must validate where it applies.

    Values are checked cumulatively, in meeting order: a value is valid or not
    given what earlier events set (e.g. a reservation between the status quo and
    a position an earlier event moved).
    """
    order = sorted((i for i, e in enumerate(events) if e.set is not None), key=lambda i: (when.get(i, math.inf), i))
    if not order:
        return []
    base = scenario
    if "events" in getattr(type(scenario), "model_fields", {}):
        base = scenario.model_copy(update={"events": []})  # rebuilding must not check the events again
    known = {(tuple(loc), message) for loc, message in base.issues()} if hasattr(base, "issues") else set()
    out, current = [], base
    for i in order:
        keys, values, paths = [], [], []
        for path, value in events[i].set.items():
            problem = _path_problem(base, path, value)
            if problem:
                out.append((("events", i, "set", path), problem))
                continue
            keys.append(resolve_path(base, path)[0])
            values.append(value)
            paths.append(path)
        if not keys:
            continue
        try:
            current = with_values(current, keys, values)
        except ValidationError as exc:
            out += [(("events", i, "set", p), m) for p, m in _value_problems(exc, keys, values, paths, known)]
    return out


def _path_problem(base, path: str, value) -> str | None:
    parts = path.split(".")
    head = parts[0]
    if head in STAYS:
        return f"— {STAYS[head]}; an event may set {SETTABLE}"
    if head not in ("dynamics", "proposal", "actors") or (len(parts) != 2 if head in SECTIONS else len(parts) < 3):
        near = difflib.get_close_matches(head, [h for h in (*SECTIONS, *LISTS) if h not in STAYS], n=1)
        hint = f" ('{head}': did you mean '{near[0]}'?)" if near and near[0] != head else ""
        return f"— not a path an event can set{hint} — allowed: {SETTABLE}"
    if parts[-1] in FIXED:
        return f"— {parts[-1]} is an identity, not a parameter: it does not change during a run"
    if (head, parts[-1]) in STRUCTURE:
        return f"= {value!r} — {STRUCTURE[head, parts[-1]]}"
    try:
        resolve_path(base, path)
    except ValueError as exc:
        return f"— {exc}"
    return None


def _value_problems(exc: ValidationError, keys, values, paths, known) -> list[tuple[str, str]]:
    """The errors of a rebuilt scenario that the event's values caused, each at the path that set it (problems the scenario had already are left to Scenario.issues)."""
    found: dict[tuple[str, str], None] = {}
    for err in exc.errors():
        loc = tuple(err["loc"])
        subs = [(loc + tuple(s), m) for s, m in err["ctx"]["issues"]] if err["type"] == "scenario_issues" else [(loc, None)]
        for where, message in subs:
            if message is not None and (where, message) in known:
                continue
            for key, value, path in zip(keys, values, paths):
                if where and (where[: len(key)] == key or key[: len(where)] == where):
                    found.setdefault((path, message or f"= {value!r} — {_message(err)}"), None)
    return list(found)


def _message(err: dict) -> str:
    """pydantic's message in the words of kpsim's other errors."""
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg.replace("Input should be", "must be")
