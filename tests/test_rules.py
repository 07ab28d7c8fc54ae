"""Every rule against a plain-loop reference on every stance profile of small electorates."""

import itertools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest

from kpsim.rules import ABSTAIN, OBJECT, RULES, SUPPORT, Electorate, tally

ALL = (SUPPORT, ABSTAIN, OBJECT)


def profiles(n):
    return np.array(list(itertools.product(ALL, repeat=n)), dtype=np.int8)


def params(rule, **kw):
    return RULES[rule](rule=rule, **kw)


def electorate(n, weights=None, observers=()):
    kinds = ("participant",) * n + tuple(observers)
    return Electorate(n, kinds, {"w": np.asarray(weights if weights is not None else np.ones(n), dtype=float)})


def counts(row):
    return sum(1 for s in row if s == SUPPORT), sum(1 for s in row if s == OBJECT)


# ------------------------------------------------------------------ the reference: one plain loop per rule, by name
# Each reads the rule's parameters (its `ties` too) and one Profile. A rule registered in kpsim.rules.RULES
# without an entry here fails test_every_rule_has_a_reference (and every test that meets it).


@dataclass(frozen=True)
class Profile:
    """One row of stances: every actor's with its kind, and the participants' alone, counted, with their weights "w"."""

    row: tuple
    kinds: tuple
    w: tuple | None

    @property
    def participants(self):
        return [s for s, kind in zip(self.row, self.kinds) if kind == "participant"]

    @property
    def sup(self):
        return counts(self.participants)[0]

    @property
    def obj(self):
        return counts(self.participants)[1]


def at_least(part, whole, q, ties="pass"):
    """part reaches q of whole: exactly q is enough if a tie passes, more than q is needed if it fails."""
    exact = Fraction(q) * whole
    return Fraction(part) >= exact if ties == "pass" else Fraction(part) > exact


def weighted(v: Profile, q, base, ties="pass"):
    ws = sum(wi for wi, s in zip(v.w, v.participants) if s == SUPPORT)
    wo = sum(wi for wi, s in zip(v.w, v.participants) if s == OBJECT)
    return ws > 0 and at_least(ws, ws + wo if base == "voting" else sum(v.w), q, ties)


def chambers_pass(p, v: Profile):
    """Every chamber approves by its q and ties of those taking a side (all abstaining: no block), and someone in a chamber supports."""
    members = [[s for s, kind in zip(v.row, v.kinds) if kind in ch.kinds] for ch in p.chambers]
    approve = all(
        sup + obj == 0 or at_least(sup, sup + obj, ch.q, ch.ties) for ch, (sup, obj) in zip(p.chambers, map(counts, members))
    )
    return approve and any(SUPPORT in m for m in members)


def simple_majority(p, v: Profile):
    """More supporters than objectors; with ties: pass as many will do, if anyone supports."""
    return v.sup > v.obj if p.ties == "fail" else v.sup >= 1 and v.sup >= v.obj


REFERENCE = {
    "consensus": lambda p, v: v.obj == 0 and v.sup >= 1,
    "consensus_minus_k": lambda p, v: v.obj <= p.k and v.sup >= 1,
    "simple_majority": simple_majority,
    "qualified_majority": lambda p, v: v.sup >= 1 and at_least(v.sup, v.sup + v.obj, p.q, p.ties),
    "written_procedure": lambda p, v: v.sup >= p.min_support and v.obj == 0,
    "weighted_majority": lambda p, v: weighted(v, p.q, p.base, p.ties),
    "double_majority": lambda p, v: (
        v.sup >= 1 and at_least(v.sup, v.sup + v.obj, p.q, p.ties) and weighted(v, p.weight_q, p.base, p.ties)
    ),
    "chambers": chambers_pass,
}


def reference(p, row, w=None, kinds=None):
    """Does `row` pass rule `p`? Without `kinds`, every actor is a participant."""
    return REFERENCE[p.rule](p, Profile(tuple(row), tuple(kinds or ("participant",) * len(row)), None if w is None else tuple(w)))


def test_every_rule_has_a_reference():
    """A new rule must come with its plain-loop reference here, not be skipped silently."""
    assert set(REFERENCE) == set(RULES)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_with_default_parameters_exhaustive(name, n, rule_with_defaults):
    """Participants, an observer of every other kind, weights that differ: the rule against its reference."""
    rule = rule_with_defaults(name)
    observers = ("industry", "civil_society", "intergovernmental")
    w = [5, 3, 2, 1][:n]  # integers: exact reference arithmetic
    e = electorate(n, w, observers)
    s = profiles(n + len(observers))
    want = np.array([reference(rule, row, w, e.kinds) for row in s])
    np.testing.assert_array_equal(rule.passes(s, e), want)
    assert want.any() and not want.all()  # the profiles tell passing from failing


CASES = [
    ("consensus", {}),
    ("consensus_minus_k", {"k": 0}),
    ("consensus_minus_k", {"k": 2}),
    ("simple_majority", {}),
    ("simple_majority", {"ties": "pass"}),
    ("qualified_majority", {"q": "2/3"}),
    ("qualified_majority", {"q": "3/4"}),
    ("qualified_majority", {"q": "1/2"}),
    ("qualified_majority", {"q": "2/3", "ties": "fail"}),
    ("qualified_majority", {"q": "3/4", "ties": "fail"}),
    ("qualified_majority", {"q": "1/2", "ties": "fail"}),
    ("written_procedure", {"min_support": 2}),
]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("rule,kw", CASES)
def test_count_rules_exhaustive(rule, kw, n):
    s = profiles(n)
    p = params(rule, **kw)
    got = p.passes(s, electorate(n))
    want = np.array([reference(p, row) for row in s])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("ties", ["pass", "fail"])
@pytest.mark.parametrize("base", ["voting", "all"])
@pytest.mark.parametrize("q", ["1/2", "2/3"])
def test_weighted_majority_exhaustive(q, base, ties):
    w = [5, 3, 2, 2, 1]  # integers: exact reference arithmetic
    s = profiles(len(w))
    p = params("weighted_majority", weight="w", q=q, base=base, ties=ties)
    got = p.passes(s, electorate(len(w), w))
    want = np.array([reference(p, row, w) for row in s])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("ties", ["pass", "fail"])
def test_double_majority_is_both_thresholds(ties):
    w = [5, 1, 1, 1, 1]
    s = profiles(len(w))
    e = electorate(len(w), w)
    got = params("double_majority", q="1/2", weight="w", weight_q="1/2", ties=ties).passes(s, e)
    count = np.array([reference(params("qualified_majority", q="1/2", ties=ties), r) for r in s])
    weight = np.array([reference(params("weighted_majority", weight="w", q="1/2", ties=ties), r, w) for r in s])
    np.testing.assert_array_equal(got, count & weight)
    assert (count & ~weight).any() and (weight & ~count).any()  # the two thresholds really differ here


def test_ties_and_abstention():
    e = electorate(4)
    cons, maj = params("consensus"), params("simple_majority")
    two = np.array([[SUPPORT, SUPPORT, OBJECT, OBJECT]], dtype=np.int8)
    assert not maj.passes(two, e)[0]  # a tie is not a majority
    abst = np.array([[SUPPORT, ABSTAIN, ABSTAIN, ABSTAIN]], dtype=np.int8)
    assert cons.passes(abst, e)[0]  # abstention never blocks consensus
    assert maj.passes(abst, e)[0]
    none = np.array([[ABSTAIN] * 4], dtype=np.int8)
    assert not cons.passes(none, e)[0]  # a text nobody supports is not adopted


def test_chambers_give_observers_a_vote_and_rules_ignore_them():
    # two participants, one industry, one civil society observer
    e = electorate(2, observers=("industry", "civil_society"))
    s = profiles(4)
    got = params("chambers").passes(s, e)
    def chamber_ok(chamber):
        sup, obj = counts(chamber)
        return sup + obj == 0 or Fraction(sup) >= Fraction(1, 2) * (sup + obj)  # all abstaining: no block

    want = np.array(
        [all(chamber_ok(ch) for ch in (row[:2], row[2:3], row[3:4])) and SUPPORT in row for row in s]
    )
    np.testing.assert_array_equal(got, want)
    # every other rule reads participants only: observer columns never change a decision
    for rule, kw in CASES:
        d = params(rule, **kw).passes(s, e)
        base = params(rule, **kw).passes(s[:, :2], electorate(2))
        np.testing.assert_array_equal(d, base)


def test_two_thirds_of_sixty_is_exactly_forty():
    e = electorate(60)
    row = np.array([[SUPPORT] * 40 + [OBJECT] * 20, [SUPPORT] * 39 + [OBJECT] * 21], dtype=np.int8)
    np.testing.assert_array_equal(params("qualified_majority", q="2/3").passes(row, e), [True, False])
    # a float threshold is read as the nearest simple fraction, not 0.66666… rounded down
    np.testing.assert_array_equal(params("qualified_majority", q=2 / 3).passes(row, e), [True, False])


def test_default_thresholds_are_exact_fractions():
    from kpsim.scenario.schema import Scenario

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


@pytest.mark.parametrize("n", [0, 1, 64, 65, 300, 2**15 - 1, 2**15])
def test_tally_counts_exactly_at_every_width(n):
    """Narrow stance matrices are counted by a float32 product, wide ones by int16 sums (int64 from 2**15 columns)."""
    s = np.random.default_rng(n).choice(np.array([OBJECT, ABSTAIN, SUPPORT], dtype=np.int8), size=(6, n))
    s[0], s[1] = SUPPORT, OBJECT  # the largest sums a width allows
    sup, obj = tally(s)
    assert sup.dtype == obj.dtype == np.int64
    np.testing.assert_array_equal(sup, (s == SUPPORT).sum(axis=1))
    np.testing.assert_array_equal(obj, (s == OBJECT).sum(axis=1))
