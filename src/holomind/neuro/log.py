"""The activity log: a SQLite file (WAL) that a background thread writes in batches.

Tables: the seed's ``neural_activity(time, neuron_id, variable, value)`` for the
sampled state variables, ``spikes(time, neuron_id)`` for every spike, ``chunks``
(one summary row per simulated chunk), ``modulations`` (each change of the
drive), ``decisions`` (each LLM modulator call, its prompt and its answer),
``meta`` (what run this is) and ``checkpoint`` (the network's latest state).
Times are simulated seconds, values SI units as Brian2 keeps them (volt, siemens).

Writers only enqueue (numpy arrays are turned into rows on the writer thread);
the writer commits every `commit_rows` rows or `commit_s` seconds, and a
checkpoint is always a commit point. `flush()` waits until everything queued
so far is committed. A resumed log drops rows later than its checkpoint, so a
crash costs at most the time since the last checkpoint, never consistency.
"""

from __future__ import annotations

import itertools
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError

FORMAT = "holomind-neuro-log"
FORMAT_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS neural_activity (
    time REAL, neuron_id INTEGER, variable TEXT, value REAL
);
CREATE TABLE IF NOT EXISTS spikes (time REAL, neuron_id INTEGER);
CREATE TABLE IF NOT EXISTS chunks (
    t_start REAL, t_end REAL, spikes INTEGER, rate_hz REAL, mean_v REAL, drive_pa REAL, wall REAL
);
CREATE TABLE IF NOT EXISTS modulations (
    time REAL, wall REAL, action TEXT, strength REAL, source TEXT, drive_pa REAL
);
CREATE TABLE IF NOT EXISTS decisions (
    wall REAL, time REAL, model TEXT, prompt TEXT, response TEXT, action TEXT,
    parsed_by TEXT, latency_s REAL, error TEXT
);
CREATE TABLE IF NOT EXISTS checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1), time REAL NOT NULL, data BLOB NOT NULL
);
"""
TABLES = ("neural_activity", "spikes", "chunks", "modulations", "decisions")
_TIMED = ("neural_activity", "spikes", "modulations")  # rows keyed by simulated time
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA wal_autocheckpoint=10000",  # fold the WAL back every ~40 MB, not every 4 MB
)

_INSERT = {
    "neural_activity": "INSERT INTO neural_activity VALUES (?, ?, ?, ?)",
    "spikes": "INSERT INTO spikes VALUES (?, ?)",
    "chunks": "INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
    "modulations": "INSERT INTO modulations VALUES (?, ?, ?, ?, ?, ?)",
    "decisions": "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
}

_Rows = Callable[[], Iterable[tuple]]  # built on the writer thread
_FLUSH = object()
_STOP = object()


def connect(path: Path) -> sqlite3.Connection:
    """A connection to a log with the pragmas every writer uses (WAL, synchronous=NORMAL)."""
    conn = sqlite3.connect(path, timeout=30)
    for pragma in _PRAGMAS:
        conn.execute(pragma)
    return conn


class ActivityLog:
    """Append-only activity log of one simulation run, written by its own thread.

    Open one with `ActivityLog.create` (a new run) or `ActivityLog.resume` (continue);
    the constructor starts the writer on a file that already has the schema.
    """

    def __init__(self, path: Path, *, commit_rows: int = 500_000, commit_s: float = 0.5) -> None:
        self.path = Path(path)
        self.commit_rows = commit_rows
        self.commit_s = commit_s
        self.rows = dict.fromkeys(TABLES, 0)  # rows committed by this process, per table
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._flushed = threading.Condition()
        self._asked = 0  # flush requests enqueued
        self._done = 0  # flush requests completed
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._write, name="activity-log", daemon=True)
        self._thread.start()

    # -- opening -----------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, meta: dict[str, Any], **kwargs: Any) -> ActivityLog:
        """A new log at `path` (which must not hold a run yet), stamped with `meta`."""
        path = Path(path)
        cls.check_new(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(path)
        except (OSError, sqlite3.Error) as exc:
            raise InvalidInputError(
                f"cannot create the log {path} ({exc})", hint="pass --db with a writable path"
            ) from None
        with conn:
            conn.executescript(SCHEMA)
            stamped = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in stamped.items()],
            )
        conn.close()
        return cls(path, **kwargs)

    @staticmethod
    def check_new(path: Path) -> None:
        """Refuse a path that already holds a run (before any work is done for a new one)."""
        if path.exists() and path.stat().st_size > 0:
            raise InvalidInputError(
                f"{path} already holds a run",
                hint="pass --resume to continue it, or name a new file with --db",
            )

    @classmethod
    def resume(cls, path: str | Path, **kwargs: Any) -> tuple[ActivityLog, dict[str, Any], bytes]:
        """Reopen a log: returns it, its meta, and the checkpoint to continue from.

        Rows later than the checkpoint (simulated after it, before a crash) are
        deleted: the resumed run simulates that time again.
        """
        path = Path(path)
        meta = read_meta(path)
        conn = connect(path)
        try:
            row = conn.execute("SELECT time, data FROM checkpoint WHERE id = 1").fetchone()
            if row is None:
                raise CorruptFileError(
                    f"{path} has no stored network state to resume from",
                    hint="start a new run with another --db",
                )
            t, blob = row
            with conn:
                for table in _TIMED:
                    conn.execute(f"DELETE FROM {table} WHERE time > ?", (t,))
                conn.execute("DELETE FROM chunks WHERE t_end > ?", (t,))
        finally:
            conn.close()
        return cls(path, **kwargs), meta, bytes(blob)

    # -- writing (any thread) ------------------------------------------------------

    def spikes(self, t: np.ndarray, neuron_id: np.ndarray) -> None:
        """Log spikes: times (s) and neuron indices, as arrays of equal length."""
        if len(t):
            self._put("spikes", len(t), lambda: zip(t.tolist(), neuron_id.tolist(), strict=True))

    def samples(
        self, t: np.ndarray, neurons: np.ndarray, variable: str, values: np.ndarray
    ) -> None:
        """Log one variable sampled at times `t` (n,) for `neurons` (m,): values (n, m)."""
        n, m = values.shape
        if n == 0 or m == 0:
            return

        def rows() -> Iterable[tuple]:
            times = np.repeat(t, m).tolist()
            ids = np.tile(neurons, n).tolist()
            return zip(times, ids, itertools.repeat(variable), values.ravel().tolist())

        self._put("neural_activity", n * m, rows)

    def record(self, table: str, *row: Any) -> None:
        """Log one row of `chunks`, `modulations` or `decisions` (columns as in SCHEMA)."""
        if table not in ("chunks", "modulations", "decisions"):
            raise InvalidInputError(f"no table {table!r} takes single rows")
        self._put(table, 1, lambda: (row,))

    def checkpoint(self, t: float, data: bytes) -> None:
        """Store the network's state at time `t` (s); committed with every row queued before it."""
        self._check()
        self._queue.put(("checkpoint", t, data))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued so far is committed; False on timeout."""
        self._check()
        with self._flushed:
            self._asked += 1
            ticket = self._asked
            self._queue.put(_FLUSH)
            ok = self._flushed.wait_for(
                lambda: self._done >= ticket or self._error is not None, timeout
            )
        self._check()
        return ok

    def close(self) -> None:
        """Commit everything queued and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        self._check()

    def __enter__(self) -> ActivityLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the writer thread ----------------------------------------------------------

    def _put(self, table: str, count: int, rows: _Rows) -> None:
        self._check()
        self._queue.put((table, count, rows))

    def _check(self) -> None:
        if self._error is not None:
            raise CorruptFileError(
                f"writing the activity log {self.path} failed ({self._error})",
                hint="check the disk has space and the file is writable",
            ) from self._error

    def _write(self) -> None:
        conn = None
        try:
            conn = connect(self.path)
            self._loop(conn)
        except BaseException as exc:  # reported to the caller by _check
            self._error = exc
            with self._flushed:
                self._flushed.notify_all()
        finally:
            if conn is not None:
                conn.close()

    def _loop(self, conn: sqlite3.Connection) -> None:
        pending = dict.fromkeys(TABLES, 0)  # rows written since the last commit
        since = time.monotonic()
        while True:
            try:
                item = self._queue.get(timeout=self.commit_s)
            except queue.Empty:
                item = None
            stop = item is _STOP
            flush = stop or item is _FLUSH
            if isinstance(item, tuple) and item[0] == "checkpoint":
                conn.execute(
                    "INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?)", (item[1], item[2])
                )
                flush = True
            elif isinstance(item, tuple):
                table, count, rows = item
                conn.executemany(_INSERT[table], rows())
                pending[table] += count
            due = sum(pending.values()) >= self.commit_rows or (
                time.monotonic() - since >= self.commit_s
            )
            if flush or due:
                conn.commit()
                for table, count in pending.items():
                    self.rows[table] += count
                pending = dict.fromkeys(TABLES, 0)
                since = time.monotonic()
            if item is _FLUSH:
                with self._flushed:
                    self._done += 1
                    self._flushed.notify_all()
            if stop:
                return


def read_meta(path: str | Path) -> dict[str, Any]:
    """The meta table of a log; a missing or foreign file is a typed error."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(
            f"no activity log at {path}", hint="pass --db with the file of an earlier run"
        )
    bad = CorruptFileError(
        f"{path} is not a HoloMind activity log",
        hint="pass --db with a file written by `holomind sim`",
    )
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT key, value FROM meta").fetchall()
        finally:
            conn.close()
        meta = {k: json.loads(v) for k, v in rows}
    except (sqlite3.Error, ValueError, TypeError):
        raise bad from None
    if meta.get("format") != FORMAT:
        raise bad
    if meta.get("format_version") != FORMAT_VERSION:
        raise CorruptFileError(
            f"{path} is log format {meta.get('format_version')!r}; this HoloMind reads "
            f"{FORMAT_VERSION}",
            hint="upgrade HoloMind",
        )
    return meta


def count_rows(path: str | Path) -> dict[str, int]:
    """Rows per table of a log (read-only)."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()
