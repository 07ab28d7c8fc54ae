"""The model core's shortcuts (issue 17) give exactly what the plain computations give.

Each shortcut is checked against the computation it replaces, bit for bit where the results
must stay bit-identical: closed-form pivots against re-deciding every objection, stances from
binned noise against ndtri on every draw, the windowed DP against the full-width one, the
setter's remembered plans against planning afresh, the ally matrix built per bloc against one
row at a time.
"""

import numpy as np
import pytest
from scipy.special import ndtri

from kpsim.model import actors
from kpsim.model.chair import SetterChair, count_test_chance
from kpsim.model.plenary import PlenaryModel, column_counts, pivotal_by_trial, pivotal_counts
from kpsim.rules import CountTest
from tests.toys import toy_actors

RULES = [
    {"rule": "consensus"},
    {"rule": "consensus_minus_k", "k": 1},
    {"rule": "simple_majority"},
    {"rule": "simple_majority", "ties": "pass", "name": "majority_ties_pass"},
    {"rule": "qualified_majority", "q": "2/3"},
    {"rule": "qualified_majority", "q": "3/4", "ties": "fail", "name": "three_quarters_fail"},
    {"rule": "written_procedure", "min_support": 2},
    {"rule": "weighted_majority", "weight": "w", "q": "1/2", "name": "weighted_half"},
    {"rule": "weighted_majority", "weight": "w", "q": "2/3", "ties": "fail", "name": "weighted_fail"},
    {"rule": "weighted_majority", "weight": "w", "q": "1/2", "base": "all", "name": "weighted_all"},
    {"rule": "double_majority", "weight": "w", "q": "1/2", "weight_q": "1/2"},
    {"rule": "chambers"},
]
# weights whose float sums land on the threshold (0.1 + 0.2 ≠ 0.3): the closed form's exact re-check must act
WEIGHTS = [{"w": w} for w in (0.1, 0.2, 0.3, 0.4, 0.1, 0.2, 0.3, 0.4)]


@pytest.fixture
def wide(toy_scenario):
    return toy_scenario(8, RULES, observers=("industry", "civil_society", "industry"), weights=WEIGHTS)


@pytest.mark.parametrize("rule", [r.get("name", r["rule"]) for r in RULES])
def test_closed_form_pivots_match_re_deciding_every_objection(rule, wide):
    m = PlenaryModel(wide, rule, replications=4)
    rng = np.random.default_rng(11)
    found = 0
    for p_object in (0.05, 0.15, 0.3, 0.5):
        stances = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=(3000, len(m.actor_ids)), p=[p_object, 0.15, 0.85 - p_object])
        for members in (None, np.array([True] * 6 + [False] * 2 + [True] * 3)):
            failed = stances[~m.decide(stances, members)]
            cols = slice(None) if members is None else members
            electorate = m.electorate if members is None else m._electorate_of(members)
            args = failed[:, cols], failed[:, cols] == -1, m.rule, electorate
            fast, slow = pivotal_counts(*args), pivotal_by_trial(*args)
            np.testing.assert_array_equal(fast, slow)
            found += slow.sum()
    assert found > 0 or rule == "weighted_all"  # the check saw pivotal objectors (base "all": none can be)


def test_binned_noise_gives_the_stances_of_exact_noise(toy_scenario, monkeypatch):
    """Coarse bins (16) force many close calls onto the exact path; fine ones almost none: both are exact."""
    sc = toy_scenario(
        toy_actors(("a", "b", "c", "d", "e", "wdc", "csc"), changes={"c": {"reservation": 0.5}, "e": {"salience": 0.0}}),
        dynamics={"noise": 0.7, "acquiescence_isolation": 0.2, "acquiescence_time": 0.05},
    )
    m = PlenaryModel(sc, replications=2000)
    m.run_for(3)
    rows = m.active
    x, text, isolation = m.positions_at(rows), m.text[rows, None], m.isolation(rows)
    assert isolation is not None and m.red_line is not None
    exact = m.stances_for(x, text, ndtri(m.streams.uniform(rows, 7)), isolation)
    for bits in (4, actors.BIN_BITS):
        monkeypatch.setattr(actors, "BIN_BITS", bits)
        np.testing.assert_array_equal(actors.noisy_stances(m, rows, 7, x, text, isolation), exact)


def test_stances_are_the_same_whatever_the_block(toy_scenario, monkeypatch):
    """Blocks of (replication, actor) pairs only bound the temporaries: one pair per block or all at once, the same stances."""
    m = PlenaryModel(toy_scenario(dynamics={"noise": 0.5}), replications=300)
    m.run_for(2)
    rows = m.active
    whole = actors.Actor.take_stances(m, rows, 3)
    for cells in (1, 7, 10**6):
        monkeypatch.setattr(actors, "CELLS", cells)
        np.testing.assert_array_equal(actors.Actor.take_stances(m, rows, 3), whole)


@pytest.mark.parametrize("rows", [3, 2**15 + 1])
def test_column_counts_are_column_sums(rows):
    mask = np.random.default_rng(rows).random((rows, 5)) < [0.0, 0.3, 0.5, 0.9, 1.0]
    got = column_counts(mask)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, mask.sum(axis=0))
    np.testing.assert_array_equal(column_counts(mask[::2, 1:]), mask[::2, 1:].sum(axis=0))  # a strided view too


def test_a_run_makes_its_matrix_products_on_one_blas_thread(toy_scenario, monkeypatch):
    import threadpoolctl  # a dependency of kpsim

    threads = lambda: [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    before, seen = threads(), []
    decide = PlenaryModel.decide
    monkeypatch.setattr(PlenaryModel, "decide", lambda self, *a: seen.append(threads()) or decide(self, *a))
    PlenaryModel(toy_scenario(), replications=20).run()
    assert seen and all(n == 1 for t in seen for n in t)
    assert threads() == before  # and gives the threads back


def _law_full_width(support, objection, abstain, test):
    """The DP as it was: every step over the whole width."""
    n = support.shape[1]
    low = test.offset - test.loss * n
    law = np.zeros((len(support), test.offset + test.gain * n - low + 1))
    law[:, test.offset - low] = 1.0
    for i in range(n):
        new = law * abstain[:, i, None]
        if test.gain:
            new[:, test.gain :] += law[:, : -test.gain] * support[:, i, None]
        else:
            new += law * support[:, i, None]
        if not test.veto:
            if test.loss:
                new[:, : -test.loss] += law[:, test.loss :] * objection[:, i, None]
            else:
                new += law * objection[:, i, None]
        law = new
    first = -low + (1 if test.strict else 0)
    return law[:, max(first, 0) :].sum(axis=1)


@pytest.mark.parametrize(
    "test", [CountTest(0, 0, veto=True), CountTest(0, 1, offset=2), CountTest(1, 1, strict=True), CountTest(1, 2), CountTest(1, 0, offset=-2, veto=True)]
)
def test_windowed_dp_is_the_full_width_dp(test, monkeypatch):
    from kpsim.model import chair

    rng = np.random.default_rng(5)
    support = rng.random((20, 15)) * 0.6
    objection = (1 - support) * rng.random((20, 15))
    windowed = count_test_chance(support, objection, test)
    monkeypatch.setattr(chair, "_law_meets", _law_full_width)
    assert windowed.tobytes() == count_test_chance(support, objection, test).tobytes()


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_dp_is_the_numpy_dp_to_the_bit_and_the_python_one(seed, monkeypatch):
    from kpsim.model import chair

    rng = np.random.default_rng(seed)
    rows, n = int(rng.integers(1, 40)), int(rng.integers(1, 90))
    support = rng.random((rows, n)) * rng.random((rows, n))
    support[:, :: int(rng.integers(2, 5))] = 0.0  # voters who never support (sure objectors, the silent)
    objection = (1 - support) * rng.random((rows, n))
    tests = [CountTest(1, 1), CountTest(1, 0, offset=-(2 * n // 3)), CountTest(1, 1, veto=True), CountTest(2, 1, offset=-3, strict=True),
             CountTest(1, 2, offset=1), CountTest(0, 1)]
    compiled = [count_test_chance(support, objection, t) for t in tests]
    abstain = 1.0 - support - objection
    for t in tests[:2]:  # the plain-Python loop the compiler compiles gives the same law
        low = t.offset - t.loss * n
        args = (support, objection, abstain, t.gain, t.loss, t.veto, t.offset - low, t.offset + t.gain * n - low + 1, -low)
        assert actors.compiled().law_window.py_func(*args).tobytes() == actors.compiled().law_window(*args).tobytes()
    monkeypatch.setattr(chair, "_law_meets", _law_full_width)
    for t, got in zip(tests, compiled):
        assert got.tobytes() == count_test_chance(support, objection, t).tobytes(), t


def test_the_setter_remembers_a_plan_only_for_the_same_inputs(toy_scenario):
    base = toy_scenario(rules=({"rule": "qualified_majority", "q": "2/3"},), chair={"strategy": "setter", "actor": "a"}, dynamics={"noise": 0.4})
    m = PlenaryModel(base, replications=10)
    m.run_for(1)
    x = m.positions_at(m.active)[0]
    chair = SetterChair(m)
    assert chair.planned_text(m, x, 0) == chair.best_text(m, x, 0)
    other = PlenaryModel(toy_scenario(rules=base.rules, chair=base.chair, dynamics={"noise": 0.9}), replications=10)
    other.run_for(1)
    assert SetterChair(other).planned_text(other, x, 0) == SetterChair(other).best_text(other, x, 0)


def test_ally_matrix_per_bloc_and_bloc_means(toy_scenario, monkeypatch):
    sc = toy_scenario(toy_actors(12), dynamics={"noise": 0.0})
    entries = [a for a in sc.actors if a.kind == "participant"]
    entries[3] = entries[3].model_copy(update={"bloc": None})
    members = np.array([True, False] * 3 + [True] * 6)
    for who in (None, members):
        dense = actors.ally_matrix(entries, who)
        rows = [
            np.eye(12)[i]
            if entries[i].bloc is None or (who is not None and not who[i])
            else np.where([e.bloc == entries[i].bloc and (who is None or who[j]) for j, e in enumerate(entries)], 1.0, 0.0)
            for i in range(12)
        ]
        rows = [r / r.sum() for r in rows]  # capabilities are all 1 here
        np.testing.assert_allclose(dense, np.array(rows))
        monkeypatch.setattr(actors, "DENSE_INFLUENCE", 0)
        means = actors.ally_matrix(entries, who)
        monkeypatch.undo()
        assert isinstance(means, actors.BlocMeans)
        x = np.random.default_rng(1).random((5, 12))
        np.testing.assert_allclose(actors.allied_view(means, x), actors.allied_view(dense, x), rtol=1e-12)
