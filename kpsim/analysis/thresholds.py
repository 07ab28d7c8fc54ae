"""The cost of deciding: the majority needed, from simple majority to unanimity, against deadlock, surviving text and participants outvoted."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd

from kpsim.analysis.outputs import table
from kpsim.analysis.summary import Z
from kpsim.analysis.survival import by_rule
from kpsim.analysis.uncertainty import draw_range, from_draws
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
    exactly the number outvoted when the text passed. The interval is the Monte-Carlo one; where the
    runs come from several draws (`--uncertainty parameters` or `full`: a `draw` column), it is the range
    across draws, as summary.csv's (analysis.uncertainty.across_draws): a draw that adopted fewer than two
    replications has no interval of its own and is left out.
    """
    rows = []
    for rule, g in by_rule(runs, ["adopted", "n_objectors"]):  # views of each rule's rows, not a copy of the table
        mean, lo, hi = _mean_ci(np.asarray(g["n_objectors"][g["adopted"]], dtype=float))
        rows.append({"rule": rule, "outvoted": mean, "outvoted_lo": lo, "outvoted_hi": hi})
    out = pd.DataFrame(rows, columns=["rule", "outvoted", "outvoted_lo", "outvoted_hi"])
    if from_draws(runs):
        adopted = runs.loc[runs["adopted"].to_numpy(bool), ["rule", "draw", "n_objectors"]]
        per_draw = {key: _mean_ci(g.to_numpy(float)) for key, g in adopted.groupby(["rule", "draw"], observed=True, sort=False)["n_objectors"]}
        for i, rule in enumerate(out["rule"]):
            cis = np.array([ci[1:] for (r, _), ci in per_draw.items() if r == rule and not math.isnan(ci[1])]).reshape(-1, 2)
            out.loc[i, ["outvoted_lo", "outvoted_hi"]] = draw_range(cis[:, 0], cis[:, 1])
    return out


def _mean_ci(counts: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% Monte-Carlo interval, never below 0 (a count), NaN where undefined: no count, or only one."""
    mean = counts.mean() if counts.size else math.nan
    half = Z * counts.std(ddof=1) / math.sqrt(counts.size) if counts.size > 1 else math.nan
    return mean, math.nan if math.isnan(half) else max(0.0, mean - half), mean + half


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


