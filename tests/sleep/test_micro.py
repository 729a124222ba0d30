"""`MicroSleep`: idle time consolidates; a turn interrupts; the next idle spell finishes the job."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from holomind.memory import PixelNetwork
from holomind.sleep import MicroSleep, read_marks


def _wait(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _log(micro: MicroSleep) -> str:
    return micro.log.read_text() if micro.log.is_file() else ""


def _upto(lib: Path) -> list[int]:
    return [m["upto"] for m in read_marks(lib)["networks"].values()]


@pytest.mark.slow
def test_idle_consolidates_and_a_turn_interrupts_without_loss(
    library: Path, make_network: Callable[..., Path]
) -> None:
    net = make_network(3)
    micro = MicroSleep(net, library, idle_s=0.1, steps=30).start()
    try:
        answers = iter(["hello", "again"])
        read = micro.wrap(lambda prompt: next(answers))
        assert read("> ") == "hello"  # a turn: nothing starts while the chat is busy
        time.sleep(0.5)
        assert micro.sleeps == 0 and micro.child is None
        micro.idle()
        _wait(lambda: "Sleep: Step 10 " in _log(micro), "the sleep's first steps")
        micro.busy()  # a turn begins: the sleep stops (SIGINT) with its step saved
        _wait(lambda: "Stopped at step" in _log(micro), "the stop")
        run = json.loads((library / "run" / "state.json").read_text())
        assert "ReplayState" in run["plugins"] and not run["state"]["done"]
        assert _upto(library) == []  # interrupted: the mark has not moved
        PixelNetwork(net, embedder="none").append("What is new?", "Kalomi.")
        micro.idle()
        _wait(lambda: _upto(library) == [4], "the sleeps to consolidate all 4", timeout=600)
        # one sleep finished the interrupted plan (records 1-3), the next one took record 4
        assert "Continued an interrupted sleep (3 new records" in _log(micro)
        assert "Replayed 1 new records ×4, 3 rehearsed ×1" in _log(micro)
        assert micro.sleeps == 3
    finally:
        micro.close()
    assert micro.child is None
