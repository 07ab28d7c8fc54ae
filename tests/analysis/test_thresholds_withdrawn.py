"""`kpsim threshold` says when a median was cut short by a withdrawal; `kpsim power` ranks players and says how many it hides."""

import pandas as pd
from click.testing import CliRunner

from kpsim.cli import main


def _threshold(root, tmp_path, extra: str) -> tuple[str, pd.DataFrame]:
    # sixty coin flips: unanimity (A = 2^-60) never passes, simple majority passes within a few meetings
    (tmp_path / "null.yaml").write_text(f"extends: {root / 'scenarios' / 'null_model.yaml'}\ncalendar: {{horizon: 30}}\n{extra}")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["threshold", str(tmp_path / "null.yaml"), "--q", "1", "--reps", "300", "--out", str(out), "-q", "--jobs", "1", "--no-charts"])
    assert res.exit_code == 0, res.output
    return res.output, pd.read_csv(out / "threshold.csv").set_index("rule")


def test_a_median_cut_short_by_withdrawal_says_so(root, tmp_path):
    output, table = _threshold(root, tmp_path, "proposal: {status_quo: 0.0, position: 1.0, abandon_after: 5}\n")
    unanimity = next(line for line in output.splitlines() if "unanimity" in line)
    assert "withdrawn after meeting 5 in 100%" in unanimity and "not reached" not in unanimity
    assert table.at["q=1", "withdrawn"] == 1 and table.at["q=1", "withdrawn_after_max"] == 5
    majority = next(line for line in output.splitlines() if "> 1/2" in line)
    # P(still open after 5 meetings) = 0.55^5 = 5%: a few withdrawn, said after the median, which is reached
    assert majority.split()[2] == f'{table.at["simple_majority", "median_meetings"]:g}'
    assert "; withdrawn after meeting 5 in " in majority and table.at["simple_majority", "withdrawn"] > 0


def test_without_withdrawals_a_median_is_not_reached_within_the_horizon(root, tmp_path):
    output, table = _threshold(root, tmp_path, "")
    assert "not reached within 30" in next(line for line in output.splitlines() if "unanimity" in line)
    assert table.at["q=1", "withdrawn"] == 0


def test_power_lists_the_strongest_first_and_says_what_it_hides(root):
    args = ["power", "--quota", "39", "--weights", "1,1,1,1,1,7,7,7,7,7,1,1,1,1,1"]
    res = CliRunner().invoke(main, args + ["--top", "6"])
    assert res.exit_code == 0, res.output
    rows = [line.split() for line in res.output.splitlines()[3:9]]
    assert [r[0] for r in rows] == ["6", "7", "8", "9", "10", "1"]  # the five permanent members first, ties in their order
    assert "… and 9 more, each 0.001865 (--top 0 shows all)" in res.output
    everything = CliRunner().invoke(main, args + ["--top", "0"])
    assert "… and" not in everything.output and len(everything.output.strip().splitlines()) == 3 + 15
    scenario = CliRunner().invoke(main, ["power", str(root / "scenarios" / "kp" / "definition_reform.yaml"), "--rule", "production_weighted"])
    assert scenario.exit_code == 0 and "russia" in scenario.output.splitlines()[3] and "45 more" in scenario.output
    assert CliRunner().invoke(main, args + ["--top", "-1"]).exit_code == 2


def test_outvoted_is_the_range_across_draws_when_the_runs_come_from_draws():
    import numpy as np
    import pandas as pd

    from kpsim.analysis.thresholds import outvoted

    # 40 draws of 30 adopted replications; within a draw every count is the same (its own interval has no width),
    # across draws the count runs from 0 to 9: the Monte-Carlo interval of the pooled runs is narrow, the draws' range is not
    draw = np.repeat(np.arange(40), 30)
    runs = pd.DataFrame({"rule": "two_thirds", "adopted": True, "n_objectors": draw % 10, "draw": draw})
    (pooled,) = outvoted(runs.drop(columns="draw")).itertuples(index=False)
    (drawn,) = outvoted(runs).itertuples(index=False)
    assert drawn.outvoted == pooled.outvoted == 4.5
    assert 4.0 < pooled.outvoted_lo < pooled.outvoted_hi < 5.0
    assert (drawn.outvoted_lo, drawn.outvoted_hi) == (0.0, 9.0)
    # a draw that adopted once has no interval of its own: left out, as summary.csv leaves out a draw without a surviving share
    one = pd.concat([runs, pd.DataFrame({"rule": ["two_thirds"], "adopted": [True], "n_objectors": [60], "draw": [40]})])
    assert outvoted(one).loc[0, "outvoted_hi"] == 9.0


def test_the_outvoted_interval_never_goes_below_zero():
    import pandas as pd

    from kpsim.analysis.thresholds import outvoted

    runs = pd.DataFrame({"rule": "q=9/10", "adopted": True, "n_objectors": [0] * 9 + [6]})  # mean 0.6, half-width 1.2
    (row,) = outvoted(runs).itertuples(index=False)
    assert row.outvoted == 0.6 and row.outvoted_lo == 0.0 and row.outvoted_hi > 1.2
