"""SIGINT and SIGTERM become a callback inside the block, and the old handlers come back."""

from __future__ import annotations

import os
import signal
import threading

from holomind.sim.signals import stop_on_signals


def test_signals_call_back_and_handlers_are_restored() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    got: list[int] = []
    with stop_on_signals(got.append):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
    assert got == [signal.SIGTERM, signal.SIGINT]
    assert {s: signal.getsignal(s) for s in before} == before


def test_off_the_main_thread_the_block_runs_without_handlers() -> None:
    seen: list[object] = []

    def body() -> None:
        with stop_on_signals(lambda signum: None):
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen == [before]
