"""The vector store: each record's stored embedding, scored against a query for semantic search.

Vectors are kept by record position in runs, as they were read or appended, each
run with the models that made its vectors. A run holds its vectors normalised
(float32, unit length, ready to score with one matrix-vector product; for pages
served by the sidecar index these are mapped straight from the index file, never
copied) and, when at hand, as stored in the PNG (float16). Records without a
vector from the model a search uses are embedded in memory, never in the file.
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


def unit_rows(raw: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stored vectors scaled to unit length, float32; codes with unusable rows set to NO_NAME.

    A row that is zero or not finite cannot be ranked (keyword search still finds
    its record): it becomes zeros and loses its model.
    """
    unit = raw.astype(np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", unit, unit)) if unit.shape[1] else np.zeros(len(unit))
    usable = np.isfinite(norms) & (norms > 0) & (codes != NO_NAME)
    unit[~usable] = 0
    unit[usable] /= norms[usable, None]
    return unit, np.where(usable, codes, NO_NAME).astype(np.uint16)


@dataclass(frozen=True)
class VectorRun:
    """The vectors of consecutive records, and which model made each."""

    unit: Callable[[], np.ndarray]  # (count, dim) float32 unit rows; loaded (and checked) on use
    codes: np.ndarray  # uint16 per record: index into `names`; NO_NAME = no usable vector
    names: list[str]
    raw: np.ndarray | None = None  # (count, dim) float16 as stored in the PNG, when at hand
    cached: bool = False  # read from the sidecar index (checked on first use, never joined)

    def code(self, name: str) -> int:
        """The code of model ``name`` in this run (NO_NAME if none of its vectors are from it)."""
        return self.names.index(name) if name in self.names else NO_NAME


class VectorStore:
    """Stored embeddings by record position, scored against queries."""

    def __init__(self) -> None:
        self._starts: list[int] = []  # first position of each run
        self._runs: list[VectorRun] = []
        self._n = 0
        self._models: Counter[str] = Counter()
        self._extra: dict[str, dict[int, np.ndarray]] = {}  # model -> position -> made here
        self._gaps: dict[str, tuple[int, list[int]]] = {}  # model -> (positions seen, missing)
        self._keywords_only: str | None = None  # a model too many records lack (it stays so)

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
        """(model, float16 vector) of the record at ``position``, or None.

        As stored in the PNG where that is at hand; for pages served by the index,
        the normalised vector (the same direction, rounded to float16).
        """
        run, i = self._run_of(position)
        code = int(run.codes[i])
        if code == NO_NAME:
            return None
        vec = run.raw[i] if run.raw is not None else run.unit()[i].astype(np.float16)
        return run.names[code], vec

    def models(self) -> Counter[str]:
        """How many stored vectors each model made."""
        return Counter(self._models)

    def slice(self, start: int, count: int) -> VectorRun:
        """The vectors of ``count`` records from ``start`` as one run (one dimension)."""
        got = [self.stored(start + i) for i in range(count)]
        dims = Counter(v.shape[0] for _, v in filter(None, got))
        dim = dims.most_common(1)[0][0] if dims else 0
        names = sorted({name for name, v in filter(None, got) if v.shape[0] == dim})
        raw = np.zeros((count, dim), dtype=np.float16)
        codes = np.full(count, NO_NAME, dtype=np.uint16)
        for i, item in enumerate(got):
            if item is not None and item[1].shape[0] == dim:
                raw[i] = item[1]
                codes[i] = names.index(item[0])
        unit, codes = unit_rows(raw, codes)
        return VectorRun(lambda: unit, codes, names, raw)

    def scores(
        self,
        emb: Embedder,
        query: np.ndarray,
        texts: Callable[[list[int]], list[str]],
        where: str,
    ) -> np.ndarray | None:
        """Cosine of every record's ``emb`` vector with ``query``; None if too many lack one.

        Records without a stored ``emb`` vector are embedded with ``texts(positions)``
        (kept in memory) when there are at most `MAX_EMBED_ON_SEARCH`; otherwise the
        network is left to keyword search, with one warning.
        """
        if self._keywords_only == emb.name:
            return None
        missing = self._missing(emb)
        extra = self._extra.setdefault(emb.name, {})
        todo = [i for i in missing if i not in extra]
        if len(todo) + len(extra) > MAX_EMBED_ON_SEARCH:
            # Stored vectors never change, so more records can only add to the missing.
            self._keywords_only = emb.name
            warnings.warn(
                f"{len(todo) + len(extra)} records in {where} have no stored {emb.name} "
                "vector; searching by keywords (import the network into a new one to embed them)",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        if todo:
            vecs = np.asarray(emb.embed_passages(texts(todo)), dtype=np.float32)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            extra.update(zip(todo, vecs, strict=True))
        out = np.zeros(self._n, dtype=np.float32)
        for start, run in zip(self._starts, self._runs, strict=True):
            if emb.name in run.names:  # rows of other models are zeros: scored below
                unit = run.unit()
                if unit.shape[1] == emb.dim:
                    out[start : start + len(run.codes)] = unit @ query
        if extra:
            positions = np.fromiter(extra, dtype=np.int64)
            out[positions] = np.stack(list(extra.values())) @ query
        return out

    def _missing(self, emb: Embedder) -> list[int]:
        """Positions with no stored ``emb`` vector (worked out once per run and model)."""
        done, missing = self._gaps.get(emb.name, (0, []))
        for start, run in zip(self._starts, self._runs, strict=True):
            end = start + len(run.codes)
            if end <= done:
                continue
            usable = run.codes == run.code(emb.name)
            if usable.any() and run.unit().shape[1] != emb.dim:
                usable[:] = False
            lo = max(done - start, 0)
            missing = missing + (start + lo + np.flatnonzero(~usable[lo:])).tolist()
        self._gaps[emb.name] = (self._n, missing)
        return missing


def _merged(a: VectorRun, b: VectorRun) -> VectorRun | None:
    """``a`` then ``b`` as one run, or None if their vectors differ in size."""
    ua, ub = a.unit(), b.unit()
    dim = max(ua.shape[1], ub.shape[1])
    if {ua.shape[1], ub.shape[1]} - {0, dim}:
        return None
    unit = np.zeros((len(ua) + len(ub), dim), dtype=np.float32)
    unit[: len(ua), : ua.shape[1]] = ua
    unit[len(ua) :, : ub.shape[1]] = ub
    raw = None
    if a.raw is not None and b.raw is not None:
        raw = np.zeros((len(ua) + len(ub), dim), dtype=np.float16)
        raw[: len(ua), : ua.shape[1]] = a.raw
        raw[len(ua) :, : ub.shape[1]] = b.raw
    names = list(a.names) + [n for n in b.names if n not in a.names]
    remap = np.array([names.index(n) for n in b.names] + [NO_NAME], dtype=np.uint16)
    b_codes = remap[np.where(b.codes == NO_NAME, len(b.names), b.codes)]
    return VectorRun(lambda: unit, np.concatenate([a.codes, b_codes]), names, raw)
