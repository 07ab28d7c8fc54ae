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


def ranked(table: pd.DataFrame, keys=("pivotal_rate", "objection_rate")) -> pd.DataFrame:
    """Within each rule, by `keys` (highest first; by default the most pivotal, then the most objecting); rules keep their order."""
    order = {r: i for i, r in enumerate(dict.fromkeys(table["rule"]))}
    out = table.assign(_rule=table["rule"].map(order)).sort_values(
        ["_rule", *keys], ascending=[True] + [False] * len(keys), na_position="last", kind="stable"
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


BLOC_RANKING = ("members_objecting", "top_objection_rate", "pivotal_rate")


def blockers_by_bloc(blockers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Per rule and bloc, from the per-actor tallies at failed decisions; ranked by how many members object.

    A bloc's mean member hides who blocks (two members objecting every time
    in a bloc of seven average 29%), so each row also says how many members
    object and who objects most. members_objecting: members objecting at a
    failed decision, on average (objections / failed decisions);
    members_pivotal: members whose objection alone sank the text, per failed
    decision; top_actor, top_objection_rate, top_pivotal_rate: the member
    that objected most (ties: the more pivotal). objection_rate and
    pivotal_rate are the mean member's; share_of_objections and
    share_of_pivotal the bloc's part of all objections and pivotal objections
    under the rule. Actors without a bloc are grouped as "(no bloc)",
    observers (voters under chambers only) by their kind.
    """
    b = _voting_rows(blockers, scenario)
    b = b.assign(bloc=bloc_labels(b))
    g = b.groupby(["rule", "bloc"], sort=False)
    out = g.agg(
        members=("actor", "size"),
        failed_decisions=("failed_decisions", "first"),
        objections=("objections", "sum"),
        pivotal=("pivotal", "sum"),
    ).reset_index()
    failed = out["failed_decisions"].where(out["failed_decisions"] > 0)
    member_decisions = out["members"] * failed
    out["objection_rate"] = out["objections"] / member_decisions
    out["pivotal_rate"] = out["pivotal"] / member_decisions
    for col in ("objections", "pivotal"):
        total = out.groupby("rule", sort=False)[col].transform("sum")
        out[f"share_of_{col}"] = out[col] / total.where(total > 0)
    out["members_objecting"] = out["objections"] / failed
    out["members_pivotal"] = out["pivotal"] / failed
    top = b.sort_values(["objections", "pivotal"], ascending=False, kind="stable").drop_duplicates(["rule", "bloc"])
    top = top.set_index(["rule", "bloc"]).reindex(pd.MultiIndex.from_frame(out[["rule", "bloc"]]))
    out["top_actor"] = top["actor"].to_numpy()
    out["top_objection_rate"] = (top["objections"] / top["failed_decisions"].where(top["failed_decisions"] > 0)).to_numpy()
    out["top_pivotal_rate"] = (top["pivotal"] / top["failed_decisions"].where(top["failed_decisions"] > 0)).to_numpy()
    return ranked(out, BLOC_RANKING)


def mean_count(x: float, fmt: str = "{:.1f}") -> str:
    """A mean count; "<0.1" rather than a 0.0 that reads as nobody."""
    text = fmt.format(x)
    return "<0.1" if x > 0 and float(text) == 0 else text


def format_ranked(table: pd.DataFrame, key: str, top: int | None = None) -> str:
    """A plain-text ranking per rule, for the terminal: per actor its rates; per bloc how many object and who most."""
    lines = []
    by_bloc = key == "bloc" and "members_objecting" in table
    for rule, g in table.groupby("rule", sort=False):
        failed = int(g["failed_decisions"].iloc[0])
        lines.append(f"{rule}: {failed:,} failed decisions")
        if failed == 0:
            lines.append("  (nothing to rank: every decision passed)")
            continue
        width = max(len(key), *(len(str(x)) for x in g[key]))
        if by_bloc:
            cells = [(f"{mean_count(r.members_objecting)} of {r.members}", f"{r.top_actor} {r.top_objection_rate:.1%}", mean_count(r.members_pivotal, "{:.2g}"))
                     for r in g.head(top).itertuples(index=False)]
            w = [max(len(h), *(len(c[j]) for c in cells)) for j, h in enumerate(("objecting", "strongest member", "pivotal"))]
            lines.append(f"  {'#':>3}  {key:<{width}}  {'objecting':<{w[0]}}  {'strongest member':<{w[1]}}  {'pivotal':>{w[2]}}")
            for r, (obj, strongest, piv) in zip(g.head(top).itertuples(index=False), cells):
                lines.append(f"  {r.rank:>3}  {r.bloc:<{width}}  {obj:<{w[0]}}  {strongest:<{w[1]}}  {piv:>{w[2]}}")
        else:
            lines.append(f"  {'#':>3}  {key:<{width}}  {'pivotal':>8}  {'objected':>8}")
            for r in g.head(top).itertuples(index=False):
                lines.append(f"  {r.rank:>3}  {getattr(r, key):<{width}}  {r.pivotal_rate:>8.1%}  {r.objection_rate:>8.1%}")
        hidden = len(g) - len(g.head(top))
        if hidden:
            lines.append(f"  … and {hidden} more (--top)")
    if by_bloc:
        lines.append("objecting: members objecting at a failed decision, on average, of the bloc's members; strongest member: the one that "
                     "objected most, and at what share of failed decisions; pivotal: members whose objection alone sank the text, per failed decision")
    return "\n".join(lines)
