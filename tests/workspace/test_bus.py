"""GlobalWorkspace: versions, wait_for, subscribers, expiry, persistence, shutdown."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from holomind.errors import (
    CorruptFileError,
    InvalidInputError,
    MissingFileError,
    NotSerializableError,
    WorkspaceClosedError,
)
from holomind.workspace import GlobalWorkspace


@pytest.fixture
def ws():
    with GlobalWorkspace() as workspace:
        yield workspace


def _workspace_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("workspace-")]


# -- values and versions -----------------------------------------------------


def test_write_read_versions_and_metadata(ws):
    assert ws.read("a") is None
    assert ws.read("a", default=7) == 7
    assert ws.version("a") == 0
    before = time.time()
    assert ws.write("a", 1) == 1
    assert ws.write("a", {"x": [1, 2.5, None, "é"]}) == 2
    assert ws.read("a") == {"x": [1, 2.5, None, "é"]}
    assert ws.version("a") == 2
    assert before <= ws.timestamp("a") <= time.time()
    ws.write("b", "two")
    assert sorted(ws.keys()) == ["a", "b"]
    assert ws.snapshot() == {"a": {"x": [1, 2.5, None, "é"]}, "b": "two"}
    assert "a" in ws
    assert "zzz" not in ws


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (object(), "value is a object"),
        ({"a": {1, 2}}, "value['a'] is a set"),
        ({1: "x"}, "non-string key 1"),
        ([1, b"bytes"], "value[1] is a bytes"),
    ],
)
def test_unserialisable_values_are_rejected_and_nothing_is_stored(ws, value, where):
    ws.write("k", "old")
    with pytest.raises(NotSerializableError, match="not JSON-serialisable") as info:
        ws.write("k", value)
    assert where in str(info.value)
    assert ws.read("k") == "old"
    assert ws.version("k") == 1


def test_keys_must_be_strings(ws):
    with pytest.raises(InvalidInputError, match="keys are strings"):
        ws.write(3, "x")


def test_eight_threads_lose_no_version_and_a_keeping_up_subscriber_gets_everything(ws):
    received: list[tuple[int, int]] = []
    sub = ws.subscribe("shared", received.append)
    n_threads, n_writes = 8, 10_000

    def writer(tid: int) -> None:
        for i in range(n_writes):
            ws.write("shared", (tid, i))
            ws.write(f"own/{tid}", i)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ws.flush(timeout=60)
    assert ws.version("shared") == n_threads * n_writes
    assert all(ws.version(f"own/{t}") == n_writes for t in range(n_threads))
    assert len(received) == n_threads * n_writes
    assert (sub.delivered, sub.dropped, sub.errors) == (n_threads * n_writes, 0, 0)
    # Each writer's values arrive in the order it wrote them.
    for tid in range(n_threads):
        assert [i for t, i in received if t == tid] == list(range(n_writes))


# -- wait_for ------------------------------------------------------------------


def test_wait_for_returns_a_live_value_at_once(ws):
    ws.write("k", 5)
    assert ws.wait_for("k", timeout=0) == 5


def test_wait_for_times_out(ws):
    with pytest.raises(TimeoutError, match="'k'"):
        ws.wait_for("k", timeout=0.05)


def test_wait_for_after_version_waits_for_a_newer_value(ws):
    ws.write("k", "v1")
    ws.write("k", "v2")
    assert ws.wait_for("k", timeout=0, after_version=1) == "v2"
    threading.Timer(0.05, ws.write, args=("k", "v3")).start()
    assert ws.wait_for("k", timeout=5, after_version=2) == "v3"


def test_wait_for_returns_the_first_value_written_after_the_call(ws):
    results = []
    started = threading.Event()

    def waiter():
        started.set()
        results.append(ws.wait_for("k", timeout=5))

    t = threading.Thread(target=waiter)
    t.start()
    started.wait()
    while not ws._listening:  # the waiter is registered
        time.sleep(0.001)
    for i in range(100):
        ws.write("k", i)
    t.join()
    assert results == [0]


def test_wait_for_never_misses_a_racing_write():
    """Hundreds of trials of a waiter and a writer released at the same instant."""
    for trial in range(300):
        with GlobalWorkspace() as ws:
            barrier = threading.Barrier(2)
            got = []

            def waiter(ws=ws, barrier=barrier, got=got):
                barrier.wait()
                got.append(ws.wait_for("k", timeout=5))

            t = threading.Thread(target=waiter)
            t.start()
            barrier.wait()
            if trial % 2:
                time.sleep(0)
            ws.write("k", trial)
            t.join()
            assert got == [trial]


# -- subscribers -------------------------------------------------------------


def test_slow_subscriber_blocks_neither_writers_nor_other_subscribers(ws):
    release = threading.Event()
    entered = threading.Event()
    slow_seen, fast_seen, other_seen = [], [], []

    def slow(value):
        entered.set()
        release.wait()
        slow_seen.append(value)

    ws.subscribe("a", slow)
    ws.subscribe("a", fast_seen.append)
    ws.subscribe("b", other_seen.append)
    ws.write("a", -1)
    assert entered.wait(5)
    for i in range(1000):  # the slow subscriber is stuck in a callback the whole time
        ws.write("a", i)
        ws.write("b", i)
    deadline = time.monotonic() + 30
    while (len(fast_seen), len(other_seen)) != (1001, 1000) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fast_seen == [-1, *range(1000)]
    assert other_seen == list(range(1000))
    assert slow_seen == []
    release.set()
    assert ws.flush(timeout=30)
    assert slow_seen == [-1, *range(1000)]


def test_failing_subscriber_is_logged_counted_and_isolated(ws, caplog):
    def broken(value):
        raise RuntimeError(f"boom {value}")

    good = []
    bad_sub = ws.subscribe("k", broken)
    ws.subscribe("k", good.append)
    with caplog.at_level(logging.ERROR, logger="holomind.workspace.bus"):
        for i in range(20):
            ws.write("k", i)
        assert ws.flush(timeout=10)
    assert good == list(range(20))
    assert (bad_sub.errors, bad_sub.delivered) == (20, 20)
    assert "boom 0" in caplog.text
    assert ws.stats()["errors"] == 20


def test_backlog_over_the_bound_drops_oldest_and_counts_exactly():
    with GlobalWorkspace(max_backlog=10) as ws:
        release, entered = threading.Event(), threading.Event()
        seen = []

        def stuck(value):
            if value == 0:
                entered.set()
                release.wait()
            seen.append(value)

        sub = ws.subscribe("k", stuck)
        ws.write("k", 0)
        assert entered.wait(5)
        for i in range(1, 100):
            ws.write("k", i)
        assert sub.backlog == 10
        assert sub.dropped == 89
        release.set()
        assert ws.flush(timeout=10)
        assert seen == [0, *range(90, 100)]
        assert (sub.delivered, sub.dropped) == (11, 89)


def test_observer_sees_every_key_in_write_order(ws):
    seen = []
    ws.observe(lambda key, value: seen.append((key, value)))
    writes = [(f"k{i % 3}", i) for i in range(300)]
    for key, value in writes:
        ws.write(key, value)
    assert ws.flush(timeout=10)
    assert seen == writes


def test_unsubscribe_and_unobserve_stop_delivery(ws):
    a, b = [], []
    ws.subscribe("k", a.append)
    obs = lambda key, value: b.append(value)  # noqa: E731
    ws.observe(obs)
    ws.write("k", 1)
    assert ws.flush(timeout=5)
    ws.unsubscribe("k", a.append)
    ws.unobserve(obs)
    ws.write("k", 2)
    assert ws.flush(timeout=5)
    assert (a, b) == ([1], [1])
    assert ws.subscriptions() == []


# -- expiry ------------------------------------------------------------------


def test_expired_keys_read_as_missing_and_are_cleaned_up(ws):
    ws.write("short", "x", expiration=0.05)
    ws.write("long", "y", expiration=60)
    ws.write("forever", "z")
    assert ws.read("short") == "x"
    time.sleep(0.3)
    assert ws.read("short") is None
    assert ws.timestamp("short") is None
    assert sorted(ws.keys()) == ["forever", "long"]
    assert ws.version("short") == 1  # versions survive expiry...
    assert ws.write("short", "again") == 2  # ...and keep increasing


def test_housekeeper_removes_expired_values_without_any_read(ws):
    ws.write("gone", list(range(1000)), expiration=0.05)
    deadline = time.monotonic() + 5
    while "gone" in ws._data and time.monotonic() < deadline:  # internal: nobody reads it
        time.sleep(0.01)
    assert "gone" not in ws._data
    assert ws.version("gone") == 1


def test_max_data_age_applies_to_writes_without_expiration():
    with GlobalWorkspace(max_data_age=0.05) as ws:
        ws.write("a", 1)
        ws.write("b", 2, expiration=60)
        time.sleep(0.3)
        assert ws.keys() == ["b"]


def test_wait_for_on_an_expired_key_waits_for_a_new_write(ws):
    ws.write("k", "old", expiration=0.01)
    time.sleep(0.05)
    threading.Timer(0.05, ws.write, args=("k", "new")).start()
    assert ws.wait_for("k", timeout=5) == "new"


# -- persistence ---------------------------------------------------------------


def test_persist_and_load_restore_values_versions_and_expirations(tmp_path):
    path = tmp_path / "ws.json"
    with GlobalWorkspace(persist_to=path) as ws:
        ws.write("a", 1)
        ws.write("a", [1, "two", {"three": 3.0}])
        soon_expires = time.time() + 3.0
        ws.write("soon", "x", expiration=3.0)
        ws.write("gone", "y", expiration=0.01)
        time.sleep(0.05)
        ws.persist()
    with GlobalWorkspace.load(path) as loaded:
        assert loaded.read("a") == [1, "two", {"three": 3.0}]
        assert loaded.version("a") == 2
        assert loaded.read("soon") == "x"
        assert loaded.read("gone") is None
        assert loaded.version("gone") == 1
        assert loaded.persist_to == path
        time.sleep(max(0.0, soon_expires - time.time()) + 0.05)
        assert loaded.read("soon") is None


def test_close_persists_the_last_writes(tmp_path):
    path = tmp_path / "ws.json"
    ws = GlobalWorkspace(persist_to=path, persist_interval=3600)
    ws.write("k", "last")
    ws.close()
    assert json.loads(path.read_text())["entries"]["k"]["value"] == "last"
    with pytest.raises(WorkspaceClosedError):
        ws.write("k", "after close")


def test_periodic_persist(tmp_path):
    path = tmp_path / "ws.json"
    with GlobalWorkspace(persist_to=path, persist_interval=0.05) as ws:
        ws.write("k", 1)
        deadline = time.monotonic() + 5
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert json.loads(path.read_text())["entries"]["k"]["value"] == 1


def test_persist_without_a_path_is_a_clear_error(ws):
    with pytest.raises(InvalidInputError, match="nowhere to persist"):
        ws.persist()


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", "not a valid workspace file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not a valid workspace file"),
        (b'{"format": "other"}', "not a valid workspace file"),
        (
            b'{"format": "holomind-workspace", "format_version": 1, "entries": {"k": 1}, '
            b'"retired": {}}',
            "not a valid workspace file",
        ),
        (
            b'{"format": "holomind-workspace", "format_version": 99, "entries": {}, "retired": {}}',
            "format version 99",
        ),
    ],
)
def test_load_rejects_bad_files(tmp_path, content, error):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=error):
        GlobalWorkspace.load(path)
    assert path.read_bytes() == content


def test_load_missing_file(tmp_path):
    with pytest.raises(MissingFileError, match="no workspace file"):
        GlobalWorkspace.load(tmp_path / "nope.json")


_PERSIST_LOOP = """
import sys
from holomind.workspace import GlobalWorkspace
ws = GlobalWorkspace(persist_to=sys.argv[1], persist_interval=3600)
n = 0
while True:
    n += 1
    ws.write("n", n)
    ws.write("payload", [n] * 20000)
    ws.persist()
    print(n, flush=True)
"""


def test_persist_interrupted_by_sigkill_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "ws.json"
    rng = random.Random(1234)
    proc_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for _ in range(12):
        child = subprocess.Popen(
            [sys.executable, "-c", _PERSIST_LOOP, str(path)],
            stdout=subprocess.PIPE,
            text=True,
            env=proc_env,
        )
        assert child.stdout is not None
        child.stdout.readline()  # at least one persist is complete
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait()
        with GlobalWorkspace.load(path, persist_to=None) as ws:
            n = ws.read("n")
            assert isinstance(n, int) and n >= 1
            assert ws.read("payload") == [n] * 20000
            assert ws.version("n") == n


# -- shutdown ----------------------------------------------------------------


def test_close_stops_every_background_thread_within_one_second(tmp_path):
    ws = GlobalWorkspace(persist_to=tmp_path / "ws.json", persist_interval=0.5)
    ws.subscribe("k", lambda v: None)
    ws.observe(lambda k, v: None)
    ws.write("k", 1, expiration=30)
    assert len(_workspace_threads()) >= 2
    ws.close()  # joins with a 1 s budget in all; a thread still alive after it is a failure
    assert not _workspace_threads()
    ws.close()  # idempotent


def test_a_workspace_without_subscribers_or_expiry_starts_no_thread():
    with GlobalWorkspace() as ws:
        ws.write("k", 1)
        assert not _workspace_threads()


def test_load_then_persist_round_trip_keeps_file_valid(tmp_path: Path):
    path = tmp_path / "ws.json"
    with GlobalWorkspace(persist_to=path) as ws:
        ws.write("x", "é ✓ 😀")
    with GlobalWorkspace.load(path) as ws:
        ws.write("x", "again")
    with GlobalWorkspace.load(path) as ws:
        assert ws.read("x") == "again"
        assert ws.version("x") == 2
