"""`MicroSleep`: idle time consolidates; a turn pauses it (or ends one starting); nothing lost."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from holomind.memory import PixelNetwork
from holomind.sleep import MicroSleep, read_marks


def _wait(condition: Callable[[], bool], what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _log(micro: MicroSleep) -> str:
    return micro.log.read_text() if micro.log.is_file() else ""


def _upto(lib: Path) -> list[int]:
    return [m["upto"] for m in read_marks(lib)["networks"].values()]


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@pytest.mark.slow
def test_idle_consolidates_and_a_turn_pauses_or_ends_it_without_loss(
    library: Path, make_network: Callable[..., Path]
) -> None:
    net = make_network(3)
    micro = MicroSleep(net, library, idle_s=0.1, steps=200).start()
    try:
        answers = iter(["hello"])
        read = micro.wrap(lambda prompt: next(answers))
        assert read("> ") == "hello"  # a turn: nothing starts while the chat is busy
        time.sleep(0.5)
        assert micro.sleeps == 0 and micro.child is None
        micro.idle()
        _wait(lambda: "Sleep: Step 10 " in _log(micro), "the sleep's first steps")
        time.sleep(1.0)  # the watcher has seen "Sleep: replaying" (it looks every 0.5 s)
        child = micro.child
        assert child is not None
        micro.busy()  # a turn begins: the sleep, past reading the network, is paused
        assert micro.paused
        _wait(lambda: _state(child.pid) == "T", "the pause")
        size = len(_log(micro))
        time.sleep(1.0)
        assert len(_log(micro)) == size and child.poll() is None  # no step while paused
        micro.idle()
        assert not micro.paused
        _wait(lambda: _upto(library) == [3], "the first sleep to finish")
        assert child.wait(timeout=60) == 0

        PixelNetwork(net, embedder="none").append("What is new?", "Kalomi.")
        _wait(lambda: micro.child not in (None, child), "the next sleep to start")
        micro.busy()  # still starting up (only reading): ended (SIGTERM), never paused
        assert not micro.paused
        _wait(lambda: micro.child is None, "the interrupted sleep to end")
        assert _upto(library) == [3]
        micro.idle()
        _wait(lambda: micro.finished == 2, "the sleep of record 4")
        assert _upto(library) == [4] and micro.sleeps == 3
    finally:
        micro.close()
    assert micro.child is None


def test_chat_refuses_a_micro_sleep_it_cannot_do(holomind, library: Path, tmp_path: Path) -> None:
    nolib = holomind("chat", "--micro-sleep", str(tmp_path / "nolib"))
    assert nolib.returncode == 2
    assert nolib.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nolib'} is not a cartridge library: "
        "make one with `holomind train DATA --library LIB`"
    ]
    once = holomind("chat", "--once", "Hi?", "--micro-sleep", str(library))
    assert once.returncode == 2
    assert once.stderr.strip().splitlines() == [
        "error: --micro-sleep goes with the interactive chat that learns: "
        "leave out --once, --demo and --no-learn"
    ]
