"""Scenario events (issue 14): their schema, the meeting each happens at, and every cross-field problem with its path.

Events are attached to a real scenario with model_copy (which does not
validate) and checked by event_issues directly; the same problems come out of
`kpsim validate` as file:line errors with exit code 2.
"""

import textwrap

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from kpsim.rules import RULES
from kpsim.scenario.events import Event, event_issues, event_meeting, meeting_year, schedule
from kpsim.scenario.schema import Calendar

SETTABLE = "an event may set dynamics.<field>, proposal.<field>, actors.<id>.<field>"


def with_events(scenario, *events):
    """The scenario with these events, validated one by one (not against the scenario)."""
    return scenario.model_copy(update={"events": [Event.model_validate(e) for e in events]})


@pytest.fixture
def dated(toy_scenario):
    """The toy plenary from 2005, two meetings a year, 20 meetings (the last in 2014.5)."""
    return toy_scenario(calendar={"start_year": 2005, "meetings_per_year": 2, "horizon": 20})


# ---------------------------------------------------------------- one event


@pytest.mark.parametrize(
    "data, action",
    [
        ({"at": 3, "rule": {"rule": "qualified_majority", "q": "2/3"}}, "rule"),
        ({"at": 5, "set": {"actors.russia.salience": 0.2, "proposal.reservation": 0.5}}, "set"),
        ({"at": 6, "withdraw": True}, "withdraw"),
        ({"year": 2015, "set": {"dynamics.noise": 0.2}}, "set"),
        ({"year": 2015.5, "set": {"dynamics.mode": "null", "actors.a.bloc": "x", "proposal.abandon_after": 3}}, "set"),
    ],
)
def test_the_issues_examples_are_events(data, action):
    event = Event.model_validate(data)
    assert event.action == action


def test_a_rule_event_holds_a_rule_of_the_registry():
    event = Event.model_validate({"at": 3, "rule": {"rule": "qualified_majority", "q": "2/3"}})
    assert isinstance(event.rule, RULES["qualified_majority"]) and event.rule.label == "qualified_majority"


def test_set_keeps_the_type_of_each_value():
    event = Event.model_validate({"at": 1, "set": {"x.a": True, "x.b": 2, "x.c": 0.5, "x.d": "text"}})
    assert [type(v) for v in event.set.values()] == [bool, int, float, str]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"withdraw": True}, "an event needs exactly one of at, year"),
        ({"at": 2, "year": 2015, "withdraw": True}, "an event needs exactly one of at, year"),
        ({"at": 2}, "an event does exactly one thing: rule, set or withdraw"),
        ({"at": 2, "withdraw": True, "set": {"dynamics.noise": 0.1}}, "an event does exactly one thing: rule, set or withdraw"),
        ({"at": 2, "withdraw": False}, "withdraw must be true"),
        ({"at": 0, "withdraw": True}, "greater than or equal to 1"),
        ({"at": 2.5, "withdraw": True}, "valid integer"),
        ({"at": 2, "set": {}}, "at least 1 item"),
        ({"at": 2, "set": {"dynamics.noise": [0.1]}}, "Input should be a valid number"),
        ({"at": 2, "rule": {"rule": "no_such_rule"}}, "no_such_rule"),
        ({"at": 2, "rule": {"rule": "qualified_majority", "q": "3/2"}}, "must be above 0 and at most 1"),
        ({"at": 2, "when": 3, "withdraw": True}, "Extra inputs are not permitted"),
    ],
)
def test_a_malformed_event_is_refused_with_a_clear_message(data, message):
    with pytest.raises(ValidationError, match=message.replace(".", r"\.")):
        Event.model_validate(data)


# ---------------------------------------------------------------- meetings and years


def test_a_year_is_the_first_meeting_in_it():
    cal = Calendar(start_year=2005, meetings_per_year=2, horizon=40)
    assert meeting_year(1, cal) == 2005 and meeting_year(21, cal) == 2015 and meeting_year(22, cal) == 2015.5
    assert event_meeting(Event(year=2015, withdraw=True), cal) == 21
    assert event_meeting(Event(year=2015.2, withdraw=True), cal) == 22
    assert event_meeting(Event(year=2005, withdraw=True), cal) == 1
    assert event_meeting(Event(year=1999, withdraw=True), cal) == 1  # before the start: event_issues reports it
    assert event_meeting(Event(at=7, withdraw=True), Calendar()) == 7


@pytest.mark.parametrize("per_year", [0.5, 1, 2, 3, 7, 12])
def test_each_meetings_own_year_gives_that_meeting_back(per_year):
    """No rounding error moves an event to the next meeting (a third of a year is not exact in binary)."""
    cal = Calendar(start_year=2003.25, meetings_per_year=per_year, horizon=100)
    for m in range(1, 101):
        assert event_meeting(Event(year=meeting_year(m, cal), withdraw=True), cal) == m


def test_a_year_needs_a_start_year():
    with pytest.raises(ValueError, match="a year needs calendar.start_year"):
        meeting_year(3, Calendar())
    with pytest.raises(ValueError, match="a year needs calendar.start_year"):
        event_meeting(Event(year=2015, withdraw=True), Calendar())


def test_the_schedule_is_by_meeting_in_the_order_listed(dated):
    sc = with_events(
        dated,
        {"at": 9, "withdraw": True},
        {"year": 2006, "set": {"dynamics.noise": 0.2}},
        {"at": 3, "set": {"dynamics.noise": 0.3}},
        {"at": 3, "rule": {"rule": "simple_majority"}},
    )
    assert {m: [e.action for e in es] for m, es in schedule(sc).items()} == {3: ["set", "set", "rule"], 9: ["withdraw"]}
    assert list(schedule(sc)) == [3, 9] and schedule(dated) == {}


# ---------------------------------------------------------------- cross-field problems


def test_no_events_no_issues(dated, toy_scenario):
    assert event_issues(dated) == [] and event_issues(toy_scenario()) == []
    assert event_issues(dated.model_copy(update={"events": []})) == []


def test_the_issues_examples_have_no_issues(dated):
    sc = with_events(
        dated,
        {"at": 3, "rule": {"rule": "qualified_majority", "q": "2/3"}},
        {"at": 5, "set": {"actors.c.salience": 0.2, "proposal.reservation": 0.5}},
        {"at": 6, "withdraw": True},
        {"year": 2012, "set": {"dynamics.noise": 0.2}},
        {"at": 1, "withdraw": True},  # withdrawn before the first decision: allowed
        {"at": 20, "set": {"actors.a.bloc": "e", "actors.wdc.lobbying": 0.1, "proposal.proposer": "a", "proposal.abandon_after": 3}},
        {"year": 2014.5, "withdraw": True},  # the last meeting
    )
    assert event_issues(sc) == []


def test_timing_past_the_horizon_or_outside_the_calendar(dated, toy_scenario):
    sc = with_events(
        dated,
        {"at": 21, "withdraw": True},
        {"year": 2014.6, "withdraw": True},
        {"year": 2004, "withdraw": True},
        {"at": 20, "withdraw": True},
    )
    assert event_issues(sc) == [
        (("events", 0, "at"), "= 21 — past the horizon (20 meetings)"),
        (("events", 1, "year"), "= 2014.6 — its first meeting (21) is past the horizon (20 meetings, the last in 2014.5)"),
        (("events", 2, "year"), "= 2004 — before the start (calendar.start_year = 2005)"),
    ]
    undated = with_events(toy_scenario(), {"year": 2015, "set": {"dynamics.noise": 0.2}})
    assert event_issues(undated) == [(("events", 0, "year"), "= 2015 — a year needs calendar.start_year (or give the meeting: at)")]


def test_set_paths_that_do_not_exist(dated):
    sc = with_events(dated, {"at": 2, "set": {"actors.zz.salience": 0.2, "dynamics.nois": 0.1, "dynamic.noise": 0.1, "seed": 3}})
    assert event_issues(sc) == [
        (("events", 0, "set", "actors.zz.salience"), "— no actor named 'zz' — actors: a, b, c, d, wdc, csc"),
        (("events", 0, "set", "dynamics.nois"), "— unknown field 'nois' (did you mean 'noise'?) — allowed: " + ", ".join(
            type(dated.dynamics).model_fields)),
        (("events", 0, "set", "dynamic.noise"), "— not a path an event can set ('dynamic': did you mean 'dynamics'?) — allowed: "
         "dynamics.<field>, proposal.<field>, actors.<id>.<field>"),
        (("events", 0, "set", "seed"), "— not a path an event can set — allowed: dynamics.<field>, proposal.<field>, actors.<id>.<field>"),
    ]


def test_set_may_not_change_identities_or_structure(dated):
    sc = with_events(
        dated,
        {"at": 2, "set": {"calendar.horizon": 30, "rules.consensus.name": "x", "actors.a.id": "z", "actors.wdc.kind": "participant",
                          "dynamics.mode": "null"}},
    )
    issues = dict(event_issues(sc))
    assert issues == {
        ("events", 0, "set", "calendar.horizon"): f"— the calendar does not change during a run; {SETTABLE}",
        ("events", 0, "set", "rules.consensus.name"): "— rules do not change by set: give the new rule in a rule event, "
        f"e.g. {{at: 3, rule: {{rule: qualified_majority, q: 2/3}}}}; {SETTABLE}",
        ("events", 0, "set", "actors.a.id"): "— id is an identity, not a parameter: it does not change during a run",
        ("events", 0, "set", "actors.wdc.kind"): "— kind is an identity, not a parameter: it does not change during a run",
        ("events", 0, "set", "dynamics.mode"): "= 'null' — the model (agents or null) does not change during a run",
    }


def test_set_values_are_validated_as_a_scenario_file_would_be(dated):
    sc = with_events(
        dated,
        {"at": 2, "set": {"actors.a.salience": 1.7, "dynamics.noise": "high", "actors.b.lobbying": 0.3}},
        {"at": 3, "set": {"proposal.status_quo": 1.0, "proposal.proposer": "zz", "proposal.abandon_after": 2.5}},
    )
    assert sorted(event_issues(sc)) == [
        (("events", 0, "set", "actors.a.salience"), "= 1.7 — must be between 0 and 1"),
        (("events", 0, "set", "actors.b.lobbying"), "= 0.3 — lobbying is for observers only (kind industry, civil_society or intergovernmental)"),
        (("events", 0, "set", "dynamics.noise"), "= 'high' — must be a valid number"),
        (("events", 1, "set", "proposal.abandon_after"), "= 2.5 — must be a valid integer"),
    ]
    (issue,) = event_issues(with_events(dated, {"at": 3, "set": {"proposal.status_quo": 1.0}}))
    assert issue == (("events", 0, "set", "proposal.status_quo"), "= 1.0 — position must differ from status_quo: there is nothing to decide")
    (issue,) = event_issues(with_events(dated, {"at": 3, "set": {"proposal.proposer": "zz"}}))
    assert issue == (("events", 0, "set", "proposal.proposer"), "= 'zz' — not an actor id")


def test_values_are_checked_where_they_apply_in_meeting_order(dated):
    """The reservation must lie between the status quo and the position in force at its meeting, whatever the listed order."""
    moved = {"at": 2, "set": {"proposal.position": 0.6}}
    sc = with_events(dated, {"at": 5, "set": {"proposal.reservation": 0.8}}, moved)
    ((where, message),) = event_issues(sc)
    assert where == ("events", 0, "set", "proposal.reservation")
    assert message == "= 0.8 — reservation = 0.8 must lie between status_quo (0) and position (0.6)"
    assert event_issues(with_events(dated, {"at": 1, "set": {"proposal.reservation": 0.4}}, moved)) == []
    # a reservation set first, then a position that leaves it outside: the later event is at fault
    ((where, message),) = event_issues(with_events(dated, {"at": 1, "set": {"proposal.reservation": 0.8}}, moved))
    assert where == ("events", 1, "set", "proposal.position")
    assert message == "= 0.6 — reservation = 0.8 must lie between status_quo (0) and position (0.6)"


def test_a_refused_value_is_not_carried_to_later_events(dated):
    sc = with_events(dated, {"at": 2, "set": {"proposal.position": 0.6, "actors.a.salience": 2.0}}, {"at": 5, "set": {"proposal.reservation": 0.8}})
    assert [loc for loc, _ in event_issues(sc)] == [("events", 0, "set", "actors.a.salience")]


def test_problems_the_scenario_already_has_are_not_blamed_on_an_event(dated):
    broken = dated.model_copy(update={"proposal": dated.proposal.model_copy(update={"proposer": "zz"})})
    assert event_issues(with_events(broken, {"at": 2, "set": {"proposal.reservation": 0.5}})) == []


def test_a_rule_event_is_checked_against_the_actors(dated):
    sc = with_events(dated, {"at": 2, "rule": {"rule": "weighted_majority", "weight": "gdp", "q": 0.5}})
    assert event_issues(sc) == [(("events", 0, "rule", "weight"), "= 'gdp' — no actor has this weight; known: none")]


# ---------------------------------------------------------------- through the scenario file (once Scenario has events)

FILE = """\
name: tiny
calendar: {start_year: 2005, horizon: 10}
actors:
  - {id: a, position: 0.9, salience: 0.8}
  - {id: b, position: 0.2, salience: 0.3}
proposal: {status_quo: 0.0, position: 1.0, reservation: 0.5}
rules:
  - {rule: consensus}
events:
  - {at: 3, rule: {rule: qualified_majority, q: 2/3}}
  - {at: 5, set: {actors.b.salience: 0.2, proposal.reservation: 0.6}}
  - {at: 6, withdraw: true}
  - {year: 2008, set: {dynamics.noise: 0.2}}
"""



def validate(tmp_path, text):
    from kpsim.cli import main

    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(text))
    return path, CliRunner().invoke(main, ["validate", str(path)])


def test_the_issues_example_file_validates(tmp_path):
    from kpsim.scenario.load import load_scenario

    path, res = validate(tmp_path, FILE)
    assert res.exit_code == 0, res.output
    sc = load_scenario(path)
    assert [e.action for e in sc.events] == ["rule", "set", "withdraw", "set"]
    assert {m: len(es) for m, es in schedule(sc).items()} == {3: 1, 5: 1, 6: 1, 7: 1}


@pytest.mark.parametrize(
    "old, new, line, field, message",
    [
        ("{at: 6, withdraw", "{at: 45, withdraw", 12, "events[2].at", "= 45 — past the horizon (10 meetings)"),
        ("actors.b.salience: 0.2", "actors.zz.salience: 0.2", 11, "events[1].set.actors.zz.salience", "— no actor named 'zz'"),
        ("actors.b.salience: 0.2", "actors.b.salience: 1.7", 11, "events[1].set.actors.b.salience", "= 1.7 — must be between 0 and 1"),
        ("{start_year: 2005, horizon: 10}", "{horizon: 10}", 13, "events[3].year", "= 2008 — a year needs calendar.start_year"),
        ("{at: 6, withdraw: true}", "{at: 6, withdraw: true, year: 2007}", 12, "events[2]", "an event needs exactly one of at, year"),
    ],
)
def test_a_bad_event_in_a_file_is_a_file_line_error(tmp_path, old, new, line, field, message):
    assert old in FILE
    path, res = validate(tmp_path, FILE.replace(old, new))
    assert res.exit_code == 2, res.output
    assert f"{path}:{line}: {field}" in res.output and message in res.output, res.output


def test_an_unknown_field_in_an_event_rule_is_named_like_one_in_rules(tmp_path):
    """The rule's name is pydantic's union tag in the error's path: it is left out, and the allowed fields are listed."""
    from click.testing import CliRunner

    from kpsim.cli import main

    p = tmp_path / "e.yaml"
    p.write_text(
        "name: e\nactors:\n  - {id: a}\nproposal: {}\nrules: [{rule: consensus}]\n"
        "events:\n  - {at: 2, rule: {rule: qualified_majority, qq: 2/3}}\n"
    )
    res = CliRunner().invoke(main, ["validate", str(p)])
    assert res.exit_code == 2
    assert f"{p}:7: events[0].rule.qq — unknown field (did you mean 'q'?) — allowed: name, rule, q, ties" in res.output


def test_an_event_may_not_set_patience_or_membership_years(tmp_path):
    from click.testing import CliRunner

    from kpsim.cli import main

    p = tmp_path / "e.yaml"
    p.write_text(
        "name: e\ncalendar: {start_year: 2000}\nactors:\n  - {id: a}\n  - {id: o, kind: civil_society, patience: 3}\n"
        "proposal: {}\nrules: [{rule: consensus}]\nevents:\n  - {at: 2, set: {actors.o.patience: 1}}\n"
        "  - {at: 2, set: {actors.a.joined: 2001}}\n"
    )
    res = CliRunner().invoke(main, ["validate", str(p)])
    assert res.exit_code == 2
    assert "events[0].set.actors.o.patience = 1 — an observer's patience is set for the whole run" in res.output
    assert "events[1].set.actors.a.joined = 2001 — membership years are set for the whole run" in res.output
