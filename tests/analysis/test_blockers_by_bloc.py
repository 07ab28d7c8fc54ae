"""Blocs are ranked by how many members object, and each names the member that objects most: a mean member hides who blocks."""

import pandas as pd
import pytest
from click.testing import CliRunner

from kpsim.analysis.blockers import blockers_by_bloc, format_ranked
from kpsim.cli import main

# bloc w: two of seven members object at every failed decision (a mean member's 28.6%);
# bloc e: three members object at half of them each (a mean member's 50%), the last of them pivotal twice
MEMBERS = [("w", f"w{i}", 10 if i < 2 else 0, 0) for i in range(7)] + [("e", f"e{i}", 5, 2 if i == 2 else 0) for i in range(3)]


def tallies(failed=10) -> pd.DataFrame:
    rows = [{"rule": "consensus", "actor": a, "kind": "participant", "bloc": b, "failed_decisions": failed, "objections": o, "pivotal": p}
            for b, a, o, p in MEMBERS]
    return pd.DataFrame(rows).assign(objection_rate=lambda t: t.objections / t.failed_decisions, pivotal_rate=lambda t: t.pivotal / t.failed_decisions)


@pytest.fixture
def scenario(toy_scenario):
    return toy_scenario(actors=[{"id": a, "bloc": b} for b, a, _, _ in MEMBERS])


def test_blocs_rank_by_members_objecting_not_by_the_mean_member(scenario):
    table = blockers_by_bloc(tallies(), scenario).set_index("bloc")
    w, e = table.loc["w"], table.loc["e"]
    assert w.objection_rate == pytest.approx(2 / 7) and e.objection_rate == pytest.approx(0.5)  # the mean member says e blocks more
    assert w.members_objecting == pytest.approx(2.0) and e.members_objecting == pytest.approx(1.5)
    assert (w.top_actor, w.top_objection_rate) == ("w0", 1.0)
    assert (e.top_actor, e.top_objection_rate, e.top_pivotal_rate) == ("e2", 0.5, 0.2)  # ties in objections: the more pivotal
    assert e.members_pivotal == pytest.approx(0.2) and w.members_pivotal == 0
    assert list(table.index) == ["w", "e"] and list(table["rank"]) == [1, 2]


def test_the_ranking_prints_how_many_object_and_who(scenario):
    text = format_ranked(blockers_by_bloc(tallies(), scenario), "bloc")
    lines = text.splitlines()
    assert lines[0] == "consensus: 10 failed decisions"
    assert "objecting" in lines[1] and "strongest member" in lines[1] and "pivotal" in lines[1]
    assert lines[2].split() == ["1", "w", "2.0", "of", "7", "w0", "100.0%", "0"]
    assert lines[3].split() == ["2", "e", "1.5", "of", "3", "e2", "50.0%", "0.2"]
    top = format_ranked(blockers_by_bloc(tallies(), scenario), "bloc", top=1)
    assert "  … and 1 more (--top)" in top and " e " not in top


def test_no_failed_decision_leaves_nothing_to_rank(scenario):
    text = format_ranked(blockers_by_bloc(tallies(failed=0), scenario), "bloc")
    assert "nothing to rank" in text


def test_blockers_command_by_bloc_on_a_results_folder(tmp_path, toy_yaml):
    (tmp_path / "toy.yaml").write_text(toy_yaml(dynamics={"noise": 0.3}, replications=150))
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["compare", str(tmp_path / "toy.yaml"), "--out", str(out), "-q", "--no-charts", "--jobs", "1"]).exit_code == 0
    res = CliRunner().invoke(main, ["blockers", str(out), "--top", "1"])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(out / "blockers_by_bloc.csv")
    first = csv[csv.rule == "consensus"].iloc[0]
    assert first.members_objecting == csv[csv.rule == "consensus"].members_objecting.max()
    assert f"1  {first.bloc}" in res.output and f"{first.top_actor} {first.top_objection_rate:.1%}" in res.output
    assert "more (--top)" in res.output
    bad = CliRunner().invoke(main, ["blockers", str(out), "--by", "country"])
    assert bad.exit_code == 2
