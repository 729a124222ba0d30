"""The pixel network: an append-only Q&A memory a person can open as PNG pages and read.

`PixelNetwork` is the one object callers use (a mem0-sized surface: append, search,
get, records, recent, supersede, plus verify/repair/export/import). It joins the
parts that each live in their own module: the PNG pages on disk (`pngfile`), the
records (`records`), their stored embeddings (`vectors`), the sidecar cache that
makes large networks open fast (`index`) and the checks and import planning
(`maintenance`).
"""

from __future__ import annotations

import json
import os
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from holomind.embed import Embedder, load_embedder
from holomind.errors import InvalidInputError, MissingFileError
from holomind.memory import codec, maintenance
from holomind.memory.index import IndexDamage, PageIndex, Sidecar, sidecar_path
from holomind.memory.maintenance import Candidate, Verification
from holomind.memory.pngfile import (
    MAX_PAGE_ROWS,
    Band,
    NetworkFile,
    Page,
    Parsed,
    TailWarning,
)
from holomind.memory.records import (
    Draft,
    Hit,
    Record,
    RecordTable,
    check_text,
    record_from_fields,
)
from holomind.memory.search import KeywordIndex, top_k
from holomind.memory.vectors import NO_NAME, VectorRun, VectorStore, unit_rows

DEFAULT_WIDTH = 1024
MIN_PAGE_ROWS = 256
T = TypeVar("T")


class PixelNetwork:
    """An append-only Q&A memory in PNG pages that people can open and programs can search.

    The first page is created on the first append. ``embedder`` is "auto" (the
    model that made the stored vectors, else the bundled default, else keyword
    search if none loads), a model name for `load_embedder`, "none", or an
    `Embedder`. ``workspace`` (anything with ``write(key, value)``) receives
    ``memory/appended`` after every committed append. ``width`` and
    ``page_height`` (rows per page; default 2^24 pixels / width) apply to a new
    network; an existing one keeps its own.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        embedder: str | Embedder | None = "auto",
        workspace: Any = None,
        width: int = DEFAULT_WIDTH,
        page_height: int | None = None,
    ) -> None:
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise InvalidInputError(
                f"{self.path} is a directory", hint="name a .png file for the network"
            )
        if width % 8 or not 64 <= width <= 16384:
            raise InvalidInputError(f"width must be a multiple of 8 in 64..16384, got {width}")
        if page_height is not None and not MIN_PAGE_ROWS <= page_height <= MAX_PAGE_ROWS:
            raise InvalidInputError(
                f"page height must be {MIN_PAGE_ROWS}..{MAX_PAGE_ROWS} rows, got {page_height}"
            )
        self._embedder_spec = embedder
        self._embedder_loaded = not isinstance(embedder, str)
        self._embedder: Embedder | None = None if isinstance(embedder, str) else embedder
        self.workspace = workspace
        self._lock = threading.RLock()
        self._file = NetworkFile(self.path, width, page_height)
        self._sidecar = Sidecar(sidecar_path(self.path))
        self._reset()
        if self.path.exists():
            with self._file.locked(exclusive=False):
                self._load()

    # ----------------------------------------------------------------- state

    def _reset(self) -> None:
        self._table = RecordTable()
        self._vectors = VectorStore()
        self._keywords: KeywordIndex | None = None
        self._last: Page | None = None  # the last page, as far as we have read it
        self._closed: list[tuple[int, int, int]] = []  # (size, mtime_ns, rows) of earlier pages

    @property
    def embedder(self) -> Embedder | None:
        """The embedder in use (loaded on first need), or None for keyword-only search."""
        if not self._embedder_loaded:
            spec = str(self._embedder_spec)
            # "auto" keeps an existing network on the model its vectors came from,
            # so they stay comparable with the query and nothing is re-embedded.
            names = self.stored_models()
            prefer = names.most_common(1)[0][0] if spec == "auto" and names else None
            self._embedder = load_embedder(spec, prefer=prefer)
            self._embedder_loaded = True
        return self._embedder

    @embedder.setter
    def embedder(self, emb: Embedder | None) -> None:
        """Search and append with ``emb`` from now on (None: keywords only)."""
        with self._lock:
            self._embedder, self._embedder_loaded = emb, True

    def stored_models(self) -> Counter[str]:
        """How many stored vectors each model made."""
        with self._lock:
            return self._vectors.models()

    def _load(self) -> None:
        """Read every page: closed ones from the sidecar index where it is current."""
        self._reset()
        count = self._file.page_count()
        if count > 1:  # page 0 may come from the index, but its header sets the layout
            self._file.layout()
        stats = [self._file.stat(n) for n in range(count - 1)]
        cached = self._sidecar.load(stats)
        for block in cached:
            self._take(block)
            self._closed.append((block.size, block.mtime_ns, block.height))
        rebuilt = []
        for number in range(len(cached), count - 1):
            page, parsed = self._file.read(number, len(self._table) + 1, last=False)
            block = self._index_of(page, parsed)
            self._take(block)
            self._closed.append((page.size, page.mtime_ns, page.height))
            rebuilt.append(block)
        self._sidecar.save(len(cached), rebuilt)
        self._last, parsed = self._file.read(count - 1, len(self._table) + 1, last=True)
        self._take(self._index_of(self._last, parsed))

    def _index_of(self, page: Page, parsed: list[Parsed]) -> PageIndex:
        """The columns of records just read or written (each checked as a `Record`)."""
        vectors = []
        for p in parsed:
            record_from_fields(p.fields, f"{page.path}: record {p.fields.get('id')}")
            vectors.append(np.frombuffer(p.vector, dtype="<f2") if p.vector else None)
        dim = next((v.shape[0] for v in vectors if v is not None), 0)
        raw = np.zeros((len(parsed), dim), dtype=np.float16)
        codes = np.full(len(parsed), NO_NAME, dtype=np.uint16)
        names: list[str] = []
        for i, (p, vec) in enumerate(zip(parsed, vectors, strict=True)):
            name = p.fields.get("embedder")
            # Another model's vector size cannot be searched with the rest: keywords cover it.
            if vec is not None and vec.shape[0] == dim and isinstance(name, str):
                if name not in names:
                    names.append(name)
                raw[i], codes[i] = vec, names.index(name)
        unit, codes = unit_rows(raw, codes)
        return PageIndex(
            page=page.number,
            size=page.size,
            mtime_ns=page.mtime_ns,
            height=page.height,
            first_id=page.first_id,
            jsons=[
                json.dumps(p.fields, ensure_ascii=False, separators=(",", ":")).encode()
                for p in parsed
            ],
            supersedes=np.array([_target(p.fields) for p in parsed], dtype=np.int32),
            digests=b"".join(bytes.fromhex(p.fields["hash"]) for p in parsed),
            vectors=lambda: unit,
            codes=codes,
            names=names,
            raw=raw,
        )

    def _take(self, block: PageIndex) -> None:
        """Add a block of records (the next ids) to the table, vectors and keyword index."""
        start = len(self._table)
        self._table.extend(block.jsons, block.supersedes, block.digests)
        self._vectors.extend(
            VectorRun(block.vectors, block.codes, block.names, block.raw, block.cached)
        )
        if self._keywords is not None:
            for i in range(block.count):
                rec = self._table.get(start + i + 1)
                assert rec is not None
                self._keywords.add(start + i, f"{rec.question} {rec.answer}")

    def _read(self, read: Callable[[], T]) -> T:
        """Run ``read`` on an up-to-date view; a damaged index block is rebuilt, then it reruns."""
        with self._lock:
            self._refresh()
            try:
                return read()
            except IndexDamage as exc:
                self._sidecar.forget(exc.page)
                with self._file.locked(exclusive=False):
                    self._load()
                return read()

    def _refresh(self) -> None:
        """Pick up records other processes committed since we last looked."""
        last = self._last
        if last is None:
            if self.path.exists():
                with self._file.locked(exclusive=False):
                    self._load()
            return
        try:
            st = last.path.stat()
        except FileNotFoundError:
            raise MissingFileError(f"{last.path} was removed while in use") from None
        if (st.st_size, st.st_mtime_ns) == (last.size, last.mtime_ns) and not (
            self._file.page_path(last.number + 1).exists()
        ):
            return
        with self._file.locked(exclusive=False):
            self._sync()

    def _sync(self) -> None:
        """Bring the in-memory view up to the files' committed state (caller holds the lock)."""
        last = self._last
        if last is None:
            self._load()
            return
        more = self._file.read_more(last)
        if more is None:  # rewritten behind our back: start over
            self._load()
            return
        if more:
            self._take(self._index_of(last, more))
        while self._file.page_path(last.number + 1).exists():  # pages started since
            self._closed.append((last.size, last.mtime_ns, last.height))
            number = last.number + 1
            final = not self._file.page_path(number + 1).exists()
            last, parsed = self._file.read(number, len(self._table) + 1, final)
            self._take(self._index_of(last, parsed))
        self._last = last

    # -------------------------------------------------------------- writing

    def _embed(self, drafts: list[Draft]) -> None:
        emb = self.embedder
        todo = [d for d in drafts if d.vector is None]
        if emb is None or not todo:
            return
        vecs = emb.embed_passages([f"{d.question}\n{d.answer}" for d in todo])
        for d, v in zip(todo, vecs, strict=True):
            d.vector, d.embedder = v, emb.name

    def _write(self, choose: Callable[[], list[Draft]]) -> list[Record]:
        """Append what ``choose()`` returns, deciding it under the file lock (ids are known)."""
        if not self.path.exists():
            self._file.create()
        with self._lock, self._file.locked(exclusive=True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TailWarning)  # this write tidies the tail
                self._sync()
            try:
                drafts = choose()
            except IndexDamage as exc:
                self._sidecar.forget(exc.page)
                self._load()
                drafts = choose()
            if not drafts:
                return []
            last = self._last
            assert last is not None
            if last.dirty:
                self._file.repair(last)
            first = len(self._table) + 1
            bands = []
            for i, d in enumerate(drafts):
                text = codec.pack_ink(d.render(first + i, last.width))
                rows = len(text) // (last.width // 8 + 1)
                bands.append(Band(d.fields(first + i), d.vector_bytes(), text, rows))
            try:
                touched = self._file.append(last, bands)
            except BaseException:
                # Some pages may have committed: read everything again next time.
                self._last = None
                raise
            for i, (page, parsed) in enumerate(touched):
                if parsed:
                    self._take(self._index_of(page, parsed))
                if i < len(touched) - 1:
                    self._close(page)
            self._last = touched[-1][0]
            written = self._table.many(range(first, first + len(drafts)))
            total = len(self._table)
        if self.workspace is not None:
            for rec in written:
                self.workspace.write(
                    "memory/appended",
                    {
                        "path": str(self.path),
                        "id": rec.id,
                        "hash": rec.hash,
                        "question": rec.question[:200],
                        "records": total,
                    },
                )
        return written

    def _close(self, page: Page) -> None:
        """Note that ``page`` will never change again, and cache its records in the index."""
        self._closed.append((page.size, page.mtime_ns, page.height))
        start = page.first_id - 1
        run = self._vectors.slice(start, page.count)
        block = PageIndex(
            page=page.number,
            size=page.size,
            mtime_ns=page.mtime_ns,
            height=page.height,
            first_id=page.first_id,
            jsons=self._table.jsons(start, page.count),
            supersedes=self._table.supersedes(start, page.count),
            digests=self._table.digests(start, page.count),
            vectors=run.unit,
            codes=run.codes,
            names=run.names,
        )
        self._sidecar.save(page.number, [block])

    def append(self, question: str, answer: str, model: str | None = None, **meta: Any) -> Record:
        """Remember one Q&A; returns the committed record (the file is created if needed)."""
        draft = Draft.checked(question, answer, model, meta)
        self._embed([draft])
        return self._write(lambda: [draft])[0]

    def append_many(
        self, pairs: Iterable[tuple[str, str]], model: str | None = None, **meta: Any
    ) -> list[Record]:
        """Remember many Q&A pairs in one locked write (one commit per page touched)."""
        drafts = [Draft.checked(q, a, model, dict(meta)) for q, a in pairs]
        if not drafts:
            return []
        self._embed(drafts)
        return self._write(lambda: drafts)

    def supersede(self, id: int, new_answer: str, **meta: Any) -> Record:
        """Record a corrected answer for record ``id``; the old record stays in the file."""
        old = self.get(id)
        if old is None:
            raise InvalidInputError(f"no record #{id} in {self.path}")
        draft = Draft.checked(
            old.question, new_answer, meta.pop("model", None), {**old.meta, **meta}
        )
        draft.supersedes = id

        def choose() -> list[Draft]:
            current = self._table.get(id)
            assert current is not None
            if current.superseded_by is not None:
                raise InvalidInputError(
                    f"record #{id} was already replaced by #{current.superseded_by}",
                    hint=f"supersede #{current.superseded_by} instead",
                )
            return [draft]

        choose()  # refuse before embedding when it is already known to be replaced
        self._embed([draft])
        return self._write(choose)[0]

    # ---------------------------------------------------------------- reads

    def __len__(self) -> int:
        return self._read(lambda: len(self._table))

    def get(self, id: int) -> Record | None:
        """The record with this id, or None."""
        return self._read(lambda: self._table.get(id))

    def records(
        self, after: int = 0, limit: int | None = None, include_superseded: bool = True
    ) -> list[Record]:
        """Records with id > ``after`` in the order they were appended, at most ``limit``.

        Ids run 1, 2, 3, … with no gaps, so ``records(after=n)`` is everything appended
        since record n (what a consolidation job reads next), and
        ``records(after=len(net) - 50)`` the last 50.
        """
        if limit is not None and limit < 0:
            raise InvalidInputError(f"limit must be >= 0, got {limit}")

        def read() -> list[Record]:
            n = len(self._table)
            start = min(max(after, 0), n)
            if include_superseded:
                stop = n if limit is None else min(n, start + limit)
                return self._table.many(range(start + 1, stop + 1))
            ids = np.flatnonzero(self._table.live()[start:]) + start + 1
            return self._table.many(ids[:limit].tolist())

        return self._read(read)

    def recent(self, n: int = 5) -> list[Record]:
        """The last ``n`` current (not superseded) records, oldest first."""
        if n <= 0:
            return []
        return self._read(
            lambda: self._table.many((np.flatnonzero(self._table.live())[-n:] + 1).tolist())
        )

    def _texts(self, positions: list[int]) -> list[str]:
        out = []
        for rec in self._table.many([i + 1 for i in positions]):
            out.append(f"{rec.question}\n{rec.answer}")
        return out

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The ``k`` current records most relevant to ``query``, best first.

        Semantic (cosine over stored embeddings) when an embedder is available,
        otherwise keyword (BM25) scoring.
        """
        check_text(query, "query")
        if k < 1:
            raise InvalidInputError(f"k must be at least 1, got {k}")
        return self._read(lambda: self._search(query, k))

    def _search(self, query: str, k: int) -> list[Hit]:
        n = len(self._table)
        if not n:
            return []
        live = self._table.live().copy()
        emb = self.embedder
        scores = None
        if emb is not None and query.strip():
            q = np.asarray(emb.embed_query(query), dtype=np.float32)
            scores = self._vectors.scores(emb, q, self._texts, str(self.path))
        if scores is not None:
            via = "semantic"
        else:
            if self._keywords is None:
                keywords = KeywordIndex()
                for i, text in enumerate(self._table.texts()):
                    keywords.add(i, text)
                self._keywords = keywords
            scores = self._keywords.scores(query, n)
            via = "keyword"
            live &= scores > 0
        best = top_k(scores, live, k)
        return [
            Hit(rec, float(scores[rec.id - 1]), via)
            for rec in self._table.many([i + 1 for i in best])
        ]

    def pages(self) -> list[Path]:
        """The PNG files of this network, first to last: what a person opens to read it."""
        count = self._read(lambda: 0 if self._last is None else self._last.number + 1)
        return [self._file.page_path(n) for n in range(count)]

    def stats(self) -> dict[str, Any]:
        """Counts and sizes: records, current, superseded, pages, bytes, height (all pages)."""
        with self._lock:
            self._refresh()
            n = len(self._table)
            current = int(self._table.live().sum())
            last = self._last
            size = sum(s for s, _, _ in self._closed) + (last.size if last else 0)
            height = sum(h for _, _, h in self._closed) + (last.height if last else 0)
            first_page = self._file.page_path(0)
            return {
                "path": str(self.path),
                "format_version": codec.FORMAT_VERSION if last is None else self._version(),
                "records": n,
                "current": current,
                "superseded": n - current,
                "pages": 0 if last is None else last.number + 1,
                "bytes": size if first_page.exists() else 0,
                "bytes_per_record": round(size / n, 1) if n else None,
                "width": self._file.width,
                "page_height": self._file.page_rows,
                "height": height,
                "with_vectors": sum(self._vectors.models().values()),
                "clean": last is None or last.dirty is None,
            }

    def _version(self) -> int:
        """The format version of the newest page (older networks may start with version 1)."""
        assert self._last is not None
        return self._last.version

    # ---------------------------------------------------------- maintenance

    def verify(self) -> Verification:
        """Decode every band of every page and check every checksum, height and chain link."""
        with self._lock:
            return maintenance.verify(self.path)

    def repair(self) -> bool:
        """Drop an unfinished append's leftovers so the last page is a clean PNG; True if it did."""
        if not self.path.exists():
            return False
        with self._lock, self._file.locked(exclusive=True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TailWarning)
                self._sync()
            assert self._last is not None
            return self._file.repair(self._last)

    def export(
        self, path: str | os.PathLike[str], filter: Callable[[Record], bool] | None = None
    ) -> int:
        """Write matching records to a new ``.png`` network or a ``.jsonl`` file; returns the count.

        Refuses to overwrite an existing file. PNG exports keep stored vectors,
        creation times and models, and note each record's origin in its meta.
        """
        target = Path(path).expanduser()
        if target.exists():
            raise InvalidInputError(f"{target} already exists", hint="choose a new file name")
        suffix = target.suffix.lower()
        if suffix not in (".png", ".jsonl"):
            raise InvalidInputError(
                f"cannot export to {target.name}", hint="use a .png or .jsonl file name"
            )
        chosen = [r for r in self.records() if filter is None or filter(r)]  # one read: checked
        if suffix == ".jsonl":
            return maintenance.write_jsonl(target, chosen)
        out = PixelNetwork(target, embedder=None, width=self._file.width)
        return len(out._import(self._candidates(chosen)))

    def import_from(self, other: str | os.PathLike[str] | PixelNetwork) -> list[Record]:
        """Add the records of another network (or .jsonl export) that this one lacks.

        Records are matched by content hash, so importing twice adds nothing; each
        imported record keeps its time and model and notes its origin, and one that
        corrects another points at that record's id here. Which records are new is
        decided under the write lock, so imports running at once add each record once.
        """
        if isinstance(other, PixelNetwork):
            return self._import(other._candidates(other.records(), self.embedder))
        src = Path(other).expanduser()
        if not src.exists():
            raise MissingFileError(f"{src} does not exist")
        if src.suffix.lower() == ".jsonl":
            return self._import(maintenance.from_jsonl(src))
        source = PixelNetwork(src, embedder=None)
        return self._import(source._candidates(source.records(), self.embedder))

    def _candidates(self, records: list[Record], emb: Embedder | None = None) -> list[Candidate]:
        """This network's records offered to another, with the vectors ``emb`` can reuse."""

        def stored(id: int) -> tuple[str, np.ndarray] | None:
            return self._vectors.stored(id - 1)

        return self._read(
            lambda: maintenance.from_records(
                records, self.path.name, stored, None if emb is None else emb.name
            )
        )

    def _import(self, candidates: list[Candidate]) -> list[Record]:
        with self._lock:
            self._refresh()
            # Embed only what is new now; the lock decides again what is new at write time.
            fresh = [c for c in candidates if self._table.id_of_hash(c.draft.hash) is None]
        self._embed([c.draft for c in fresh])
        return self._write(
            lambda: maintenance.plan_import(
                candidates, self._table.id_of_hash, len(self._table) + 1
            )
        )

    def __repr__(self) -> str:
        return f"PixelNetwork({str(self.path)!r}, records={len(self._table)})"


def _target(fields: dict[str, Any]) -> int:
    """The id a record's ``supersedes`` names, or 0 when it names no earlier record."""
    target = fields.get("supersedes")
    return target if isinstance(target, int) and 0 < target < fields["id"] else 0
