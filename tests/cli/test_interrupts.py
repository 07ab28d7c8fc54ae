"""An interrupt that reaches a command through C code still ends it as Ctrl-C does (exit 130, one line); a dead worker is one line too (exit 1)."""

import pytest

from kpsim.cli.common import handle_input_errors, interrupted


def _through_c_code():
    """What numba's loader raises when SIGTERM (our KeyboardInterrupt) arrives inside it."""
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        raise SystemError("<function _numba_unpickle> returned a result with an exception set") from exc


def test_an_interrupt_wrapped_by_c_code_exits_130(capsys):
    with pytest.raises(SystemExit) as stop:
        handle_input_errors(_through_c_code)()
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted: nothing was written"


def test_other_system_errors_are_not_taken_for_interrupts():
    def broken():
        raise SystemError("a real bug")

    assert not interrupted(SystemError("x"))
    with pytest.raises(SystemError, match="a real bug"):
        handle_input_errors(broken)()


def test_a_chain_of_causes_is_followed_to_the_interrupt():
    try:
        try:
            _through_c_code()
        except SystemError as inner:
            raise SystemError("outer") from inner
    except SystemError as exc:
        assert interrupted(exc)


@pytest.mark.parametrize("raised", ["WorkerDied", "BrokenProcessPool"])
def test_a_dead_worker_is_one_line_and_exit_1(capsys, raised):
    """Either way it reaches a command: said by worker_deaths_explained, or from a pool that was not."""
    from concurrent.futures.process import BrokenProcessPool

    from kpsim.run.pool import worker_died

    def died():
        raise worker_died() if raised == "WorkerDied" else BrokenProcessPool("A process in the process pool was terminated abruptly")

    with pytest.raises(SystemExit) as stop:
        handle_input_errors(died)()
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: a kpsim worker process died") and err.strip().endswith("nothing was written") and err.count("\n") == 1, err


@pytest.mark.parametrize("wrapper", ["handle_input_errors", "resumable"])
def test_workers_that_went_with_an_interrupt_are_an_interrupt(capsys, tmp_path, wrapper):
    """A signal to the whole process group stops the workers too: their pool breaks while the command is being
    interrupted. That is exit 130, as Ctrl-C, not a dead worker (exit 1)."""
    from kpsim.cli.sweep import resumable
    from kpsim.run.pool import worker_died

    def died_in_an_interrupt():
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise worker_died() from None  # the interrupt as context, as an except block gives it

    with pytest.raises(SystemExit) as stop:
        if wrapper == "handle_input_errors":
            handle_input_errors(died_in_an_interrupt)()
        else:
            with resumable(tmp_path / "sweep"):
                died_in_an_interrupt()
    assert stop.value.code == 130
    assert "interrupted" in capsys.readouterr().err
