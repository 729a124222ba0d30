"""The vector store: each record's stored embedding, and the matrix semantic search ranks with.

Vectors are kept as stored (float16, by record position, in runs as they were read
or appended) with the name of the model that made each. Search asks for the matrix
of one model: every record's vector from that model, normalised, as float32; a few
records without one are embedded in memory, never in the file.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from holomind.embed import Embedder

MAX_EMBED_ON_SEARCH = 512  # records without a stored vector that a search may embed on the spot


class VectorStore:
    """Stored embeddings by record position, and normalised search matrices built from them."""

    def __init__(self) -> None:
        self._starts: list[int] = []  # first position of each run
        self._runs: list[np.ndarray] = []  # (count, dim) float16 per run; dim 0 = no vectors
        self.names: list[str | None] = []  # per position: the model of its usable vector
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._ready = (None, 0)  # (model name, how many leading rows of _matrix are filled)
        self._keywords_only: str | None = None  # a model too many records lack (it stays so)

    def __len__(self) -> int:
        return len(self.names)

    def extend(self, vectors: np.ndarray, names: Sequence[str | None]) -> None:
        """Add the vectors of the next ``len(names)`` records; a row without a name is unused."""
        if not len(names):
            return
        self._starts.append(len(self.names))
        self._runs.append(vectors)
        self.names.extend(names)

    def stored(self, position: int) -> tuple[str, np.ndarray] | None:
        """(model, float16 vector) stored for the record at ``position``, or None."""
        name = self.names[position]
        if name is None:
            return None
        run = int(np.searchsorted(self._starts, position, side="right")) - 1
        return name, self._runs[run][position - self._starts[run]]

    def models(self) -> Counter[str]:
        """How many stored vectors each model made."""
        return Counter(n for n in self.names if n is not None)

    def slice(self, start: int, count: int) -> tuple[np.ndarray, list[str | None]]:
        """The float16 vectors (count, dim) and names of ``count`` records from ``start``."""
        names = self.names[start : start + count]
        dims = {v[1].shape[0] for i in range(count) if (v := self.stored(start + i))}
        dim = max(dims, default=0)
        out = np.zeros((count, dim), dtype=np.float16)
        for i in range(count):
            got = self.stored(start + i)
            if got is not None and got[1].shape[0] == dim:
                out[i] = got[1]
            else:
                names[i] = None
        return out, names

    def matrix(
        self, emb: Embedder, texts: Callable[[list[int]], list[str]], where: str
    ) -> np.ndarray | None:
        """Every record's ``emb`` vector, normalised, (n, dim) float32; None if too many lack one.

        Records without a stored ``emb`` vector are embedded with ``texts(positions)``
        when there are at most `MAX_EMBED_ON_SEARCH`; otherwise the network is left to
        keyword search, with one warning.
        """
        n = len(self.names)
        if self._keywords_only == emb.name:
            return None
        name, ready = self._ready
        if name != emb.name or self._matrix.shape[1] != emb.dim:
            ready = 0
        if self._matrix.shape[0] < n or self._matrix.shape[1] != emb.dim:
            grown = np.zeros((max(n + n // 4, 64), emb.dim), dtype=np.float32)
            if ready:
                grown[:ready] = self._matrix[:ready]
            self._matrix = grown
        missing: list[int] = []
        for start, run in zip(self._starts, self._runs, strict=True):
            count = min(len(run), n - start) if start < n else 0
            if start + count <= ready or not count:
                continue
            lo = max(ready - start, 0)
            rows = np.arange(lo, count)
            usable = np.array([self.names[start + i] == emb.name for i in rows], dtype=bool)
            if run.shape[1] == emb.dim and usable.any():
                block = run[rows[usable]].astype(np.float32)
                finite = np.isfinite(block).all(axis=1)
                block[~finite] = 0
                block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-12)
                self._matrix[start + rows[usable]] = block
                usable[np.flatnonzero(usable)[~finite]] = False
            else:
                usable[:] = False
            missing += (start + rows[~usable]).tolist()
        if len(missing) > MAX_EMBED_ON_SEARCH:
            # Stored vectors never change, so more records can only add to the missing.
            self._keywords_only = emb.name
            warnings.warn(
                f"{len(missing)} records in {where} have no stored {emb.name} vector; "
                "searching by keywords (import the network into a new one to embed them)",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        if missing:
            vecs = np.asarray(emb.embed_passages(texts(missing)), dtype=np.float32)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            self._matrix[missing] = vecs
        self._ready = (emb.name, n)
        return self._matrix[:n]
