"""The pixel-network file format, version 2: PNG chunks, row packing, record payloads.

See docs/pixel-format.md for the full specification. In short: each page of a
network is a 1-bit grayscale PNG whose zlib stream is cut into one IDAT per band.
Each record is two bands, each compressed on its own (a deflate full flush), so a
record can be decoded, and appended, without touching any other record:

    signature, IHDR, tEXt "holomind-pixel", IDAT(header band),
    IDAT(record 1 data band), IDAT(record 1 text band), ...,
    IDAT(terminator: empty final deflate block + Adler-32), IEND
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from holomind.errors import CorruptFileError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
FORMAT_NAME = "holomind-pixel"
FORMAT_VERSION = 2  # 2: pages (tEXt names the page and the page height); 1: one file
READABLE_VERSIONS = (1, 2)
TEXT_KEY = b"holomind-pixel"
PAYLOAD_MAGIC = b"HMR1"
ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, no preset dictionary, fastest
FINAL_BLOCK = b"\x03\x00"  # an empty fixed-Huffman block with BFINAL set
IEND_CHUNK = b"\x00\x00\x00\x00IEND\xae\x42\x60\x82"
TERMINATOR_SIZE = 12 + 6  # IDAT holding FINAL_BLOCK + Adler-32
TAIL_SIZE = TERMINATOR_SIZE + len(IEND_CHUNK)
IHDR_OFFSET = 8
MAX_CHUNK = 64 * 1024 * 1024  # no honest band is near this; bigger means hostile
MAX_PAYLOAD = 16 * 1024 * 1024
MAX_HEIGHT = 2**31 - 1


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type+data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def ihdr(width: int, height: int) -> bytes:
    """The IHDR chunk of a 1-bit grayscale, non-interlaced image."""
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))


def text_chunk(header_rows: int, width: int, page: int, page_rows: int) -> bytes:
    """The tEXt chunk naming the format, its version, the page and the header band's height."""
    info = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "header_rows": header_rows,
        "width": width,
        "page": page,
        "page_rows": page_rows,
    }
    return chunk(b"tEXt", TEXT_KEY + b"\x00" + json.dumps(info, sort_keys=True).encode("latin-1"))


def terminator(adler: int) -> bytes:
    """The last IDAT: closes the deflate stream and carries the zlib Adler-32 of all rows."""
    return chunk(b"IDAT", FINAL_BLOCK + struct.pack(">I", adler & 0xFFFFFFFF))


def pack_ink(ink: np.ndarray) -> bytes:
    """Scanlines (filter byte 0 + packed bits) for a bool ink array; ink is black (bit 0)."""
    rows = np.packbits(~ink, axis=1)
    lines = np.zeros((rows.shape[0], rows.shape[1] + 1), dtype=np.uint8)
    lines[:, 1:] = rows
    return lines.tobytes()


def pack_bytes(payload: bytes, row_bytes: int) -> tuple[bytes, int]:
    """Scanlines that carry ``payload`` verbatim (zero-padded); returns (raw, rows)."""
    rows = -(-len(payload) // row_bytes)
    body = np.zeros(rows * row_bytes, dtype=np.uint8)
    body[: len(payload)] = np.frombuffer(payload, dtype=np.uint8)
    grid = np.zeros((rows, row_bytes + 1), dtype=np.uint8)
    grid[:, 1:] = body.reshape(rows, row_bytes)
    return grid.tobytes(), rows


def deflate_band(raw: bytes, level: int = 6) -> bytes:
    """Compress one band as self-contained, byte-aligned, non-final deflate blocks."""
    comp = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    return comp.compress(raw) + comp.flush(zlib.Z_FULL_FLUSH)


def inflate_band(data: bytes, expected: int, what: str) -> bytes:
    """Decompress one band, refusing to produce more than ``expected`` bytes."""
    dec = zlib.decompressobj(-15)
    try:
        out = dec.decompress(data, expected + 1)
    except zlib.error as exc:
        raise CorruptFileError(f"{what}: compressed data is damaged ({exc})") from None
    if len(out) != expected or dec.unconsumed_tail:
        raise CorruptFileError(
            f"{what}: holds {'more' if len(out) > expected else 'less'} image data than it declares"
        )
    return out


def unpack_rows(raw: bytes, row_bytes: int, what: str) -> bytes:
    """The bytes of scanlines with their filter bytes removed (all must be filter 0)."""
    stride = row_bytes + 1
    if raw[::stride].count(0) != len(raw) // stride:
        raise CorruptFileError(f"{what}: uses a PNG filter this format never writes")
    return b"".join(raw[i + 1 : i + stride] for i in range(0, len(raw), stride))


@dataclass(frozen=True)
class Payload:
    """A record's exact data as stored in its data band."""

    fields: dict  # JSON object: id, question, answer, created, hash, model, meta, rows, adler, ...
    vector: bytes  # float16 embedding, little-endian; empty when none was made


def encode_payload(fields: dict, vector: bytes) -> bytes:
    """Magic, lengths, UTF-8 JSON, vector bytes, then a CRC-32 of all of it."""
    body = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = PAYLOAD_MAGIC + struct.pack(">II", len(body), len(vector))
    blob = head + body + vector
    return blob + struct.pack(">I", zlib.crc32(blob))


def payload_rows(header: bytes, row_bytes: int, what: str) -> int:
    """From the first row of a data band: how many rows the payload spans."""
    if len(header) < 12 or header[:4] != PAYLOAD_MAGIC:
        raise CorruptFileError(f"{what}: not a record (bad magic)")
    json_len, vec_len = struct.unpack(">II", header[4:12])
    total = 12 + json_len + vec_len + 4
    if total > MAX_PAYLOAD:
        raise CorruptFileError(f"{what}: declares a {total}-byte record, more than any allowed")
    return -(-total // row_bytes)


def decode_payload(data: bytes, what: str) -> Payload:
    """Parse and check a payload made by `encode_payload` (trailing padding allowed)."""
    if len(data) < 16 or data[:4] != PAYLOAD_MAGIC:
        raise CorruptFileError(f"{what}: not a record (bad magic)")
    json_len, vec_len = struct.unpack(">II", data[4:12])
    end = 12 + json_len + vec_len
    if end + 4 > len(data):
        raise CorruptFileError(f"{what}: record is cut short")
    (crc,) = struct.unpack(">I", data[end : end + 4])
    if zlib.crc32(data[:end]) != crc:
        raise CorruptFileError(f"{what}: record checksum does not match its contents")
    try:
        fields = json.loads(data[12 : 12 + json_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptFileError(f"{what}: record data is not valid JSON ({exc})") from None
    if not isinstance(fields, dict):
        raise CorruptFileError(f"{what}: record data is not a JSON object")
    return Payload(fields, bytes(data[12 + json_len : end]))
