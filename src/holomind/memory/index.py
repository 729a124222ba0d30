"""The sidecar index: a cache of each closed page's records, so a large network opens fast.

Beside ``network.png`` lies ``.network.png.index``: for every page that is closed
(a later page exists, so it never changes again) one block holding what opening
would otherwise parse out of that page's PNG: each record's JSON, what it
supersedes, its content hash and its stored vector. The PNG pages stay the one
source of truth: a block is used only while its page has the size and
modification time it was made from and its CRC-32 checks out; a missing, stale or
damaged block is rebuilt from the page. The last page is always read from its PNG
(it is bounded in size). Writing the cache is best effort: a read-only folder only
makes opening slower.

File layout: ``HMIX`` + version byte + 3 zero bytes, then blocks, page 0 first:

    u32 body length, u32 CRC-32 of the body, body:
    u32 head length, head (JSON: page, size, mtime_ns, height, first_id, count, dim, names)
    count × i32 supersedes (0 = none), count × u16 name index (65535 = no vector),
    count × 32-byte sha256, (count + 1) × u32 offsets into the JSON, the JSON,
    count × dim float16 vectors (little-endian)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"HMIX\x01\x00\x00\x00"
NO_NAME = 0xFFFF


def sidecar_path(network: Path) -> Path:
    """Where the index of the network whose first page is ``network`` lives."""
    return network.with_name(f".{network.name}.index")


class JsonRun(Sequence[bytes]):
    """The JSON of consecutive records, sliced out of one buffer on demand."""

    def __init__(self, blob: memoryview, offsets: np.ndarray) -> None:
        self._blob = blob
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        return bytes(self._blob[int(self._offsets[i]) : int(self._offsets[i + 1])])


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
    vectors: np.ndarray  # (count, dim) float16; rows whose name is None are unused
    names: list[str | None]  # the model that made each usable vector

    @property
    def count(self) -> int:
        """How many records the page holds."""
        return len(self.jsons)

    def to_block(self) -> bytes:
        """This page as one index block (length, CRC-32, body)."""
        table = sorted({n for n in self.names if n is not None})
        codes = np.array(
            [NO_NAME if n is None else table.index(n) for n in self.names], dtype="<u2"
        )
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
                "dim": int(self.vectors.shape[1]),
                "names": table,
            }
        ).encode()
        body = b"".join(
            [
                struct.pack("<I", len(head)),
                head,
                self.supersedes.astype("<i4").tobytes(),
                codes.tobytes(),
                self.digests,
                offsets.tobytes(),
                *self.jsons,
                self.vectors.astype("<f2").tobytes(),
            ]
        )
        return struct.pack("<II", len(body), zlib.crc32(body)) + body

    @classmethod
    def from_body(cls, body: memoryview) -> PageIndex:
        """Parse a block body (its CRC already checked); ValueError if it is inconsistent."""
        (head_len,) = struct.unpack_from("<I", body, 0)
        head = json.loads(bytes(body[4 : 4 + head_len]))
        n, dim, table = head["count"], head["dim"], head["names"]
        at = 4 + head_len
        supersedes = np.frombuffer(body, "<i4", n, at).astype(np.int32)
        at += 4 * n
        codes = np.frombuffer(body, "<u2", n, at)
        at += 2 * n
        digests = bytes(body[at : at + 32 * n])
        at += 32 * n
        offsets = np.frombuffer(body, "<u4", n + 1, at).astype(np.int64)
        at += 4 * (n + 1)
        blob = body[at : at + int(offsets[-1])]
        at += int(offsets[-1])
        vectors = np.frombuffer(body, "<f2", n * dim, at).reshape(n, dim)
        if at + 2 * n * dim != len(body) or len(digests) != 32 * n:
            raise ValueError("block sizes do not add up")
        names = [None if c == NO_NAME else table[c] for c in codes.tolist()]
        return cls(
            head["page"],
            head["size"],
            head["mtime_ns"],
            head["height"],
            head["first_id"],
            JsonRun(blob, offsets),
            supersedes,
            digests,
            vectors,
            names,
        )


class Sidecar:
    """The index file of one network: load the blocks that still match, append new ones."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, pages: list[tuple[int, int]], first_id: int = 1) -> list[PageIndex]:
        """Blocks for closed pages 0, 1, … while each matches its page's (size, mtime_ns).

        Stops at the first block that is missing, damaged or stale; the caller parses
        those pages from their PNG and hands them to `save`.
        """
        try:
            data = memoryview(self.path.read_bytes())
        except OSError:
            return []
        out: list[PageIndex] = []
        if bytes(data[: len(MAGIC)]) != MAGIC:
            return out
        pos = len(MAGIC)
        for number, (size, mtime) in enumerate(pages):
            if pos + 8 > len(data):
                break
            length, crc = struct.unpack_from("<II", data, pos)
            body = data[pos + 8 : pos + 8 + length]
            if len(body) != length or zlib.crc32(body) != crc:
                break
            try:
                block = PageIndex.from_body(body)
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
            pos += 8 + length
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
            if pos == 0:  # a new (or unreadable) file starts over
                data = MAGIC + data
            os.ftruncate(fd, pos)
            os.pwrite(fd, data, pos)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[int | None]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # another process is writing it right now
                yield None
                return
            yield fd
        finally:
            os.close(fd)

    def _walk(self, fd: int, keep: int, upto: int) -> tuple[int, int]:
        """(offset after, count of) the leading blocks that are pages 0, 1, … (at most ``upto``).

        The first ``keep`` were checked when loaded; later ones (another process may have
        written them since) are checked here.
        """
        if os.pread(fd, len(MAGIC), 0) != MAGIC:
            return 0, 0
        pos, size = len(MAGIC), os.fstat(fd).st_size
        for number in range(upto):
            head = os.pread(fd, 12, pos)
            if len(head) < 12:
                return pos, number
            length, crc, head_len = struct.unpack("<III", head)
            if pos + 8 + length > size or head_len > length:
                return pos, number
            try:
                info = json.loads(os.pread(fd, head_len, pos + 12))
            except ValueError:
                return pos, number
            if not isinstance(info, dict) or info.get("page") != number:
                return pos, number
            if number >= keep and zlib.crc32(os.pread(fd, length, pos + 8)) != crc:
                return pos, number
            pos += 8 + length
        return pos, upto
