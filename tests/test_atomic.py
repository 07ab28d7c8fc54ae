"""kpsim.atomic: whole or nothing, one writer per folder, leftovers removed only when their run is over, --force only over kpsim's own folders."""

import os
import subprocess
import sys
import textwrap

import pytest

from kpsim.atomic import atomic_dir, check_free, claim, write_text
from kpsim.errors import InputError


def test_a_folder_appears_only_when_its_block_succeeds(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_dir(out) as tmp:
            (tmp / "runs.csv").write_text("x")
            assert tmp.name == f".out.partial-{os.getpid()}"
            raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    with atomic_dir(out) as tmp:
        (tmp / "meta.json").write_text("{}")
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no lock file left either


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import sys, time
        from kpsim.atomic import claim
        with claim({str(out)!r}):
            print("held", flush=True)
            sys.stdin.readline()
    """)
    holder = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match="another kpsim run is writing this folder now"):
            with claim(out):
                pass
    finally:
        holder.communicate("\n", timeout=30)
    with claim(out):  # released when its holder finished
        pass


def test_claims_nest_within_one_process(tmp_path):
    with claim(tmp_path / "out"), atomic_dir(tmp_path / "out") as tmp:
        (tmp / "meta.json").write_text("{}")
    assert (tmp_path / "out" / "meta.json").is_file()


def test_leftovers_of_a_killed_run_are_removed_and_a_live_runs_are_not(tmp_path, capfd):
    (tmp_path / ".old_run.partial-123").mkdir()
    (tmp_path / ".old_run.lock").write_text("123\n")  # its process is gone: nobody holds the lock
    (tmp_path / ".legacy.partial").mkdir()  # the name older versions used
    script = f"from kpsim.atomic import claim\nimport sys\nwith claim({str(tmp_path / 'live')!r}):\n    print('held', flush=True)\n    sys.stdin.readline()\n"
    holder = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        (tmp_path / ".live.partial-999").mkdir()  # the live run's scratch folder
        with atomic_dir(tmp_path / "new") as tmp:
            (tmp / "meta.json").write_text("{}")
        left = sorted(p.name for p in tmp_path.iterdir())
    finally:
        holder.communicate("\n", timeout=30)
    assert left == [".live.lock", ".live.partial-999", "new"]
    err = capfd.readouterr().err
    assert "removed" in err and ".old_run.partial-123" in err and ".legacy.partial" in err


def test_force_replaces_only_a_folder_kpsim_wrote(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes")
    with pytest.raises(InputError, match="--force replaces only a folder kpsim wrote"):
        check_free(mine, force=True)
    with pytest.raises(InputError, match="not empty"):
        check_free(mine, force=False)
    assert (mine / "notes.txt").read_text() == "my notes"
    theirs = tmp_path / "theirs"
    with atomic_dir(theirs) as tmp:
        (tmp / "meta.json").write_text("{}")
        (tmp / "runs.csv").write_text("old")
    with atomic_dir(theirs, force=True) as tmp:
        (tmp / "meta.json").write_text("{}")
    assert sorted(p.name for p in theirs.iterdir()) == ["meta.json"]
    check_free(mine, force=True, ours=None)  # kpsim's own sub-folders (charts/) may be replaced whatever they hold


def test_a_write_that_fails_names_the_path_and_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.csv"
    target.write_text("old")

    def full(tmp):
        raise OSError(28, "No space left on device")  # as a writer deep inside pandas raises it: no file name

    from kpsim.atomic import write_file

    with pytest.raises(OSError) as err:
        write_file(target, full)
    assert err.value.filename == str(target) and err.value.strerror == "No space left on device"
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv"]
    write_text(target, "new")
    assert target.read_text() == "new"
