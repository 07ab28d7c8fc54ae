"""Known answers for the live dynamics: the setter chair, rounds, red lines, acquiescence, exit, membership, stubbornness.

Every case is at noise 0, where the answer is exact arithmetic.
"""

from __future__ import annotations

import numpy as np
import pytest

from kpsim.model.plenary import PlenaryModel, held_view
from kpsim.rules import OBJECT, SUPPORT
from kpsim.scenario.schema import Scenario

QUIET = {"noise": 0.0, "reluctance": 0.0, "lobbying": 0.0}


def plenary(actors, rules=("consensus",), proposal=None, dynamics=None, calendar=None, chair=None, reps=1):
    data = {
        "name": "live",
        "actors": actors,
        "proposal": proposal or {"status_quo": 0.0, "position": 1.0, "reservation": 0.0},
        "rules": [{"rule": r} if isinstance(r, str) else r for r in rules],
        "dynamics": {**QUIET, **(dynamics or {})},
        "calendar": {"horizon": 30, **(calendar or {})},
    }
    if chair:
        data["chair"] = chair
    sc = Scenario.model_validate(data, strict=False)
    return PlenaryModel(sc, replications=reps, record=True).run()


# ------------------------------------------------------------------ the setter chair (Romer–Rosenthal)


@pytest.mark.parametrize("r", [0.0, 0.1, 0.25])
def test_setter_tables_just_under_2v_plus_r_and_passes_at_once(r):
    """Status quo 0, chair at 1, one veto player at v = 0.3 with salience 1 and reluctance r, consensus, noise 0.

    The veto abstains on any text up to 2v + r (its loss there is exactly r) and abstention does not block,
    so the chair tables 0.6 + r and it passes at the first meeting.
    """
    m = plenary(
        [{"id": "chair", "position": 1.0, "salience": 1.0}, {"id": "veto", "position": 0.3, "salience": 1.0, "reluctance": r}],
        chair={"actor": "chair", "strategy": "setter"},
    )
    assert m.adopted[0] and m.meetings[0] == 1
    assert m.text[0] == pytest.approx(0.6 + r, abs=1e-6)


def test_setter_under_a_majority_targets_the_pivotal_voter_not_every_objector():
    """Five voters at 0, 0.1, 0.3, 0.6, 1; a voter at x supports a text t > 0 iff t < 2x. Under simple majority the
    pivot is the median voter (0.3): the chair at 1 tables just under 0.6 and it passes at once, over two objectors."""
    voters = [{"id": f"v{i}", "position": x, "salience": 1.0} for i, x in enumerate([0.0, 0.1, 0.3, 0.6, 1.0])]
    m = plenary(voters, rules=("simple_majority",), chair={"actor": "v4", "strategy": "setter"})
    assert m.adopted[0] and m.meetings[0] == 1
    assert m.text[0] == pytest.approx(0.6, abs=1e-6) and m.text[0] < 0.6
    assert (m.stances[0] == OBJECT).sum() == 2
    # under consensus the voter at 0 objects to everything: nothing passes, and the chair tables its own ideal
    m = plenary(voters, rules=("consensus",), chair={"actor": "v4", "strategy": "setter"})
    assert not m.adopted[0] and m.text[0] == 1.0


def test_setter_never_leaves_the_mandate():
    m = plenary(
        [{"id": "chair", "position": 1.0, "salience": 1.0}, {"id": "veto", "position": 0.3, "salience": 1.0}],
        proposal={"status_quo": 0.0, "position": 1.0, "reservation": 0.8},
        chair={"actor": "chair", "strategy": "setter"},
    )
    assert m.text[0] >= 0.8 and not m.adopted.any()


def test_setter_with_noise_weighs_the_chance_of_passing():
    """With noise a text near the veto's edge fails half the time: the chair gives up some ambition for a better
    chance, tabling less than its noise-0 text (0.6), and most replications pass."""
    m = plenary(
        [{"id": "chair", "position": 1.0, "salience": 1.0}, {"id": "veto", "position": 0.3, "salience": 1.0}],
        dynamics={"noise": 0.1},
        chair={"actor": "chair", "strategy": "setter"},
        reps=200,
    )
    assert 0.3 < m.text[0] < 0.6
    assert m.adopted.mean() > 0.5


# ------------------------------------------------------------------ several drafts within a meeting


def two_amendments(rounds):
    """A veto at 0.2 (it stops objecting at 0.4) and a chair stepping half-way toward it: 1 → 0.6 → 0.4."""
    return plenary(
        [{"id": "for", "position": 1.0, "salience": 1.0}, {"id": "veto", "position": 0.2, "salience": 1.0}],
        dynamics={"amendment_step": 0.5},
        calendar={"rounds_per_meeting": rounds},
    )


def test_a_deal_needing_two_amendments_is_struck_at_the_first_plenary_with_three_rounds():
    assert two_amendments(1).meetings[0] == 3
    m = two_amendments(3)
    assert m.adopted[0] and m.meetings[0] == 1
    assert [h.round for h in m.history] == [1, 2, 3]
    assert m.text[0] == pytest.approx(0.4)


def test_rounds_of_one_are_todays_meetings():
    a, b = two_amendments(1), two_amendments(1)
    assert a.meetings[0] == b.meetings[0] and [h.round for h in a.history] == [1, 1, 1]


# ------------------------------------------------------------------ red lines


def test_a_red_line_objects_to_a_weaker_text_whatever_its_gain():
    actors = [{"id": "reformer", "position": 0.9, "salience": 1.0, "reservation": 0.75}, {"id": "x", "position": 0.9}]
    sc = Scenario.model_validate(
        {"name": "r", "actors": actors, "proposal": {"status_quo": 0.0, "position": 1.0, "reservation": 0.0},
         "rules": [{"rule": "consensus"}], "dynamics": QUIET},
        strict=False,
    )
    m = PlenaryModel(sc)
    text = np.array([[0.5], [0.74], [0.75], [0.8]])
    stances = m.stances_for(m.positions_at(np.arange(1)), text)
    assert list(stances[:, 0]) == [OBJECT, OBJECT, SUPPORT, SUPPORT]  # a gain of 0.5 at text 0.5, but under its red line


def test_red_lines_on_both_sides_leave_no_text_to_agree_on():
    """Consensus, a modest state at 0.3 and a reformer in the chair at 1, mandate down to the status quo.

    Without a red line the state abstains up to 0.6 and the chair tables 0.6, which passes at once (watered down).
    With the reformer's red line at 0.75 it objects below 0.75 while the state objects above 0.6: vetoes on both
    sides, nothing passes, and the deadlock is the red lines' doing, not a clip on the chair.
    """
    actors = [{"id": "state", "position": 0.3, "salience": 1.0}, {"id": "reformer", "position": 1.0, "salience": 1.0}]
    setter = {"actor": "reformer", "strategy": "setter"}
    without = plenary(actors, chair=setter)
    assert without.adopted[0] and without.meetings[0] == 1 and without.text[0] == pytest.approx(0.6, abs=1e-6)
    actors[1]["reservation"] = 0.75
    with_lines = plenary(actors, chair=setter)
    assert not with_lines.adopted[0]
    assert with_lines.text[0] == 1.0  # nothing passes: the chair tables its own ideal


# ------------------------------------------------------------------ acquiescence


def holdout(dynamics):
    """A text fixed at 0.5 (no mandate to amend), a holdout at 0 (loss 0.5) and three supporters, two meetings a year."""
    actors = [{"id": "holdout", "position": 0.0, "salience": 1.0}] + [{"id": f"s{i}", "position": 1.0, "salience": 1.0} for i in range(3)]
    return plenary(actors, proposal={"status_quo": 0.0, "position": 0.5}, dynamics=dynamics)


def test_without_acquiescence_a_holdout_blocks_forever():
    m = holdout({})
    assert not m.adopted[0] and m.meetings[0] == 30


def test_pressure_that_grows_with_time_makes_a_holdout_give_way_years_later():
    """Its cost of objecting grows 0.1 a year: at meeting 11 (5 years on) it reaches the loss of 0.5, and it abstains."""
    m = holdout({"acquiescence_time": 0.1})
    assert m.adopted[0] and m.meetings[0] == 11


def test_isolation_makes_a_lone_holdout_give_way_once_it_sees_it_is_alone():
    """Nobody else objected at the first meeting: from the second, its isolation (1) costs it 0.6 > 0.5."""
    m = holdout({"acquiescence_isolation": 0.6})
    assert m.adopted[0] and m.meetings[0] == 2
    assert holdout({"acquiescence_isolation": 0.4}).adopted[0] == False  # noqa: E712  (0.4 < 0.5: it holds)


# ------------------------------------------------------------------ observers walk out


def test_a_chamber_that_objects_forever_but_leaves_after_its_patience_lets_the_text_pass():
    """Under chambers, a civil-society chamber that always objects, with patience 2, is gone after meeting 2: the text passes at 3."""
    actors = [
        {"id": "gov", "position": 1.0, "salience": 1.0},
        {"id": "ind", "kind": "industry", "position": 1.0, "salience": 1.0},
        {"id": "ngo", "kind": "civil_society", "position": 0.0, "salience": 1.0, "patience": 2},
    ]
    m = plenary(actors, rules=("chambers",), proposal={"status_quo": 0.0, "position": 1.0})
    assert m.adopted[0] and m.meetings[0] == 3
    ngo = m.actor_ids.index("ngo")
    assert m.exit_meeting[0, ngo] == 2 and m.gone[0, ngo]


def test_an_observer_that_left_lobbies_no_more():
    actors = [
        {"id": "gov", "position": 0.2, "salience": 1.0, "stubbornness": 0.0},
        {"id": "ngo", "kind": "civil_society", "position": 1.0, "salience": 1.0, "lobbying": 1.0, "patience": 1},
    ]
    m = plenary(actors, proposal={"status_quo": 0.0, "position": 1.0}, dynamics={"lobbying": 0.1}, calendar={"horizon": 6})
    stay = plenary([actors[0], {**actors[1], "patience": None}], proposal={"status_quo": 0.0, "position": 1.0}, dynamics={"lobbying": 0.1}, calendar={"horizon": 6})
    # one meeting of lobbying, then none: the government moved once, toward the observer
    assert m.positions[0, 0] == pytest.approx(0.2 + 0.1 * (1.0 - 0.2))
    assert stay.positions[0, 0] > m.positions[0, 0] + 0.1


# ------------------------------------------------------------------ membership by year


def members(joined=None, left=None):
    blocker = {"id": "blocker", "position": 0.0, "salience": 1.0}
    if joined is not None:
        blocker["joined"] = joined
    if left is not None:
        blocker["left"] = left
    return plenary(
        [{"id": "for", "position": 1.0, "salience": 1.0}, blocker],
        proposal={"status_quo": 0.0, "position": 1.0},
        calendar={"start_year": 2000, "meetings_per_year": 2},
    )


def test_a_member_votes_only_between_joining_and_leaving():
    assert not members().adopted[0]
    assert members(joined=2002).meetings[0] == 1  # not yet a member: it cannot block
    m = members(left=2001.5)
    assert m.adopted[0] and m.meetings[0] == 4  # meetings 1–3 (2000, 2000.5, 2001) it blocks; from 2001.5 it is gone


def test_membership_years_need_a_start_year():
    with pytest.raises(Exception, match="membership years need calendar.start_year"):
        Scenario.model_validate(
            {"name": "m", "actors": [{"id": "a", "joined": 2001}], "proposal": {}, "rules": [{"rule": "consensus"}]}, strict=False
        )


# ------------------------------------------------------------------ stubbornness


def test_the_stubbornness_scale_never_clips_anybody_to_a_fixed_view():
    s = np.array([0.0, 0.25, 0.5, 0.75, 0.999])
    for k in (0.2, 1.0, 2.0, 10.0, 1000.0):
        held = held_view(s, k)
        assert np.all(held[1:] < 1.0) and np.all(held[1:] > 0.0) and held[0] == 0.0
    assert held_view(s, 1.0) is s  # the coded values, exactly
    np.testing.assert_allclose(held_view(np.array([0.5]), 2.0), [2 / 3])  # odds 1 → 2


def test_runs_record_each_exit_and_the_exits_table_counts_them(tmp_path):
    from kpsim.analysis.compare import compare

    actors = [
        {"id": "gov", "position": 1.0, "salience": 1.0},
        {"id": "ind", "kind": "industry", "position": 1.0, "salience": 1.0},
        {"id": "ngo", "kind": "civil_society", "position": 0.0, "salience": 1.0, "patience": 2},
    ]
    sc = Scenario.model_validate(
        {"name": "exits", "actors": actors, "proposal": {"status_quo": 0.0, "position": 1.0}, "dynamics": QUIET,
         "calendar": {"horizon": 10}, "rules": [{"rule": "chambers"}, {"rule": "consensus"}], "replications": 50},
        strict=False,
    )
    results = compare(sc, jobs=1)
    runs = results.runs.set_index("rule")
    assert (runs.loc["chambers", "exits"] == "ngo@2").all()  # it left after meeting 2 in every replication
    assert (runs.loc["consensus", "exits"] == "").all()  # consensus passed at once: nobody waited
    exits = results.tables()["exits.csv"].set_index("rule")
    assert exits.loc["chambers", "left"] == 1.0 and exits.loc["chambers", "median_exit_meeting"] == 2
    assert exits.loc["consensus", "left"] == 0.0
    results.write(tmp_path / "r", charts=False)
    from kpsim.analysis.results import Results

    assert list(Results.read(tmp_path / "r").runs["exits"].fillna("")) == list(results.runs["exits"])


def test_the_chair_rotates_by_year():
    """Chairs with different ideals table different texts: the one named for the meeting's year drafts."""
    actors = [
        {"id": "hawk", "position": 1.0, "salience": 1.0},
        {"id": "dove", "position": 0.45, "salience": 1.0},
        {"id": "veto", "position": 0.3, "salience": 1.0},
    ]
    for start, expect in ((2000.0, 0.6), (2001.0, 0.45)):
        m = plenary(actors, chair={"strategy": "setter", "by_year": {2000: "hawk", 2001: "dove"}}, calendar={"start_year": start})
        assert m.adopted[0] and m.text[0] == pytest.approx(expect, abs=1e-6)
    # before the first listed year, and with no default actor, the anonymous chair answers the objections
    m = plenary(actors, chair={"strategy": "setter", "by_year": {2005: "hawk"}}, calendar={"start_year": 2000.0})
    assert m.history[0].text[0] == 1.0


# ------------------------------------------------------------------ events


def blocked(events, calendar=None):
    """Two supporters and a veto at 0 that blocks consensus forever, until an event changes something."""
    data = {
        "name": "events",
        "actors": [{"id": "a", "position": 1.0, "salience": 1.0}, {"id": "b", "position": 1.0, "salience": 1.0},
                   {"id": "veto", "position": 0.0, "salience": 1.0}],
        "proposal": {"status_quo": 0.0, "position": 1.0},
        "rules": [{"rule": "consensus"}],
        "dynamics": QUIET,
        "calendar": {"horizon": 20, **(calendar or {})},
        "events": events,
    }
    return PlenaryModel(Scenario.model_validate(data, strict=False), replications=3, record=True).run()


def test_a_rule_event_changes_how_every_later_meeting_decides():
    m = blocked([{"at": 3, "rule": {"rule": "simple_majority"}}])
    assert m.adopted.all() and (m.meetings == 3).all()


def test_a_set_event_changes_an_actor_from_that_meeting_on():
    m = blocked([{"at": 4, "set": {"actors.veto.salience": 0.0}}])
    assert m.adopted.all() and (m.meetings == 4).all()
    m = blocked([{"at": 2, "set": {"actors.veto.position": 0.9}}])  # it moves, and the new view is its own
    assert (m.meetings == 2).all() and m.positions[0, m.actor_ids.index("veto")] == 0.9


def test_a_withdrawal_ends_every_open_replication_censored_and_says_so():
    m = blocked([{"at": 5, "withdraw": True}])
    assert not m.adopted.any() and m.abandoned.all() and m.withdrawn.all()
    assert (m.meetings == 4).all()  # withdrawn before meeting 5 decided


def test_an_event_by_year_happens_at_the_first_meeting_of_that_year():
    m = blocked([{"year": 2002, "rule": {"rule": "simple_majority"}}], calendar={"start_year": 2000.0, "meetings_per_year": 2})
    assert (m.meetings == 5).all()  # 2000, 2000.5, 2001, 2001.5, 2002


def test_a_scenario_without_events_runs_as_before():
    m = blocked([])
    assert not m.adopted.any() and (m.meetings == 20).all()


def test_a_chair_schedule_survives_the_results_folder(tmp_path):
    """scenario.yaml is written JSON-style (year keys become text); reading the folder back gives the same schedule."""
    from kpsim.analysis.compare import compare
    from kpsim.analysis.results import Results

    actors = [{"id": "hawk", "position": 1.0, "salience": 1.0}, {"id": "veto", "position": 0.3, "salience": 1.0}]
    sc = Scenario.model_validate(
        {"name": "sched", "actors": actors, "proposal": {"status_quo": 0.0, "position": 1.0, "reservation": 0.0},
         "rules": [{"rule": "consensus"}], "dynamics": QUIET, "calendar": {"start_year": 2000.0, "horizon": 4},
         "chair": {"strategy": "setter", "by_year": {2000: "hawk", 2003: None}}, "replications": 5},
        strict=False,
    )
    compare(sc, jobs=1).write(tmp_path / "r", charts=False)
    assert Results.read(tmp_path / "r").scenario.chair == sc.chair


@pytest.mark.parametrize(
    "rule",
    [{"rule": "consensus"}, {"rule": "consensus_minus_k", "k": 1}, {"rule": "simple_majority"},
     {"rule": "simple_majority", "ties": "pass"}, {"rule": "qualified_majority", "q": "2/3"},
     {"rule": "qualified_majority", "q": "3/4", "ties": "fail"}, {"rule": "qualified_majority", "q": "1/2"},
     {"rule": "written_procedure", "min_support": 2}],
)
def test_the_setters_exact_chance_of_passing_is_the_sum_over_every_stance_profile(rule):
    """For every rule that tests counts: P(pass) from the dynamic programme equals the brute-force sum over all 3^n
    profiles of five participants with unequal chances, for several texts at once."""
    import itertools

    from kpsim.model.chair import count_test_chance
    from kpsim.rules import RULES, SUPPORT, OBJECT, ABSTAIN, Electorate

    r = RULES[rule["rule"]](**rule)
    rng = np.random.default_rng(7)
    n, texts = 5, 4
    support = rng.uniform(0, 0.6, (texts, n))
    objection = rng.uniform(0, 1, (texts, n)) * (1 - support)
    profiles = np.array(list(itertools.product((SUPPORT, ABSTAIN, OBJECT), repeat=n)), dtype=np.int8)
    passes = r.passes(profiles, Electorate(n, ("participant",) * n, {}))
    chance = np.where(profiles == SUPPORT, support[:, None, :], np.where(profiles == OBJECT, objection[:, None, :], 1 - support[:, None, :] - objection[:, None, :]))
    brute = (chance.prod(axis=2) * passes).sum(axis=1)
    np.testing.assert_allclose(count_test_chance(support, objection, r.count_test()), brute, rtol=1e-12, atol=1e-14)


def test_rules_where_who_votes_matters_have_no_count_test():
    from kpsim.rules import RULES

    for name, cls in RULES.items():
        if not cls.anonymous:
            assert cls.count_test(cls.model_construct(rule=name)) is None, name


def test_the_setter_re_plans_when_a_member_leaves_under_the_same_chair():
    """A blocker that objects to everything makes every text hopeless, so the chair tables its ideal (1.0); once the
    blocker has left (2001), the same chair tables the veto's edge, 0.6, and it passes at the first meeting of 2001."""
    actors = [
        {"id": "chair", "position": 1.0, "salience": 1.0},
        {"id": "veto", "position": 0.3, "salience": 1.0},
        {"id": "blocker", "position": 0.0, "salience": 1.0, "left": 2001},
    ]
    m = plenary(actors, chair={"actor": "chair", "strategy": "setter"}, calendar={"start_year": 2000.0, "meetings_per_year": 2})
    assert [h.text[0] for h in m.history[:2]] == [1.0, 1.0]
    assert m.adopted[0] and m.meetings[0] == 3 and m.text[0] == pytest.approx(0.6, abs=1e-6)


def test_a_status_quo_event_moves_the_status_quo_every_stance_is_measured_from():
    m = blocked([{"at": 2, "set": {"proposal.status_quo": 0.2}}])
    assert m.status_quo == 0.2 == m.spec.proposal.status_quo


def test_the_anonymous_chair_answers_members_only():
    """Nobody objects (two members barely care and a non-member would), so the chair moves toward the abstainers:
    the members' positions only, not the non-member's at 0."""
    actors = [
        {"id": "a", "position": 0.9, "salience": 0.01},
        {"id": "b", "position": 0.9, "salience": 0.01},
        {"id": "out", "position": 0.0, "salience": 1.0, "joined": 2050},
    ]
    m = plenary(actors, dynamics={"amendment_step": 0.5, "reluctance": 0.1}, calendar={"start_year": 2000.0, "horizon": 3})
    assert [round(h.text[0], 6) for h in m.history] == [1.0, 0.95, 0.925]
