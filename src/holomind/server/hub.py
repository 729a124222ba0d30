"""The dashboard's view of the workspace: every write, each key's recent history, live to SSE.

The server's workspace is an `ObservedWorkspace`: a `GlobalWorkspace` that also
hands every write, with the exact version it got, to the `Hub`. The hub turns
it into an event ``{"key", "value", "version", "time"}``, keeps it in that key's
history (the last ``history`` values, for plots), and passes it, serialised
once, to every connected stream client whose key prefixes match. Clients live
on the server's event loop; a client that falls ``QUEUE_SIZE`` events behind
loses its oldest ones (counted in ``dropped``) rather than slowing the writer
or the other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from holomind.workspace import GlobalWorkspace

HISTORY = 1000  # values kept per key
QUEUE_SIZE = 2000  # events a stream client may fall behind by


class ObservedWorkspace(GlobalWorkspace):
    """A `GlobalWorkspace` that calls ``on_write(key, value, version, time)`` after every write."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_write: Callable[[str, Any, int, float], None] | None = None

    def write(self, key: str, value: Any, expiration: float | None = None) -> int:
        """Store the value (see `GlobalWorkspace.write`), then tell ``on_write``; the version."""
        version = super().write(key, value, expiration)
        listener = self.on_write
        if listener is not None:
            listener(key, value, version, time.time())
        return version


@dataclass(eq=False)
class StreamClient:
    """One server-sent-events connection: the key prefixes it wants and its queue of events."""

    prefixes: tuple[str, ...]
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: int = 0

    def wants(self, key: str) -> bool:
        """Whether events for ``key`` go to this client."""
        return not self.prefixes or key.startswith(self.prefixes)


class Hub:
    """Sees every workspace write for the dashboard: history per key and live fan-out."""

    def __init__(self, workspace: ObservedWorkspace, history: int = HISTORY) -> None:
        self.workspace = workspace
        self._history: dict[str, deque[dict[str, Any]]] = {}
        self._history_size = history
        self._lock = threading.Lock()
        self._clients: set[StreamClient] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.events = 0  # writes observed

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Begin seeing writes; events reach stream clients on ``loop``."""
        self._loop = loop
        self.workspace.on_write = self._record

    def stop(self) -> None:
        """Stop seeing writes (clients already connected get nothing more)."""
        self.workspace.on_write = None

    def _record(self, key: str, value: Any, version: int, stamp: float) -> None:
        """The writer's thread: keep the event and pass it to the event loop (never blocks)."""
        event = {"key": key, "value": value, "version": version, "time": stamp}
        with self._lock:
            history = self._history.get(key)
            if history is None:
                history = self._history[key] = deque(maxlen=self._history_size)
            history.append(event)
            self.events += 1
        if self._loop is not None and self._clients:
            text = encode(event)
            # RuntimeError: the loop closed while the server shut down.
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._fan_out, key, text)

    def _fan_out(self, key: str, text: str) -> None:
        """Event loop: queue one event for every client that wants its key."""
        for client in self._clients:
            if not client.wants(key):
                continue
            if client.queue.full():
                client.queue.get_nowait()
                client.dropped += 1
            client.queue.put_nowait(text)

    def connect(self, prefixes: tuple[str, ...] = ()) -> StreamClient:
        """A new stream client (call on the event loop)."""
        client = StreamClient(prefixes)
        self._clients.add(client)
        return client

    def disconnect(self, client: StreamClient) -> None:
        """Forget a stream client (call on the event loop)."""
        self._clients.discard(client)

    @property
    def clients(self) -> int:
        """Stream clients connected now."""
        return len(self._clients)

    def snapshot(self, prefixes: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Every live key (matching ``prefixes``) as an event: value, version and write time."""
        out = []
        for key in sorted(self.workspace.keys()):
            if prefixes and not key.startswith(prefixes):
                continue
            stamp = self.workspace.timestamp(key)
            if stamp is None:  # expired since keys() was read
                continue
            out.append(
                {
                    "key": key,
                    "value": self.workspace.read(key),
                    "version": self.workspace.version(key),
                    "time": stamp,
                }
            )
        return out

    def history(self, key: str, limit: int = HISTORY) -> list[dict[str, Any]]:
        """The last ``limit`` events of ``key`` seen since the server started, oldest first."""
        with self._lock:
            events = list(self._history.get(key, ()))
        return events[-limit:] if limit > 0 else []


def encode(data: Any) -> str:
    """JSON for the page: NaN and infinities (a loss before the first step) become null."""
    return json.dumps(_finite(data), ensure_ascii=False, separators=(",", ":"))


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
