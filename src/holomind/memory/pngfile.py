"""The pixel network on disk: its PNG pages, the lock, parsing, appending and tail repair.

A network is ``network.png`` (page 0) and, once it outgrows a page, ``network.0001.png``,
``network.0002.png``, … Each page is a complete pixel-network PNG of bounded height
(2^24 pixels by default: 16,384 rows at 1024 px), so any image viewer or browser
shows it at full resolution. Only the last page is ever written: appending writes
the new record's bands plus a fresh tail and then rewrites the IHDR height (the
commit point); a record that does not fit starts the next page, created whole
under a temporary name and linked into place (its commit point). An exclusive
`flock` on page 0 serialises writers across processes; readers take it shared.
See docs/pixel-format.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import mmap
import os
import re
import struct
import threading
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.files import fsync_folder
from holomind.memory import codec
from holomind.memory.render import CELL_WIDTH, LINE_HEIGHT, render_lines, rule, wrap_lines

PAGE_PIXELS = 2**24  # pixels per page: far below Pillow's 89-Mpx bomb warning
MIN_PAGE_ROWS = 4096
MAX_PAGE_ROWS = 2**20
CUT_SHORT = "the file is cut short"
T = TypeVar("T")


class TailWarning(UserWarning):
    """The file ends in an unfinished append or was cut short; committed records were kept."""


def default_page_rows(width: int) -> int:
    """Rows per page for a network ``width`` px wide: 2^24 pixels, at least 4096 rows."""
    return max(MIN_PAGE_ROWS, PAGE_PIXELS // width)


class _Truncated(Exception):
    """The file ends inside a chunk."""


def read_chunk(buf: Any, pos: int, size: int) -> tuple[bytes, int, int, int]:
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


@dataclass(frozen=True)
class Entry:
    """Where a committed record lives in its page (what tail repair and verify need)."""

    data_at: int  # offset of the data band's IDAT chunk
    text_at: int  # offset of the text band's IDAT chunk
    data_rows: int
    text_rows: int
    adler_before: int


@dataclass(frozen=True)
class Parsed:
    """One committed record as read from a page: its JSON fields, vector bytes and place."""

    fields: dict[str, Any]
    vector: bytes
    entry: Entry


@dataclass(frozen=True)
class Band:
    """A record ready to be written: its data-strip fields, vector and drawn text band."""

    fields: dict[str, Any]  # without "rows" and "adler", which the page supplies
    vector: bytes
    text: bytes  # the text band's scanlines (filter byte + packed pixels per row)
    text_rows: int


@dataclass
class Page:
    """What is known about one page file: its layout, committed height and tail."""

    number: int
    path: Path
    version: int
    width: int
    header_rows: int
    page_rows: int  # the most rows this network puts on a page
    height: int  # committed rows
    declared: int  # the IHDR height (above `height` only in a file cut short)
    end: int  # offset of the tail after the last committed record
    size: int
    mtime_ns: int
    adler: int  # Adler-32 of all committed rows
    dirty: str | None  # why the bytes after `end` are not a clean tail
    first_id: int
    count: int = 0
    last: Entry | None = None


class NetworkFile:
    """The PNG pages of one network: find, lock, read, append, repair."""

    def __init__(self, path: Path, width: int, page_rows: int | None = None) -> None:
        self.path = path
        self.width = width
        self.page_rows = page_rows or default_page_rows(width)
        self._room: int | None = None
        self._pattern = re.compile(re.escape(path.stem) + r"\.(\d{4,})" + re.escape(path.suffix))

    def page_path(self, number: int) -> Path:
        """The file of page ``number`` (0 is the network's own path)."""
        if number == 0:
            return self.path
        return self.path.with_name(f"{self.path.stem}.{number:04d}{self.path.suffix}")

    def page_count(self) -> int:
        """How many pages exist (0 when the network has not been created)."""
        if not self.path.exists():
            return 0
        numbers = set()
        with contextlib.suppress(OSError):
            for name in os.listdir(self.path.parent):
                m = self._pattern.fullmatch(name)
                if m and int(m.group(1)) > 0:
                    numbers.add(int(m.group(1)))
        count = len(numbers) + 1
        if numbers and max(numbers) != count - 1:
            gap = min(set(range(1, max(numbers))) - numbers)
            raise CorruptFileError(
                f"page {self.page_path(gap).name} of {self.path} is missing "
                f"(later pages exist up to {self.page_path(max(numbers)).name})",
                hint="restore it from a backup",
            )
        return count

    def stat(self, number: int) -> tuple[int, int]:
        """(size, mtime_ns) of page ``number``."""
        st = self.page_path(number).stat()
        return st.st_size, st.st_mtime_ns

    @contextlib.contextmanager
    def locked(self, exclusive: bool) -> Iterator[None]:
        """Hold the network's lock (on page 0): shared to read, exclusive to write."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise MissingFileError(f"{self.path} does not exist") from None
        except PermissionError:
            raise InvalidInputError(f"no permission to open {self.path}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    # ------------------------------------------------------------- reading

    def layout(self) -> None:
        """Take the network's width and page height from page 0's header (nothing else is read)."""
        self._open(0, lambda buf, st: self._head(buf, st.st_size, 0, 1))

    def read(self, number: int, first_id: int, last: bool) -> tuple[Page, list[Parsed]]:
        """Parse page ``number`` whole. Only the last page may end torn or cut (a warning)."""

        def parse(buf: Any, st: os.stat_result) -> tuple[Page, list[Parsed]]:
            page = self._head(buf, st.st_size, number, first_id)
            page.size, page.mtime_ns = st.st_size, st.st_mtime_ns
            return page, self._scan(page, buf, last)

        return self._open(number, parse)

    def _open(self, number: int, parse: Callable[[Any, os.stat_result], T]) -> T:
        """``parse(buf, stat)`` with page ``number`` mapped read-only."""
        path = self.page_path(number)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise MissingFileError(f"{path} does not exist") from None
        except PermissionError:
            raise InvalidInputError(f"no permission to open {path}") from None
        try:
            st = os.fstat(fd)
            if st.st_size == 0:
                raise CorruptFileError(
                    f"{path} is empty", hint="delete it, or name another file for the network"
                )
            with mmap.mmap(fd, st.st_size, prot=mmap.PROT_READ) as buf:
                return parse(buf, st)
        finally:
            os.close(fd)

    def read_more(self, page: Page) -> list[Parsed] | None:
        """Records committed to ``page`` since it was read; None if it was rewritten instead."""
        path = page.path
        fd = os.open(path, os.O_RDONLY)
        try:
            st = os.fstat(fd)
            if (st.st_size, st.st_mtime_ns) == (page.size, page.mtime_ns):
                return []
            head = os.pread(fd, 25, codec.IHDR_OFFSET)
            height = struct.unpack(">I", head[12:16])[0] if len(head) == 25 else 0
            if height < page.height or st.st_size < page.end:
                return None
            page.declared = height
            with mmap.mmap(fd, st.st_size, prot=mmap.PROT_READ) as buf:
                try:
                    records = self._scan(page, buf, True)
                except CorruptFileError:
                    return None  # not a continuation of what we read: read it all again
            page.size, page.mtime_ns = st.st_size, st.st_mtime_ns
        finally:
            os.close(fd)
        return records

    def _head(self, buf: Any, size: int, number: int, first_id: int) -> Page:
        path = self.page_path(number)
        where = str(path)
        if buf[:8] != codec.SIGNATURE:
            raise CorruptFileError(f"{where} is not a PNG file", hint="name a pixel network .png")
        try:
            kind, at, length, pos = read_chunk(buf, 8, size)
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
                kind, at, length, nxt = read_chunk(buf, pos, size)
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
        if version not in codec.READABLE_VERSIONS:
            raise CorruptFileError(
                f"{where} uses pixel format version {version!r}; this HoloMind reads versions "
                f"{', '.join(map(str, codec.READABLE_VERSIONS))}",
                hint="upgrade holomind",
            )
        page_no = info.get("page", 0) if version >= 2 else 0
        if page_no != number:
            if number == 0 and isinstance(page_no, int) and page_no > 0:
                first = re.sub(r"\.\d{4,}(?=\.[^.]*$)", "", path.name)
                raise InvalidInputError(
                    f"{where} is page {page_no + 1} of the network {first}",
                    hint=f"open {first}, which reads every page",
                )
            raise CorruptFileError(f"{where}: says it is page {page_no!r}, expected {number}")
        if number and (version < 2 or width != self.width):
            raise CorruptFileError(f"{where} does not match the network's first page")
        header_rows = info.get("header_rows")
        if not isinstance(header_rows, int) or not 0 < header_rows <= min(height, 4096):
            raise CorruptFileError(f"{where}: format description has a bad header height")
        page_rows = info.get("page_rows", default_page_rows(width))
        if not isinstance(page_rows, int) or not 0 < page_rows <= MAX_PAGE_ROWS:
            raise CorruptFileError(f"{where}: format description has a bad page height")
        raw_len = header_rows * (width // 8 + 1)
        if length < 2 or bytes(buf[at : at + 2]) != codec.ZLIB_HEADER:
            raise CorruptFileError(f"{where}: image data does not start with a zlib header")
        header_raw = codec.inflate_band(bytes(buf[at + 2 : at + length]), raw_len, "header band")
        if number == 0:
            self.width, self.page_rows, self._room = width, page_rows, None
        return Page(
            number=number,
            path=path,
            version=version,
            width=width,
            header_rows=header_rows,
            page_rows=page_rows,
            height=header_rows,
            declared=height,
            end=nxt,
            size=size,
            mtime_ns=0,
            adler=zlib.adler32(header_raw),
            dirty=None,
            first_id=first_id,
        )

    def _scan(self, page: Page, buf: Any, last: bool) -> list[Parsed]:
        """Read record pairs from ``page.end`` until the committed height is reached."""
        row_bytes = page.width // 8
        max_strip = (codec.MAX_PAYLOAD // row_bytes + 2) * (row_bytes + 1)
        size = len(buf)
        pos, rows = page.end, page.height
        out: list[Parsed] = []
        while rows < page.declared:
            what = f"{page.path}: record {page.first_id + page.count + len(out)}"
            try:
                kind, at, length, text_pos = read_chunk(buf, pos, size)
                if kind != b"IDAT":
                    raise CorruptFileError(f"{what}: expected image data, found {kind!r}")
                if length == 6 and bytes(buf[at : at + 2]) == codec.FINAL_BLOCK:
                    raise CorruptFileError(
                        f"{page.path}: image data ends before the height its header declares"
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
                kind, _, _, nxt = read_chunk(buf, text_pos, size)
                if kind != b"IDAT":
                    raise CorruptFileError(f"{what}: expected its text band, found {kind!r}")
            except _Truncated:
                if not last:
                    raise CorruptFileError(
                        f"{page.path} is truncated",
                        hint="restore this page from a backup: later pages depend on it",
                    ) from None
                page.dirty = CUT_SHORT
                warnings.warn(
                    f"{page.path} is truncated: kept the {page.count + len(out)} complete "
                    "records of this page; the next write makes this permanent",
                    TailWarning,
                    stacklevel=5,
                )
                page.declared = page.height = rows
                page.end = pos
                page.count += len(out)
                return out
            fields = payload.fields
            text_rows = fields.get("rows")
            if not isinstance(text_rows, int) or not 0 < text_rows <= 65536:
                raise CorruptFileError(f"{what}: bad text band height")
            if rows + data_rows + text_rows > page.declared:
                break  # written by an append that never committed
            adler = fields.get("adler")
            # The first record read continues the checksum of the rows already known.
            chained = adler == page.adler if not out else isinstance(adler, int)
            if not chained or fields.get("id") != page.first_id + page.count + len(out):
                raise CorruptFileError(f"{what}: record id or checksum chain is out of sequence")
            if len(payload.vector) % 2:
                raise CorruptFileError(f"{what}: stored vector has an odd byte count")
            entry = Entry(pos, text_pos, data_rows, text_rows, adler)
            out.append(Parsed(fields, payload.vector, entry))
            page.last = entry
            rows += data_rows + text_rows
            pos = nxt
        page.height = rows
        page.end = pos
        page.count += len(out)
        self._check_tail(page, buf, last)
        return out

    def _check_tail(self, page: Page, buf: Any, last: bool) -> None:
        pos, size = page.end, len(buf)
        tail = bytes(buf[pos : pos + codec.TAIL_SIZE])
        if (
            size == pos + codec.TAIL_SIZE
            and tail[4:10] == b"IDAT" + codec.FINAL_BLOCK
            and tail[codec.TERMINATOR_SIZE :] == codec.IEND_CHUNK
            and zlib.crc32(tail[4:14]) == struct.unpack(">I", tail[14:18])[0]
        ):
            page.adler = struct.unpack(">I", tail[10:14])[0]
            page.dirty = None
            return
        if not last:
            raise CorruptFileError(f"{page.path} has unexpected bytes after its last record")
        page.dirty = "the file ends in an unfinished append"
        warnings.warn(
            f"{page.path} ends in an unfinished append (a writer was interrupted); all "
            f"{page.count} committed records of this page are intact and the next write tidies it",
            TailWarning,
            stacklevel=5,
        )

    def band_data(self, page: Page, entry: Entry) -> Iterator[tuple[bytes, int]]:
        """The compressed data and row count of a record's two bands (for verify)."""
        with open(page.path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as buf:
            for at_chunk, rows in (
                (entry.data_at, entry.data_rows),
                (entry.text_at, entry.text_rows),
            ):
                _, at, length, _ = read_chunk(buf, at_chunk, len(buf))
                yield bytes(buf[at : at + length]), rows

    def header_band(self, page: Page) -> bytes:
        """The raw scanlines of a page's header band."""
        with open(page.path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as buf:
            pos = 8
            while True:
                kind, at, length, nxt = read_chunk(buf, pos, len(buf))
                if kind == b"IDAT":
                    return codec.inflate_band(
                        bytes(buf[at + 2 : at + length]),
                        page.header_rows * (page.width // 8 + 1),
                        f"{page.path}: header band",
                    )
                pos = nxt

    # ------------------------------------------------------------- writing

    def _header(self, number: int, first_id: int) -> bytes:
        """The scanlines of a page's header band: what the file is and how to read it."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        name = self.path.name
        where = f"page {number + 1} of {name}, records from #{first_id}" if number else name
        lines = wrap_lines(
            f"HoloMind pixel network {where} - format {codec.FORMAT_VERSION} - "
            f"written {stamp}\nEach record below is a strip of data pixels (its exact bytes) "
            f"followed by its text. Read them all with: holomind memory list {name}",
            self.width,
        )
        ink = render_lines(lines, self.width)
        return codec.pack_ink(ink) + codec.pack_ink(rule(self.width, CELL_WIDTH, solid=True))

    def _page_bytes(self, number: int, header: bytes, bands: bytes, rows: int, adler: int) -> bytes:
        header_rows = len(header) // (self.width // 8 + 1)
        return b"".join(
            [
                codec.SIGNATURE,
                codec.ihdr(self.width, rows),
                codec.text_chunk(header_rows, self.width, number, self.page_rows),
                codec.chunk(b"IDAT", codec.ZLIB_HEADER + codec.deflate_band(header)),
                bands,
                codec.terminator(adler),
                codec.IEND_CHUNK,
            ]
        )

    def _publish(self, target: Path, blob: bytes, replace_ok: bool) -> bool:
        """Write ``blob`` to a temporary name, then link it as ``target``; False if it existed."""
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.new")
        try:
            with open(tmp, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, target)
                made = True
            except FileExistsError:
                if not replace_ok:
                    raise CorruptFileError(
                        f"{target} appeared while this process held the network's lock",
                        hint="another program writes this network; stop it",
                    ) from None
                made = False
            # The new name must reach the disk too, or a crash loses what it holds.
            fsync_folder(target.parent)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot create {target}: {exc.strerror}",
                hint="check the folder exists, is writable and has free space",
            ) from None
        finally:
            with contextlib.suppress(OSError):  # cleaning up must not hide what went wrong
                tmp.unlink(missing_ok=True)
        return made

    def create(self) -> None:
        """Write an empty network atomically (header band only); no-op if one appeared."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInputError(f"cannot create folder {self.path.parent}: {exc}") from None
        header = self._header(0, 1)
        rows = len(header) // (self.width // 8 + 1)
        self._publish(self.path, self._page_bytes(0, header, b"", rows, zlib.adler32(header)), True)

    def _encode(self, band: Band, pos: int, adler: int) -> tuple[bytes, Parsed, int]:
        """A record's two IDAT chunks written at ``pos`` after rows with checksum ``adler``.

        Returns the chunks, the record as a reader will parse it, and the checksum after it.
        """
        row_bytes = self.width // 8
        fields = {**band.fields, "rows": band.text_rows, "adler": adler}
        data_raw, data_rows = codec.pack_bytes(codec.encode_payload(fields, band.vector), row_bytes)
        data_chunk = codec.chunk(b"IDAT", codec.deflate_band(data_raw))
        text_chunk = codec.chunk(b"IDAT", codec.deflate_band(band.text))
        entry = Entry(pos, pos + len(data_chunk), data_rows, band.text_rows, adler)
        after = zlib.adler32(band.text, zlib.adler32(data_raw, adler))
        return data_chunk + text_chunk, Parsed(fields, band.vector, entry), after

    def _largest(self) -> int:
        """Rows a record may take: a fresh page's height less its header band (and some slack)."""
        if self._room is None:
            header = self._header(99_999, 10**12)
            self._room = self.page_rows - len(header) // (self.width // 8 + 1) - LINE_HEIGHT
        return self._room

    def append(self, page: Page, bands: list[Band]) -> list[tuple[Page, list[Parsed]]]:
        """Commit ``bands`` after ``page`` (the last page), starting new pages as needed.

        Returns each page touched, in order, with the records it took; the last is the
        new last page, the ones before it are closed. A batch that spans pages commits
        page by page (a crash keeps what was committed). Nothing is written if any
        record is too tall for a page.
        """
        row_bytes = self.width // 8
        for band in bands:
            size = len(codec.encode_payload({**band.fields, "rows": 0, "adler": 0}, band.vector))
            if -(-(size + 24) // row_bytes) + band.text_rows > self._largest():
                raise InvalidInputError(
                    f"a record of {size} bytes is too large for a page of {self.page_rows} rows",
                    hint="store a shorter answer",
                )
        out: list[tuple[Page, list[Parsed]]] = []
        todo = list(bands)
        while True:
            pos, rows, adler = page.end, page.height, page.adler
            chunks: list[bytes] = []
            placed: list[Parsed] = []
            while todo:
                blob, parsed, after = self._encode(todo[0], pos, adler)
                need = parsed.entry.data_rows + parsed.entry.text_rows
                if rows + need > page.page_rows and (placed or page.count):
                    break  # the next page takes it (an empty page takes any record)
                todo.pop(0)
                chunks.append(blob)
                placed.append(parsed)
                pos, rows, adler = pos + len(blob), rows + need, after
            if placed:
                self._commit(page, b"".join(chunks), rows, adler)
                page.count += len(placed)
                page.last = placed[-1].entry
            out.append((page, placed))
            if not todo:
                return out
            page = self._new_page(page.number + 1, page.first_id + page.count)

    def _new_page(self, number: int, first_id: int) -> Page:
        """Start page ``number`` (header band only) and return it; nothing is committed yet."""
        header = self._header(number, first_id)
        rows = len(header) // (self.width // 8 + 1)
        blob = self._page_bytes(number, header, b"", rows, zlib.adler32(header))
        target = self.page_path(number)
        self._publish(target, blob, False)
        st = target.stat()
        return Page(
            number=number,
            path=target,
            version=codec.FORMAT_VERSION,
            width=self.width,
            header_rows=rows,
            page_rows=self.page_rows,
            height=rows,
            declared=rows,
            end=len(blob) - codec.TAIL_SIZE,
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            adler=zlib.adler32(header),
            dirty=None,
            first_id=first_id,
        )

    def _commit(self, page: Page, bands: bytes, rows: int, adler: int) -> None:
        """Write bands + a fresh tail at the end of the committed data, then the new height."""
        tail = codec.terminator(adler) + codec.IEND_CHUNK
        try:
            fd = os.open(page.path, os.O_RDWR)
        except OSError as exc:
            raise InvalidInputError(f"cannot write {page.path}: {exc.strerror}") from None
        try:
            os.pwrite(fd, bands + tail, page.end)
            end = page.end + len(bands)
            size = end + len(tail)
            if os.fstat(fd).st_size > size:
                os.ftruncate(fd, size)
            os.fsync(fd)
            # The commit point: until the height covers the new rows, readers ignore them.
            os.pwrite(fd, codec.ihdr(page.width, rows), codec.IHDR_OFFSET)
            os.fsync(fd)
            st = os.fstat(fd)
        except OSError as exc:
            # Nothing committed: the height still covers only the old records.
            page.dirty = "a write failed"
            raise InvalidInputError(
                f"cannot write {page.path}: {exc.strerror}", hint="check free disk space"
            ) from None
        finally:
            os.close(fd)
        page.height = page.declared = rows
        page.end, page.size, page.mtime_ns = end, size, st.st_mtime_ns
        page.adler, page.dirty = adler, None

    def repair(self, page: Page) -> bool:
        """Cut an unfinished append's leftovers off the last page; True if there were any."""
        if page.dirty is None:
            return False
        adler = page.adler
        if page.last is None:
            adler = zlib.adler32(self.header_band(page))
        else:
            adler = page.last.adler_before
            for data, rows in self.band_data(page, page.last):
                raw = codec.inflate_band(data, rows * (page.width // 8 + 1), "repair")
                adler = zlib.adler32(raw, adler)
        self._commit(page, b"", page.height, adler)
        return True
