"""What a scenario file cannot do to kpsim: NaN that passes range checks, alias bombs, cycles, keys that are lists, names that leave results/."""

import pytest
from click.testing import CliRunner

from kpsim.cli import main
from kpsim.errors import InputError
from kpsim.scenario.load import load_scenario
from kpsim.scenario.yamlsource import ALIAS_BUDGET, load_located

BASE = "name: safety\nproposal: {title: x}\nrules: [{rule: consensus}]\n"


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf"])
@pytest.mark.parametrize("field", ["position", "salience", "capability", "stubbornness"])
def test_nan_and_infinity_are_refused_with_file_and_line(tmp_path, field, value):
    p = write(tmp_path, BASE + f"actors:\n  - {{id: a}}\n  - {{id: b, {field}: {value}}}\n")
    with pytest.raises(InputError) as err:
        load_scenario(p)
    assert err.value.messages == [f"{p}:6: actors[1].{field} = {float(value.replace('.', '', 1).replace('-', '-'))} — must be a finite number"]


@pytest.mark.parametrize("section", ["dynamics: {noise: .nan}", "calendar: {meetings_per_year: .nan}", "proposal_extra"])
def test_nan_is_refused_outside_the_actors_too(tmp_path, section):
    if section == "proposal_extra":
        text = BASE.replace("{title: x}", "{title: x, position: .nan}") + "actors: [{id: a}]\n"
    else:
        text = BASE + "actors: [{id: a}]\n" + section + "\n"
    with pytest.raises(InputError, match="must be a finite number"):
        load_scenario(write(tmp_path, text))


def test_an_alias_bomb_is_refused_before_it_is_built(tmp_path):
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")  # 9^9 values at the last line
    p = write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InputError, match=f"repeat more than {ALIAS_BUDGET:,} values"):
        load_located(p)


def test_ordinary_anchors_still_work(tmp_path):
    p = write(tmp_path, BASE + "actors:\n  - &west {id: a, bloc: west, position: 0.8}\n  - {id: b, bloc: west, position: 0.8}\n"
                               "dynamics: &d {noise: 0.1}\n")
    assert [a.position for a in load_scenario(p).actors] == [0.8, 0.8]


def test_an_alias_inside_itself_is_refused(tmp_path):
    p = write(tmp_path, BASE + "actors: &x\n  - {id: a, note: *x}\n")
    with pytest.raises(InputError, match=r":4: an alias \(\*name\) refers to the value that contains it"):
        load_located(p)


def test_a_key_that_is_a_list_is_refused(tmp_path):
    p = write(tmp_path, BASE + "actors: [{id: a}]\n? [x, y]\n: 1\n")
    with pytest.raises(InputError, match=":5: a key must be plain text or a number"):
        load_located(p)


@pytest.mark.parametrize("name", ["..", ".", ".hidden"])
def test_a_name_may_not_leave_or_hide_in_results(tmp_path, name):
    p = write(tmp_path, BASE.replace("name: safety", f"name: '{name}'") + "actors: [{id: a}]\n")
    res = CliRunner().invoke(main, ["validate", str(p)])
    assert res.exit_code == 2
    assert f"{p}:1: name = '{name}' — must use only letters, digits" in res.output


def test_reps_on_the_command_line_are_bounded_like_the_file(tmp_path):
    p = write(tmp_path, BASE + "actors: [{id: a}]\n")
    res = CliRunner().invoke(main, ["compare", str(p), "--reps", "100000001", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "100000001 is not in the range 1<=x<=100000000" in res.output
    assert not (tmp_path / "o").exists()


def test_a_run_too_big_for_memory_is_refused_before_it_starts(tmp_path, monkeypatch):
    import kpsim.run.runner as runner

    monkeypatch.setattr(runner, "available_memory", lambda: 2**30)  # 1 GiB free
    p = write(tmp_path, BASE + "actors: [{id: a}]\n")
    res = CliRunner().invoke(main, ["compare", str(p), "--reps", "20000000", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "need about 3.7 GiB for their tables; 1.0 GiB is free" in res.output
    assert list(tmp_path.iterdir()) == [p]
