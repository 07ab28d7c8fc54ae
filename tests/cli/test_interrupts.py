"""An interrupt that reaches a command through C code still ends it as Ctrl-C does (exit 130, one line)."""

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
