"""The cost of deciding: the majority needed, from simple majority to unanimity, against deadlock, surviving text and participants outvoted."""

from __future__ import annotations

import math
from fractions import Fraction

import pandas as pd

from kpsim.analysis.outputs import table
from kpsim.analysis.summary import Z
from kpsim.analysis.survival import by_rule
from kpsim.errors import InputError
from kpsim.scenario.schema import Scenario

DEFAULT_THRESHOLDS = ("3/5", "2/3", "3/4", "4/5", "9/10", "1")


def threshold_scenario(scenario: Scenario, qs=DEFAULT_THRESHOLDS) -> Scenario:
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
    for rule, g in by_rule(runs, ["adopted", "n_objectors"]):  # views of each rule's rows, not a copy of the table
        counts = g["n_objectors"][g["adopted"]].astype(float)
        mean = counts.mean() if counts.size else math.nan
        half = Z * counts.std(ddof=1) / math.sqrt(counts.size) if counts.size > 1 else math.nan
        rows.append({"rule": rule, "outvoted": mean, "outvoted_lo": mean - half, "outvoted_hi": mean + half})
    return pd.DataFrame(rows, columns=["rule", "outvoted", "outvoted_lo", "outvoted_hi"])


@table("threshold.csv")
def threshold_table(results) -> pd.DataFrame:
    """Deadlock, surviving text and participants outvoted, for every count-threshold rule, by q.

    Empty unless at least two such rules were run. The median is Kaplan–Meier
    (NaN = not reached within the horizon, or before the withdrawals); the
    surviving share and the outvoted count are means over adopted replications
    with 95% intervals; withdrawn as in summary.csv.
    """
    rules = {r.label: r for r in results.scenario.rules}
    q = {label: r.count_threshold() for label, r in rules.items()}
    cols = ["rule", "replications", "adopted", "median_meetings", "median_lo", "median_hi", "surviving_share", "surviving_lo", "surviving_hi",
            "withdrawn", "withdrawn_lo", "withdrawn_hi", "withdrawn_after_min", "withdrawn_after_max"]
    # reindex: a folder written before the withdrawn columns reads as withdrawing nothing known
    table = results.summary[results.summary["rule"].map(lambda r: q.get(r) is not None)].reindex(columns=cols)
    if len(table) < 2:
        return pd.DataFrame()
    table = table.merge(outvoted(results.runs), on="rule")
    table.insert(1, "q", [float(q[r]) for r in table["rule"]])
    table.insert(2, "threshold", [rules[r].threshold_label() for r in table["rule"]])
    strict = table["threshold"].str.startswith(">")  # where a tie fails, the rule is the stricter one at its q
    return table.assign(_strict=strict).sort_values(["q", "_strict"]).drop(columns="_strict").reset_index(drop=True)


