"""The vector store: each record's stored embedding, and the matrix semantic search ranks with.

Vectors are kept as stored (float16, by record position, in runs as they were read
or appended), each run with the models that made its vectors. Search asks for the
matrix of one model: every record's vector from that model, normalised, as
float32, built once and extended as records arrive; a few records without one are
embedded in memory, never in the file.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from holomind.embed import Embedder

MAX_EMBED_ON_SEARCH = 512  # records without a stored vector that a search may embed on the spot
MERGE_UP_TO = 1024  # runs this small are joined as records arrive
NO_NAME = 0xFFFF


@dataclass(frozen=True)
class VectorRun:
    """The vectors of consecutive records: (count, dim) float16, and which model made each."""

    vectors: Callable[[], np.ndarray]  # loaded (and checked) on first use
    codes: np.ndarray  # uint16 per record: index into `names`; NO_NAME = no usable vector
    names: list[str]
    cached: bool = False  # read from the sidecar index (checked on first use, never joined)

    def code(self, name: str) -> int:
        """The code of model ``name`` in this run (NO_NAME if none of its vectors are from it)."""
        return self.names.index(name) if name in self.names else NO_NAME


class VectorStore:
    """Stored embeddings by record position, and normalised search matrices built from them."""

    def __init__(self) -> None:
        self._starts: list[int] = []  # first position of each run
        self._runs: list[VectorRun] = []
        self._n = 0
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._ready: tuple[str | None, int] = (None, 0)  # (model, rows of _matrix filled)
        self._keywords_only: str | None = None  # a model too many records lack (it stays so)
        self._models: Counter[str] = Counter()

    def extend(self, run: VectorRun) -> None:
        """Add the vectors of the next ``len(run.codes)`` records."""
        count = len(run.codes)
        if not count:
            return
        for code in run.codes[run.codes != NO_NAME]:
            self._models[run.names[code]] += 1
        last = self._runs[-1] if self._runs else None
        if (
            last is not None
            and not (last.cached or run.cached)
            and len(last.codes) + count <= MERGE_UP_TO
        ):
            merged = _merged(last, run)
            if merged is not None:  # appends one by one stay a few runs, not one each
                self._runs[-1] = merged
                self._n += count
                return
        self._starts.append(self._n)
        self._runs.append(run)
        self._n += count

    def _run_of(self, position: int) -> tuple[VectorRun, int]:
        i = int(np.searchsorted(self._starts, position, side="right")) - 1
        return self._runs[i], position - self._starts[i]

    def stored(self, position: int) -> tuple[str, np.ndarray] | None:
        """(model, float16 vector) stored for the record at ``position``, or None."""
        run, i = self._run_of(position)
        code = int(run.codes[i])
        return None if code == NO_NAME else (run.names[code], run.vectors()[i])

    def models(self) -> Counter[str]:
        """How many stored vectors each model made."""
        return Counter(self._models)

    def slice(self, start: int, count: int) -> VectorRun:
        """The vectors of ``count`` records from ``start`` as one run (one dimension)."""
        got = [self.stored(start + i) for i in range(count)]
        dims = Counter(v.shape[0] for _, v in filter(None, got))
        dim = dims.most_common(1)[0][0] if dims else 0
        names = sorted({name for name, v in filter(None, got) if v.shape[0] == dim})
        vectors = np.zeros((count, dim), dtype=np.float16)
        codes = np.full(count, NO_NAME, dtype=np.uint16)
        for i, item in enumerate(got):
            if item is not None and item[1].shape[0] == dim:
                vectors[i] = item[1]
                codes[i] = names.index(item[0])
        return VectorRun(lambda: vectors, codes, names)

    def matrix(
        self, emb: Embedder, texts: Callable[[list[int]], list[str]], where: str
    ) -> np.ndarray | None:
        """Every record's ``emb`` vector, normalised, (n, dim) float32; None if too many lack one.

        Records without a stored ``emb`` vector are embedded with ``texts(positions)``
        when there are at most `MAX_EMBED_ON_SEARCH`; otherwise the network is left to
        keyword search, with one warning.
        """
        n = self._n
        if self._keywords_only == emb.name:
            return None
        name, ready = self._ready
        if name != emb.name or self._matrix.shape[1] != emb.dim:
            ready = 0
        if self._matrix.shape[0] < n or self._matrix.shape[1] != emb.dim:
            grown = np.empty((n + n // 4 + 64, emb.dim), dtype=np.float32)
            if ready:
                grown[:ready] = self._matrix[:ready]
            self._matrix = grown
        missing: list[np.ndarray] = []
        for start, run in zip(self._starts, self._runs, strict=True):
            count = len(run.codes)
            if start + count <= ready:
                continue
            lo = max(ready - start, 0)
            block = self._matrix[start + lo : start + count]
            usable = run.codes[lo:] == run.code(emb.name)
            vectors = run.vectors()
            if usable.any() and vectors.shape[1] == emb.dim:
                np.copyto(block, vectors[lo:])  # float16 -> float32
                norms = np.sqrt(np.einsum("ij,ij->i", block, block))
                usable &= np.isfinite(norms) & (norms > 0)
                block /= np.where(usable, norms, 1)[:, None]
            else:
                usable[:] = False
            block[~usable] = 0
            missing.append(start + lo + np.flatnonzero(~usable))
        todo = np.concatenate(missing).tolist() if missing else []
        if len(todo) > MAX_EMBED_ON_SEARCH:
            # Stored vectors never change, so more records can only add to the missing.
            self._keywords_only = emb.name
            warnings.warn(
                f"{len(todo)} records in {where} have no stored {emb.name} vector; "
                "searching by keywords (import the network into a new one to embed them)",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        if todo:
            vecs = np.asarray(emb.embed_passages(texts(todo)), dtype=np.float32)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            self._matrix[todo] = vecs
        self._ready = (emb.name, n)
        return self._matrix[:n]


def _merged(a: VectorRun, b: VectorRun) -> VectorRun | None:
    """``a`` then ``b`` as one run, or None if their vectors differ in size."""
    va, vb = a.vectors(), b.vectors()
    dim = max(va.shape[1], vb.shape[1])
    if {va.shape[1], vb.shape[1]} - {0, dim}:
        return None
    vectors = np.zeros((len(va) + len(vb), dim), dtype=np.float16)
    vectors[: len(va), : va.shape[1]] = va
    vectors[len(va) :, : vb.shape[1]] = vb
    names = list(a.names) + [n for n in b.names if n not in a.names]
    remap = np.array([names.index(n) for n in b.names] + [NO_NAME], dtype=np.uint16)
    b_codes = remap[np.where(b.codes == NO_NAME, len(b.names), b.codes)]
    return VectorRun(lambda: vectors, np.concatenate([a.codes, b_codes]), names)
