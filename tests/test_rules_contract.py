"""The contract every registered rule keeps, checked on every entry of kpsim.rules.RULES.

A new rule is one class in kpsim/rules.py; these tests run on it at once,
with valid parameters built from its fields (tests/toys.py, default_rule),
on every stance profile of small electorates: 1 to 4 participants and 0 to
3 observers (of the kinds a rule may give a vote). A rule with a threshold tie
is tested with every tie setting it can take (`ties: pass` and `fail`, and for
chambers one where they differ). Nothing here names a rule.
"""

import itertools
from fractions import Fraction

import numpy as np
import pytest

from kpsim.fields import ACTOR_KINDS, OBSERVER_KINDS, PARTICIPANT
from kpsim.rules import (
    ABSTAIN,
    OBJECT,
    RULES,
    SUPPORT,
    ChamberGame,
    CountGame,
    DoubleGame,
    Electorate,
    NoGame,
    WeightGame,
    ceil_share,
)
from kpsim.scenario.load import load_scenario, scenario_yaml
from tests.toys import default_rule

NAMES = sorted(RULES)
GAMES = (CountGame, WeightGame, DoubleGame, ChamberGame, NoGame)
WEIGHTS = [3.0, 1.0, 2.0, 5.0]  # of the participants, all positive and unequal: "w" for rules that weigh


def electorates():
    """(n participants, observers' kinds): every size up to 4 participants and 3 observers."""
    for n in range(1, 5):
        for k in range(len(OBSERVER_KINDS) + 1):
            yield n, OBSERVER_KINDS[:k]


ELECTORATES = list(electorates())


def electorate(n, observers):
    return Electorate(n, (PARTICIPANT,) * n + tuple(observers), {"w": np.array(WEIGHTS[:n])})


def profiles(columns):
    return np.array(list(itertools.product((SUPPORT, ABSTAIN, OBJECT), repeat=columns)), dtype=np.int8)


def cases():
    """Every electorate with every stance profile of its actors."""
    for n, observers in ELECTORATES:
        yield n, observers, electorate(n, observers), profiles(n + len(observers))


def voters(rule, e) -> np.ndarray:
    """The columns whose stance the rule counts."""
    return np.isin(np.asarray(e.kinds), sorted(rule.voter_kinds()))


def with_ties(rule, ties):
    """The rule with `ties` on its threshold, or on every chamber; "mixed": the first chamber fails a tie, the others pass."""
    data = rule.model_dump(mode="json")
    if "chambers" in data:
        data["chambers"] = [{**ch, "ties": ("fail" if j == 0 else "pass") if ties == "mixed" else ties} for j, ch in enumerate(data["chambers"])]
    else:
        data["ties"] = ties
    return type(rule).model_validate(data)


def tie_settings(rule) -> list[str]:
    """The tie settings a rule can take besides its default's: none for a rule without a threshold tie."""
    if rule.tie_rule() is None:
        return []
    many = "chambers" in type(rule).model_fields and len(rule.chambers) > 1
    return [t for t in ("pass", "fail") if t != rule.tie_rule()] + (["mixed"] if many else [])


VARIANTS = [(name, None) for name in NAMES] + [(name, t) for name in NAMES for t in tie_settings(default_rule(name))]


@pytest.fixture
def rule(request, rule_with_defaults):
    name, ties = request.param
    default = rule_with_defaults(name)
    return default if ties is None else with_ties(default, ties)


pytestmark = pytest.mark.parametrize("rule", VARIANTS, indirect=True, ids=[n if t is None else f"{n}-ties_{t}" for n, t in VARIANTS])


def test_passes_is_one_bool_per_row(rule):
    for n, observers, e, s in cases():
        got = rule.passes(s, e)
        assert isinstance(got, np.ndarray) and got.dtype == bool and got.shape == (len(s),), (n, observers)
        assert got.any() and not got.all(), (n, observers)  # the profiles tell passing from failing
        np.testing.assert_array_equal(rule.passes(s[:1], e), got[:1])  # a batch decides each row alone


def test_nothing_passes_that_nobody_supports(rule):
    for n, observers, e, s in cases():
        nobody = ~(s == SUPPORT).any(axis=1)
        assert not rule.passes(s[nobody], e).any(), (n, observers)


def test_what_every_voter_supports_passes(rule):
    for n, observers, e, s in cases():
        all_voters = (s[:, voters(rule, e)] == SUPPORT).all(axis=1)
        assert all_voters.any()
        assert rule.passes(s[all_voters], e).all(), (n, observers)


@pytest.mark.parametrize("before,after", [(OBJECT, ABSTAIN), (ABSTAIN, SUPPORT)], ids=["object->abstain", "abstain->support"])
def test_more_consent_never_turns_a_pass_into_a_failure(rule, before, after):
    for n, observers, e, s in cases():
        passed = rule.passes(s, e)
        for j in range(s.shape[1]):
            rows = s[:, j] == before
            moved = s[rows].copy()
            moved[:, j] = after
            lost = passed[rows] & ~rule.passes(moved, e)
            assert not lost.any(), f"{n} participants, observers {observers}: {s[rows][lost][0]} passes, not with actor {j} {after}"


def test_anonymous_rules_depend_only_on_how_many(rule):
    if not rule.anonymous:
        pytest.skip(f"not applicable: {rule.rule} is not anonymous")
    for n, observers, e, s in cases():
        passed = rule.passes(s, e)
        for perm in itertools.permutations(range(n)):
            shuffled = s.copy()
            shuffled[:, :n] = s[:, list(perm)]
            np.testing.assert_array_equal(rule.passes(shuffled, e), passed, err_msg=f"{n} participants, {observers}, {perm}")


def test_observers_change_nothing_unless_they_vote(rule):
    changed_somewhere = False
    for n, observers, e, s in cases():
        silent = s.copy()
        silent[:, n:] = ABSTAIN
        same = rule.passes(s, e) == rule.passes(silent, e)
        if not rule.observers_vote:
            assert same.all(), (n, observers)
        changed_somewhere |= not same.all()
    # and a rule that says observers vote does let them change an outcome somewhere
    assert changed_somewhere == rule.observers_vote


def test_voters_are_participants_unless_observers_vote(rule):
    assert PARTICIPANT in rule.voter_kinds() or rule.observers_vote
    assert rule.voter_kinds() <= set(ACTOR_KINDS)
    if not rule.observers_vote:
        assert rule.voter_kinds() == {PARTICIPANT}


def test_it_describes_itself(rule):
    assert isinstance(type(rule).summary, str) and type(rule).summary.strip()
    assert isinstance(rule.phrase(), str) and rule.phrase().strip()
    assert isinstance(rule.anonymous, bool) and isinstance(rule.observers_vote, bool)
    assert rule.label == rule.rule  # no display name given: the rule's own name
    assert set(rule.weight_names()) <= {"w"}
    # what a tie does: said by every rule with a threshold tie, and only by those
    assert rule.tie_rule() in ("pass", "fail", "mixed", None)
    phrase = rule.tie_phrase()
    assert (phrase is None) == (rule.tie_rule() is None)
    if rule.tie_rule() in ("pass", "fail"):
        assert phrase == {"pass": "a tie passes", "fail": "a tie fails"}[rule.tie_rule()]
    elif phrase is not None:
        assert phrase.startswith("a tie passes in ") and ", fails in " in phrase


def test_its_game_is_one_of_the_games(rule):
    for n in (1, 2, 3, 4, 60):
        game = rule.game(n)
        assert isinstance(game, GAMES), (n, game)
        if isinstance(game, NoGame):
            assert isinstance(game.reason, str) and game.reason
        if isinstance(game, CountGame):
            assert 1 <= game.quota <= n


def test_its_game_is_the_rule_when_every_voter_takes_a_side(rule):
    """Power indices read a rule as its game: with nobody abstaining, the two must agree."""
    for n, observers, e, _ in cases():
        sided = np.array(list(itertools.product((SUPPORT, OBJECT), repeat=n + len(observers))), dtype=np.int8)
        if isinstance(rule.game(n), ChamberGame):  # its players are every voter, observers too
            game = rule.game(int(voters(rule, e).sum()))
            kinds = np.asarray(e.kinds)
            members = [np.isin(kinds, ch.kinds) for ch in game.chambers]
            if not all(m.any() for m in members):  # a chamber without members: a scenario refuses it
                continue
            want = np.all([(sided[:, m] == SUPPORT).sum(axis=1) >= max(1, ceil_share(ch.q, m.sum())) for ch, m in zip(game.chambers, members)], axis=0)
            np.testing.assert_array_equal(rule.passes(sided, e), want, err_msg=f"{n} participants, {observers}, {game}")
            continue
        game = rule.game(n)
        if isinstance(game, NoGame):
            continue
        support = sided[:, :n] == SUPPORT
        count = support.sum(axis=1)
        w = [Fraction(x) for x in WEIGHTS[:n]]
        weight = np.array([sum((wi for wi, yes in zip(w, row) if yes), Fraction(0)) for row in support], dtype=object)
        if isinstance(game, CountGame):
            want = count >= game.quota
        elif isinstance(game, WeightGame):
            want = (weight > 0) & (weight >= game.q * sum(w))
        else:  # DoubleGame
            want = (count >= game.count_quota) & (weight > 0) & (weight >= game.weight_q * sum(w))
        np.testing.assert_array_equal(rule.passes(sided, e), want.astype(bool), err_msg=f"{n} participants, {observers}, {game}")


def test_a_count_threshold_is_a_fraction_and_means_what_it_says(rule):
    q = rule.count_threshold()
    if q is None:
        return
    assert isinstance(q, Fraction) and 0 < q <= 1
    label = rule.threshold_label()
    assert isinstance(label, str) and label
    assert rule.anonymous  # a count of supporters among those taking a side depends on counts only
    strict = rule.tie_rule() == "fail"  # more than q, not q exactly: and the label says so ("> 1/2")
    assert label.startswith(">") == strict and (label == "unanimity") == (q == 1)
    for n, observers, e, s in cases():
        sup = (s[:, :n] == SUPPORT).sum(axis=1)
        sided = sup + (s[:, :n] == OBJECT).sum(axis=1)
        want = (sup > 0) & ((sup > q * sided) if strict else (sup >= q * sided))
        np.testing.assert_array_equal(rule.passes(s, e), want, err_msg=f"{n} participants, {observers}")


def test_it_round_trips_through_the_scenario_schema(rule, toy_scenario, tmp_path):
    """A scenario with the rule validates (participants weighted "w", an observer of every kind), and reads back the same."""
    dumped = rule.model_dump(mode="json", exclude_none=True)
    sc = toy_scenario(("a", "b", "c", "d"), [dumped], observers=OBSERVER_KINDS, weights=[{"w": x} for x in WEIGHTS], proposal={})
    assert sc.rules == [rule] and type(sc.rules[0]) is type(rule)
    path = tmp_path / "with_rule.yaml"
    path.write_text(scenario_yaml(sc))
    assert load_scenario(path).rules == [rule]
    # the players of its game (kpsim.analysis.rulepower) include every actor whose stance it counts
    assert {a.id for a in sc.actors if a.kind in rule.voter_kinds()} <= {a.id for a in sc.voters(rule)}
