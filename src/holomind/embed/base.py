"""What every embedder offers, and the small cache of recent query vectors they share."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

QUERY_CACHE = 256  # recent query vectors kept


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps text to L2-normalised float32 vectors of a fixed size."""

    name: str  # stored next to each vector so vectors from different models never mix
    dim: int

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector, shape (dim,)."""
        ...

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """One vector per passage, shape (len(texts), dim)."""
        ...


class RecentQueries:
    """A thread-safe LRU of read-only query vectors, keyed by the query text."""

    def __init__(self, size: int = QUERY_CACHE) -> None:
        self._size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[str], np.ndarray]) -> np.ndarray:
        """The cached vector for ``key``, computing it with ``make`` on a miss."""
        # One prompt often asks for the same query several times (routing, search, context).
        with self._lock:
            vec = self._items.get(key)
            if vec is not None:
                self._items.move_to_end(key)
                return vec
        vec = np.asarray(make(key), dtype=np.float32)
        vec.setflags(write=False)
        with self._lock:
            # Another thread may have made it meanwhile: keep one object per key.
            vec = self._items.setdefault(key, vec)
            self._items.move_to_end(key)
            if len(self._items) > self._size:
                self._items.popitem(last=False)
            return vec
