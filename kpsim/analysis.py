"""From a results folder to the tables a comparison needs: blockers, log-rank, power, the cost of deciding.

Everything here is rebuilt from the folder's files alone (runs.csv,
summary.csv, blockers.csv, scenario.yaml, meta.json), so charts and the brief
can be redrawn later without re-running the simulation.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from kpsim.results import write_table
from kpsim.rulepower import scenario_power, voters
from kpsim.scenario import Scenario, load_scenario
from kpsim.summary import Z
from kpsim.survival import pairwise_logrank
from kpsim.yamlsource import InputError

RESULT_FILES = ("runs.csv", "summary.csv", "blockers.csv", "scenario.yaml", "meta.json")
RUN_COLUMNS = ["rule", "replication", "adopted", "abandoned", "censored", "meetings", "surviving_share", "n_objectors", "objectors"]


@dataclass
class Results:
    """One run, as written to its folder; `run_id` is the folder's name."""

    scenario: Scenario
    runs: pd.DataFrame
    summary: pd.DataFrame
    blockers: pd.DataFrame
    meta: dict
    run_id: str

    @property
    def rules(self) -> list[str]:
        return list(self.summary["rule"])

    @property
    def replications(self) -> int:
        return int(self.summary["replications"].max())


def load_results(folder: str | Path) -> Results:
    """Read a results folder written by `kpsim compare` (or run, or threshold)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder — give a results folder written by `kpsim compare`")
    missing = [f for f in RESULT_FILES if not (folder / f).is_file()]
    if missing:
        raise InputError(f"{folder}: not a complete results folder — missing {', '.join(missing)} (expected {', '.join(RESULT_FILES)})")
    try:
        meta = json.loads((folder / "meta.json").read_text())
        runs = pd.read_csv(folder / "runs.csv", usecols=RUN_COLUMNS)
        summary = pd.read_csv(folder / "summary.csv")
        blockers = pd.read_csv(folder / "blockers.csv", keep_default_na=False, na_values={"objection_rate": [""], "pivotal_rate": [""]})
    except (ValueError, OSError) as exc:
        raise InputError(f"{folder}: cannot read the results ({exc})") from None
    return Results(load_scenario(folder / "scenario.yaml"), runs, summary, blockers, meta, folder.resolve().name)


# ------------------------------------------------------------------ blockers


def _voting_rows(blockers: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Observers have no vote except under chambers: their 'objections' block nothing elsewhere."""
    votes = {(r.label, a.id) for r in scenario.rules for a in voters(scenario, r)}
    return blockers[[key in votes for key in zip(blockers["rule"], blockers["actor"])]]


def bloc_labels(table: pd.DataFrame) -> np.ndarray:
    """Each row's bloc; "(no bloc)" for a participant without one, "(kind)" for an observer."""
    bloc = table["bloc"].fillna("").astype(str)
    return np.where(bloc != "", bloc, np.where(table["kind"] == "participant", "(no bloc)", "(" + table["kind"] + ")"))


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


# ------------------------------------------------------------------ survival between rules


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjustment: controls the chance of any false difference among all pairs."""
    p = np.asarray(pvalues, dtype=float)
    ok = np.flatnonzero(~np.isnan(p))
    order = ok[np.argsort(p[ok])]
    m = len(order)
    adjusted = np.full(len(p), np.nan)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    return adjusted


def logrank_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Pairwise log-rank tests between rules, with Holm-adjusted p-values.

    The rules are run on the same random draws, so their samples are
    positively correlated and the (independent-samples) test is conservative.
    """
    groups = {rule: (g["meetings"].to_numpy(), g["censored"].to_numpy()) for rule, g in runs.groupby("rule", sort=False)}
    table = pairwise_logrank(groups)
    return table.assign(pvalue_holm=holm(table["pvalue"]))


# ------------------------------------------------------------------ the cost of deciding


def count_threshold(rule) -> Fraction | None:
    """The q of a rule that counts supporters among those taking a side; None for any other rule.

    Consensus is q = 1 (no objection, someone supports); simple majority sits
    at q = 1/2 but is strict (more than half), so a tie fails.
    """
    match rule.rule:
        case "consensus":
            return Fraction(1)
        case "simple_majority":
            return Fraction(1, 2)
        case "qualified_majority":
            return Fraction(rule.q)
    return None


def threshold_label(rule) -> str:
    q = count_threshold(rule)
    return "> 1/2" if rule.rule == "simple_majority" else f"≥ {q}" if q < 1 else "unanimity"


DEFAULT_SWEEP = ("3/5", "2/3", "3/4", "4/5", "9/10", "1")


def sweep_scenario(scenario: Scenario, qs=DEFAULT_SWEEP) -> Scenario:
    """The scenario with its rules replaced by simple majority and qualified majority at each q.

    All the rules of one run see the same random draws, so the points of the
    sweep are paired: differences between them are the threshold's doing.
    """
    qs = sorted({Fraction(q) for q in qs})
    bad = [q for q in qs if not 0 < q <= 1]
    if bad:
        raise InputError(f"thresholds must be above 0 and at most 1; got {', '.join(map(str, bad))}")
    rules = [{"rule": "simple_majority"}] + [{"rule": "qualified_majority", "q": str(q), "name": f"q={q}"} for q in qs]
    # the record names a rule of the original list; it does not apply to the sweep's rules
    data = scenario.model_dump(mode="json", exclude_none=True) | {"rules": rules}
    data.pop("record", None)
    return Scenario.model_validate(data, strict=False)


def outvoted(runs: pd.DataFrame) -> pd.DataFrame:
    """Per rule: mean voters objecting at adoption, over adopted replications, with a 95% interval.

    `n_objectors` counts voters only (observers where a rule gives them a vote), so it is
    exactly the number outvoted when the text passed.
    """
    rows = []
    for rule, g in runs.groupby("rule", sort=False):
        counts = g.loc[g["adopted"], "n_objectors"].to_numpy(dtype=float)
        mean = counts.mean() if counts.size else math.nan
        half = Z * counts.std(ddof=1) / math.sqrt(counts.size) if counts.size > 1 else math.nan
        rows.append({"rule": rule, "outvoted": mean, "outvoted_lo": mean - half, "outvoted_hi": mean + half})
    return pd.DataFrame(rows, columns=["rule", "outvoted", "outvoted_lo", "outvoted_hi"])


def threshold_table(results: Results) -> pd.DataFrame:
    """Deadlock, surviving text and participants outvoted, for every count-threshold rule, by q.

    Empty unless at least two such rules were run. The median is Kaplan–Meier
    (NaN = not reached within the horizon); the surviving share and the
    outvoted count are means over adopted replications with 95% intervals.
    """
    rules = {r.label: r for r in results.scenario.rules}
    q = {label: count_threshold(r) for label, r in rules.items()}
    cols = ["rule", "replications", "adopted", "median_meetings", "median_lo", "median_hi", "surviving_share", "surviving_lo", "surviving_hi"]
    table = results.summary[results.summary["rule"].map(lambda r: q.get(r) is not None)][cols]
    if len(table) < 2:
        return pd.DataFrame()
    table = table.merge(outvoted(results.runs), on="rule")
    table.insert(1, "q", [float(q[r]) for r in table["rule"]])
    table.insert(2, "threshold", [threshold_label(rules[r]) for r in table["rule"]])
    strict = table["threshold"] == "> 1/2"  # a strict majority is the stricter rule at q = 1/2
    return table.assign(_strict=strict).sort_values(["q", "_strict"]).drop(columns="_strict").reset_index(drop=True)


# ------------------------------------------------------------------ writing


def analysis_tables(results: Results) -> dict[str, pd.DataFrame]:
    """Every table derived from a run, by the file name it is written under (empty ones are not)."""
    return {
        "blockers_by_bloc.csv": blockers_by_bloc(results.blockers, results.scenario),
        "logrank.csv": logrank_table(results.runs),
        "power.csv": scenario_power(results.scenario, results.rules),
        "threshold.csv": threshold_table(results),
    }


def write_analysis(results: Results, folder: Path, charts: bool = True) -> list[Path]:
    """The analysis tables (and, unless charts=False, the charts) into a results folder being written."""
    folder = Path(folder)
    tables = analysis_tables(results)
    written = []
    for name, table in tables.items():
        if len(table):
            write_table(table, folder / name)
            written.append(folder / name)
    if charts:
        from kpsim.plots import write_charts

        written += write_charts(results, folder / "charts", tables)
    return written
