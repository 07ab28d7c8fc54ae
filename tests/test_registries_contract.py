"""The other registries keep their contracts: actor kinds, dynamics strategies, output tables and charts.

Each registry is one table in the code; the places built from it (the
schema's Literals, the agent classes, the results folder) must agree with
it entry for entry, and every entry must do its job on a small toy.
"""

import typing

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from kpsim.analysis import outputs
from kpsim.fields import ACTOR_KINDS, OBSERVER_KINDS, PARTICIPANT
from kpsim.model.actors import AGENT_CLASSES, Observer, Participant
from kpsim.model.dynamics import DYNAMICS
from kpsim.model.plenary import PlenaryModel
from kpsim.rules import ABSTAIN, OBJECT, SUPPORT, Chamber
from kpsim.scenario.schema import ActorEntry, Dynamics

# ------------------------------------------------------------------ actor kinds


def literal_args(annotation) -> tuple:
    """The values of a Literal, also inside list[...]."""
    while typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    assert typing.get_origin(annotation) is typing.Literal, annotation
    return typing.get_args(annotation)


def test_one_table_of_actor_kinds():
    kinds = list(ACTOR_KINDS)
    assert list(literal_args(ActorEntry.model_fields["kind"].annotation)) == kinds
    assert list(AGENT_CLASSES) == kinds
    assert list(literal_args(Chamber.model_fields["kinds"].annotation)) == kinds
    assert kinds[0] == PARTICIPANT and ACTOR_KINDS[PARTICIPANT].votes  # participants come first, and vote
    assert OBSERVER_KINDS == tuple(k for k in kinds if not ACTOR_KINDS[k].votes)


@pytest.mark.parametrize("kind", list(ACTOR_KINDS))
def test_every_kind_has_its_agent_class_and_is_accepted(kind):
    cls = AGENT_CLASSES[kind]
    assert cls.kind == kind
    assert issubclass(cls, Observer if kind in OBSERVER_KINDS else Participant)
    assert ACTOR_KINDS[kind].description
    assert ActorEntry(id="x", kind=kind).kind == kind
    assert Chamber(name="c", kinds=[kind]).kinds == [kind]


def test_an_unknown_kind_is_refused_by_actors_and_chambers():
    with pytest.raises(ValidationError):
        ActorEntry(id="x", kind="lobbyist")
    with pytest.raises(ValidationError):
        Chamber(name="c", kinds=["participant", "lobbyist"])


def test_a_model_makes_one_agent_of_its_kind_per_actor(toy_scenario):
    sc = toy_scenario(("a", "b"), observers=OBSERVER_KINDS, proposal={})
    m = PlenaryModel(sc)
    assert [type(a) for a in m.actors] == [AGENT_CLASSES[e.kind] for e in sc.actors]
    assert [a.entry for a in m.actors] == list(sc.actors)


# ------------------------------------------------------------------ dynamics strategies


def test_dynamics_modes_are_the_strategies():
    assert list(literal_args(Dynamics.model_fields["mode"].annotation)) == list(DYNAMICS)


@pytest.mark.parametrize("mode", list(DYNAMICS))
def test_every_strategy_names_settings_that_exist_and_describes_itself(mode):
    strategy = DYNAMICS[mode]
    assert set(strategy.parameters) <= set(Dynamics.model_fields) - {"mode"}, mode
    assert len(set(strategy.parameters)) == len(strategy.parameters)
    assert isinstance(strategy.title, str) and strategy.title
    assert isinstance(strategy.lobbies, bool)
    assert all(callable(phase) for phase in strategy.phases)
    assert callable(strategy.stances)


@pytest.mark.parametrize("mode", list(DYNAMICS))
def test_every_strategy_runs_the_toy_and_gives_stances(mode, toy_scenario):
    sc = toy_scenario(dynamics={"mode": mode}, horizon=5, seed=1)
    m = PlenaryModel(sc, replications=40, record=True).run()
    assert m.strategy is DYNAMICS[mode]
    assert m.history and all(h.stances.shape == (len(h.replications), len(sc.actors)) for h in m.history)
    stances = np.concatenate([h.stances for h in m.history])
    assert np.isin(stances, [SUPPORT, ABSTAIN, OBJECT]).all()
    assert 1 <= m.meetings.min() and m.meetings.max() <= 5


# ------------------------------------------------------------------ tables and charts of a results folder

# every rule kind a chart or table reads: three count thresholds, a weight, observers in a chamber
RULES = [
    {"rule": "consensus"},
    {"rule": "qualified_majority", "q": "3/4", "name": "three_quarters"},
    {"rule": "simple_majority"},
    {"rule": "weighted_majority", "weight": "production", "q": "1/2", "name": "production"},
    {"rule": "chambers"},
]


@pytest.fixture(scope="module")
def results(toy_scenario, results_of):
    weights = [{"production": x} for x in (0.5, 0.1, 0.3, 0.1)]
    # the civil-society observer walks out after 3 failed meetings, so exits.csv has something to count
    sc = toy_scenario(rules=RULES, weights=weights, horizon=8, dynamics={"noise": 0.3}, seed=7, changes={"csc": {"patience": 3}})
    return results_of(sc, 60, run_id="registry")


@pytest.fixture(scope="module")
def tables(results):
    return results.tables()


def registered_tables():
    import kpsim.analysis.results  # noqa: F401  (imports the modules that register the tables)

    return sorted(outputs.TABLES)


def registered_charts():
    import kpsim.output  # noqa: F401  (registers the charts)

    return sorted(outputs.CHARTS)


def test_results_hold_every_registered_table(results, tables):
    assert outputs.TABLES and list(tables) == list(outputs.TABLES)
    assert all(name.endswith(".csv") for name in outputs.TABLES)


@pytest.mark.parametrize("name", registered_tables())
def test_every_table_is_a_frame_of_the_toy(name, results):
    table = outputs.TABLES[name](results)
    assert isinstance(table, pd.DataFrame)
    assert len(table), f"{name} is empty on the toy: give the toy what it needs"
    if "rule" in table:
        assert set(table["rule"]) <= set(results.rules)


@pytest.mark.parametrize("name", registered_charts())
def test_every_chart_draws_the_toy_in_every_format(name, results, tables, tmp_path):
    from kpsim.output.style import FORMATS

    files = outputs.CHARTS[name](results, tables, tmp_path / "charts")
    assert sorted(p.suffix for p in files) == sorted(f".{fmt}" for fmt in FORMATS)
    for p in files:
        assert p.parent == tmp_path / "charts" and p.is_file() and p.stat().st_size > 1000, p
    # named after its entry: Results.write puts every chart in one folder, so no chart overwrites another's files
    assert {p.stem for p in files} == {name}
