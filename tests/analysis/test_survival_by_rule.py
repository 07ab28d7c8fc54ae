"""by_rule splits the runs table like groupby("rule", sort=False), without copying when each rule's rows are together."""

import numpy as np
import pandas as pd
import pytest

from kpsim.analysis.survival import by_rule


def frame(rules):
    return pd.DataFrame({"rule": rules, "meetings": np.arange(len(rules)), "censored": np.arange(len(rules)) % 3 == 0})


@pytest.mark.parametrize(
    "rules",
    [
        ["b", "b", "a", "a", "a", "c"],  # together, as the runner writes them
        pd.Categorical(["b", "b", "a", "a"], categories=["a", "b", "c"]),  # an unused category yields nothing
        ["b", "a", "b", "c", "a"],  # interleaved
        ["b", None, "b", "a"],  # a missing rule is left out, as groupby does
        [],
    ],
)
def test_by_rule_is_groupby(rules):
    runs = frame(rules)
    got = [(r, g["meetings"].tolist(), g["censored"].tolist()) for r, g in by_rule(runs, ["meetings", "censored"])]
    want = [(r, g["meetings"].tolist(), g["censored"].tolist()) for r, g in runs.groupby("rule", sort=False)]
    assert got == want
