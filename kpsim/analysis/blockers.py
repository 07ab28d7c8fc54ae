"""Who blocks: per actor and per bloc, how often they objected at failed decisions and how often their objection alone sank the text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpsim.analysis.outputs import table
from kpsim.fields import PARTICIPANT
from kpsim.scenario.schema import Scenario


def _voting_rows(blockers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Observers have no vote except under chambers: their 'objections' block nothing elsewhere."""
    votes = {(r.label, a.id) for r in scenario.rules for a in scenario.voters(r)}
    return blockers[[key in votes for key in zip(blockers["rule"], blockers["actor"])]]


def bloc_labels(table: pd.DataFrame) -> np.ndarray:
    """Each row's bloc; "(no bloc)" for a participant without one, "(kind)" for an observer."""
    bloc = table["bloc"].fillna("").astype(str)
    return np.where(bloc != "", bloc, np.where(table["kind"] == PARTICIPANT, "(no bloc)", "(" + table["kind"] + ")"))


def ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Within each rule, the most pivotal first, then the most objecting; rules keep their order."""
    order = {r: i for i, r in enumerate(dict.fromkeys(table["rule"]))}
    out = table.assign(_rule=table["rule"].map(order)).sort_values(
        ["_rule", "pivotal_rate", "objection_rate"], ascending=[True, False, False], na_position="last", kind="stable"
    )
    out = out.drop(columns="_rule")
    out.insert(1, "rank", out.groupby("rule", sort=False).cumcount() + 1)
    return out.reset_index(drop=True)


def blockers_by_actor(blockers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The runner's per-actor tallies, voters only, ranked."""
    return ranked(_voting_rows(blockers, scenario))


@table("blockers_by_bloc.csv")
def blockers_table(results) -> pd.DataFrame:
    return blockers_by_bloc(results.blockers, results.scenario)


def blockers_by_bloc(blockers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per rule and bloc, from the per-actor tallies at failed decisions.

    The rates are the mean member's, so blocs of any size compare:
    objection_rate is the share of failed decisions at which a member
    objected, pivotal_rate the share at which a member's objection alone sank
    the text. share_of_objections and share_of_pivotal are the bloc's part of
    all objections and of all pivotal objections under the rule: who blocks
    most, size included. Actors without a bloc are grouped as "(no bloc)",
    observers (voters under chambers only) by their kind.
    """
    b = _voting_rows(blockers, scenario)
    g = b.assign(bloc=bloc_labels(b)).groupby(["rule", "bloc"], sort=False)
    out = g.agg(
        members=("actor", "size"),
        failed_decisions=("failed_decisions", "first"),
        objections=("objections", "sum"),
        pivotal=("pivotal", "sum"),
    ).reset_index()
    member_decisions = out["members"] * out["failed_decisions"].where(out["failed_decisions"] > 0)
    out["objection_rate"] = out["objections"] / member_decisions
    out["pivotal_rate"] = out["pivotal"] / member_decisions
    for col in ("objections", "pivotal"):
        total = out.groupby("rule", sort=False)[col].transform("sum")
        out[f"share_of_{col}"] = out[col] / total.where(total > 0)
    return ranked(out)


def format_ranked(table: pd.DataFrame, key: str, top: int | None = None) -> str:
    """A plain-text ranking per rule, for the terminal."""
    lines = []
    for rule, g in table.groupby("rule", sort=False):
        failed = int(g["failed_decisions"].iloc[0])
        lines.append(f"{rule}: {failed:,} failed decisions")
        if failed == 0:
            lines.append("  (nothing to rank: every decision passed)")
            continue
        width = max(len(key), *(len(str(x)) for x in g[key]))
        lines.append(f"  {'#':>3}  {key:<{width}}  {'pivotal':>8}  {'objected':>8}")
        for r in g.head(top).itertuples(index=False):
            lines.append(f"  {r.rank:>3}  {getattr(r, key):<{width}}  {r.pivotal_rate:>8.1%}  {r.objection_rate:>8.1%}")
    return "\n".join(lines)
