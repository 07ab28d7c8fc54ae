"""Every rule against a plain-loop reference on every stance profile of small electorates."""

import itertools
from fractions import Fraction

import numpy as np
import pytest

from kpsim.rules import ABSTAIN, OBJECT, RULES, SUPPORT, Electorate, decide

ALL = (SUPPORT, ABSTAIN, OBJECT)


def profiles(n):
    return np.array(list(itertools.product(ALL, repeat=n)), dtype=np.int8)


def params(rule, **kw):
    return RULES[rule].params(rule=rule, **kw)


def electorate(n, weights=None, observers=()):
    kinds = ("participant",) * n + tuple(observers)
    return Electorate(n, kinds, {"w": np.asarray(weights if weights is not None else np.ones(n), dtype=float)})


def counts(row):
    return sum(1 for s in row if s == SUPPORT), sum(1 for s in row if s == OBJECT)


def reference(rule, row, w=None, **kw):
    sup, obj = counts(row)
    if rule == "consensus":
        return obj == 0 and sup >= 1
    if rule == "consensus_minus_k":
        return obj <= kw["k"] and sup >= 1
    if rule == "simple_majority":
        return sup > obj
    if rule == "qualified_majority":
        return sup >= 1 and Fraction(sup) >= Fraction(kw["q"]) * (sup + obj)
    if rule == "written_procedure":
        return sup >= kw["min_support"] and obj == 0
    if rule == "weighted_majority":
        ws = sum(wi for wi, s in zip(w, row) if s == SUPPORT)
        wo = sum(wi for wi, s in zip(w, row) if s == OBJECT)
        base = ws + wo if kw.get("base", "voting") == "voting" else sum(w)
        return ws > 0 and Fraction(ws) >= Fraction(kw["q"]) * base
    raise AssertionError(rule)


CASES = [
    ("consensus", {}),
    ("consensus_minus_k", {"k": 0}),
    ("consensus_minus_k", {"k": 2}),
    ("simple_majority", {}),
    ("qualified_majority", {"q": "2/3"}),
    ("qualified_majority", {"q": "3/4"}),
    ("qualified_majority", {"q": "1/2"}),
    ("written_procedure", {"min_support": 2}),
]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("rule,kw", CASES)
def test_count_rules_exhaustive(rule, kw, n):
    s = profiles(n)
    got = decide(s, electorate(n), params(rule, **kw))
    want = np.array([reference(rule, row, **kw) for row in s])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("base", ["voting", "all"])
@pytest.mark.parametrize("q", ["1/2", "2/3"])
def test_weighted_majority_exhaustive(q, base):
    w = [5, 3, 2, 2, 1]  # integers: exact reference arithmetic
    s = profiles(len(w))
    got = decide(s, electorate(len(w), w), params("weighted_majority", weight="w", q=q, base=base))
    want = np.array([reference("weighted_majority", row, w, q=q, base=base) for row in s])
    np.testing.assert_array_equal(got, want)


def test_double_majority_is_both_thresholds():
    w = [5, 1, 1, 1, 1]
    s = profiles(len(w))
    e = electorate(len(w), w)
    got = decide(s, e, params("double_majority", q="1/2", weight="w", weight_q="1/2"))
    count = np.array([reference("qualified_majority", r, q="1/2") for r in s])
    weight = np.array([reference("weighted_majority", r, w, q="1/2") for r in s])
    np.testing.assert_array_equal(got, count & weight)
    assert (count & ~weight).any() and (weight & ~count).any()  # the two thresholds really differ here


def test_ties_and_abstention():
    e = electorate(4)
    cons, maj = params("consensus"), params("simple_majority")
    two = np.array([[SUPPORT, SUPPORT, OBJECT, OBJECT]], dtype=np.int8)
    assert not decide(two, e, maj)[0]  # a tie is not a majority
    abst = np.array([[SUPPORT, ABSTAIN, ABSTAIN, ABSTAIN]], dtype=np.int8)
    assert decide(abst, e, cons)[0]  # abstention never blocks consensus
    assert decide(abst, e, maj)[0]
    none = np.array([[ABSTAIN] * 4], dtype=np.int8)
    assert not decide(none, e, cons)[0]  # a text nobody supports is not adopted


def test_chambers_give_observers_a_vote_and_rules_ignore_them():
    # two participants, one industry, one civil society observer
    e = electorate(2, observers=("industry", "civil_society"))
    s = profiles(4)
    got = decide(s, e, params("chambers"))
    def chamber_ok(chamber):
        sup, obj = counts(chamber)
        return sup + obj == 0 or Fraction(sup) >= Fraction(1, 2) * (sup + obj)  # all abstaining: no block

    want = np.array(
        [all(chamber_ok(ch) for ch in (row[:2], row[2:3], row[3:4])) and SUPPORT in row for row in s]
    )
    np.testing.assert_array_equal(got, want)
    # every other rule reads participants only: observer columns never change a decision
    for rule, kw in CASES:
        d = decide(s, e, params(rule, **kw))
        base = decide(s[:, :2], electorate(2), params(rule, **kw))
        np.testing.assert_array_equal(d, base)


def test_two_thirds_of_sixty_is_exactly_forty():
    e = electorate(60)
    row = np.array([[SUPPORT] * 40 + [OBJECT] * 20, [SUPPORT] * 39 + [OBJECT] * 21], dtype=np.int8)
    np.testing.assert_array_equal(decide(row, e, params("qualified_majority", q="2/3")), [True, False])
    # a float threshold is read as the nearest simple fraction, not 0.66666… rounded down
    np.testing.assert_array_equal(decide(row, e, params("qualified_majority", q=2 / 3)), [True, False])


def test_default_thresholds_are_exact_fractions():
    from kpsim.scenario import Scenario

    sc = Scenario.model_validate(
        {
            "name": "d",
            "actors": [{"id": "a"}, {"id": "i", "kind": "industry"}, {"id": "c", "kind": "civil_society"}],
            "proposal": {},
            "rules": [{"rule": "qualified_majority"}, {"rule": "chambers"}],
        }
    )
    assert sc.rules[0].q == Fraction(2, 3)
    assert all(isinstance(ch.q, Fraction) for ch in sc.rules[1].chambers)
