"""The activity log: a SQLite file (WAL) written in batches by a process of its own.

Tables: the seed's ``neural_activity(time, neuron_id, variable, value)`` for the
sampled state variables, ``spikes(time, neuron_id)`` for every spike, ``chunks``
(one summary row per simulated chunk), ``modulations`` (each change of the
drive), ``decisions`` (each LLM modulator call, its prompt and its answer),
``meta`` (what run this is), ``checkpoint`` (the network's latest state) and
``connectivity`` (its synapses, fixed once built: stored once, not in each state).
Times are simulated seconds, values SI units as Brian2 keeps them (volt, siemens).

Callers hand over a spike train or a block of samples as the numpy arrays the
network made, and a writer turns them into rows and inserts them. That writer is a
child process by default: building and inserting a row costs about a microsecond
of Python and SQLite work with the GIL held, and a network firing 80,000 spikes
per simulated second would otherwise spend a fifth of its time waiting for the GIL
(bench/snn.py measures both). Items go to the child from the caller's own thread:
the network's thread logs a chunk while the network is paused between chunks, so
the send competes with nothing (a forwarding thread, woken while the network ran,
switched in and out ~700 times per simulated second and cost COBA's process 8-11 %
more CPU time). A send waits only
when the child is a whole pipe (1 MiB) behind, which bounds the memory a slow disk
can cost. The writer commits every `commit_rows` rows or `commit_s` seconds, and a
checkpoint is always a commit point. `flush()` waits until everything handed over
so far is committed. The child ignores SIGINT and SIGTERM (the simulating process
decides when to stop) and commits what it was sent if that process dies. A resumed
log drops rows later than its checkpoint, so a crash costs at most the time since
the last checkpoint, never consistency.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

import holomind
from holomind.config import LOG_WRITERS, Settings
from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.neuro.channel import recv_item, send_item

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
CREATE TABLE IF NOT EXISTS connectivity (
    id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL
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
_SINGLE_ROWS = ("chunks", "modulations", "decisions")
_BATCH = 256  # rows per multi-row INSERT of spikes and samples
_BATCH_INSERT = {
    table: f"INSERT INTO {table} VALUES " + ", ".join([f"({', '.join('?' * width)})"] * _BATCH)
    for table, width in (("spikes", 2), ("neural_activity", 4))
}

# What goes to the writer: ("spikes", t, ids) | ("samples", t, neurons, variable, values)
# | ("row", table, row) | ("checkpoint", t, data) | ("connectivity", data)
# | ("batch", [items]) | ("flush",)
# | ("stop",). The writer answers a flush or a stop with the rows committed so far, per table.
_Item = tuple[Any, ...]
_FLUSH: _Item = ("flush",)
_STOP: _Item = ("stop",)
_ERROR = "error"  # the writer's last word when it fails: ("error", why)
_STOP_WAIT_S = 30.0  # how long close() waits for the writer process to exit
_PIPE_BYTES = 1 << 20  # the pipe to the writer process: Linux's default maximum, 1 MiB


def connect(path: Path) -> sqlite3.Connection:
    """A connection to a log with the pragmas every writer uses (WAL, synchronous=NORMAL)."""
    conn = sqlite3.connect(path, timeout=30)
    for pragma in _PRAGMAS:
        conn.execute(pragma)
    return conn


class ActivityLog:
    """Append-only activity log of one simulation run, written by its own process.

    Open one with `ActivityLog.create` (a new run) or `ActivityLog.resume` (continue);
    the constructor starts the writer on a file that already has the schema.

    Args:
        path: the SQLite file.
        commit_rows: commit after this many rows.
        commit_s: commit at least this often while rows arrive, seconds.
        writer: "process" (a child process writes: the simulation keeps its GIL) or
            "thread" (a thread of this process writes: the ablation in bench/snn.py, and
            a way to log where no process can be started); None: HOLOMIND_LOG_WRITER,
            else "process".
    """

    def __init__(
        self,
        path: Path,
        *,
        commit_rows: int = 500_000,
        commit_s: float = 0.5,
        writer: str | None = None,
    ) -> None:
        writer = writer if writer is not None else Settings.load().log_writer
        if writer not in LOG_WRITERS:
            raise InvalidInputError(
                f"unknown log writer {writer!r}", hint=f"use one of: {', '.join(LOG_WRITERS)}"
            )
        self.path = Path(path)
        self.commit_rows = commit_rows
        self.commit_s = commit_s
        self.writer = writer
        self._closed = False
        self._local = threading.local()  # items held by a `batch` block, per thread
        self._writer: _ProcessWriter | _ThreadWriter
        if writer == "process":
            self._writer = _ProcessWriter(self.path, commit_rows, commit_s)
        else:
            self._writer = _ThreadWriter(self.path, commit_rows, commit_s)

    @property
    def rows(self) -> dict[str, int]:
        """Rows committed by this log, per table (as of the last flush)."""
        return self._writer.rows

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
    def resume(
        cls, path: str | Path, **kwargs: Any
    ) -> tuple[ActivityLog, dict[str, Any], bytes, bytes | None]:
        """Reopen a log: returns it, its meta, its checkpoint and its connectivity.

        The checkpoint is the state to continue from; the connectivity is stored
        apart from it (None: a log from before, whose checkpoints hold it). Rows
        later than the checkpoint (simulated after it, before a crash) are deleted:
        the resumed run simulates that time again. A log written by an older
        HoloMind gets the tables it lacks.
        """
        path = Path(path)
        meta = read_meta(path)
        conn = connect(path)
        try:
            conn.executescript(SCHEMA)
            fixed = conn.execute("SELECT data FROM connectivity WHERE id = 1").fetchone()
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
        connectivity = bytes(fixed[0]) if fixed is not None else None
        return cls(path, **kwargs), meta, bytes(blob), connectivity

    # -- writing (any thread) ------------------------------------------------------

    def spikes(self, t: np.ndarray, neuron_id: np.ndarray) -> None:
        """Log spikes: times (s) and neuron indices, as arrays of equal length."""
        if len(t):
            self._put(("spikes", t, neuron_id))

    def samples(
        self, t: np.ndarray, neurons: np.ndarray, variable: str, values: np.ndarray
    ) -> None:
        """Log one variable sampled at times `t` (n,) for `neurons` (m,): values (n, m)."""
        if values.size:
            self._put(("samples", t, neurons, variable, values))

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hand over what this thread logs inside the block as one item, at its end.

        One send to the writer process instead of one per call (a chunk's spikes,
        samples and summary row, say). Other threads' calls are not held back.
        """
        if getattr(self._local, "items", None) is not None:
            yield  # nested: the outer block hands everything over
            return
        self._local.items = []
        try:
            yield
        finally:
            items, self._local.items = self._local.items, None
            if items:
                self._put(("batch", items))

    def record(self, table: str, *row: Any) -> None:
        """Log one row of `chunks`, `modulations` or `decisions` (columns as in SCHEMA)."""
        if table not in _SINGLE_ROWS:
            raise InvalidInputError(f"no table {table!r} takes single rows")
        self._put(("row", table, row))

    def checkpoint(self, t: float, data: bytes) -> None:
        """Store the network's state at time `t` (s); committed with every row queued before it."""
        self._put(("checkpoint", t, pickle.PickleBuffer(data)))  # out of band to the writer

    def store_connectivity(self, data: bytes) -> None:
        """Store the network's connectivity (committed with the next checkpoint at the latest)."""
        self._put(("connectivity", pickle.PickleBuffer(data)))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything handed over so far is committed; False on timeout."""
        self._check()
        ok = self._writer.flush(timeout)
        self._check()
        return ok

    def close(self) -> None:
        """Commit everything handed over and stop the writer."""
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        self._check()

    def __enter__(self) -> ActivityLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _put(self, item: _Item) -> None:
        self._check()
        held = getattr(self._local, "items", None)
        if held is not None and item[0] != "batch":
            held.append(item)
        else:
            self._writer.put(item)

    def _check(self) -> None:
        error = self._writer.error
        if error is not None:
            raise CorruptFileError(
                f"writing the activity log {self.path} failed ({error})",
                hint="check the disk has space and the file is writable",
            ) from error


class _ProcessWriter:
    """The writer process, fed from the callers' threads (one at a time, under a lock).

    The child answers a flush or a stop with the rows committed so far, and sends
    ``("error", why)`` as its last word when it fails, then exits; both are read
    here when a flush or the stop waits for its answer, or when a send finds the
    child gone.
    """

    def __init__(self, path: Path, commit_rows: int, commit_s: float) -> None:
        self._process, self._items, self._answers = _start_writer(path, commit_rows, commit_s)
        self._lock = threading.Lock()
        self._owed = 0  # answers to flushes and the stop not read yet
        self.rows = dict.fromkeys(TABLES, 0)
        self.error: BaseException | None = None

    def put(self, item: _Item) -> None:
        with self._lock:
            self._send(item)

    def flush(self, timeout: float | None) -> bool:
        with self._lock:
            self._send(_FLUSH)
            return self._read(timeout)

    def close(self) -> None:
        with self._lock:
            try:
                self._send(_STOP)
                self._read(_STOP_WAIT_S)
            finally:
                self._items.close()
                self._answers.close()
                try:
                    self._process.wait(_STOP_WAIT_S)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
                    self.error = self.error or TimeoutError("the writer process did not exit")

    def _send(self, item: _Item) -> None:
        if self.error is not None:
            return
        try:
            send_item(self._items.fileno(), item)
        except OSError:  # the writer is gone: its last word, if it left one
            self.error = ChildProcessError(_last_word(self._answers, self._process)[1])
            return
        if item is _FLUSH or item is _STOP:
            self._owed += 1

    def _read(self, timeout: float | None) -> bool:
        """Read what the writer sent, waiting up to `timeout` for the answers owed.

        True when every answer owed has come (and no error).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.error is None:
            if not self._owed:
                wait: float | None = 0.0
            else:
                wait = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                if not self._answers.poll(wait):
                    return not self._owed
                answer = self._answers.recv()
            except (OSError, EOFError):
                answer = _last_word(self._answers, self._process)
            if isinstance(answer, tuple) and answer[0] == _ERROR:
                self.error = ChildProcessError(answer[1])
            else:
                self.rows = answer
                self._owed -= 1
                if not self._owed:
                    return True  # after the stop's answer, only the end of the stream is left
        return False


class _ThreadWriter:
    """A thread of this process writes: the ablation in bench/snn.py (no process needed)."""

    def __init__(self, path: Path, commit_rows: int, commit_s: float) -> None:
        self.path = path
        self.commit_rows = commit_rows
        self.commit_s = commit_s
        self.rows = dict.fromkeys(TABLES, 0)
        self.error: BaseException | None = None
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._flushed = threading.Condition()
        self._asked = 0  # flush requests enqueued
        self._done = 0  # flush requests completed
        self._thread = threading.Thread(target=self._run, name="activity-log", daemon=True)
        self._thread.start()

    def put(self, item: _Item) -> None:
        self._queue.put(item)

    def flush(self, timeout: float | None) -> bool:
        with self._flushed:
            self._asked += 1
            ticket = self._asked
            self._queue.put(_FLUSH)
            return self._flushed.wait_for(
                lambda: self._done >= ticket or self.error is not None, timeout
            )

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        try:
            self._write()
        except BaseException as exc:  # reported to the caller by ActivityLog._check
            self.error = exc
            with self._flushed:
                self._flushed.notify_all()

    def _write(self) -> None:
        writer = _Writer(self.path, self.commit_rows, self.commit_s)
        try:
            while True:
                try:
                    item: _Item | None = self._queue.get(timeout=self.commit_s)
                except queue.Empty:
                    item = None
                rows = writer.handle(item)
                if rows is not None:
                    self.rows = rows
                    if item is _FLUSH:
                        with self._flushed:
                            self._done += 1
                            self._flushed.notify_all()
                if item is _STOP:
                    return
        finally:
            writer.close()


def _last_word(conn: Connection, process: subprocess.Popen[bytes]) -> tuple[str, str]:
    """Why the writer process ended: the error it sent, or its exit code."""
    try:
        if conn.poll():
            answer = conn.recv()
            if isinstance(answer, tuple) and answer[0] == _ERROR:
                return answer
    except (OSError, EOFError):
        pass
    return (_ERROR, f"the writer process ended with exit code {process.wait()}")


class _Writer:
    """Turns items into rows and commits them: the SQLite side of the log."""

    def __init__(self, path: Path, commit_rows: int, commit_s: float) -> None:
        self.conn = connect(path)
        self.commit_rows = commit_rows
        self.commit_s = commit_s
        self.rows = dict.fromkeys(TABLES, 0)  # committed
        self.pending = dict.fromkeys(TABLES, 0)  # written since the last commit
        self.since = time.monotonic()

    def handle(self, item: _Item | None) -> dict[str, int] | None:
        """Write `item` (None: nothing came); the committed rows when it asks for a commit."""
        kind = item[0] if item is not None else None
        parts: list[_Item] = [] if item is None else item[1] if kind == "batch" else [item]
        for part in parts:
            self._write(part)
        asked = kind in ("flush", "stop") or any(part[0] == "checkpoint" for part in parts)
        due = sum(self.pending.values()) >= self.commit_rows or (
            time.monotonic() - self.since >= self.commit_s
        )
        if asked or due:
            self.commit()
        return dict(self.rows) if kind in ("flush", "stop") else None

    def _write(self, item: _Item) -> None:
        """Insert what one item carries (a flush or a stop carries nothing)."""
        kind = item[0]
        if kind == "spikes":
            _, t, ids = item
            self._insert("spikes", [t.tolist(), ids.tolist()])
        elif kind == "samples":
            _, t, neurons, variable, values = item
            n, m = values.shape
            columns = [
                np.repeat(t, m).tolist(),
                np.tile(neurons, n).tolist(),
                [variable] * (n * m),
                values.ravel().tolist(),
            ]
            self._insert("neural_activity", columns)
        elif kind == "row":
            _, table, row = item
            self.conn.execute(_INSERT[table], row)
            self.pending[table] += 1
        elif kind == "checkpoint":
            _, t, data = item
            self.conn.execute("INSERT OR REPLACE INTO checkpoint VALUES (1, ?, ?)", (t, data))
        elif kind == "connectivity":
            self.conn.execute("INSERT OR REPLACE INTO connectivity VALUES (1, ?)", (item[1],))

    def _insert(self, table: str, columns: list[list[Any]]) -> None:
        """Insert rows given column by column (lists of equal length).

        Whole batches of `_BATCH` rows go in one multi-row INSERT each: binding and
        stepping one statement per row is what `executemany` spends most of its time
        on (bench/activity_log.py). The rest go row by row.
        """
        width, n = len(columns), len(columns[0])
        values: list[Any] = [None] * (width * n)  # row-major: the statement's parameters
        for k, column in enumerate(columns):
            values[k::width] = column
        whole = n - n % _BATCH
        batch = _BATCH * width
        for start in range(0, whole * width, batch):
            self.conn.execute(_BATCH_INSERT[table], values[start : start + batch])
        if whole < n:
            rest = zip(*(column[whole:] for column in columns), strict=True)
            self.conn.executemany(_INSERT[table], rest)
        self.pending[table] += n

    def commit(self) -> None:
        """Commit what was written; it counts as committed from now on."""
        self.conn.commit()
        for table, count in self.pending.items():
            self.rows[table] += count
        self.pending = dict.fromkeys(TABLES, 0)
        self.since = time.monotonic()

    def close(self) -> None:
        """Commit what is pending and close the connection."""
        try:
            self.commit()
        finally:
            self.conn.close()


def _start_writer(
    path: Path, commit_rows: int, commit_s: float
) -> tuple[subprocess.Popen[bytes], Connection, Connection]:
    """Start the writer process on `path`; returns it, the pipe to it and the pipe back.

    The pipe to it is widened to `_PIPE_BYTES` (about ten COBA chunks), so that the
    simulation waits only when the writer is that far behind; multiprocessing's
    default connection, a socket pair, holds ~200 KB. Items go down it as
    `holomind.neuro.channel` frames them.
    """
    items_in, items_out = Pipe(duplex=False)  # (receiving end, sending end)
    answers_in, answers_out = Pipe(duplex=False)
    _widen(items_out)
    theirs = (items_in, answers_out)
    # The child imports the same HoloMind as this process, wherever that was found.
    src = str(Path(holomind.__file__).resolve().parents[1])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (src, os.environ.get("PYTHONPATH")))),
    }
    code = "from holomind.neuro.log import serve_writer; serve_writer()"
    fds = [str(c.fileno()) for c in theirs]
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", code, *fds, str(path), str(commit_rows), str(commit_s)],
            pass_fds=tuple(c.fileno() for c in theirs),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        items_out.close()
        answers_in.close()
        raise InvalidInputError(
            f"cannot start the activity log's writer process ({exc})",
            hint="check that new processes can be started here",
        ) from None
    finally:
        for conn in theirs:
            conn.close()
    return process, items_out, answers_in


def _widen(conn: Connection) -> None:
    """Grow a pipe's buffer to `_PIPE_BYTES` where Linux allows it (else it stays as it is)."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or over the user's pipe quota: sends wait for the writer sooner


def serve_writer(argv: list[str] | None = None) -> None:
    """The writer process's main: write what the pipe brings until told to stop.

    Started by `ActivityLog` with the file descriptors of the pipe in and of the
    pipe back, the log's path, `commit_rows` and `commit_s`. When the simulating
    process goes away without a stop, everything received is committed before
    exiting.
    """
    fd_in, fd_out, path, commit_rows, commit_s = argv if argv is not None else sys.argv[1:]
    # The simulating process handles the signals and tells this one when to stop; a
    # Ctrl-C reaches the whole process group and must not cut the log short.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    items = Connection(int(fd_in), writable=False)
    answers = Connection(int(fd_out), readable=False)
    try:
        writer = _Writer(Path(path), int(commit_rows), float(commit_s))
        try:
            while True:
                item = recv_item(items.fileno()) if items.poll(writer.commit_s) else None
                rows = writer.handle(item)
                if rows is not None:
                    answers.send(rows)
                if item == _STOP:
                    return
        except EOFError:
            return  # the simulating process is gone: commit what it sent (below)
        finally:
            writer.close()
    except BaseException as exc:
        try:
            answers.send((_ERROR, f"{type(exc).__name__}: {exc}"))
        finally:
            sys.exit(1)


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
