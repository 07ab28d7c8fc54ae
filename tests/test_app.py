"""The browser view's logic without a browser: its comparison is `kpsim compare`'s, its upload check is `kpsim validate`'s.

tests/test_app_browser.py drives the same page in Chromium.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

import kpsim
from kpsim.analysis.summary import PCT, format_ci
from kpsim.app import (
    PlenaryView,
    brief_files,
    catalogue,
    choice_for,
    compare_command,
    comparison,
    summary_table,
    text_figure,
)
from kpsim.cli import main
from kpsim.cli.app import MAX_UPLOAD_BYTES, check_files

ARCTIC = "scenarios/examples/arctic_council.yaml"  # five rules, 2,000 replications each: a comparison in under a second


def test_the_comparison_is_kpsim_compares_by_default(root):
    """The scenario's own rules, seed and replications: the same summary as `kpsim compare FILE`, column for column."""
    view = PlenaryView(**choice_for("arctic_council", {}))
    assert view.spec.seed == 1996 and view.spec.replications == 2000
    ours = comparison(view.spec)
    theirs = kpsim.compare(root / ARCTIC, jobs=1)
    pd.testing.assert_frame_equal(ours.summary, theirs.summary)
    assert ours.rules == [r.label for r in view.spec.rules]
    assert compare_command(view) == f"kpsim compare {ARCTIC}"


def test_another_seed_or_replications_is_the_command_with_those_options(root):
    view = PlenaryView("arctic_council", seed=7)
    ours = comparison(view.spec, reps=300)
    theirs = kpsim.compare(root / ARCTIC, seed=7, reps=300, jobs=1)
    pd.testing.assert_frame_equal(ours.summary, theirs.summary)
    assert compare_command(view, 300) == f"kpsim compare {ARCTIC} --seed 7 --reps 300"


def test_the_seed_and_the_rules_are_the_scenarios_own():
    for name, (spec, _) in catalogue().items():
        c = choice_for(name, {})
        assert c["seed"] == spec.seed and c["rule"] == spec.rules[0].label
    assert choice_for("arctic_council", {}, rule="states_and_pps")["rule"] == "states_and_pps"
    assert choice_for("kp_marange", {}, rule="states_and_pps")["rule"] == "consensus"  # not one of Marange's rules


def test_the_meeting_chart_spans_the_horizon():
    view = PlenaryView("kp_definition_reform")
    view.step()
    assert text_figure(view).axes[0].get_xlim() == (0, 40)


def test_the_summary_table_reads_columns_defensively(root):
    summary = comparison(PlenaryView("arctic_council").spec, reps=200).summary
    heads, rows = summary_table(summary, 20)
    assert heads[:3] == ["Rule", "Adopted by meeting 20", "Median deadlock (meetings)"] and len(rows) == len(summary)
    if "withdrawn" in summary:  # the withdrawn share, with its interval
        assert rows[0][heads.index("Withdrawn")] == format_ci(summary["withdrawn"][0], summary["withdrawn_lo"][0], summary["withdrawn_hi"][0], PCT)
    # a withdrawn share under another name and without intervals, and no win-set label, as an older or newer summary may have
    other = summary.drop(columns=[c for c in summary if "withdrawn" in c or c in ("win_set", "decided_by", "median_lo")])
    heads, rows = summary_table(other.assign(withdrawn_share=0.25), 20)
    assert "Withdrawn" in heads and "Win-set: result" not in heads
    assert rows[0][heads.index("Withdrawn")] == "25%"
    assert "Withdrawn" not in summary_table(other, 20)[0]
    heads, rows = summary_table(summary[["rule", "adopted"]], 20)  # no intervals at all: the figures alone
    assert heads == ["Rule", "Adopted by meeting 20"] and all("[" not in row[1] for row in rows)


def validate_messages(folder, monkeypatch, name: str, text: str) -> list[str]:
    """What `kpsim validate NAME` prints as errors, run in `folder` so that the file is named as given."""
    (folder / name).write_text(text)
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(main, ["validate", name])
    assert result.exit_code == 2, result.output
    return [line.removeprefix("error: ") for line in result.output.splitlines() if line.startswith("error: ")]


@pytest.mark.parametrize("edit", [
    lambda t: t.replace("seed: 1996", "seed: -1"),                     # a bad value
    lambda t: t.replace("replications: 2000", "replicatons: 2000"),    # a misspelt field
    lambda t: t.replace("rules:", "rules: [", 1),                      # a YAML syntax error
])
def test_an_upload_is_checked_as_kpsim_validate_checks_it(root, tmp_path, monkeypatch, edit):
    text = edit((root / ARCTIC).read_text())
    found, errors, _ = check_files({"bad_scenario.yaml": text.encode()})
    assert not found and errors
    assert errors == validate_messages(tmp_path, monkeypatch, "bad_scenario.yaml", text)
    assert all(e.startswith("bad_scenario.yaml:") for e in errors)


def test_an_upload_may_extend_only_files_uploaded_with_it(root):
    kp = root / "scenarios" / "kp"
    marange = (kp / "marange.yaml").read_bytes()
    found, errors, _ = check_files({"marange.yaml": marange}, root / "scenarios")
    assert not found
    assert errors[0].startswith("marange.yaml:") and "extends = 'roster.yaml' — not uploaded" in errors[0]
    assert "scenarios/kp/roster.yaml" in errors[0]

    found, errors, notes = check_files({n: (kp / n).read_bytes() for n in ("marange.yaml", "roster.yaml", "calibration.yaml")})
    assert not errors and [(n, s.name) for n, s in found] == [("marange.yaml", "kp_marange")]
    assert found[0][1] == catalogue()["kp_marange"][0]
    assert any("roster.yaml: a fragment" in n for n in notes)

    escape = b"extends: ../../etc/passwd.yaml\n" + (root / ARCTIC).read_bytes()
    found, errors, _ = check_files({"escape.yaml": escape})
    assert not found and errors == ["escape.yaml:1: extends = '../../etc/passwd.yaml' — not uploaded: choose it together with escape.yaml"]


def test_an_upload_that_is_not_a_scenario_file_is_refused_in_one_line():
    found, errors, _ = check_files({"notes.txt": b"hello", "big.yaml": b"#" * (MAX_UPLOAD_BYTES + 1), "empty.yaml": b""})
    assert not found
    assert errors == [
        "notes.txt: not a scenario file (a .yaml or .yml file)",
        f"big.yaml: larger than {MAX_UPLOAD_BYTES:,} bytes — not a scenario file",
        "empty.yaml:1: the file is empty — expected a scenario mapping",
    ]


def test_an_uploaded_scenario_is_stepped_like_a_bundled_one(root):
    (name, spec), = check_files({"arctic.yaml": (root / ARCTIC).read_bytes()})[0]
    view = PlenaryView(**choice_for("arctic_council (uploaded)", {"arctic_council (uploaded)": (spec, name)}))
    assert view.source == "arctic.yaml" and compare_command(view) == "kpsim compare arctic.yaml"
    view.step()
    assert view.meeting == 1


@pytest.mark.timeout(120)
def test_the_brief_is_made_from_the_results_in_memory():
    files, errors = brief_files(comparison(PlenaryView("arctic_council").spec, reps=200))
    assert not errors and sorted(files) == ["brief.html", "brief.pdf"]
    assert files["brief.pdf"].startswith(b"%PDF") and b"arctic" in files["brief.html"].lower()


def test_the_intervals_are_the_scenarios_own_unless_chosen(root, toy_scenario):
    from kpsim.analysis.uncertainty import posterior_beside

    kp = PlenaryView("kp_marange")
    assert kp.spec.uncertainty == "full" and kp.bundled and posterior_beside(root / kp.source) == root / "scenarios/kp/posterior.csv"
    assert compare_command(kp) == "kpsim compare scenarios/kp/marange.yaml"
    assert compare_command(kp, uncertainty="montecarlo") == "kpsim compare scenarios/kp/marange.yaml --uncertainty montecarlo"
    ranged = toy_scenario(changes={"a": {"position": [0.5, 1.0]}}, replications=80)
    ours = comparison(ranged, uncertainty="full")
    theirs = kpsim.compare(ranged, jobs=1, uncertainty="full")
    pd.testing.assert_frame_equal(ours.summary, theirs.summary)
    assert ours.meta["uncertainty"] == "full" and ours.summary["interval"].str.startswith("full: 95% range over 50 draws").all()
