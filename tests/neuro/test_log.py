"""The activity log: exact rows, commit points, resume truncation, hostile files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.neuro.log import ActivityLog, count_rows, read_meta


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_rows_are_written_exactly_and_the_file_is_wal(tmp_path: Path) -> None:
    path = tmp_path / "run.db"
    with ActivityLog.create(path, {"run": {"network": "seed"}}) as log:
        log.spikes(np.array([0.001, 0.002]), np.array([3, 7], dtype=np.int32))
        values = np.array([[-0.065, -0.064, -0.063], [-0.060, -0.059, -0.058]])
        log.samples(np.array([0.0, 0.001]), np.array([0, 1, 2]), "v", values)
        log.record("chunks", 0.0, 0.1, 2, 0.02, -0.06, 0.0, 0.5)
        assert log.flush(timeout=10)
        assert log.rows["spikes"] == 2 and log.rows["neural_activity"] == 6
    assert rows(path, "SELECT * FROM spikes ORDER BY time") == [(0.001, 3), (0.002, 7)]
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
    st.integers(0, 6).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(-1, 1, allow_nan=False), min_size=n * 2, max_size=n * 2),
            st.just(n),
        )
    )
)
def test_samples_round_trip_in_order(data: tuple[list[float], int]) -> None:
    flat, n = data
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.db"
        values = np.array(flat, dtype=np.float64).reshape(n, 2)
        times = np.arange(n) / 1000
        with ActivityLog.create(path, {}) as log:
            log.samples(times, np.array([4, 9]), "g_syn", values)
        got = rows(path, "SELECT time, neuron_id, variable, value FROM neural_activity")
    expected = [(times[k], (4, 9)[m], "g_syn", values[k, m]) for k in range(n) for m in range(2)]
    assert got == expected


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
        log.checkpoint(0.1, b"state at 0.1")
        # Simulated after the checkpoint, then "crashed": resuming simulates it again.
        log.record("chunks", 0.1, 0.2, 1, 10.0, -0.06, 0.0, 0.1)
        log.record("modulations", 0.12, 0.0, "increase", 1.0, "llm", 50.0)
    log, meta, blob = ActivityLog.resume(path)
    log.close()
    assert meta["run"] == {"seed": 3}
    assert blob == b"state at 0.1"
    assert rows(path, "SELECT time FROM spikes") == [(0.05,)]
    assert rows(path, "SELECT t_start, t_end FROM chunks") == [(0.0, 0.1)]
    assert rows(path, "SELECT COUNT(*) FROM modulations") == [(0,)]


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
