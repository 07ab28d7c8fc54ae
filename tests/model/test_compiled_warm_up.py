"""The compiled kernels are warmed up once, with interrupts deferred: no compile starts mid-run, and Ctrl-C or SIGTERM
during the warm-up is acted on when it ends (numba's compiler swallowed it, or turned it into a SystemError)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kpsim.model import actors


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signum)


def test_a_signal_inside_the_block_is_handled_when_it_ends():
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        reached_end = False
        with pytest.raises(Stop):
            with actors.interrupts_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):  # the handler would have run by now, were it not deferred
                    pass
                reached_end = True
        assert reached_end
        assert signal.getsignal(signal.SIGTERM) is _raise_stop  # restored
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        with actors.interrupts_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_warm_up_covers_every_call_the_model_makes():
    """After the warm-up, running the KP cases compiles nothing more: every kernel keeps the signatures it warmed up.

    In a fresh interpreter: in this one, earlier tests may have compiled the very signatures a warm-up misses (a
    read-only array of lane keys went unnoticed so, and compiled mid-run in a fresh clone)."""
    script = f"""
import json, numba
from kpsim.analysis.compare import compare
from kpsim.model import actors
k = actors.compiled()
kernels = {{n: f for n, f in vars(k).items() if isinstance(f, numba.core.registry.CPUDispatcher)}}
before = {{n: [str(s) for s in f.signatures] for n, f in kernels.items()}}
for case in ("definition_reform", "marange"):
    compare({str(Path(__file__).parents[2] / "scenarios" / "kp")!r} + f"/{{case}}.yaml", jobs=1, reps=80, draws=2)
print(json.dumps({{n: [str(s) for s in f.signatures if str(s) not in before[n]] for n, f in kernels.items()}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    compiled_later = {n: s for n, s in json.loads(out.stdout.splitlines()[-1]).items() if s}
    assert compiled_later == {}
