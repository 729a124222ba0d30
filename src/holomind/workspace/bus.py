"""The global workspace: a thread-safe key/value bus every HoloMind module shares.

Modules publish what they know with `write`, read it back with `read`, block
for news with `wait_for`, and react with `subscribe`/`observe`. Design rules:

- one lock guards all state; callbacks never run while it is held;
- every subscriber has its own mailbox (FIFO) drained by a small, bounded pool of
  worker threads, one drainer per mailbox at a time, so each subscriber sees its
  key's values in write order and a slow subscriber delays only itself;
- a mailbox over `max_backlog` loses its oldest notifications, counted exactly;
- `wait_for` registers a waiter under the same lock that writes take, so a write
  racing with the call is never missed, and returns the first value that
  satisfies it;
- persistence is atomic (temp file + fsync + rename), values must be JSON.
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from holomind.errors import (
    CorruptFileError,
    InvalidInputError,
    MissingFileError,
    NotSerializableError,
    WorkspaceClosedError,
)
from holomind.files import atomic_write_bytes

log = logging.getLogger(__name__)

FORMAT = "holomind-workspace"
FORMAT_VERSION = 1
# How many notifications a drainer delivers before yielding its worker to other
# mailboxes: keeps a busy subscriber from starving the rest of the pool.
_BATCH = 256
_MISSING = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})

Callback = Callable[[Any], None]
Observer = Callable[[str, Any], None]


# An entry is a plain tuple (value, version, timestamp, expires_at): building one
# costs a fraction of a dataclass instance, and write() is the hot path.
_VALUE, _VERSION, _TIMESTAMP, _EXPIRES = 0, 1, 2, 3


@dataclass(eq=False)
class Subscription:
    """One subscriber's mailbox and counters; returned by `subscribe` and `observe`."""

    key: str | None  # None: an observer of every key
    callback: Callable[..., None]
    max_backlog: int
    delivered: int = 0  # callbacks that ran (whether or not they raised)
    errors: int = 0  # callbacks that raised
    dropped: int = 0  # notifications lost because the backlog passed max_backlog
    active: bool = True
    _queue: deque = field(default_factory=deque, repr=False)
    _scheduled: bool = field(default=False, repr=False)

    @property
    def backlog(self) -> int:
        """Notifications waiting to be delivered."""
        return len(self._queue)

    def _cancel(self) -> None:
        # Called under the workspace lock; a drainer still running sees `active` and stops.
        self.active = False
        self._queue.clear()


@dataclass(slots=True)
class _Waiter:
    target: int  # satisfied by the first write whose version exceeds this
    event: threading.Event
    value: Any = _MISSING


class GlobalWorkspace:
    """A shared, versioned key/value space with subscriptions, expiry and persistence.

    Args:
        persist_to: file to persist to every `persist_interval` seconds and on close.
        persist_interval: seconds between automatic persists (only when something changed).
        max_data_age: seconds after which a value expires unless its write says otherwise.
        max_backlog: per-subscriber bound on undelivered notifications (oldest dropped).
        workers: size of the thread pool that runs callbacks.
    """

    def __init__(
        self,
        persist_to: str | os.PathLike[str] | None = None,
        persist_interval: float = 300.0,
        max_data_age: float = math.inf,
        *,
        max_backlog: int = 100_000,
        workers: int = 4,
    ) -> None:
        if persist_interval <= 0:
            raise InvalidInputError(f"persist_interval must be positive, got {persist_interval}")
        if max_data_age <= 0:
            raise InvalidInputError(f"max_data_age must be positive, got {max_data_age}")
        if max_backlog < 1 or workers < 1:
            raise InvalidInputError("max_backlog and workers must be at least 1")
        self.persist_to = Path(persist_to) if persist_to is not None else None
        self.persist_interval = float(persist_interval)
        self.max_data_age = float(max_data_age)
        self.max_backlog = max_backlog
        self._default_ttl = None if math.isinf(self.max_data_age) else self.max_data_age
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)  # a mailbox drained, for flush()
        self._wake = threading.Condition(self._lock)  # housekeeper: new deadline or close
        self._data: dict[str, tuple] = {}  # key -> entry tuple
        self._retired: dict[str, int] = {}  # last version of keys removed by expiry
        self._subs: dict[str, list[Subscription]] = {}
        self._observers: list[Subscription] = []
        self._waiters: dict[str, list[_Waiter]] = {}
        self._listening = False  # any subscriber, observer or waiter at all
        self._expiry: list[tuple[float, str, int]] = []  # heap of (expires_at, key, version)
        self._ready: SimpleQueue[Subscription | None] = SimpleQueue()
        self._max_workers = workers
        self._workers: list[threading.Thread] = []
        self._housekeeper: threading.Thread | None = None
        self._dirty = False
        self._closed = False
        self._persist_lock = threading.Lock()  # one persist at a time
        if self.persist_to is not None:
            self._start_housekeeper()

    # -- writing and reading -------------------------------------------------

    def write(self, key: str, value: Any, expiration: float | None = None) -> int:
        """Store `value` under `key` (expiring after `expiration` seconds); returns its version."""
        if type(value) not in _SCALARS:
            _check_json(key, value)
        now = time.time()
        ttl = self._default_ttl if expiration is None else expiration
        with self._lock:
            if self._closed:
                raise WorkspaceClosedError(
                    "the workspace is closed", hint="create a new GlobalWorkspace"
                )
            old = self._data.get(key)
            if old is not None:
                version = old[_VERSION] + 1
            elif type(key) is str:  # an existing key was checked when it was new
                version = self._retired.pop(key, 0) + 1
            else:
                raise InvalidInputError(f"workspace keys are strings, got {type(key).__name__}")
            expires_at = None if ttl is None else now + ttl
            self._data[key] = (value, version, now, expires_at)
            self._dirty = True
            if expires_at is not None:
                self._schedule_expiry(expires_at, key, version)
            if self._listening:
                self._notify(key, value, version)
        return version

    def read(self, key: str, default: Any = None) -> Any:
        """The value under `key`, or `default` if it is missing or expired."""
        with self._lock:
            entry = self._live(key, time.time())
            return default if entry is None else entry[_VALUE]

    def version(self, key: str) -> int:
        """How many times `key` has been written (0 if never); survives expiry."""
        with self._lock:
            entry = self._data.get(key)
            return entry[_VERSION] if entry is not None else self._retired.get(key, 0)

    def timestamp(self, key: str) -> float | None:
        """Wall-clock time of the live value's write, or None if missing or expired."""
        with self._lock:
            entry = self._live(key, time.time())
            return None if entry is None else entry[_TIMESTAMP]

    def keys(self) -> list[str]:
        """The keys that currently hold a live value."""
        with self._lock:
            now = time.time()
            return [k for k, e in self._data.items() if e[_EXPIRES] is None or e[_EXPIRES] > now]

    def snapshot(self) -> dict[str, Any]:
        """A dict of every live key and its value."""
        with self._lock:
            now = time.time()
            return {
                k: e[_VALUE]
                for k, e in self._data.items()
                if e[_EXPIRES] is None or e[_EXPIRES] > now
            }

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return self._live(key, time.time()) is not None

    def wait_for(
        self, key: str, timeout: float | None = None, after_version: int | None = None
    ) -> Any:
        """Wait for a value of `key` and return it.

        Without `after_version`: the live value if there is one, else the first value
        written after the call. With `after_version`: the first value whose version is
        greater. Raises TimeoutError if none arrives within `timeout` seconds.
        """
        with self._lock:
            if self._closed:
                raise WorkspaceClosedError("the workspace is closed")
            entry = self._live(key, time.time())
            if entry is not None and (after_version is None or entry[_VERSION] > after_version):
                return entry[_VALUE]
            current = entry[_VERSION] if entry is not None else self._retired.get(key, 0)
            target = current if after_version is None else max(after_version, current)
            waiter = _Waiter(target, threading.Event())
            self._waiters.setdefault(key, []).append(waiter)
            self._listening = True
        if waiter.event.wait(timeout):
            return waiter.value
        with self._lock:
            waiters = self._waiters.get(key, [])
            if waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[key]
                    self._relisten()
        if waiter.value is not _MISSING:  # satisfied between the timeout and the lock
            return waiter.value
        raise TimeoutError(f"no new value for {key!r} within {timeout} s")

    # -- subscriptions -------------------------------------------------------

    def subscribe(self, key: str, callback: Callback) -> Subscription:
        """Call `callback(value)` for every later write to `key`, in write order."""
        sub = Subscription(key, callback, self.max_backlog)
        with self._lock:
            self._ensure_workers()
            self._subs.setdefault(key, []).append(sub)
            self._listening = True
        return sub

    def unsubscribe(self, key: str, callback: Callback) -> None:
        """Stop calling `callback` for `key`; notifications not yet delivered are dropped."""
        with self._lock:
            subs = self._subs.get(key, [])
            for sub in [s for s in subs if s.callback == callback]:
                sub._cancel()
                subs.remove(sub)
            if not subs:
                self._subs.pop(key, None)
            self._relisten()

    def observe(self, callback: Observer) -> Subscription:
        """Call `callback(key, value)` for every later write to any key, in write order."""
        sub = Subscription(None, callback, self.max_backlog)
        with self._lock:
            self._ensure_workers()
            self._observers.append(sub)
            self._listening = True
        return sub

    def unobserve(self, callback: Observer) -> None:
        """Stop calling an observer added with `observe`."""
        with self._lock:
            for sub in [s for s in self._observers if s.callback == callback]:
                sub._cancel()
                self._observers.remove(sub)
            self._relisten()

    def subscriptions(self) -> list[Subscription]:
        """Every active subscription and observer, with its counters."""
        with self._lock:
            return list(self._all_subs())

    def stats(self) -> dict[str, int]:
        """Totals over the active subscriptions: delivered, errors, dropped, backlog."""
        subs = self.subscriptions()
        return {
            "keys": len(self.keys()),
            "subscribers": len(subs),
            "delivered": sum(s.delivered for s in subs),
            "errors": sum(s.errors for s in subs),
            "dropped": sum(s.dropped for s in subs),
            "backlog": sum(s.backlog for s in subs),
        }

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every pending notification has been delivered; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                busy = any(s._scheduled for s in self._all_subs())
                if not busy or self._closed:
                    return not busy
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)

    # -- persistence ---------------------------------------------------------

    def persist(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write every live value, version and expiry to `path` (default persist_to) atomically."""
        target = Path(path) if path is not None else self.persist_to
        if target is None:
            raise InvalidInputError(
                "nowhere to persist", hint="pass a path or create the workspace with persist_to="
            )
        with self._persist_lock:
            with self._lock:
                now = time.time()
                entries = {
                    k: {
                        "value": e[_VALUE],
                        "version": e[_VERSION],
                        "timestamp": e[_TIMESTAMP],
                        "expires_at": e[_EXPIRES],
                    }
                    for k, e in self._data.items()
                    if e[_EXPIRES] is None or e[_EXPIRES] > now
                }
                retired = dict(self._retired)
                self._dirty = False
            doc = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "saved_at": now,
                "entries": entries,
                "retired": retired,
            }
            atomic_write_bytes(target, json.dumps(doc, ensure_ascii=False).encode())
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str], **kwargs: Any) -> GlobalWorkspace:
        """A workspace restored from a persisted file (values, versions, expirations).

        It keeps persisting to the same file unless `persist_to` says otherwise.
        """
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise MissingFileError(
                f"no workspace file at {path}", hint="check the path or start a new workspace"
            ) from None
        except IsADirectoryError:
            raise MissingFileError(f"{path} is a directory, not a workspace file") from None
        doc = _parse_document(path, raw)
        ws = cls(**{"persist_to": path, **kwargs})
        now = time.time()
        with ws._lock:
            ws._retired = dict(doc["retired"])
            for key, e in doc["entries"].items():
                if e["expires_at"] is not None and e["expires_at"] <= now:
                    ws._retired[key] = e["version"]
                    continue
                ws._data[key] = (e["value"], e["version"], e["timestamp"], e["expires_at"])
                if e["expires_at"] is not None:
                    ws._schedule_expiry(e["expires_at"], key, e["version"])
        return ws

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        """Persist (if persist_to is set) and stop every background thread within 1 s."""
        with self._lock:
            if self._closed:
                return
            self._closed = True  # from here on writes are refused, so the last persist is final
            self._wake.notify_all()
            self._idle.notify_all()
            for sub in self._all_subs():
                sub._cancel()
            threads = [*self._workers, *filter(None, [self._housekeeper])]
        if self.persist_to is not None:
            self.persist()
        for _ in self._workers:
            self._ready.put(None)
        deadline = time.monotonic() + 1.0
        for t in threads:
            if t is not threading.current_thread():
                t.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> GlobalWorkspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GlobalWorkspace(keys={len(self._data)}, persist_to={self.persist_to})"

    # -- internals (callers hold self._lock unless noted) --------------------

    def _live(self, key: str, now: float) -> tuple | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[_EXPIRES] is not None and entry[_EXPIRES] <= now:
            self._retire(key, entry)
            return None
        return entry

    def _retire(self, key: str, entry: tuple) -> None:
        del self._data[key]
        self._retired[key] = entry[_VERSION]
        self._dirty = True

    def _all_subs(self) -> Iterator[Subscription]:
        for subs in self._subs.values():
            yield from subs
        yield from self._observers

    def _notify(self, key: str, value: Any, version: int) -> None:
        subs = self._subs.get(key)
        if subs:
            for sub in subs:
                self._post(sub, value)
        if self._observers:
            item = (key, value)
            for sub in self._observers:
                self._post(sub, item)
        waiters = self._waiters.get(key)
        if waiters:
            self._satisfy(key, waiters, version, value)

    def _relisten(self) -> None:
        # write() skips all notification work while nobody listens at all.
        self._listening = bool(self._subs or self._observers or self._waiters)

    def _post(self, sub: Subscription, item: Any) -> None:
        queue = sub._queue
        if len(queue) >= sub.max_backlog:
            try:  # the drainer may have emptied it meanwhile: count only real losses
                queue.popleft()
                sub.dropped += 1
            except IndexError:
                pass
        queue.append(item)
        if not sub._scheduled:
            sub._scheduled = True
            self._ready.put(sub)

    def _satisfy(self, key: str, waiters: list[_Waiter], version: int, value: Any) -> None:
        keep = []
        for w in waiters:
            if version > w.target:
                w.value = value
                w.event.set()
            else:
                keep.append(w)
        if keep:
            self._waiters[key] = keep
        else:
            del self._waiters[key]
            self._relisten()

    def _ensure_workers(self) -> None:
        if self._closed:
            raise WorkspaceClosedError("the workspace is closed")
        while len(self._workers) < self._max_workers:
            t = threading.Thread(
                target=self._work, name=f"workspace-worker-{len(self._workers)}", daemon=True
            )
            self._workers.append(t)
            t.start()

    def _work(self) -> None:
        """Worker thread (lock not held): drain mailboxes handed to the pool."""
        while True:
            sub = self._ready.get()
            if sub is None:
                return
            self._drain(sub)

    def _drain(self, sub: Subscription) -> None:
        """Deliver up to _BATCH notifications of one mailbox, outside the lock."""
        queue, callback, observer = sub._queue, sub.callback, sub.key is None
        for _ in range(_BATCH):
            if not sub.active:
                break
            try:
                item = queue.popleft()
            except IndexError:
                break
            try:
                if observer:
                    callback(*item)
                else:
                    callback(item)
            except Exception:
                sub.errors += 1
                log.exception("workspace subscriber %r for key %r raised", callback, sub.key)
            sub.delivered += 1
        with self._lock:
            if queue and sub.active and not self._closed:
                self._ready.put(sub)  # more to do: back of the line, for fairness
                return
            sub._scheduled = False
            self._idle.notify_all()

    def _schedule_expiry(self, expires_at: float, key: str, version: int) -> None:
        earliest = self._expiry[0][0] if self._expiry else math.inf
        heapq.heappush(self._expiry, (expires_at, key, version))
        if self._housekeeper is None:
            self._start_housekeeper()
        elif expires_at < earliest:
            self._wake.notify()

    def _start_housekeeper(self) -> None:
        self._housekeeper = threading.Thread(
            target=self._housekeep, name="workspace-housekeeper", daemon=True
        )
        self._housekeeper.start()

    def _housekeep(self) -> None:
        """Housekeeper thread: remove expired keys and persist on schedule."""
        next_persist = time.monotonic() + self.persist_interval
        while True:
            with self._lock:
                if self._closed:
                    return
                now = time.time()
                while self._expiry and self._expiry[0][0] <= now:
                    _, key, version = heapq.heappop(self._expiry)
                    entry = self._data.get(key)
                    if entry is not None and entry[_VERSION] == version:
                        self._retire(key, entry)
                waits = [next_persist - time.monotonic()] if self.persist_to else []
                if self._expiry:
                    waits.append(self._expiry[0][0] - now)
                self._wake.wait(max(0.0, min(waits)) if waits else None)
                if self._closed:
                    return
                persist_due = self.persist_to is not None and time.monotonic() >= next_persist
                dirty = self._dirty
            if persist_due:
                next_persist = time.monotonic() + self.persist_interval
                if dirty:
                    try:
                        self.persist()
                    except OSError:
                        log.exception("workspace persist to %s failed", self.persist_to)


def _check_json(key: str, value: Any) -> None:
    problem = _json_problem(value, "value")
    if problem is not None:
        raise NotSerializableError(
            f"value for {key!r} is not JSON-serialisable: {problem}",
            hint="write str, int, float, bool, None, or lists/dicts of them with string keys",
        )


def _json_problem(value: Any, where: str) -> str | None:
    """Why `value` would not survive a JSON round trip, or None if it would."""
    kind = type(value)
    if kind in _SCALARS:
        return None
    # Scalars are skipped before a path is formatted: a list of numbers costs one pass.
    if kind is list or kind is tuple:
        for i, item in enumerate(value):
            if type(item) in _SCALARS:
                continue
            problem = _json_problem(item, f"{where}[{i}]")
            if problem is not None:
                return problem
        return None
    if kind is dict:
        for k, item in value.items():
            if type(k) is not str:
                return f"{where} has a non-string key {k!r}"
            if type(item) in _SCALARS:
                continue
            problem = _json_problem(item, f"{where}[{k!r}]")
            if problem is not None:
                return problem
        return None
    return f"{where} is a {kind.__name__}"


def _parse_document(path: Path, raw: bytes) -> dict[str, Any]:
    bad = CorruptFileError(
        f"{path} is not a valid workspace file",
        hint="restore it from a backup or start a new workspace",
    )
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad
    if doc.get("format_version") != FORMAT_VERSION:
        raise CorruptFileError(
            f"{path} has workspace format version {doc.get('format_version')!r}; "
            f"this HoloMind reads version {FORMAT_VERSION}",
            hint="upgrade HoloMind",
        )
    entries, retired = doc.get("entries"), doc.get("retired")
    if not isinstance(entries, dict) or not isinstance(retired, dict):
        raise bad
    for e in entries.values():
        if not (
            isinstance(e, dict)
            and "value" in e
            and isinstance(e.get("version"), int)
            and isinstance(e.get("timestamp"), int | float)
            and (e.get("expires_at") is None or isinstance(e.get("expires_at"), int | float))
        ):
            raise bad
    if not all(isinstance(v, int) for v in retired.values()):
        raise bad
    return doc
