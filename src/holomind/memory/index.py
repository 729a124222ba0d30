"""The sidecar index: a cache of each closed page's records, so a large network opens fast.

Beside ``network.png`` lies ``.network.png.index``: for every page that is closed
(a later page exists, so it never changes again) one block holding what opening
would otherwise parse out of that page's PNG: each record's JSON, what it
supersedes, its content hash and its stored vector scaled to unit length. The PNG
pages stay the one source of truth: a block is used only while its page has the
size and modification time it was made from and its checksums hold; a missing,
stale or damaged block is rebuilt from the page. The last page is always read
from its PNG (it is bounded in size). Writing the cache is best effort: a
read-only folder only makes opening slower.

Opening reads only each block's small columns; the JSON and vectors are mapped
from the file and checked against their CRC-32 the first time they are used
(`IndexDamage` if they fail: the caller rebuilds and retries). The file is only
ever appended to in place; anything else (dropping a damaged or stale tail)
writes a new file and renames it over the old one, so a mapping another process
holds never loses its bytes.

File layout: ``HMIX`` + version byte 2 + 3 zero bytes, then blocks, page 0 first:

    6 × u32: lengths and CRC-32s of the block's three sections (columns, JSON, vectors)
    columns: u32 head length, head (JSON: page, size, mtime_ns, height, first_id,
             count, dim, names), count × i32 supersedes (0 = none), count × u16
             name index (65535 = no vector), count × 32-byte sha256,
             (count + 1) × u32 offsets into the JSON
    JSON:    each record's data-strip JSON, one after another
    vectors: count × dim float32 (little-endian), each record's stored vector scaled
             to unit length (zeros where it has none), what search multiplies with
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import mmap
import os
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"HMIX\x03\x00\x00\x00"
NO_NAME = 0xFFFF
_HEAD = struct.Struct("<6I")


class IndexDamage(Exception):
    """A cached block's data fails its checksum: rebuild from ``page`` on and try again."""

    def __init__(self, page: int) -> None:
        super().__init__(f"index block of page {page} is damaged")
        self.page = page


def sidecar_path(network: Path) -> Path:
    """Where the index of the network whose first page is ``network`` lives."""
    return network.with_name(f".{network.name}.index")


class Section:
    """Bytes of an index block, checked against their CRC-32 the first time they are used."""

    def __init__(self, view: memoryview, crc: int, page: int) -> None:
        self._view = view
        self._crc: int | None = crc
        self._page = page

    def data(self) -> memoryview:
        """The bytes, or `IndexDamage` if they do not match their checksum."""
        if self._crc is not None:
            if zlib.crc32(self._view) != self._crc:
                raise IndexDamage(self._page)
            self._crc = None
        return self._view


class JsonRun(Sequence[bytes]):
    """The JSON of consecutive records, sliced out of one checked section on demand."""

    def __init__(self, section: Section, offsets: np.ndarray) -> None:
        self._section = section
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: Any) -> Any:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return bytes(self._section.data()[int(self._offsets[i]) : int(self._offsets[i + 1])])


@dataclass
class PageIndex:
    """What opening needs from one page: its records' columns, and the page file it came from."""

    page: int
    size: int  # the page file's size and mtime when this was made
    mtime_ns: int
    height: int  # the page's committed rows
    first_id: int
    jsons: Sequence[bytes]  # each record's data-strip JSON
    supersedes: np.ndarray  # int32, 0 = replaces nothing
    digests: bytes  # sha256 of each record, 32 bytes apiece
    vectors: Callable[[], np.ndarray]  # (count, dim) float32 unit rows; zeros where no name
    codes: np.ndarray  # uint16 per record: index into `names`, NO_NAME when no usable vector
    names: list[str]  # the models that made this page's vectors
    raw: np.ndarray | None = None  # (count, dim) float16 as stored in the PNG, when read from it
    cached: bool = False  # read from the index file (its JSON and vectors checked on first use)

    @property
    def count(self) -> int:
        """How many records the page holds."""
        return len(self.jsons)

    def to_block(self) -> bytes:
        """This page as one index block."""
        vectors = self.vectors()
        offsets = np.zeros(self.count + 1, dtype="<u4")
        offsets[1:] = np.cumsum([len(j) for j in self.jsons])
        head = json.dumps(
            {
                "page": self.page,
                "size": self.size,
                "mtime_ns": self.mtime_ns,
                "height": self.height,
                "first_id": self.first_id,
                "count": self.count,
                "dim": int(vectors.shape[1]),
                "names": self.names,
            }
        ).encode()
        columns = b"".join(
            [
                struct.pack("<I", len(head)),
                head,
                self.supersedes.astype("<i4").tobytes(),
                self.codes.astype("<u2").tobytes(),
                self.digests,
                offsets.tobytes(),
            ]
        )
        text = b"".join(self.jsons)
        vecs = vectors.astype("<f4").tobytes()
        sizes = [(len(part), zlib.crc32(part)) for part in (columns, text, vecs)]
        return _HEAD.pack(*(x for pair in sizes for x in pair)) + columns + text + vecs

    @classmethod
    def from_block(cls, buf: memoryview, pos: int) -> tuple[PageIndex, int]:
        """The block at ``pos`` (its columns checked now, the rest on first use) and its end.

        ValueError if it is cut short, fails its column checksum or is inconsistent.
        """
        if pos + _HEAD.size > len(buf):
            raise ValueError("cut short")
        cols_len, cols_crc, json_len, json_crc, vec_len, vec_crc = _HEAD.unpack_from(buf, pos)
        at = pos + _HEAD.size
        end = at + cols_len + json_len + vec_len
        if end > len(buf):
            raise ValueError("cut short")
        cols = buf[at : at + cols_len]
        if zlib.crc32(cols) != cols_crc:
            raise ValueError("columns fail their checksum")
        (head_len,) = struct.unpack_from("<I", cols, 0)
        head = json.loads(bytes(cols[4 : 4 + head_len]))
        n, dim, page = head["count"], head["dim"], head["page"]
        c = 4 + head_len
        supersedes = np.frombuffer(cols, "<i4", n, c).astype(np.int32)
        c += 4 * n
        codes = np.frombuffer(cols, "<u2", n, c).astype(np.uint16)
        c += 2 * n
        digests = bytes(cols[c : c + 32 * n])
        c += 32 * n
        offsets = np.frombuffer(cols, "<u4", n + 1, c).astype(np.int64)
        c += 4 * (n + 1)
        names = head["names"]
        ok = (
            c == cols_len
            and len(digests) == 32 * n
            and offsets[-1] == json_len
            and vec_len == 4 * n * dim
            and all(isinstance(x, str) for x in names)
            and bool(np.all((codes < len(names)) | (codes == NO_NAME)))
        )
        if not ok:
            raise ValueError("block sizes do not add up")
        text = Section(buf[at + cols_len : at + cols_len + json_len], json_crc, page)
        vec_section = Section(buf[end - vec_len : end], vec_crc, page)

        def vectors() -> np.ndarray:
            return np.frombuffer(vec_section.data(), "<f4").reshape(n, dim)

        block = cls(
            page,
            head["size"],
            head["mtime_ns"],
            head["height"],
            head["first_id"],
            JsonRun(text, offsets),
            supersedes,
            digests,
            vectors,
            codes,
            names,
            cached=True,
        )
        return block, end


class Sidecar:
    """The index file of one network: load the blocks that still match, add new ones."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, pages: list[tuple[int, int]], first_id: int = 1) -> list[PageIndex]:
        """Blocks for closed pages 0, 1, … while each matches its page's (size, mtime_ns).

        Stops at the first block that is missing, damaged or stale; the caller parses
        those pages from their PNG and hands them to `save`.
        """
        try:
            with open(self.path, "rb") as f:
                buf = memoryview(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ))
        except (OSError, ValueError):  # missing, unreadable or empty
            return []
        out: list[PageIndex] = []
        if bytes(buf[: len(MAGIC)]) != MAGIC:
            return out
        pos = len(MAGIC)
        for number, (size, mtime) in enumerate(pages):
            try:
                block, pos = PageIndex.from_block(buf, pos)
            except (ValueError, KeyError, TypeError, IndexError, struct.error):
                break
            if (block.page, block.size, block.mtime_ns, block.first_id) != (
                number,
                size,
                mtime,
                first_id,
            ):
                break
            out.append(block)
            first_id += block.count
        return out

    def save(self, keep: int, blocks: list[PageIndex]) -> None:
        """Write ``blocks`` as pages ``keep``, ``keep + 1``, … after the first ``keep`` blocks.

        Another process may be doing the same: the file is locked while written, and
        blocks it already holds are not written twice. Failures are ignored (a cache).
        """
        if not blocks:
            return
        with contextlib.suppress(OSError), self._locked() as fd:
            if fd is None:
                return
            pos, have = self._walk(fd, keep, keep + len(blocks))
            if have < keep:
                return  # the file lost blocks we rely on; a later open rebuilds them
            data = b"".join(b.to_block() for b in blocks[have - keep :])
            if pos == os.fstat(fd).st_size and pos:
                os.pwrite(fd, data, pos)  # a clean end: append in place
            else:
                self._rewrite(fd, pos, data)

    def forget(self, page: int) -> None:
        """Drop the blocks of ``page`` and after (found damaged); best effort."""
        with contextlib.suppress(OSError), self._locked() as fd:
            if fd is not None:
                pos, _ = self._walk(fd, page, page)
                self._rewrite(fd, pos, b"")

    def _rewrite(self, fd: int, keep_bytes: int, data: bytes) -> None:
        """Replace the file with its first ``keep_bytes`` and ``data``, by renaming a new file.

        Never truncating in place keeps every mapping of the old file valid.
        """
        head = os.pread(fd, keep_bytes, 0) if keep_bytes else MAGIC
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.new")
        try:
            with open(tmp, "wb") as f:
                f.write(head + data)
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int | None]:
        # A separate lock file: the index itself is replaced by rename now and then.
        lock = self.path.with_name(f"{self.path.name}.lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another process is writing it right now
                yield None
                return
            try:
                index = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:
                yield None
                return
            try:
                yield index
            finally:
                os.close(index)
        finally:
            os.close(fd)

    def _walk(self, fd: int, keep: int, upto: int) -> tuple[int, int]:
        """(offset after, count of) the leading blocks that are pages 0, 1, … (at most ``upto``).

        The first ``keep`` were checked when loaded; later ones (another process may have
        written them since) are checked whole here.
        """
        if os.pread(fd, len(MAGIC), 0) != MAGIC:
            return 0, 0
        pos, size = len(MAGIC), os.fstat(fd).st_size
        for number in range(upto):
            head = os.pread(fd, _HEAD.size + 4, pos)
            if len(head) < _HEAD.size + 4:
                return pos, number
            lengths = _HEAD.unpack(head[: _HEAD.size])
            (head_len,) = struct.unpack("<I", head[_HEAD.size :])
            end = pos + _HEAD.size + sum(lengths[0::2])
            if end > size or head_len > lengths[0]:
                return pos, number
            try:
                info = json.loads(os.pread(fd, head_len, pos + _HEAD.size + 4))
            except ValueError:
                return pos, number
            if not isinstance(info, dict) or info.get("page") != number:
                return pos, number
            if number >= keep:
                at = pos + _HEAD.size
                for length, crc in zip(lengths[0::2], lengths[1::2], strict=True):
                    if zlib.crc32(os.pread(fd, length, at)) != crc:
                        return pos, number
                    at += length
            pos = end
        return pos, upto
