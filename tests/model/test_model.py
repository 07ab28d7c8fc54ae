"""Model invariants and the Friedkin–Johnsen fixed point."""

import numpy as np
import pytest

from kpsim.model.plenary import PlenaryModel
from kpsim.rules import ABSTAIN, OBJECT, SUPPORT
from kpsim.run.runner import run
from tests.toys import toy_actors

RESERVED = {"status_quo": 0.0, "position": 1.0, "reservation": 0.4}


@pytest.fixture
def scenario(toy_scenario):
    """The toy scenario with this file's defaults: consensus, the text may be watered down to 0.4, 30 meetings."""

    def make(actors, rules=("consensus",), proposal=RESERVED, horizon=30, **kw):
        return toy_scenario(actors, rules, proposal=proposal, horizon=horizon, **kw)

    return make


# the whole toy roster: an indifferent participant, a reluctant objector, a civil society against the text
MIXED = toy_actors(
    ("a", "b", "c", "d", "e", "wdc", "csc"),
    changes={"c": {"reluctance": 0.02}, "wdc": {"salience": 0.5}, "csc": {"position": 0.1, "salience": 0.9}},
)
ALL_RULES = [
    {"rule": "consensus"},
    {"rule": "simple_majority"},
    {"rule": "qualified_majority", "q": "3/4"},
    {"rule": "chambers"},
]


@pytest.mark.parametrize("rule", [r["rule"] for r in ALL_RULES])
def test_text_never_passes_the_reservation_point(rule, scenario):
    sc = scenario(MIXED, ALL_RULES, dynamics={"amendment_step": 0.6, "noise": 0.3})
    m = PlenaryModel(sc, rule, replications=300, record=True).run()
    texts = np.concatenate([h.text for h in m.history] + [m.text])
    assert texts.min() >= 0.4 - 1e-12 and texts.max() <= 1.0
    assert texts.min() < 0.5  # the chair did water the text down: the bound was tested


def test_abstention_never_blocks_consensus(scenario):
    # salience 0 means indifference: such actors abstain at every meeting
    actors = [{"id": f"s{i}", "position": 1.0, "salience": 1.0} for i in range(3)]
    actors += [{"id": f"x{i}", "position": 0.0, "salience": 0.0} for i in range(5)]
    sc = scenario(actors, dynamics={"noise": 0.0})
    m = PlenaryModel(sc, replications=50, record=True).run()
    first = m.history[0].stances
    assert (first[:, 3:] == ABSTAIN).all() and (first[:, :3] == SUPPORT).all()
    assert m.adopted.all() and (m.meetings == 1).all()


def test_observers_never_vote_unless_a_rule_gives_them_a_chamber(scenario):
    with_obs = scenario(MIXED, ALL_RULES, dynamics={"lobbying": 0.0, "noise": 0.2}, seed=5)
    hostile = [dict(a, position=0.0, salience=1.0) if a["id"] in ("wdc", "csc") else a for a in MIXED]
    hostile_obs = scenario(hostile, ALL_RULES, dynamics={"lobbying": 0.0, "noise": 0.2}, seed=5)
    for rule in ("consensus", "simple_majority"):
        a = PlenaryModel(with_obs, rule, replications=400).run()
        b = PlenaryModel(hostile_obs, rule, replications=400).run()
        np.testing.assert_array_equal(a.meetings, b.meetings)  # observers' stances change nothing
        assert (b.stances[:, -2:] == OBJECT).any()  # although they do object
    a = PlenaryModel(with_obs, "chambers", replications=400).run()
    b = PlenaryModel(hostile_obs, "chambers", replications=400).run()
    assert a.adopted.mean() > 0.5 and b.adopted.mean() < 0.05  # with a chamber, their objection counts


def test_friedkin_johnsen_fixed_point(scenario):
    rng = np.random.default_rng(0)
    n = 8
    actors = [
        {
            "id": f"p{i}",
            "bloc": "ab"[i % 2],
            "position": float(rng.uniform()),
            "capability": float(rng.uniform(0.5, 2)),
            "stubbornness": float(rng.uniform(0.1, 0.9)),
            "salience": 0.0,  # indifferent: nobody supports, so the text is never adopted and the model keeps running
        }
        for i in range(n)
    ]
    sc = scenario(actors, dynamics={"noise": 0.0, "lobbying": 0.0}, horizon=400)
    m = PlenaryModel(sc, replications=1).run()
    assert m.meeting == 400 and not m.adopted.any()
    x0 = np.array([a["position"] for a in actors])
    cap = np.array([a["capability"] for a in actors])
    w = np.zeros((n, n))
    for i in range(n):
        allies = [j for j in range(n) if j % 2 == i % 2]
        w[i, allies] = cap[allies] / cap[allies].sum()
    lam = np.diag([1 - a["stubbornness"] for a in actors])
    fixed = np.linalg.solve(np.eye(n) - lam @ w, (np.eye(n) - lam) @ x0)
    np.testing.assert_allclose(m.positions[0, :n], fixed, atol=1e-10)
    np.testing.assert_allclose([a.position[0] for a in m.actors], fixed, atol=1e-10)


def test_degroot_when_nobody_is_stubborn(scenario):
    actors = [{"id": f"p{i}", "bloc": "x", "position": p, "stubbornness": 0.0, "salience": 0.0} for i, p in enumerate([0.1, 0.5, 0.9])]
    sc = scenario(actors, dynamics={"noise": 0.0, "lobbying": 0.0}, horizon=5)
    m = PlenaryModel(sc, replications=1).run()
    np.testing.assert_allclose(m.positions[0], 0.5)  # equal capabilities: consensus at the mean at once


def test_veto_player_never_shortens_a_deadlock(scenario):
    """Adding an objector-prone participant under consensus: pathwise, on the same draws."""
    base = [{"id": f"p{i}", "position": 0.8, "salience": 0.7} for i in range(6)]
    extra = base + [{"id": "veto", "position": 0.2, "salience": 0.8}]
    dyn = {"noise": 0.6, "amendment_step": 0.0}
    a = PlenaryModel(scenario(base, dynamics=dyn, horizon=60), replications=2000).run()
    b = PlenaryModel(scenario(extra, dynamics=dyn, horizon=60), replications=2000).run()
    assert (b.meetings >= a.meetings).all()
    assert (b.meetings > a.meetings).mean() > 0.2 and b.adopted.sum() <= a.adopted.sum()


def test_paired_streams_do_not_depend_on_batching_or_actor_order(scenario):
    sc = scenario(MIXED, ALL_RULES, dynamics={"noise": 0.3, "position_noise": 0.05}, seed=11)
    whole = PlenaryModel(sc, "consensus", replications=np.arange(500)).run()
    part = PlenaryModel(sc, "consensus", replications=np.arange(250, 500)).run()
    np.testing.assert_array_equal(whole.meetings[250:], part.meetings)
    shuffled = scenario(list(reversed(MIXED)), ALL_RULES, dynamics={"noise": 0.3, "position_noise": 0.05}, seed=11)
    again = PlenaryModel(shuffled, "consensus", replications=np.arange(500)).run()
    np.testing.assert_array_equal(whole.meetings, again.meetings)


def test_abandonment_is_censoring_not_adoption(scenario):
    sc = scenario(MIXED, proposal={"status_quo": 0.0, "position": 1.0, "abandon_after": 2}, dynamics={"noise": 0.5})
    res, _ = run(sc, replications=500, progress=False)
    gone = res[res.abandoned]
    assert len(gone) > 0 and (gone.meetings == 2).all() and gone.censored.all() and not gone.adopted.any()


def test_single_run_steps_meeting_by_meeting(scenario):
    sc = scenario(MIXED, dynamics={"noise": 0.3}, seed=2)
    m = PlenaryModel(sc, replications=1)
    m.run_for(3)
    assert m.meeting == min(3, len(m.history)) and all(h.stances.shape == (1, len(MIXED)) for h in m.history)


def test_pivotal_shortcut_for_anonymous_rules_matches_the_general_check(monkeypatch, scenario):
    """Counting rules take a shortcut (one trial per row); it must agree with trying every objector."""
    from kpsim.rules import RULES

    sc = scenario(MIXED, ALL_RULES, dynamics={"noise": 0.5}, seed=3)
    for rule in ("consensus", "simple_majority", "qualified_majority"):
        fast = PlenaryModel(sc, rule, replications=600).run()
        monkeypatch.setattr(RULES[rule], "anonymous", False)  # the same rule, checked objector by objector
        slow = PlenaryModel(sc, rule, replications=600).run()
        assert not slow.rule.anonymous
        monkeypatch.undo()
        np.testing.assert_array_equal(fast.pivotal, slow.pivotal)
        np.testing.assert_array_equal(fast.objections, slow.objections)
        assert fast.pivotal.sum() > 0
