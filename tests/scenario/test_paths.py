"""Dotted parameter paths (kpsim.scenario.paths): every kind resolves, every wrong path says what is allowed."""

from fractions import Fraction

import pytest
from pydantic import ValidationError

from kpsim.scenario.paths import FIXED, LISTS, SECTIONS, is_whole, leaf_types, resolve_path, with_values

SHAPES = "dynamics.<field>, proposal.<field>, calendar.<field>, actors.<id>.<field>, rules.<name>.<field>"


@pytest.fixture
def scenario(toy_scenario):
    return toy_scenario(rules=["consensus", {"rule": "qualified_majority", "q": "2/3", "name": "two_thirds"}])


@pytest.mark.parametrize(
    "path, keys",
    [
        ("dynamics.noise", ("dynamics", "noise")),
        ("proposal.reservation", ("proposal", "reservation")),
        ("calendar.horizon", ("calendar", "horizon")),
        ("actors.c.position", ("actors", 2, "position")),
        ("actors.csc.lobbying", ("actors", 5, "lobbying")),
        ("rules.two_thirds.q", ("rules", 1, "q")),
    ],
)
def test_every_kind_of_path_resolves_to_its_keys_and_field(scenario, path, keys):
    got, field = resolve_path(scenario, path)
    assert got == keys
    owner = getattr(scenario, keys[0]) if len(keys) == 2 else getattr(scenario, keys[0])[keys[1]]
    assert field is type(owner).model_fields[keys[-1]]


def test_the_field_is_the_pydantic_field_of_the_model_it_names(scenario):
    from kpsim.scenario.schema import ActorEntry, Dynamics

    assert resolve_path(scenario, "dynamics.noise")[1] is Dynamics.model_fields["noise"]
    assert resolve_path(scenario, "actors.a.salience")[1] is ActorEntry.model_fields["salience"]
    assert resolve_path(scenario, "rules.two_thirds.q")[1] is type(scenario.rules[1]).model_fields["q"]


@pytest.mark.parametrize(
    "path, message",
    [
        ("dynamic.noise", f"not a sweepable path ('dynamic': did you mean 'dynamics'?) — allowed: {SHAPES}"),
        ("dynamics", f"not a sweepable path — allowed: {SHAPES}"),
        ("dynamics.noise.x", f"not a sweepable path — allowed: {SHAPES}"),
        ("actors.c", f"not a sweepable path — allowed: {SHAPES}"),
        ("seed", f"not a sweepable path — allowed: {SHAPES}"),
        ("actors.wcd.position", "no actor named 'wcd' (did you mean 'wdc'?) — actors: a, b, c, d, wdc, csc"),
        ("rules.two_third.q", "no rule named 'two_third' (did you mean 'two_thirds'?) — rules: consensus, two_thirds"),
        ("dynamics.nois", "unknown field 'nois' (did you mean 'noise'?) — allowed: "),
    ],
)
def test_a_wrong_path_says_what_is_allowed(scenario, path, message):
    with pytest.raises(ValueError) as exc:
        resolve_path(scenario, path)
    assert str(exc.value).startswith(message)


def test_a_long_roster_is_shown_in_part(toy_scenario):
    with pytest.raises(ValueError, match=r"— actors: p0, p1, .*, p11, … \(30 in all\)$"):
        resolve_path(toy_scenario(30), "actors.x.position")


@pytest.mark.parametrize("path", ["actors.a.id", "actors.a.kind", "rules.two_thirds.rule", "rules.two_thirds.name"])
def test_identities_are_not_parameters(scenario, path):
    with pytest.raises(ValueError, match=r"^unknown field '(id|kind|rule|name)'( \(did you mean '\w+'\?\))? — allowed: ") as exc:
        resolve_path(scenario, path)
    allowed = str(exc.value).split("allowed: ")[1].split(", ")
    assert not FIXED & set(allowed)


def test_the_path_shapes():
    assert SECTIONS == ("dynamics", "proposal", "calendar") and LISTS == ("actors", "rules")
    assert FIXED == {"id", "kind", "rule", "name"}


def test_leaf_types_and_whole_numbers(scenario):
    assert leaf_types(resolve_path(scenario, "calendar.horizon")[1].annotation) == {int}
    assert leaf_types(resolve_path(scenario, "proposal.reservation")[1].annotation) == {float, type(None)}
    assert leaf_types(resolve_path(scenario, "calendar.start_year")[1].annotation) == {float, type(None)}
    assert leaf_types(resolve_path(scenario, "rules.two_thirds.q")[1].annotation) == {float, str}
    assert is_whole(resolve_path(scenario, "calendar.horizon")[1])
    assert is_whole(resolve_path(scenario, "proposal.abandon_after")[1])
    assert not is_whole(resolve_path(scenario, "dynamics.noise")[1])


def test_with_values_sets_the_fields_and_validates(scenario):
    assert with_values(scenario, [], ()) == scenario  # thresholds such as 2/3 survive the round trip
    keys = [resolve_path(scenario, p)[0] for p in ("dynamics.noise", "actors.c.position", "rules.two_thirds.q")]
    changed = with_values(scenario, keys, (0.3, 0.4, "3/4"))
    assert type(changed) is type(scenario)
    assert changed.dynamics.noise == 0.3 and changed.actors[2].position == 0.4 and changed.rules[1].q == Fraction(3, 4)
    assert scenario.dynamics.noise != 0.3  # the scenario given is left as it was
    with pytest.raises(ValidationError, match="must be between 0 and 1"):
        with_values(scenario, keys[1:2], (1.7,))
