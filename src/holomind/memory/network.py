"""The pixel network: an append-only memory of Q&A records kept in one PNG.

Every record is stored twice in the same image: as a strip of data pixels that
hold its exact bytes, and as rendered text a person can read. Appending writes
only the new record's bands plus a 30-byte tail and rewrites the IHDR height
(the commit point); nothing already in the file is decoded or re-encoded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import mmap
import os
import struct
import threading
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from holomind.embed import Embedder, load_embedder
from holomind.errors import (
    CorruptFileError,
    InvalidInputError,
    MissingFileError,
    NotSerializableError,
)
from holomind.files import fsync_folder, replacing
from holomind.memory import codec
from holomind.memory.render import GLYPH_WIDTH, LINE_HEIGHT, render_lines, wrap_lines
from holomind.memory.search import KeywordIndex, top_k

DEFAULT_WIDTH = 1024
MAX_RECORD_LINES = 60  # rendered lines per record; the data strip always holds everything
MAX_EMBED_ON_SEARCH = 512  # records without a stored vector that a search may embed on the spot


CUT_SHORT = "the file is cut short"


class TailWarning(UserWarning):
    """The file ends in an unfinished append or was cut short; committed records were kept."""


@dataclass(frozen=True)
class Record:
    """One remembered exchange: a question, its answer, when, and where it came from."""

    id: int  # position in this network, 1-based; never reused
    question: str
    answer: str
    created: datetime  # UTC
    meta: dict[str, Any] = field(default_factory=dict)
    hash: str = ""  # sha256 of question + NUL + answer: the identity used to de-duplicate
    model: str | None = None  # the model that produced the answer, if any
    supersedes: int | None = None  # id of the record whose answer this one replaces
    superseded_by: int | None = None  # set when a later record replaces this one

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (created as ISO 8601)."""
        out = dataclasses.asdict(self)
        out["created"] = self.created.isoformat()
        return out


@dataclass(frozen=True)
class Hit:
    """A search result: the record, its score, and how it was found."""

    record: Record
    score: float
    via: str  # "semantic" or "keyword"


@dataclass
class Verification:
    """What `PixelNetwork.verify` found."""

    ok: bool  # every committed record and checksum is intact
    records: int
    problems: list[str]  # damage found (ok is False when there is any)
    notes: list[str] = field(default_factory=list)  # harmless findings, e.g. an unfinished tail

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


def content_hash(question: str, answer: str) -> str:
    """The sha256 hex digest that identifies a Q&A pair across networks."""
    return hashlib.sha256(f"{question}\x00{answer}".encode()).hexdigest()


@dataclass
class _Draft:
    """A record about to be written: everything except its id and position."""

    question: str
    answer: str
    created: datetime
    model: str | None
    meta: dict[str, Any]
    supersedes: int | None = None
    vector: np.ndarray | None = None
    embedder: str | None = None


@dataclass
class _Entry:
    """Where a committed record lives in the file (needed to repair the tail)."""

    data_at: int  # offset of the data band's IDAT chunk
    text_at: int  # offset of the text band's IDAT chunk
    data_rows: int
    text_rows: int
    adler_before: int


class _Truncated(Exception):
    """The file ends inside a chunk."""


def _read_chunk(buf: Any, pos: int, size: int) -> tuple[bytes, int, int, int]:
    """Parse the chunk at ``pos``: (type, data start, data length, next offset); checks CRC."""
    if pos + 8 > size:
        raise _Truncated
    length, kind = struct.unpack(">I4s", buf[pos : pos + 8])
    if length > codec.MAX_CHUNK:
        raise CorruptFileError(
            f"chunk at byte {pos} claims {length} bytes, far more than this format writes"
        )
    end = pos + 12 + length
    if end > size:
        raise _Truncated
    (crc,) = struct.unpack(">I", buf[end - 4 : end])
    if zlib.crc32(buf[pos + 4 : end - 4]) != crc:
        raise CorruptFileError(f"chunk {kind!r} at byte {pos} fails its CRC check")
    return kind, pos + 8, length, end


def _parse_created(value: Any, what: str) -> datetime:
    try:
        created = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise CorruptFileError(f"{what}: bad creation time {value!r}") from None
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def _record_from(fields: dict[str, Any], what: str) -> Record:
    try:
        rec = Record(
            id=fields["id"],
            question=fields["question"],
            answer=fields["answer"],
            created=_parse_created(fields["created"], what),
            meta=fields["meta"],
            hash=fields["hash"],
            model=fields.get("model"),
            supersedes=fields.get("supersedes"),
        )
    except KeyError as exc:
        raise CorruptFileError(f"{what}: record lacks field {exc}") from None
    ok = (
        isinstance(rec.id, int)
        and isinstance(rec.question, str)
        and isinstance(rec.answer, str)
        and isinstance(rec.meta, dict)
        and rec.hash == content_hash(rec.question, rec.answer)
        and (rec.supersedes is None or isinstance(rec.supersedes, int))
        and (rec.model is None or isinstance(rec.model, str))
    )
    if not ok:
        raise CorruptFileError(f"{what}: record fields are malformed or its hash does not match")
    return rec


def _check_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be text, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{name} is not valid Unicode (lone surrogate)") from None
    return value


def _check_meta(meta: dict[str, Any]) -> dict[str, Any]:
    try:
        text = json.dumps(meta, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise NotSerializableError(
            f"metadata cannot be stored: {exc}", hint="pass JSON values (str, number, list, dict)"
        ) from None
    return json.loads(text)


class PixelNetwork:
    """An append-only Q&A memory in one PNG that people can open and programs can search.

    The file is created on the first append. ``embedder`` is "auto" (the model
    that made the stored vectors, else the bundled default, else keyword search
    if none loads), a model name for `load_embedder`, "none", or an `Embedder`.
    ``workspace`` (anything with ``write(key, value)``) receives
    ``memory/appended`` after every committed append.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        embedder: str | Embedder | None = "auto",
        workspace: Any = None,
        width: int = DEFAULT_WIDTH,
    ) -> None:
        self.path = Path(path).expanduser()
        if self.path.is_dir():
            raise InvalidInputError(
                f"{self.path} is a directory", hint="name a .png file for the network"
            )
        if width % 8 or not 64 <= width <= 16384:
            raise InvalidInputError(f"width must be a multiple of 8 in 64..16384, got {width}")
        self._embedder_spec = embedder
        self._embedder_loaded = not isinstance(embedder, str)
        self._embedder: Embedder | None = None if isinstance(embedder, str) else embedder
        self.workspace = workspace
        self._lock = threading.RLock()
        self._width = width
        self._reset()
        if self.path.exists():
            with self._file(os.O_RDONLY, fcntl.LOCK_SH) as fd:
                self._load(fd)

    # ----------------------------------------------------------------- state

    def _reset(self) -> None:
        self._records: list[Record] = []
        self._entries: list[_Entry] = []
        self._index: dict[int, int] = {}  # record id -> position in _records
        self._hashes: set[str] = set()
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._vector_names: list[str | None] = []
        self._live = np.zeros(0, dtype=bool)  # not superseded, per record position
        self._vectors_ok = (None, 0)  # (embedder name, how many leading records have its vectors)
        self._warned_missing = False
        self._pending: list[
            tuple[int, np.ndarray]
        ] = []  # vectors `_add` saw, not yet in the matrix
        self._keywords: KeywordIndex | None = None
        self._header_rows = 0
        self._height = 0  # committed rows, as the IHDR says
        self._end = 0  # offset of the tail (terminator IDAT) after the last committed record
        self._size = 0
        self._mtime = 0
        self._adler = 1
        self._dirty: str | None = None  # why the bytes after _end are not a clean tail

    @property
    def embedder(self) -> Embedder | None:
        """The embedder in use (loaded on first need), or None for keyword-only search."""
        if not self._embedder_loaded:
            spec = str(self._embedder_spec)
            # "auto" keeps an existing network on the model its vectors came from,
            # so they stay comparable with the query and nothing is re-embedded.
            prefer = self._stored_embedder() if spec == "auto" else None
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
            return Counter(n for n in self._vector_names if n is not None)

    def _stored_embedder(self) -> str | None:
        """The model that made most of the stored vectors, or None when there are none."""
        names = self.stored_models()
        return names.most_common(1)[0][0] if names else None

    @contextlib.contextmanager
    def _file(self, flags: int, lock: int) -> Iterator[int]:
        try:
            fd = os.open(self.path, flags)
        except FileNotFoundError:
            raise MissingFileError(f"{self.path} does not exist") from None
        except PermissionError:
            raise InvalidInputError(f"no permission to open {self.path}") from None
        try:
            fcntl.flock(fd, lock)
            yield fd
        finally:
            os.close(fd)

    # ------------------------------------------------------------- reading

    def _load(self, fd: int) -> None:
        """Parse the whole file into memory (records, vectors, layout)."""
        size = os.fstat(fd).st_size
        self._reset()
        if size == 0:
            raise CorruptFileError(
                f"{self.path} is empty", hint="delete it, or name another file for the network"
            )
        with mmap.mmap(fd, size, prot=mmap.PROT_READ) as buf:
            self._parse_head(buf, size)
            self._scan(buf, size)
        self._size, self._mtime = size, os.fstat(fd).st_mtime_ns

    def _parse_head(self, buf: Any, size: int) -> None:
        where = str(self.path)
        if buf[:8] != codec.SIGNATURE:
            raise CorruptFileError(f"{where} is not a PNG file", hint="name a pixel network .png")
        try:
            kind, at, length, pos = _read_chunk(buf, 8, size)
        except _Truncated:
            raise CorruptFileError(f"{where} is truncated inside its PNG header") from None
        if kind != b"IHDR" or length != 13:
            raise CorruptFileError(f"{where}: PNG does not start with a valid IHDR chunk")
        width, height, depth, color, comp, filt, inter = struct.unpack(
            ">IIBBBBB", buf[at : at + 13]
        )
        if (depth, color, comp, filt, inter) != (1, 0, 0, 0, 0) or width % 8 or width < 64:
            raise CorruptFileError(
                f"{where} is a PNG but not a HoloMind pixel network",
                hint="networks are 1-bit grayscale PNGs written by holomind",
            )
        if width > 16384 or height > codec.MAX_HEIGHT:
            raise CorruptFileError(f"{where} claims an absurd size ({width}x{height})")
        info: dict[str, Any] | None = None
        while True:
            try:
                kind, at, length, nxt = _read_chunk(buf, pos, size)
            except _Truncated:
                raise CorruptFileError(f"{where} is truncated before its image data") from None
            if kind == b"IDAT":
                break
            if kind == b"tEXt" and bytes(buf[at : at + len(codec.TEXT_KEY) + 1]) == (
                codec.TEXT_KEY + b"\x00"
            ):
                try:
                    info = json.loads(bytes(buf[at + len(codec.TEXT_KEY) + 1 : at + length]))
                except ValueError:
                    raise CorruptFileError(f"{where}: format description is not JSON") from None
            elif kind[0] & 0x20 == 0:
                raise CorruptFileError(f"{where}: unexpected critical chunk {kind!r}")
            pos = nxt
        if not isinstance(info, dict) or info.get("format") != codec.FORMAT_NAME:
            raise CorruptFileError(
                f"{where} is a PNG but not a HoloMind pixel network (no format description)"
            )
        version = info.get("version")
        if version != codec.FORMAT_VERSION:
            raise CorruptFileError(
                f"{where} uses pixel format version {version!r}; this HoloMind reads version "
                f"{codec.FORMAT_VERSION}",
                hint="upgrade holomind",
            )
        header_rows = info.get("header_rows")
        if not isinstance(header_rows, int) or not 0 < header_rows <= min(height, 4096):
            raise CorruptFileError(f"{where}: format description has a bad header height")
        raw_len = header_rows * (width // 8 + 1)
        if length < 2 or bytes(buf[at : at + 2]) != codec.ZLIB_HEADER:
            raise CorruptFileError(f"{where}: image data does not start with a zlib header")
        header_raw = codec.inflate_band(bytes(buf[at + 2 : at + length]), raw_len, "header band")
        self._width = width
        self._header_rows = header_rows
        self._height = header_rows
        self._declared_height = height
        self._adler = zlib.adler32(header_raw)
        self._end = nxt

    def _scan(self, buf: Any, size: int) -> None:
        """Read record pairs from ``self._end`` until the committed height is reached."""
        row_bytes = self._width // 8
        max_strip = (codec.MAX_PAYLOAD // row_bytes + 2) * (row_bytes + 1)
        pos, rows = self._end, self._height
        target = self._declared_height
        while rows < target:
            what = f"{self.path}: record {len(self._records) + 1}"
            try:
                kind, at, length, text_pos = _read_chunk(buf, pos, size)
                if kind != b"IDAT":
                    raise CorruptFileError(f"{what}: expected image data, found {kind!r}")
                if length == 6 and bytes(buf[at : at + 2]) == codec.FINAL_BLOCK:
                    raise CorruptFileError(
                        f"{self.path}: image data ends before the height its header declares"
                    )
                dec = zlib.decompressobj(-15)
                try:
                    raw = dec.decompress(bytes(buf[at : at + length]), max_strip)
                except zlib.error:
                    raise CorruptFileError(f"{what}: data strip is damaged") from None
                data_rows = codec.payload_rows(raw[1 : row_bytes + 1], row_bytes, what)
                if len(raw) != data_rows * (row_bytes + 1) or dec.unconsumed_tail:
                    raise CorruptFileError(f"{what}: data strip is not the size it declares")
                payload = codec.decode_payload(codec.unpack_rows(raw, row_bytes, what), what)
                kind, _, _, nxt = _read_chunk(buf, text_pos, size)
                if kind != b"IDAT":
                    raise CorruptFileError(f"{what}: expected its text band, found {kind!r}")
            except _Truncated:
                self._dirty = CUT_SHORT
                warnings.warn(
                    f"{self.path} is truncated: kept the {len(self._records)} complete records; "
                    "the next write makes this permanent",
                    TailWarning,
                    stacklevel=4,
                )
                self._declared_height = self._height = rows
                self._end = pos
                self._flush_vectors()
                return
            fields = payload.fields
            text_rows = fields.get("rows")
            if not isinstance(text_rows, int) or not 0 < text_rows <= 65536:
                raise CorruptFileError(f"{what}: bad text band height")
            if rows + data_rows + text_rows > target:
                break  # written by an append that never committed
            rec = _record_from(fields, what)
            adler = fields.get("adler")
            if not isinstance(adler, int) or rec.id != (
                self._records[-1].id + 1 if self._records else 1
            ):
                raise CorruptFileError(f"{what}: record id or checksum chain is out of sequence")
            vec = None
            if payload.vector:
                if len(payload.vector) % 2:
                    raise CorruptFileError(f"{what}: stored vector has an odd byte count")
                vec = np.frombuffer(payload.vector, dtype="<f2")
            self._add(rec, _Entry(pos, text_pos, data_rows, text_rows, adler), vec, fields)
            rows += data_rows + text_rows
            pos = nxt
        self._height = rows
        self._end = pos
        self._flush_vectors()
        self._check_tail(buf, size)

    def _check_tail(self, buf: Any, size: int) -> None:
        pos = self._end
        tail = bytes(buf[pos : pos + codec.TAIL_SIZE])
        if (
            size == pos + codec.TAIL_SIZE
            and tail[4:10] == b"IDAT" + codec.FINAL_BLOCK
            and tail[codec.TERMINATOR_SIZE :] == codec.IEND_CHUNK
            and zlib.crc32(tail[4:14]) == struct.unpack(">I", tail[14:18])[0]
        ):
            self._adler = struct.unpack(">I", tail[10:14])[0]
            self._dirty = None
            return
        self._dirty = "the file ends in an unfinished append"
        warnings.warn(
            f"{self.path} ends in an unfinished append (a writer was interrupted); "
            f"all {len(self._records)} committed records are intact and the next write tidies it",
            TailWarning,
            stacklevel=4,
        )

    def _add(
        self, rec: Record, entry: _Entry, vec: np.ndarray | None, fields: dict[str, Any]
    ) -> None:
        self._index[rec.id] = len(self._records)
        self._records.append(rec)
        self._entries.append(entry)
        self._hashes.add(rec.hash)
        n = len(self._records)
        if n > self._live.shape[0]:
            self._live = np.concatenate([self._live, np.zeros(max(n, 64), dtype=bool)])
        self._live[n - 1] = True
        if rec.supersedes is not None and rec.supersedes in self._index:
            i = self._index[rec.supersedes]
            self._records[i] = dataclasses.replace(self._records[i], superseded_by=rec.id)
            self._live[i] = False
        self._vector_names.append(fields.get("embedder") if vec is not None else None)
        if vec is not None:
            self._pending.append((n - 1, vec))
        if self._keywords is not None:
            self._keywords.add(n - 1, f"{rec.question} {rec.answer}")

    def _flush_vectors(self) -> None:
        """Move vectors collected by `_add` into the matrix, normalised, in one batch."""
        if not self._pending:
            return
        dim = self._vectors.shape[1] or self._pending[0][1].shape[0]
        keep = [(i, v) for i, v in self._pending if v.shape[0] == dim]
        for i, v in self._pending:
            if v.shape[0] != dim:  # another model's vector size: keyword search covers it
                self._vector_names[i] = None
        self._pending = []
        n = len(self._records)
        if self._vectors.shape[1] == 0 or n > self._vectors.shape[0]:
            grown = np.zeros((max(2 * n, 64), dim), dtype=np.float32)
            if self._vectors.shape[1]:
                grown[: self._vectors.shape[0]] = self._vectors
            self._vectors = grown
        if keep:
            idx = np.array([i for i, _ in keep])
            mat = np.stack([v for _, v in keep]).astype(np.float32)
            bad = ~np.isfinite(mat).all(axis=1)
            for i in idx[bad]:  # unusable for ranking; keyword search still finds the record
                self._vector_names[int(i)] = None
            mat[bad] = 0
            mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
            self._vectors[idx] = mat

    def _refresh(self) -> None:
        """Pick up records other processes committed since we last looked."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            if self._records:
                raise MissingFileError(f"{self.path} was removed while in use") from None
            return
        if (st.st_size, st.st_mtime_ns) == (self._size, self._mtime):
            return
        with self._file(os.O_RDONLY, fcntl.LOCK_SH) as fd:
            self._sync(fd)

    def _sync(self, fd: int) -> None:
        """Bring the in-memory view up to the file's committed state (caller holds a lock)."""
        size = os.fstat(fd).st_size
        if self._size == 0:
            self._load(fd)
            return
        header = os.pread(fd, 25, codec.IHDR_OFFSET)
        height = struct.unpack(">I", header[12:16])[0] if len(header) == 25 else 0
        if (size, os.fstat(fd).st_mtime_ns) == (self._size, self._mtime):
            return
        if height < self._height or size < self._end:
            self._load(fd)  # rewritten behind our back: start over
            return
        self._declared_height = height
        with mmap.mmap(fd, size, prot=mmap.PROT_READ) as buf:
            self._scan(buf, size)
        self._size, self._mtime = size, os.fstat(fd).st_mtime_ns

    # -------------------------------------------------------------- writing

    def _create(self) -> None:
        """Write an empty network atomically (header band only); no-op if one appeared."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInputError(f"cannot create folder {self.path.parent}: {exc}") from None
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        cols = self._width // GLYPH_WIDTH
        lines = wrap_lines(
            f"HoloMind pixel network - format {codec.FORMAT_VERSION} - started {stamp}\n"
            "Each record below is a strip of data pixels (its exact bytes) followed by its "
            "text. Read it with: holomind memory list FILE",
            self._width,
        )
        ink = render_lines([*lines, "=" * cols], self._width)
        raw = codec.pack_ink(ink)
        header_rows = ink.shape[0]
        blob = b"".join(
            [
                codec.SIGNATURE,
                codec.ihdr(self._width, header_rows),
                codec.text_chunk(header_rows, self._width),
                codec.chunk(b"IDAT", codec.ZLIB_HEADER + codec.deflate_band(raw)),
                codec.terminator(zlib.adler32(raw)),
                codec.IEND_CHUNK,
            ]
        )
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.new")
        try:
            with open(tmp, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(FileExistsError):  # another writer made it first: theirs wins
                os.link(tmp, self.path)
            # The new name must reach the disk too, or a crash loses the records appended next.
            fsync_folder(self.path.parent)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot create {self.path}: {exc.strerror}",
                hint="check the folder exists, is writable and has free space",
            ) from None
        finally:
            tmp.unlink(missing_ok=True)

    def _repair_adler(self, fd: int) -> int:
        """Adler-32 of all committed rows, from the last record's stored checksum."""
        if not self._entries:
            head = os.pread(fd, self._end, 0)
            with mmap.mmap(-1, len(head)) as buf:
                buf.write(head)
                self._parse_head(buf, len(head))
            return self._adler
        e = self._entries[-1]
        adler = e.adler_before
        row_bytes = self._width // 8
        for at, rows in ((e.data_at, e.data_rows), (e.text_at, e.text_rows)):
            length = struct.unpack(">I", os.pread(fd, 4, at))[0]
            data = os.pread(fd, length, at + 8)
            adler = zlib.adler32(codec.inflate_band(data, rows * (row_bytes + 1), "repair"), adler)
        return adler

    def _commit(self, fd: int, bands: bytes, rows: int, adler: int) -> None:
        """Write bands + a fresh tail at the end of the committed data, then the new height."""
        tail = codec.terminator(adler) + codec.IEND_CHUNK
        os.pwrite(fd, bands + tail, self._end)
        end = self._end + len(bands)
        size = end + len(tail)
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
        os.fsync(fd)
        # The commit point: until the height covers the new rows, readers ignore them.
        os.pwrite(fd, codec.ihdr(self._width, rows), codec.IHDR_OFFSET)
        os.fsync(fd)
        self._height, self._end, self._size = rows, end, size
        self._mtime = os.fstat(fd).st_mtime_ns
        self._declared_height, self._adler, self._dirty = rows, adler, None

    def repair(self) -> bool:
        """Drop an unfinished append's leftovers so the file is a clean PNG; True if it did."""
        if not self.path.exists():
            return False
        with self._lock, self._file(os.O_RDWR, fcntl.LOCK_EX) as fd:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TailWarning)
                self._sync(fd)
            if self._dirty is None:
                return False
            self._commit(fd, b"", self._height, self._repair_adler(fd))
            return True

    def _render_record(self, rid: int, d: _Draft, digest: str) -> np.ndarray:
        cols = self._width // GLYPH_WIDTH
        head = f"#{rid}  {d.created:%Y-%m-%d %H:%M:%S}Z  hash {digest[:12]}"
        if d.model:
            head += f"  model {d.model}"
        if d.supersedes is not None:
            head += f"  replaces #{d.supersedes}"
        text = f"{head}\nQ: {d.question}\nA: {d.answer}"
        if d.meta:
            text += "\nmeta: " + json.dumps(d.meta, ensure_ascii=False)
        lines = wrap_lines(text, self._width)
        if len(lines) > MAX_RECORD_LINES:
            hidden = len(lines) - MAX_RECORD_LINES + 1
            lines = [*lines[: MAX_RECORD_LINES - 1], f"... {hidden} more lines in the data strip"]
        ink = render_lines([*lines, "-" * cols], self._width)
        # Only the top half of the dashes line: a thin rule between records.
        return ink[: ink.shape[0] - LINE_HEIGHT // 2]

    def _write(self, drafts: list[_Draft]) -> list[Record]:
        """Append drafts under the file lock: bands, tail, fsync, then the IHDR height."""
        if not self.path.exists():
            self._create()
        with self._lock, self._file(os.O_RDWR, fcntl.LOCK_EX) as fd:
            self._sync(fd)
            adler = self._repair_adler(fd) if self._dirty else self._adler
            row_bytes = self._width // 8
            pos, rows = self._end, self._height
            next_id = self._records[-1].id + 1 if self._records else 1
            blobs: list[bytes] = []
            staged: list[tuple[Record, _Entry, np.ndarray | None, dict[str, Any]]] = []
            for i, d in enumerate(drafts):
                rid = next_id + i
                digest = content_hash(d.question, d.answer)
                text_raw = codec.pack_ink(self._render_record(rid, d, digest))
                fields: dict[str, Any] = {
                    "id": rid,
                    "question": d.question,
                    "answer": d.answer,
                    "created": d.created.isoformat(),
                    "hash": digest,
                    "model": d.model,
                    "meta": d.meta,
                    "rows": len(text_raw) // (row_bytes + 1),
                    "adler": adler,
                }
                if d.supersedes is not None:
                    fields["supersedes"] = d.supersedes
                vec_bytes = b""
                if d.vector is not None:
                    vec_bytes = d.vector.astype("<f2").tobytes()
                    fields["embedder"] = d.embedder
                data_raw, data_rows = codec.pack_bytes(
                    codec.encode_payload(fields, vec_bytes), row_bytes
                )
                data_chunk = codec.chunk(b"IDAT", codec.deflate_band(data_raw))
                text_chunk = codec.chunk(b"IDAT", codec.deflate_band(text_raw))
                entry = _Entry(
                    pos, pos + len(data_chunk), data_rows, fields["rows"], fields["adler"]
                )
                adler = zlib.adler32(text_raw, zlib.adler32(data_raw, adler))
                pos += len(data_chunk) + len(text_chunk)
                rows += data_rows + fields["rows"]
                blobs += [data_chunk, text_chunk]
                rec = _record_from(fields, "new record")
                stored = np.frombuffer(vec_bytes, dtype="<f2") if vec_bytes else None
                staged.append((rec, entry, stored, fields))
            if rows > codec.MAX_HEIGHT:
                raise InvalidInputError(
                    f"{self.path} is full (PNG height limit)", hint="start a new network"
                )
            try:
                self._commit(fd, b"".join(blobs), rows, adler)
            except OSError as exc:
                # Nothing committed: the height still covers only the old records.
                self._dirty = "a write failed"
                raise InvalidInputError(
                    f"cannot write {self.path}: {exc.strerror}", hint="check free disk space"
                ) from None
            for rec, entry, vec, fields in staged:
                self._add(rec, entry, vec, fields)
            self._flush_vectors()
            written = [self._records[self._index[s[0].id]] for s in staged]
        if self.workspace is not None:
            for rec in written:
                self.workspace.write(
                    "memory/appended",
                    {
                        "path": str(self.path),
                        "id": rec.id,
                        "hash": rec.hash,
                        "question": rec.question[:200],
                        "records": len(self._records),
                    },
                )
        return written

    def _draft(
        self,
        question: str,
        answer: str,
        model: str | None,
        meta: dict[str, Any],
        created: datetime | None = None,
    ) -> _Draft:
        return _Draft(
            question=_check_text(question, "question"),
            answer=_check_text(answer, "answer"),
            created=created or datetime.now(UTC),
            model=None if model is None else _check_text(model, "model"),
            meta=_check_meta(meta),
        )

    def _embed(self, drafts: list[_Draft]) -> None:
        emb = self.embedder
        todo = [d for d in drafts if d.vector is None]
        if emb is None or not todo:
            return
        vecs = emb.embed_passages([f"{d.question}\n{d.answer}" for d in todo])
        for d, v in zip(todo, vecs, strict=True):
            d.vector, d.embedder = v, emb.name

    def append(self, question: str, answer: str, model: str | None = None, **meta: Any) -> Record:
        """Remember one Q&A; returns the committed record (the file is created if needed)."""
        draft = self._draft(question, answer, model, meta)
        self._embed([draft])
        return self._write([draft])[0]

    def append_many(
        self, pairs: Iterable[tuple[str, str]], model: str | None = None, **meta: Any
    ) -> list[Record]:
        """Remember many Q&A pairs in one locked write and one fsync; returns their records."""
        drafts = [self._draft(q, a, model, dict(meta)) for q, a in pairs]
        if not drafts:
            return []
        self._embed(drafts)
        return self._write(drafts)

    def supersede(self, id: int, new_answer: str, **meta: Any) -> Record:
        """Record a corrected answer for record ``id``; the old record stays in the file."""
        old = self.get(id)
        if old is None:
            raise InvalidInputError(f"no record #{id} in {self.path}")
        if old.superseded_by is not None:
            raise InvalidInputError(
                f"record #{id} was already replaced by #{old.superseded_by}",
                hint=f"supersede #{old.superseded_by} instead",
            )
        draft = self._draft(old.question, new_answer, meta.pop("model", None), {**old.meta, **meta})
        draft.supersedes = id
        self._embed([draft])
        return self._write([draft])[0]

    # ---------------------------------------------------------------- reads

    def __len__(self) -> int:
        with self._lock:
            self._refresh()
            return len(self._records)

    def records(self, include_superseded: bool = True) -> list[Record]:
        """Every record in the order it was appended (optionally only current ones)."""
        with self._lock:
            self._refresh()
            if include_superseded:
                return list(self._records)
            return [r for r in self._records if r.superseded_by is None]

    def get(self, id: int) -> Record | None:
        """The record with this id, or None."""
        with self._lock:
            self._refresh()
            i = self._index.get(id)
            return None if i is None else self._records[i]

    def recent(self, n: int = 5) -> list[Record]:
        """The last ``n`` current (not superseded) records, oldest first."""
        with self._lock:
            self._refresh()
            out: list[Record] = []
            for rec in reversed(self._records):
                if len(out) >= n:
                    break
                if rec.superseded_by is None:
                    out.append(rec)
            return out[::-1]

    def _semantic_matrix(self, emb: Embedder) -> np.ndarray | None:
        """Vectors of every record from ``emb``; None when too many lack one to embed now.

        A few records without a stored vector (appended with no embedder, or by
        another model) are embedded in memory; a network with many such records
        is searched by keywords instead of stalling on re-embedding it.
        """
        n = len(self._records)
        if self._vectors.shape[1] != emb.dim:
            self._vectors = np.zeros((max(n, 64), emb.dim), dtype=np.float32)
            self._vector_names = [None] * n
            self._vectors_ok = (None, 0)
        name, ok = self._vectors_ok
        start = ok if name == emb.name else 0
        missing = [i for i in range(start, n) if self._vector_names[i] != emb.name]
        if len(missing) > MAX_EMBED_ON_SEARCH:
            if not self._warned_missing:
                self._warned_missing = True
                warnings.warn(
                    f"{len(missing)} records in {self.path} have no stored {emb.name} vector; "
                    "searching by keywords (import the network into a new one to embed them)",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return None
        if missing:
            vecs = emb.embed_passages(
                [f"{self._records[i].question}\n{self._records[i].answer}" for i in missing]
            )
            for i, v in zip(missing, vecs, strict=True):
                self._vectors[i] = v / max(float(np.linalg.norm(v)), 1e-12)
                self._vector_names[i] = emb.name
        self._vectors_ok = (emb.name, n)
        return self._vectors[:n]

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The ``k`` current records most relevant to ``query``, best first.

        Semantic (cosine over stored embeddings) when an embedder is available,
        otherwise keyword (BM25) scoring.
        """
        _check_text(query, "query")
        if k < 1:
            raise InvalidInputError(f"k must be at least 1, got {k}")
        with self._lock:
            self._refresh()
            if not self._records:
                return []
            live = self._live[: len(self._records)].copy()
            emb = self.embedder
            matrix = self._semantic_matrix(emb) if emb is not None and query.strip() else None
            if emb is not None and matrix is not None:
                scores = matrix @ emb.embed_query(query)
                via = "semantic"
            else:
                if self._keywords is None:
                    self._keywords = KeywordIndex()
                    for i, r in enumerate(self._records):
                        self._keywords.add(i, f"{r.question} {r.answer}")
                scores = self._keywords.scores(query, len(self._records))
                via = "keyword"
                live &= scores > 0
            return [Hit(self._records[i], float(scores[i]), via) for i in top_k(scores, live, k)]

    def context(self, query: str, budget_chars: int = 2000, recent: int = 3, k: int = 5) -> str:
        """Prompt text: the records most relevant to ``query`` plus the most recent, no repeats.

        Relevant records come first, then recent ones; the result never exceeds
        ``budget_chars`` characters (the last entry that fits may be cut short).
        """
        if budget_chars < 0:
            raise InvalidInputError(f"budget_chars must be >= 0, got {budget_chars}")
        picked: list[Record] = []
        seen: set[str] = set()
        for rec in [h.record for h in self.search(query, k)] + self.recent(recent):
            if rec.hash not in seen:
                seen.add(rec.hash)
                picked.append(rec)
        parts: list[str] = []
        used = 0
        for rec in picked:
            block = f"Q: {rec.question}\nA: {rec.answer}"
            sep = 2 if parts else 0
            room = budget_chars - used - sep
            if room <= 0:
                break
            if len(block) > room:
                if room < 40:
                    break
                block = block[: room - 3] + "..."
            parts.append(block)
            used += sep + len(block)
        return "\n\n".join(parts)

    def stats(self) -> dict[str, Any]:
        """Counts and sizes: records, current, superseded, bytes, bytes per record, height."""
        with self._lock:
            self._refresh()
            n = len(self._records)
            superseded = sum(r.superseded_by is not None for r in self._records)
            size = self.path.stat().st_size if self.path.exists() else 0
            return {
                "path": str(self.path),
                "format_version": codec.FORMAT_VERSION,
                "records": n,
                "current": n - superseded,
                "superseded": superseded,
                "bytes": size,
                "bytes_per_record": round(size / n, 1) if n else None,
                "width": self._width,
                "height": self._height,
                "with_vectors": sum(x is not None for x in self._vector_names),
                "clean": self._dirty is None,
            }

    def verify(self) -> Verification:
        """Decode every band of the file and check every checksum, height and chain link."""
        problems: list[str] = []
        with self._lock:
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    fresh = PixelNetwork(self.path, embedder=None, width=self._width)
            except CorruptFileError as exc:
                return Verification(False, 0, [str(exc)])
            except MissingFileError:
                return Verification(True, 0, [])
            tail = [str(w.message) for w in caught if issubclass(w.category, TailWarning)]
            # A cut file lost committed records; an unfinished append lost nothing.
            notes: list[str] = []
            if fresh._dirty == CUT_SHORT:
                problems += tail
            else:
                notes = tail
            row_bytes = fresh._width // 8
            adler = zlib.adler32(b"")
            with open(self.path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as buf:
                size = len(buf)
                _, at, length, _ = _read_chunk(buf, fresh._first_idat(buf, size), size)
                head = codec.inflate_band(
                    bytes(buf[at + 2 : at + length]),
                    fresh._header_rows * (row_bytes + 1),
                    "header band",
                )
                adler = zlib.adler32(head)
                for rec, e in zip(fresh._records, fresh._entries, strict=True):
                    if e.adler_before != adler:
                        problems.append(f"record #{rec.id}: checksum chain broken")
                    for at_chunk, rows in ((e.data_at, e.data_rows), (e.text_at, e.text_rows)):
                        _, at, length, _ = _read_chunk(buf, at_chunk, size)
                        try:
                            raw = codec.inflate_band(
                                bytes(buf[at : at + length]),
                                rows * (row_bytes + 1),
                                f"record #{rec.id}",
                            )
                        except CorruptFileError as exc:
                            problems.append(str(exc))
                            continue
                        adler = zlib.adler32(raw, adler)
                if fresh._dirty is None and adler != fresh._adler:
                    problems.append("image checksum (Adler-32) does not match the rows")
            return Verification(not problems, len(fresh._records), problems, notes)

    def _first_idat(self, buf: Any, size: int) -> int:
        pos = 8
        while True:
            kind, _, _, nxt = _read_chunk(buf, pos, size)
            if kind == b"IDAT":
                return pos
            pos = nxt

    # -------------------------------------------------------------- sharing

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
        chosen = [r for r in self.records() if filter is None or filter(r)]
        suffix = target.suffix.lower()
        if suffix == ".jsonl":
            with replacing(target) as f:
                for rec in chosen:
                    f.write((json.dumps(rec.to_dict(), ensure_ascii=False) + "\n").encode())
            return len(chosen)
        if suffix != ".png":
            raise InvalidInputError(
                f"cannot export to {target.name}", hint="use a .png or .jsonl file name"
            )
        out = PixelNetwork(target, embedder=None, width=self._width)
        return len(out._merge(self, chosen))

    def import_from(self, other: str | os.PathLike[str] | PixelNetwork) -> list[Record]:
        """Add the records of another network (or .jsonl export) that this one lacks.

        Records are matched by content hash, so importing twice adds nothing;
        each imported record keeps its time and model and notes its origin.
        """
        if isinstance(other, PixelNetwork):
            return self._merge(other, other.records())
        src = Path(other).expanduser()
        if not src.exists():
            raise MissingFileError(f"{src} does not exist")
        if src.suffix.lower() == ".jsonl":
            return self._merge_jsonl(src)
        net = PixelNetwork(src, embedder=None)
        return self._merge(net, net.records())

    def _merge(self, source: PixelNetwork, chosen: list[Record]) -> list[Record]:
        with self._lock:
            self._refresh()
            have = set(self._hashes)
        emb = self.embedder
        drafts: list[_Draft] = []
        id_map: dict[int, int] = {}
        next_id = (self._records[-1].id + 1) if self._records else 1
        for rec in chosen:
            if rec.hash in have:
                continue
            have.add(rec.hash)
            meta = dict(rec.meta)
            meta.setdefault("origin", {"network": source.path.name, "id": rec.id})
            d = _Draft(rec.question, rec.answer, rec.created, rec.model, meta)
            if rec.supersedes is not None and rec.supersedes in id_map:
                d.supersedes = id_map[rec.supersedes]
            i = source._index[rec.id]
            name = source._vector_names[i]
            # Another model's vector is not comparable with ours: `_embed` makes a fresh one.
            if name is not None and (emb is None or name == emb.name):
                d.vector = source._vectors[i].copy()
                d.embedder = name
            id_map[rec.id] = next_id + len(drafts)
            drafts.append(d)
        self._embed(drafts)
        return self._write(drafts) if drafts else []

    def _merge_jsonl(self, src: Path) -> list[Record]:
        drafts: list[_Draft] = []
        with self._lock:
            self._refresh()
            have = set(self._hashes)
        with open(src, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    d = self._draft(
                        item["question"],
                        item["answer"],
                        item.get("model"),
                        dict(item.get("meta") or {}),
                        _parse_created(item["created"], "") if item.get("created") else None,
                    )
                except (ValueError, KeyError, TypeError, CorruptFileError) as exc:
                    raise CorruptFileError(
                        f"{src}:{lineno}: not a memory record ({exc})",
                        hint="each line needs question, answer (and optionally created, meta)",
                    ) from None
                digest = content_hash(d.question, d.answer)
                if digest in have:
                    continue
                have.add(digest)
                d.meta.setdefault("origin", {"network": src.name, "id": item.get("id")})
                drafts.append(d)
        self._embed(drafts)
        return self._write(drafts) if drafts else []

    def __repr__(self) -> str:
        return f"PixelNetwork({str(self.path)!r}, records={len(self._records)})"
