"""The activity log: exact rows, commit points, resume truncation, hostile files, its writer."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holomind.config import LOG_WRITERS
from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.neuro.log import ActivityLog, count_rows, read_meta


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("writer", LOG_WRITERS)
def test_rows_are_written_exactly_and_the_file_is_wal(writer: str, tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with ActivityLog.create(path, {"run": {"network": "seed"}}, writer=writer) as log:
        log.spikes(np.array([0.001, 0.002]), np.array([3, 7], dtype=np.int32))
        values = np.array([[-0.065, -0.064, -0.063], [-0.060, -0.059, -0.058]])
        log.samples(np.array([0.0, 0.001]), np.array([0, 1, 2]), "v", values)
        log.record("chunks", 0.0, 0.1, 2, 0.02, -0.06, 0.0, 0.5)
        log.store_connectivity(b"synapses")
        log.checkpoint(0.1, b"state at 0.1")
        assert log.flush(timeout=10)
        assert log.rows["spikes"] == 2 and log.rows["neural_activity"] == 6
    assert rows(path, "SELECT * FROM spikes ORDER BY time") == [(0.001, 3), (0.002, 7)]
    assert rows(path, "SELECT * FROM checkpoint") == [(1, 0.1, b"state at 0.1")]
    assert rows(path, "SELECT * FROM connectivity") == [(1, b"synapses")]
    assert rows(path, "SELECT * FROM neural_activity ORDER BY time, neuron_id") == [
        (0.0, 0, "v", -0.065),
        (0.0, 1, "v", -0.064),
        (0.0, 2, "v", -0.063),
        (0.001, 0, "v", -0.060),
        (0.001, 1, "v", -0.059),
        (0.001, 2, "v", -0.058),
    ]
    assert rows(path, "PRAGMA journal_mode") == [("wal",)]
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]
    assert read_meta(path)["run"] == {"network": "seed"}
    assert count_rows(path) == {
        "neural_activity": 6,
        "spikes": 2,
        "chunks": 1,
        "modulations": 0,
        "decisions": 0,
    }


@settings(max_examples=25, deadline=None)
@given(
    st.tuples(st.integers(0, 6), st.integers(1, 120)).flatmap(
        lambda shape: st.tuples(
            st.lists(
                st.floats(-1, 1, allow_nan=False),
                min_size=shape[0] * shape[1],
                max_size=shape[0] * shape[1],
            ),
            st.just(shape),
        )
    )
)
def test_samples_round_trip_in_order(data: tuple[list[float], tuple[int, int]]) -> None:
    flat, (n, m) = data  # up to 720 rows: whole batches of 256 and the rest
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.db"
        values = np.array(flat, dtype=np.float64).reshape(n, m)
        times = np.arange(n) / 1000
        neurons = np.arange(m) * 3 + 1
        # Both writers build rows with the same code; the thread writer starts no process.
        with ActivityLog.create(path, {}, writer="thread") as log:
            log.samples(times, neurons, "g_syn", values)
        got = rows(path, "SELECT time, neuron_id, variable, value FROM neural_activity")
    expected = [
        (times[k], int(neurons[j]), "g_syn", values[k, j]) for k in range(n) for j in range(m)
    ]
    assert got == expected


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 3 * 256 + 7), st.integers(0, 2**32 - 1))
def test_spikes_round_trip_in_order_across_batches(n: int, seed: int) -> None:
    import tempfile

    rng = np.random.default_rng(seed)
    t, ids = rng.uniform(0, 1, n), rng.integers(0, 10**6, n).astype(np.int32)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.db"
        with ActivityLog.create(path, {}, writer="thread") as log:
            log.spikes(t, ids)
            log.spikes(t[:3], ids[:3])  # a second train goes after the first
        got = rows(path, "SELECT time, neuron_id FROM spikes ORDER BY rowid")
    expected = list(zip(t.tolist(), ids.tolist(), strict=True))
    assert got == expected + expected[:3]


def test_a_log_refuses_to_be_created_twice(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    ActivityLog.create(path, {}).close()
    with pytest.raises(InvalidInputError, match="already holds a run"):
        ActivityLog.create(path, {})


def test_resume_returns_the_checkpoint_and_drops_later_rows(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with ActivityLog.create(path, {"run": {"seed": 3}}) as log:
        log.spikes(np.array([0.05, 0.15]), np.array([1, 2], dtype=np.int32))
        log.record("chunks", 0.0, 0.1, 1, 10.0, -0.06, 0.0, 0.1)
        log.store_connectivity(b"synapses")
        log.checkpoint(0.1, b"state at 0.1")
        # Simulated after the checkpoint, then "crashed": resuming simulates it again.
        log.record("chunks", 0.1, 0.2, 1, 10.0, -0.06, 0.0, 0.1)
        log.record("modulations", 0.12, 0.0, "increase", 1.0, "llm", 50.0)
    log, meta, blob, connectivity = ActivityLog.resume(path)
    log.close()
    assert meta["run"] == {"seed": 3}
    assert blob == b"state at 0.1" and connectivity == b"synapses"
    assert rows(path, "SELECT time FROM spikes") == [(0.05,)]
    assert rows(path, "SELECT t_start, t_end FROM chunks") == [(0.0, 0.1)]
    assert rows(path, "SELECT COUNT(*) FROM modulations") == [(0,)]


def test_a_log_from_before_the_connectivity_table_resumes(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with ActivityLog.create(path, {}) as log:
        log.checkpoint(0.1, b"state and connectivity at 0.1")
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE connectivity")  # as HoloMind wrote logs before it
    conn.commit()
    conn.close()
    log, _, blob, connectivity = ActivityLog.resume(path)
    try:
        assert blob == b"state and connectivity at 0.1" and connectivity is None
        log.store_connectivity(b"synapses")  # the table is there again
    finally:
        log.close()
    assert rows(path, "SELECT data FROM connectivity") == [(b"synapses",)]


def test_resume_needs_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    ActivityLog.create(path, {}).close()
    with pytest.raises(CorruptFileError, match="no stored network state"):
        ActivityLog.resume(path)


def test_missing_foreign_and_garbage_files_are_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError):
        ActivityLog.resume(tmp_path / "nope.db")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00not sqlite at all" * 100)
    with pytest.raises(CorruptFileError, match="not a HoloMind activity log"):
        ActivityLog.resume(garbage)
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('format', '\"something-else\"')")
    conn.commit()
    conn.close()
    with pytest.raises(CorruptFileError, match="not a HoloMind activity log"):
        read_meta(foreign)
    assert garbage.read_bytes() == b"\x00not sqlite at all" * 100  # left as it was


def test_single_rows_only_go_to_their_tables(tmp_path: Path) -> None:
    with ActivityLog.create(tmp_path / "run.db", {}) as log, pytest.raises(InvalidInputError):
        log.record("spikes", 0.1, 3)


def test_the_writer_is_chosen_by_argument_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidInputError, match="unknown log writer 'fork'"):
        ActivityLog(tmp_path / "run.db", writer="fork")
    monkeypatch.setenv("HOLOMIND_LOG_WRITER", "thread")
    with ActivityLog.create(tmp_path / "run.db", {}) as log:
        assert log.writer == "thread"


@pytest.mark.parametrize("writer", LOG_WRITERS)
def test_a_writer_that_fails_says_why(writer: str, tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    log = ActivityLog.create(path, {}, writer=writer)
    log.spikes(np.array([0.001]), np.array([3], dtype=np.int32))
    assert log.flush(timeout=10)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE spikes")  # pulled from under the writer
    conn.commit()
    conn.close()
    log.spikes(np.array([0.002]), np.array([4], dtype=np.int32))
    with pytest.raises(CorruptFileError, match="no such table: spikes"):
        log.flush(timeout=10)
    with pytest.raises(CorruptFileError, match="no such table: spikes"):
        log.close()


def writer_of(pid: int) -> int:
    """The one child process of `pid` (Linux's /proc)."""
    children = [
        int(c)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for c in (task / "children").read_text().split()
    ]
    assert len(children) == 1, children
    return children[0]


def gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status  # ended, waiting to be reaped by whoever adopted it


def test_a_killed_simulation_leaves_its_rows_and_no_writer(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    script = f"""
import numpy as np
from holomind.neuro.log import ActivityLog
log = ActivityLog.create({str(path)!r}, {{}}, commit_rows=10**9, commit_s=3600)
log.spikes(np.arange(1000) / 1000, np.arange(1000, dtype=np.int32))
log.flush()
log.spikes(np.arange(1000, 1500) / 1000, np.arange(500, dtype=np.int32))
print("sent", flush=True)
input()
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "sent\n"
    writer = writer_of(proc.pid)
    # Ctrl-C reaches every process of the group: the writer leaves stopping to the simulation.
    os.kill(writer, signal.SIGINT)
    os.kill(writer, signal.SIGTERM)
    time.sleep(1.0)  # the 500 spikes, handed over before "sent", reach the writer
    assert not gone(writer)
    proc.kill()  # no clean stop: the writer commits what it was sent, and ends
    proc.wait()
    deadline = time.monotonic() + 10
    while not gone(writer) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(writer)
    assert rows(path, "SELECT COUNT(*) FROM spikes") == [(1500,)]
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize("writer", LOG_WRITERS)
def test_a_batch_is_handed_over_whole_at_its_end(writer: str, tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with ActivityLog.create(path, {}, writer=writer) as log:
        with log.batch():
            log.spikes(np.array([0.001, 0.002]), np.array([3, 7], dtype=np.int32))
            with log.batch():  # nested: the outer block hands it over
                log.samples(np.array([0.0]), np.array([0, 1]), "v", np.array([[-0.06, -0.05]]))
            # Another thread's row is not held back by this thread's block.
            other = threading.Thread(
                target=log.record, args=("modulations", 0.0, 0.0, "increase", 1.0, "llm", 5.0)
            )
            other.start()
            other.join()
            assert log.flush(timeout=10)
            assert log.rows["modulations"] == 1 and log.rows["spikes"] == 0
            log.record("chunks", 0.0, 0.1, 2, 0.02, -0.06, 0.0, 0.5)
            log.checkpoint(0.1, b"state")
        assert log.flush(timeout=10)
        assert log.rows["spikes"] == 2 and log.rows["neural_activity"] == 2
    assert rows(path, "SELECT * FROM spikes ORDER BY rowid") == [(0.001, 3), (0.002, 7)]
    assert rows(path, "SELECT time, data FROM checkpoint") == [(0.1, b"state")]
    assert count_rows(path)["chunks"] == 1
