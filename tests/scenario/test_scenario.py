"""Scenario files: every class of bad input gives file:line, the field, what is allowed, and exit code 2."""

import textwrap
from fractions import Fraction

import pytest
from click.testing import CliRunner

from kpsim.cli import main
from kpsim.errors import InputError
from kpsim.scenario.load import load_scenario

GOOD = """\
name: tiny
actors:
  - {id: a, position: 0.9, salience: 0.8}
  - {id: b, position: 0.2, salience: 0.3}
  - id: c
    position: 0.6
    salience: 0.5
  - {id: ngo, kind: civil_society, lobbying: 0.5}
proposal: {status_quo: 0.0, position: 1.0, reservation: 0.5}
rules:
  - {rule: consensus}
  - {rule: qualified_majority, q: 2/3}
"""


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def errors_of(path):
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    return exc.value.messages


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_good_scenario_loads(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert [a.id for a in sc.actors] == ["a", "b", "c", "ngo"]
    assert sc.rules[1].q == Fraction(2, 3) and sc.rules[1].label == "qualified_majority"


def test_out_of_range_value_names_file_line_field_and_range(tmp_path):
    p = write(tmp_path, GOOD.replace("salience: 0.5\n", "salience: 1.7\n"))
    assert errors_of(p) == [f"{p}:7: actors[2].salience = 1.7 — must be between 0 and 1"]


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path):
    p = write(tmp_path, GOOD.replace("salience: 0.3}", "salince: 0.3}"))
    (msg,) = errors_of(p)
    assert msg.startswith(f"{p}:4: actors[1].salince — unknown field (did you mean 'salience'?)")


def test_wrong_type(tmp_path):
    p = write(tmp_path, GOOD.replace("position: 0.6", "position: high"))
    assert errors_of(p) == [f"{p}:6: actors[2].position = 'high' — not a coding level of position; allowed: a number, [low, high], "
                            "or for, for_with_reservations, silent, against_with_reservations, against"]
    p = write(tmp_path, GOOD.replace("position: 0.6", "capability: high"))
    assert errors_of(p) == [f"{p}:6: actors[2].capability = 'high' — must be a number"]


def test_missing_required_field(tmp_path):
    p = write(tmp_path, GOOD.replace("proposal: {status_quo: 0.0, position: 1.0, reservation: 0.5}\n", ""))
    (msg,) = errors_of(p)
    assert msg == f"{p}:1: proposal — is required"


def test_unknown_rule_lists_the_allowed_ones(tmp_path):
    p = write(tmp_path, GOOD.replace("rule: consensus}", "rule: concensus}"))
    (msg,) = errors_of(p)
    assert msg.startswith(f"{p}:11: rules[0].rule = 'concensus' — unknown rule — allowed: chambers, consensus,")


def test_every_error_is_reported_at_once(tmp_path):
    p = write(tmp_path, GOOD.replace("salience: 0.5\n", "salience: -1\n").replace("position: 0.9", "position: 2"))
    assert len(errors_of(p)) == 2


@pytest.mark.parametrize(
    "text,expect",
    [
        ("name: x\nactors: [\n", "YAML syntax error"),
        ("", "the file is empty"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: x\nname: y\n", "duplicate key 'name'"),
    ],
)
def test_broken_files(tmp_path, text, expect):
    p = write(tmp_path, text)
    (msg,) = errors_of(p)
    assert msg.startswith(f"{p}:") and expect in msg


def test_missing_file(tmp_path):
    (msg,) = errors_of(tmp_path / "nope.yaml")
    assert msg == f"{tmp_path / 'nope.yaml'}: file not found"


def test_semantic_checks_point_at_their_lines_all_at_once(tmp_path):
    bad = GOOD.replace("reservation: 0.5}", "reservation: 0.5, proposer: zz}").replace(
        "- {rule: consensus}", "- {rule: weighted_majority, weight: trade}"
    ).replace("  - {id: b,", "  - {id: a,")
    p = write(tmp_path, bad)
    assert errors_of(p) == [
        f"{p}:4: actors[1].id = 'a' — actor ids must be unique; it is already used",
        f"{p}:9: proposal.proposer = 'zz' — not an actor id",
        f"{p}:11: rules[0].weight = 'trade' — no actor has this weight; known: none",
    ]


def test_extends_merges_actors_by_id_and_reports_lines_in_the_right_file(tmp_path):
    write(tmp_path, GOOD, "base.yaml")
    child = write(
        tmp_path,
        """\
        extends: base.yaml
        name: child
        actors:
          - {id: b, position: 0.1}
          - {id: d, salience: 3}
        """,
    )
    (msg,) = errors_of(child)
    assert msg == f"{child}:5: actors[4].salience = 3 — must be between 0 and 1"
    child.write_text(child.read_text().replace("salience: 3", "salience: 0.3"))
    sc = load_scenario(child)
    b = next(a for a in sc.actors if a.id == "b")
    assert sc.name == "child" and b.position == 0.1 and b.salience == 0.3  # only what differs was stated
    assert [a.id for a in sc.actors] == ["a", "b", "c", "ngo", "d"]
    base = tmp_path / "base.yaml"
    base.write_text(GOOD.replace("salience: 0.5\n", "salience: 9\n"))
    (msg,) = errors_of(child)
    assert msg.startswith(f"{base}:7: actors[2].salience = 9")


def test_extends_missing_parent_and_cycles(tmp_path):
    p = write(tmp_path, "extends: gone.yaml\n" + GOOD)
    (msg,) = errors_of(p)
    assert msg.startswith(f"{p}:1: extends = 'gone.yaml' — file not found")
    write(tmp_path, "extends: b.yaml\n", "a.yaml")
    write(tmp_path, "extends: a.yaml\n", "b.yaml")
    (msg,) = errors_of(tmp_path / "a.yaml")
    assert "cycle" in msg


def test_yaml_is_loaded_safely(tmp_path):
    p = write(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\n")
    (msg,) = errors_of(p)
    assert msg.startswith(f"{p}:1: unsupported YAML tag")
    p = write(tmp_path, "name: !!python/name:os.system\n")
    (msg,) = errors_of(p)
    assert msg.startswith(f"{p}:1: YAML syntax error") and "constructor" in msg


@pytest.mark.parametrize("command", [["validate"], ["compare", "--reps", "5"], ["run", "--rule", "consensus"]])
def test_cli_exits_2_without_traceback(tmp_path, command):
    p = write(tmp_path, GOOD.replace("salience: 0.5\n", "salience: 1.7\n"))
    res = cli(*command, p)
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert f"{p}:7: actors[2].salience = 1.7 — must be between 0 and 1" in res.output


def test_cli_unknown_rule_and_bad_option_exit_2(tmp_path):
    p = write(tmp_path, GOOD)
    res = cli("run", p, "--rule", "nope", "--reps", "3", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "no rule named 'nope'" in res.output
    assert not (tmp_path / "o").exists()
    assert cli("compare", p, "--reps", "0").exit_code == 2


def test_bundled_scenarios_validate(root):
    files = scenario_files(root / "scenarios")
    assert files, "no bundled scenarios found"
    for f in files:
        load_scenario(f)


def scenario_files(root):
    """Every bundled YAML file that is not only a fragment other files extend."""
    import yaml

    files = sorted(root.rglob("*.yaml"))
    fragments = set()
    for f in files:
        ext = (yaml.safe_load(f.read_text()) or {}).get("extends") or []
        for e in [ext] if isinstance(ext, str) else ext:
            fragments.add((f.parent / e).resolve())
    return [f for f in files if f.resolve() not in fragments]


def test_a_misspelt_id_in_an_extension_is_pointed_out(tmp_path):
    write(tmp_path, GOOD, "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nname: child\nactors:\n  - {id: cc, position: 0.1}\n")
    res = cli("validate", child)
    assert res.exit_code == 0
    assert f"{child}:4: note: actor 'cc' is not in the file it extends — added as a new actor (did you mean 'c'?)" in res.output


def test_validate_skips_fragments(tmp_path):
    frag = write(tmp_path, "actors:\n  - {id: a}\n", "roster.yaml")
    res = cli("validate", frag)
    assert res.exit_code == 0 and res.output.startswith(f"skip: {frag} — a fragment")


def test_an_unknown_key_does_not_hide_the_other_errors(tmp_path):
    p = write(tmp_path, "seeed: 3\n" + GOOD.replace("salience: 0.5\n", "salience: 1.7\n").replace("q: 2/3}", "q: 2/3, qq: 1}"))
    assert errors_of(p) == [
        f"{p}:1: seeed — unknown field (did you mean 'seed'?) — allowed: name, description, sources, actors, proposal,"
        " calendar, chair, dynamics, rules, replications, seed, events, record, sweep, codings, uncertainty",
        f"{p}:8: actors[2].salience = 1.7 — must be between 0 and 1",
        f"{p}:13: rules[1].qq — unknown field (did you mean 'q'?) — allowed: name, rule, q, ties",
    ]
