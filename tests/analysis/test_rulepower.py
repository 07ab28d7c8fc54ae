"""Each rule's game against brute force over the rule function itself, and the known answers."""

import itertools
import math

import numpy as np
import pytest

from kpsim.analysis.rulepower import rule_power, scenario_power
from kpsim.model.plenary import PlenaryModel
from kpsim.rules import OBJECT, SUPPORT


def brute_force(sc, label):
    """Every support/object profile through the real rule: Shapley-Shubik, swings, Coleman at p = 1/2."""
    model = PlenaryModel(sc, label)
    n_voters = len(sc.actors) if sc.rule(label).rule == "chambers" else model.n_participants
    profiles = np.array(list(itertools.product((OBJECT, SUPPORT), repeat=n_voters)), dtype=np.int8)
    stances = np.full((len(profiles), len(sc.actors)), OBJECT, dtype=np.int8)
    stances[:, :n_voters] = profiles
    wins = dict(zip(map(tuple, profiles == SUPPORT), model.rule.passes(stances, model.electorate)))
    swings_by_size = np.zeros((n_voters, n_voters))
    for coalition, won in wins.items():
        for i in range(n_voters):
            if not coalition[i] and not won and wins[coalition[:i] + (True,) + coalition[i + 1 :]]:
                swings_by_size[i, sum(coalition)] += 1
    # Shapley-Shubik: i pivots in the k! (n-1-k)! orderings that put a swing coalition of k others first
    orderings = [math.factorial(k) * math.factorial(n_voters - 1 - k) / math.factorial(n_voters) for k in range(n_voters)]
    return swings_by_size @ orderings, swings_by_size.sum(axis=1), sum(wins.values()) / 2**n_voters


RULES = [
    {"rule": "consensus"},
    {"rule": "consensus_minus_k", "k": 2},
    {"rule": "consensus_minus_k", "k": 9, "name": "k_too_big"},
    {"rule": "simple_majority"},
    {"rule": "qualified_majority", "q": "2/3"},
    {"rule": "qualified_majority", "q": "1/2", "name": "half"},
    {"rule": "written_procedure", "min_support": 3},
    {"rule": "weighted_majority", "weight": "prod", "q": "1/2"},
    {"rule": "weighted_majority", "weight": "prod", "q": "2/3", "base": "all", "name": "wm_all"},
    {"rule": "double_majority", "q": "1/2", "weight": "prod", "weight_q": "3/5"},
    {"rule": "double_majority", "q": "3/4", "weight": "prod", "weight_q": "1/3", "name": "dm2"},
    {"rule": "chambers"},
    {
        "rule": "chambers",
        "name": "two_chambers",
        "chambers": [{"name": "gov", "kinds": ["participant"], "q": "2/3"}, {"name": "obs", "kinds": ["industry", "civil_society"], "q": "1/2"}],
    },
]


@pytest.mark.parametrize("seed", range(3))
def test_every_rule_matches_brute_force_over_its_own_rule_function(seed, toy_scenario):
    rng = np.random.default_rng(seed)
    n = 5 + seed  # 5..7 participants
    weights = [{"prod": float(w)} for w in np.round(rng.uniform(0, 1, n), 3)]
    sc = toy_scenario(n, RULES, observers=("industry", "civil_society", "intergovernmental"), weights=weights, proposal={})
    for rule in sc.rules:
        rp = rule_power(sc, rule.label)
        assert rp.available, rule.label
        ss, swings, coleman = brute_force(sc, rule.label)
        got = rp.players
        assert got.shapley_shubik.to_numpy() == pytest.approx(ss, abs=1e-12), rule.label
        assert got.banzhaf_absolute.to_numpy() == pytest.approx(swings / 2 ** (len(swings) - 1), abs=1e-12), rule.label
        assert got.banzhaf_normalized.to_numpy() == pytest.approx(swings / swings.sum(), abs=1e-12), rule.label
        assert rp.coleman_power_to_act == pytest.approx(coleman, abs=1e-12), rule.label


def test_two_thirds_of_sixty(toy_scenario):
    sc = toy_scenario(60, [{"rule": "qualified_majority", "q": "2/3"}, {"rule": "simple_majority"}, {"rule": "consensus"}], proposal={})
    power = scenario_power(sc)
    assert len(power) == 180 and set(power.game) == {"[40; 1 × 60]", "[31; 1 × 60]", "[60; 1 × 60]"}
    coleman = power.groupby("rule", sort=False).coleman_power_to_act.first()
    assert coleman["qualified_majority"] == pytest.approx(0.006745, abs=5e-7)
    assert coleman["simple_majority"] == pytest.approx(0.448711, abs=5e-7)
    assert coleman["consensus"] == 0.5**60
    assert power.shapley_shubik.to_numpy() == pytest.approx(np.full(180, 1 / 60), abs=1e-15)


def test_double_majority_of_sixty_reduces_to_its_binding_threshold(toy_scenario):
    """With the weight threshold trivially met (equal weights, lower q) it is the count game alone."""
    sc = toy_scenario(60, [{"rule": "double_majority", "q": "2/3", "weight": "w", "weight_q": "1/2"}], weights=[{"w": 1.0}] * 60, proposal={})
    rp = rule_power(sc, "double_majority")
    assert rp.coleman_power_to_act == pytest.approx(0.006745, abs=5e-7)
    assert rp.players.banzhaf_normalized.to_numpy() == pytest.approx(np.full(60, 1 / 60), abs=1e-15)


def test_overlapping_chambers_and_impossible_rules_are_reported_not_guessed(toy_scenario):
    overlap = {
        "rule": "chambers",
        "chambers": [{"name": "a", "kinds": ["participant"]}, {"name": "b", "kinds": ["participant", "industry"]}],
    }
    rules = [overlap, {"rule": "written_procedure", "min_support": 4}, {"rule": "weighted_majority", "weight": "w"}]
    sc = toy_scenario(3, rules, observers=("industry",), weights=[{"w": 0.0}] * 3, proposal={})
    notes = {}
    for label in ("chambers", "written_procedure", "weighted_majority"):
        rp = rule_power(sc, label)
        assert not rp.available and rp.players.shapley_shubik.isna().all()
        notes[label] = rp.note
    assert "share members" in notes["chambers"] and "never passes" in notes["written_procedure"]
    assert "'w' = 0" in notes["weighted_majority"]


def test_a_game_too_big_to_count_is_estimated_and_says_so(toy_scenario, monkeypatch):
    """Past the exact DP's budget the weight games fall back to Monte-Carlo, with their standard errors in the note;
    count games never do (their closed forms are exact at any size)."""
    from kpsim.analysis import power

    weights = [{"prod": w} for w in (5, 5, 3, 3, 2, 1)]
    rules = [{"rule": "weighted_majority", "weight": "prod", "q": "1/2"}, {"rule": "double_majority", "q": "1/2", "weight": "prod", "weight_q": "1/2"}, {"rule": "simple_majority"}]
    sc = toy_scenario(6, rules, weights=weights)
    exact = {r: rule_power(sc, r) for r in ("weighted_majority", "double_majority", "simple_majority")}
    monkeypatch.setattr(power, "EXACT_BUDGET", 0)
    for label, rp in exact.items():
        estimate = rule_power(sc, label)
        if label == "simple_majority":
            assert estimate.note == rp.note and estimate.players.equals(rp.players)
            continue
        assert "Monte-Carlo estimate" in estimate.note and "standard error" in estimate.note
        np.testing.assert_allclose(estimate.players.shapley_shubik, rp.players.shapley_shubik, atol=0.03)
        np.testing.assert_allclose(estimate.players.banzhaf_absolute, rp.players.banzhaf_absolute, atol=0.04)


def test_count_rules_of_thousands_of_voters_in_closed_form(toy_scenario):
    sc = toy_scenario(3840, [{"rule": "qualified_majority", "q": "2/3"}, {"rule": "chambers"}], observers=("industry", "civil_society"))
    for label in ("qualified_majority", "chambers"):
        rp = rule_power(sc, label)
        assert rp.available and rp.players.shapley_shubik.sum() == pytest.approx(1.0)
