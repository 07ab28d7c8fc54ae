"""Known answers for the two additions to the stance rule, objection_cut and apply_red_lines (kpsim.model.actors).

They exist once and every path uses them: PlenaryModel.stances_for, the binned-noise stances and their exact close
calls (test_core_speed holds those equal), and the setter's chances. Every number here is exact in binary.
"""

from __future__ import annotations

import numpy as np

from kpsim.model.actors import apply_red_lines, objection_cut
from kpsim.model.plenary import PlenaryModel
from kpsim.rules import ABSTAIN, OBJECT, SUPPORT
from kpsim.scenario.schema import Scenario

FORWARD = {"status_quo": 0.0, "position": 1.0, "reservation": 0.0}


def model(actors, proposal=FORWARD, **dynamics) -> PlenaryModel:
    data = {"name": "stance_rule", "actors": actors, "proposal": proposal, "rules": [{"rule": "consensus"}],
            "dynamics": {"noise": 0.0, "lobbying": 0.0, **dynamics}}
    return PlenaryModel(Scenario.model_validate(data, strict=False))


def pressed():
    """Three participants and an observer, all at 0.5 with salience 1; threshold 0.25, acquiescence to isolation 0.5."""
    actors = [{"id": i, "position": 0.5, "salience": 1.0} for i in "abc"]
    actors.append({"id": "ngo", "kind": "civil_society", "position": 0.5, "salience": 1.0})
    return model(actors, reluctance=0.25, acquiescence_isolation=0.5)


def test_isolation_raises_a_participants_threshold_by_a_times_its_isolation():
    """a·isolation = a − a·others/(p − 1) = 0.5 − 0.25·others: joined by two, one, no others the cut is −0.25, −0.5,
    −0.75; the observer, never isolated, keeps −0.25."""
    m = pressed()
    np.testing.assert_array_equal(objection_cut(m), [-0.25] * 4)
    cut = objection_cut(m, np.array([[2, 1, 0], [0, 0, 0]]))
    np.testing.assert_array_equal(cut, [[-0.25, -0.5, -0.75, -0.25], [-0.75, -0.75, -0.75, -0.25]])


def test_a_lone_holdout_abstains_where_one_joined_by_others_objects():
    """Text 1.5: every d is −0.5, at the cut of a participant joined by one other (not below it: it abstains)."""
    m = pressed()
    stances = m.stances_for(m.positions_at(np.arange(1)), np.array([[1.5]]), None, np.array([[2, 1, 0]]))
    np.testing.assert_array_equal(stances, [[OBJECT, ABSTAIN, ABSTAIN, OBJECT]])


def test_a_red_line_overrides_any_stance_on_the_status_quo_side_only():
    """A red line at 0.75: with the status quo at 0 a text at 0.5 is under it, one at 0.75 is not; with the status
    quo at 1 the sides turn round. An actor without a red line keeps its stance."""
    actors = [{"id": "reformer", "position": 0.9, "reservation": 0.75}, {"id": "x", "position": 0.9}]
    text = np.array([[0.5], [0.75], [0.8]])
    m = model(actors)
    out = np.full((3, 2), SUPPORT, dtype=np.int8)
    assert apply_red_lines(m, out, text) is out  # in place
    np.testing.assert_array_equal(out, [[OBJECT, SUPPORT], [SUPPORT, SUPPORT], [SUPPORT, SUPPORT]])
    m = model(actors, proposal={"status_quo": 1.0, "position": 0.0, "reservation": 1.0})
    out = apply_red_lines(m, np.full((3, 2), ABSTAIN, dtype=np.int8), text)
    np.testing.assert_array_equal(out, [[ABSTAIN, ABSTAIN], [ABSTAIN, ABSTAIN], [OBJECT, ABSTAIN]])
    m = model([{"id": "x", "position": 0.9}])
    np.testing.assert_array_equal(apply_red_lines(m, np.full((3, 1), SUPPORT, dtype=np.int8), text), np.full((3, 1), SUPPORT))
