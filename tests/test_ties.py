"""Ties said, not implied: what each rule does with supporters exactly at its threshold (`ties: pass | fail`).

A tie is supporters exactly at the threshold: as many supporting as objecting
for a simple majority, supporters = q × those taking a side for an "at least q"
rule. Every rule with a threshold (and every chamber) says what a tie does, the
defaults keep what each rule did before the field existed, and the console and
the brief say it.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

from kpsim.analysis.rulepower import rule_power
from kpsim.analysis.summary import format_ties
from kpsim.cli import main
from kpsim.output.i18n import language, rule_words, rules_compared
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
from tests.test_rules import reference
from tests.test_rules_contract import VARIANTS, with_ties
from tests.toys import default_rule

ALL = (SUPPORT, ABSTAIN, OBJECT)
OBSERVERS = ("industry", "civil_society", "intergovernmental")
TIED = sorted(name for name in RULES if default_rule(name).tie_rule() is not None)


def profiles(columns):
    return np.array(list(itertools.product(ALL, repeat=columns)), dtype=np.int8)


def electorate(n, w=None, observers=()):
    return Electorate(n, ("participant",) * n + tuple(observers), {"w": np.asarray(w if w is not None else np.ones(n), dtype=float)})


def rule(rule_name, **kw):
    return RULES[rule_name](rule=rule_name, **kw)


def tally(s):
    return (s == SUPPORT).sum(axis=1), (s == OBJECT).sum(axis=1)


def test_the_rules_with_a_threshold_tie_are_the_ones_with_a_threshold():
    assert TIED == ["chambers", "double_majority", "qualified_majority", "simple_majority", "weighted_majority"]
    for name in set(RULES) - set(TIED):  # consensus, consensus minus k, written procedure: no threshold tie, no field
        assert "ties" not in RULES[name].model_fields and default_rule(name).tie_phrase() is None


def test_every_tie_setting_is_exercised_by_the_contract_tests():
    for name in RULES:
        seen = {(with_ties(default_rule(name), t) if t else default_rule(name)).tie_rule() for n, t in VARIANTS if n == name}
        assert seen == ({None} if name not in TIED else ({"pass", "fail", "mixed"} if name == "chambers" else {"pass", "fail"}))


# ------------------------------------------------------------------ both settings against the plain-loop references


@pytest.mark.parametrize("ties", ["pass", "fail"])
@pytest.mark.parametrize("name", TIED)
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_both_settings_against_the_references_exhaustive(name, n, ties):
    """Default parameters with each tie setting, participants weighted unequally, an observer of every kind."""
    r = with_ties(default_rule(name), ties)
    assert r.tie_rule() == ties
    w = [5, 3, 2, 2][:n]  # integers: exact reference arithmetic; 5 | 3 2 and 3 2 | 5: weight ties exist
    e = electorate(n, w, OBSERVERS)
    s = profiles(n + len(OBSERVERS))
    want = np.array([reference(r, row, w, e.kinds) for row in s])
    np.testing.assert_array_equal(r.passes(s, e), want)


@pytest.mark.parametrize("n", range(1, 9))
def test_with_ties_pass_a_simple_majority_is_a_qualified_majority_of_one_half(n):
    s, e = profiles(n), electorate(n)
    np.testing.assert_array_equal(
        rule("simple_majority", ties="pass").passes(s, e), rule("qualified_majority", q="1/2", ties="pass").passes(s, e)
    )


@pytest.mark.parametrize("n", range(1, 9))
def test_with_ties_fail_a_qualified_majority_of_one_half_is_the_simple_majority(n):
    s, e = profiles(n), electorate(n)
    sup, obj = tally(s)
    strict = rule("qualified_majority", q="1/2", ties="fail")
    np.testing.assert_array_equal(strict.passes(s, e), sup > obj)  # the simple majority's formula before ties existed
    np.testing.assert_array_equal(strict.passes(s, e), rule("simple_majority").passes(s, e))
    assert strict.threshold_label() == rule("simple_majority").threshold_label() == "> 1/2"
    assert strict.phrase() == "a simple majority"
    assert strict.game(n) == rule("simple_majority").game(n)


@pytest.mark.parametrize("n", [2, 4, 6])
def test_a_tie_is_what_tells_the_settings_apart(n):
    """On an even electorate split down the middle only the tie setting decides."""
    e = electorate(n)
    tie = np.array([[SUPPORT] * (n // 2) + [OBJECT] * (n // 2)], dtype=np.int8)
    for name, kw in [("simple_majority", {}), ("qualified_majority", {"q": "1/2"})]:
        assert rule(name, **kw, ties="pass").passes(tie, e)[0] and not rule(name, **kw, ties="fail").passes(tie, e)[0]
    nobody = np.array([[ABSTAIN] * n], dtype=np.int8)  # 0 of 0 is a tie nobody supports: never passes
    assert not rule("simple_majority", ties="pass").passes(nobody, e)[0]


# ------------------------------------------------------------------ the defaults are the rules as they were


def old_weighted(s, w, q, base):
    """kpsim.rules._weighted_pass before ties existed, copied."""
    q = Fraction(q)
    sup_w = (s == SUPPORT) @ w
    side_w = sup_w + (s == OBJECT) @ w if base == "voting" else np.full(len(s), w.sum())
    return (sup_w > 0) & (sup_w * q.denominator >= side_w * q.numerator - 1e-9 * np.maximum(side_w, 1e-300) * q.numerator)


def old_at_least(part, whole, q):
    q = Fraction(q)
    return part * q.denominator >= whole * q.numerator


def old_passes(r, s, e):
    """Each rule's `passes` before ties existed, copied."""
    p = s[:, : e.n_participants]
    sup, obj = tally(p)
    if r.rule == "simple_majority":
        return sup > obj
    if r.rule == "qualified_majority":
        return (sup > 0) & old_at_least(sup, sup + obj, r.q)
    if r.rule == "weighted_majority":
        return old_weighted(p, e.weights[r.weight], r.q, r.base)
    if r.rule == "double_majority":
        return (sup > 0) & old_at_least(sup, sup + obj, r.q) & old_weighted(p, e.weights[r.weight], r.weight_q, r.base)
    kinds = np.asarray(e.kinds)
    ok, anyone = np.ones(len(s), dtype=bool), np.zeros(len(s), dtype=bool)
    for ch in r.chambers:
        c_sup, c_obj = tally(s[:, np.isin(kinds, ch.kinds)])
        ok &= old_at_least(c_sup, c_sup + c_obj, ch.q)
        anyone |= c_sup > 0
    return ok & anyone


def old_game(r, n):
    if r.rule == "simple_majority":
        return CountGame(n // 2 + 1)
    if r.rule == "qualified_majority":
        return CountGame(max(1, ceil_share(r.q, n)))
    if r.rule == "weighted_majority":
        return WeightGame(r.weight, Fraction(r.q))
    if r.rule == "double_majority":
        return DoubleGame(max(1, ceil_share(r.q, n)), r.weight, Fraction(r.weight_q))
    return ChamberGame(r.chambers)


DEFAULT_CASES = [
    ("simple_majority", {}),
    ("qualified_majority", {"q": "1/2"}),
    ("qualified_majority", {"q": "2/3"}),
    ("qualified_majority", {"q": "3/4"}),
    ("qualified_majority", {"q": "1"}),
    ("weighted_majority", {"weight": "w", "q": "1/2"}),
    ("weighted_majority", {"weight": "w", "q": "2/3", "base": "all"}),
    ("weighted_majority", {"weight": "w", "q": "3/10"}),
    ("double_majority", {"weight": "w"}),
    ("double_majority", {"weight": "w", "q": "2/3", "weight_q": "3/5", "base": "all"}),
    ("chambers", {}),
    ("chambers", {"chambers": [{"name": "g", "kinds": ["participant"], "q": "2/3"}, {"name": "o", "kinds": ["industry", "civil_society"]}]}),
]


@pytest.mark.parametrize("name,kw", DEFAULT_CASES)
def test_defaults_decide_every_profile_as_before(name, kw):
    """Bit for bit: `passes` on every profile and the game, against the formulas before ties existed (float weights too)."""
    r = rule(name, **kw)
    assert r.tie_rule() == ("fail" if name == "simple_majority" else "pass")
    for n, w in [(3, [0.1, 0.2, 0.3]), (5, [0.1, 0.2, 0.3, 0.7, 0.35]), (4, [5.0, 3.0, 2.0, 2.0])]:
        e = electorate(n, w, ("industry", "civil_society"))
        s = profiles(n + 2)
        np.testing.assert_array_equal(r.passes(s, e), old_passes(r, s, e))
    for n in range(1, 61):
        assert r.game(n) == old_game(r, n)


# ------------------------------------------------------------------ weights: "exactly at" within the float tolerance

DECIMALS = ["0.1", "0.2", "0.3", "0.4", "0.15", "0.35"]  # ties at each q below, of those taking a side and of all (1.5)


@pytest.mark.parametrize("ties", ["pass", "fail"])
@pytest.mark.parametrize("base", ["voting", "all"])
@pytest.mark.parametrize("q", ["1/2", "1/3", "3/10", "2/3"])
def test_a_weight_tie_that_rounding_hides_is_still_a_tie(q, base, ties):
    """Weights as decimals: the float sums land a hair above or below q × the base; the rule decides as exact arithmetic would."""
    exact = [Fraction(x) for x in DECIMALS]
    w = np.array([float(x) for x in DECIMALS])
    s, e = profiles(len(w)), electorate(len(w), w)
    got = rule("weighted_majority", weight="w", q=q, base=base, ties=ties).passes(s, e)
    qf, tied = Fraction(q), 0
    for row, passed in zip(s, got):
        sup = sum((x for x, st in zip(exact, row) if st == SUPPORT), Fraction(0))
        side = sup + sum((x for x, st in zip(exact, row) if st == OBJECT), Fraction(0)) if base == "voting" else sum(exact)
        want = sup > 0 and (sup >= qf * side if ties == "pass" else sup > qf * side)
        assert passed == want, (row, sup, side)
        tied += sup > 0 and sup == qf * side
    assert tied  # the electorate has exact ties at this q and base


def test_rounding_puts_some_weight_ties_above_the_threshold():
    """The tolerance matters: without it, `fail` would pass this tie (3 × (0.1 + 0.2) > 0.9 in floats)."""
    w = np.array([0.1, 0.2, 0.6])
    e = electorate(3, w)
    tie = np.array([[SUPPORT, SUPPORT, OBJECT]], dtype=np.int8)  # 0.1 + 0.2 of 0.1 + 0.2 + 0.6: a tie at q = 1/3
    assert (0.1 + 0.2) * 3 > (0.1 + 0.2) + 0.6  # float arithmetic says "above"
    assert rule("weighted_majority", weight="w", q="1/3", ties="pass").passes(tie, e)[0]
    assert not rule("weighted_majority", weight="w", q="1/3", ties="fail").passes(tie, e)[0]
    assert not rule("double_majority", weight="w", q="1/3", weight_q="1/3", ties="fail").passes(tie, e)[0]  # its weight test is the same
    assert rule("double_majority", weight="w", q="1/3", weight_q="1/3", ties="pass").passes(tie, e)[0]


# ------------------------------------------------------------------ chambers


@pytest.mark.parametrize("ties", ["pass", "fail"])
def test_a_chamber_where_nobody_takes_a_side_never_blocks(ties):
    chambers = [{"name": "g", "kinds": ["participant"], "ties": ties}, {"name": "i", "kinds": ["industry"], "q": "2/3", "ties": ties}]
    r = rule("chambers", chambers=chambers)
    e = electorate(3, observers=("industry", "industry"))
    s = profiles(5)
    silent = (s[:, 3:] == ABSTAIN).all(axis=1)
    sup, obj = tally(s[silent, :3])
    governments = (sup > 0) & ((sup >= obj) if ties == "pass" else (sup > obj))
    np.testing.assert_array_equal(r.passes(s[silent], e), governments)  # the industry chamber, all abstaining, never blocks
    both_silent = silent & (s[:, :3] == ABSTAIN).all(axis=1)
    assert not r.passes(s[both_silent], e).any()  # and nobody supporting anywhere passes nothing


def test_chambers_say_their_ties_per_chamber():
    mixed = rule("chambers", chambers=[
        {"name": "governments", "kinds": ["participant"]},
        {"name": "industry", "kinds": ["industry"], "ties": "fail"},
        {"name": "civil_society", "kinds": ["civil_society"], "ties": "fail"},
    ])
    assert mixed.tie_rule() == "mixed"
    assert mixed.tie_phrase() == "a tie passes in governments, fails in industry and civil_society"
    assert rule("chambers").tie_rule() == "pass" and rule("chambers").tie_phrase() == "a tie passes"


@pytest.mark.parametrize("q", ["1/2", "2/3", "3/4", "3/5", "9/10", "1/3"])
def test_the_chamber_game_of_a_failing_tie_has_the_quotas_of_more_than_q(q):
    """Chambers.game writes "more than q of m" as "at least q' of m", exactly, for every m up to the players."""
    r = rule("chambers", chambers=[{"name": "g", "kinds": ["participant"], "q": q, "ties": "fail"}])
    qf = Fraction(q)
    for n in range(1, 80):
        (ch,) = r.game(n).chambers
        assert [max(1, ceil_share(ch.q, m)) for m in range(n + 1)] == [math.floor(qf * m) + 1 for m in range(n + 1)], n
        assert [r.chambers[0].quota(m) for m in range(n + 1)] == [math.floor(qf * m) + 1 for m in range(n + 1)]


@pytest.mark.parametrize("ties", ["pass", "fail"])
def test_power_indices_of_chambers_follow_their_ties(toy_scenario, ties):
    """Coleman's power to act (kpsim.analysis.rulepower) against a brute-force count of the rule itself, every voter taking a side."""
    chambers = [{"name": "governments", "kinds": ["participant"], "ties": ties}, {"name": "observers", "kinds": ["industry", "civil_society"], "ties": ties}]
    sc = toy_scenario(4, [{"rule": "chambers", "chambers": chambers}], observers=("industry", "civil_society", "industry", "civil_society"))
    r = sc.rules[0]
    e = Electorate(4, tuple(a.kind for a in sc.actors), {})
    sided = np.array(list(itertools.product((SUPPORT, OBJECT), repeat=len(sc.actors))), dtype=np.int8)
    power = rule_power(sc, "chambers")
    assert power.coleman_power_to_act == pytest.approx(r.passes(sided, e).mean(), abs=1e-12)
    assert power.game == {"pass": "governments ≥ 2 of 4 and observers ≥ 2 of 4", "fail": "governments ≥ 3 of 4 and observers ≥ 3 of 4"}[ties]


# ------------------------------------------------------------------ what the hooks say


@pytest.mark.parametrize(
    "name,kw,tie,label,phrase",
    [
        ("simple_majority", {}, "fail", "> 1/2", "a simple majority"),
        ("simple_majority", {"ties": "pass"}, "pass", "≥ 1/2", "a majority of at least half"),
        ("qualified_majority", {"q": "1/2"}, "pass", "≥ 1/2", "a 1/2 majority"),
        ("qualified_majority", {"q": "1/2", "ties": "fail"}, "fail", "> 1/2", "a simple majority"),
        ("qualified_majority", {}, "pass", "≥ 2/3", "a two-thirds majority"),
        ("qualified_majority", {"ties": "fail"}, "fail", "> 2/3", "a majority of more than two-thirds"),
        ("qualified_majority", {"q": "1"}, "pass", "unanimity", "unanimity"),
        ("consensus", {}, None, "unanimity", "consensus"),
        ("consensus_minus_k", {"k": 1}, None, None, "the consensus minus k rule"),
        ("written_procedure", {}, None, None, "the written procedure rule"),
    ],
)
def test_tie_rule_label_and_phrase(name, kw, tie, label, phrase):
    r = rule(name, **kw)
    assert (r.tie_rule(), r.threshold_label(), r.phrase()) == (tie, label, phrase)
    assert r.tie_phrase() == {"pass": "a tie passes", "fail": "a tie fails", None: None}[tie]


@pytest.mark.parametrize("n", range(1, 40))
def test_games_honour_ties(n):
    assert rule("simple_majority").game(n) == CountGame(n // 2 + 1)
    assert rule("simple_majority", ties="pass").game(n) == CountGame(math.ceil(n / 2))
    for q in ("1/2", "2/3", "3/4", "3/5"):
        assert rule("qualified_majority", q=q).game(n) == CountGame(max(1, math.ceil(Fraction(q) * n)))
        assert rule("qualified_majority", q=q, ties="fail").game(n) == CountGame(math.floor(Fraction(q) * n) + 1)
    for name in ("weighted_majority", "double_majority"):  # the weight games are "at least q": no game, said why
        game = rule(name, weight="w", ties="fail").game(n)
        assert isinstance(game, NoGame) and "ties: fail" in game.reason


# ------------------------------------------------------------------ the scenario file


def validate(tmp_path, toy_yaml, rules):
    p = tmp_path / "ties.yaml"
    p.write_text(toy_yaml(rules=rules))
    return p, CliRunner().invoke(main, ["validate", str(p)])


def test_the_schema_accepts_ties(tmp_path, toy_yaml):
    chambers = {"rule": "chambers", "chambers": [{"name": "g", "kinds": ["participant"], "ties": "fail"}, {"name": "o", "kinds": ["industry"]}]}
    _, res = validate(tmp_path, toy_yaml, [{"rule": "simple_majority", "ties": "pass"}, {"rule": "qualified_majority", "ties": "fail"}, chambers])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize(
    "rules,field,value",
    [
        ([{"rule": "simple_majority", "ties": "maybe"}], "rules[1].ties", "'maybe'"),
        ([{"rule": "weighted_majority", "weight": "w", "ties": True}], "rules[1].ties", "True"),
        ([{"rule": "chambers", "chambers": [{"name": "g", "kinds": ["participant"], "ties": "Fail"}]}], "rules[1].chambers[0].ties", "'Fail'"),
    ],
)
def test_the_schema_refuses_other_values_naming_the_allowed_ones(tmp_path, toy_yaml, rules, field, value):
    p, res = validate(tmp_path, toy_yaml, ["consensus", *rules])
    assert res.exit_code == 2
    line = p.read_text().splitlines().index(next(x for x in p.read_text().splitlines() if "ties" in x)) + 1
    assert f"{p}:{line}: {field} = {value} — must be 'pass' or 'fail'" in res.output


@pytest.mark.parametrize("r", [{"rule": "qualified_majority", "q": "1", "ties": "fail"}, {"rule": "double_majority", "weight": "w", "weight_q": "1", "ties": "fail"}])
def test_a_threshold_of_one_whose_tie_fails_is_refused(tmp_path, toy_yaml, r):
    """More than all of those taking a side never happens: a rule that could never pass is an error, not a result."""
    p, res = validate(tmp_path, toy_yaml, [r])
    assert res.exit_code == 2
    assert f"{p}:" in res.output and "ties = 'fail'" in res.output and "never happens — use ties: pass" in res.output


# ------------------------------------------------------------------ said where results are shown


def test_the_console_line():
    rules = [
        rule("consensus"),
        rule("qualified_majority", name="two_thirds"),
        rule("simple_majority"),
        rule("chambers", name="tripartite"),
        rule("qualified_majority", q="1/2", ties="fail", name="strict_half"),
    ]
    assert format_ties(rules) == (
        "ties (supporters exactly at the threshold): pass — two_thirds, tripartite; fail — simple_majority, strict_half"
    )
    mixed = rule("chambers", name="mixed", chambers=[{"name": "g", "kinds": ["participant"]}, {"name": "i", "kinds": ["industry"], "ties": "fail"}])
    assert format_ties([rule("simple_majority"), mixed]) == (
        "ties (supporters exactly at the threshold): fail — simple_majority; by chamber — mixed (passes in g, fails in i)"
    )
    assert format_ties([rule("consensus"), rule("written_procedure")]) is None  # no threshold, no line


def test_compare_prints_the_ties_under_its_table(tmp_path, toy_yaml):
    rules = ["consensus", "simple_majority", {"rule": "qualified_majority", "q": "1/2", "name": "half"}, {"rule": "chambers", "name": "tripartite"}]
    p = tmp_path / "s.yaml"
    p.write_text(toy_yaml(rules=rules, horizon=6))
    res = CliRunner().invoke(main, ["compare", str(p), "--reps", "40", "--jobs", "1", "--no-charts", "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    at = lines.index("ties (supporters exactly at the threshold): pass — half, tripartite; fail — simple_majority")
    # under the table and its win-set legend
    assert lines[at - 2].startswith("tripartite ") and lines[at - 1].startswith("win-set: ") and lines[at + 2].startswith("results: ")


def test_the_brief_says_each_rules_ties(toy_scenario, results_of):
    en = language("en")
    assert rule_words(rule("simple_majority"), en).detail.endswith("; a tie fails")
    assert rule_words(rule("qualified_majority", q="1/2"), en).detail == "at least 1/2 of the participants taking a side support; a tie passes"
    assert "tie" not in rule_words(rule("consensus"), en).detail
    sc = toy_scenario(rules=["consensus", "simple_majority", {"rule": "qualified_majority", "q": "1/2", "name": "half"}], horizon=4)
    lines = rules_compared(results_of(sc, 10), en)
    assert any(x.endswith("; a tie fails.") for x in lines)  # simple majority
    assert lines[-1].startswith("Majority of at least half: ") and lines[-1].endswith("; a tie passes.")
    only_consensus = rules_compared(results_of(toy_scenario(rules=["consensus"], horizon=4), 10), en)
    assert not any("tie" in x for x in only_consensus)
