"""Hostile and damaged files: truncation, flipped bytes, bombs, random bytes."""

from __future__ import annotations

import struct
import tracemalloc
import warnings
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from holomind.errors import CorruptFileError, HoloMindError
from holomind.memory import PixelNetwork, TailWarning, codec


def make_network(path: Path) -> list:
    net = PixelNetwork(path, embedder="none")
    net.append("What is pxOS?", "A GPU-native OS.", model="m1")
    net.append("Zweite Frage? ✓", "Antwort " * 50, tag=[1, 2])
    net.append("third", "last one")
    return net.records()


def chunk_offsets(data: bytes) -> list[int]:
    """Start offset of every chunk, plus the end of the file."""
    pos, out = 8, []
    while pos < len(data):
        out.append(pos)
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        pos += 12 + length
    return [*out, pos]


def open_net(path: Path) -> tuple[list, bool]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        records = PixelNetwork(path, embedder="none").records()
    return records, any(issubclass(w.category, TailWarning) for w in caught)


def test_truncation_at_every_chunk_boundary_keeps_the_committed_prefix(
    tmp_path: Path, pngcheck
) -> None:
    good = tmp_path / "good.png"
    originals = make_network(good)
    data = good.read_bytes()
    offsets = chunk_offsets(data)
    # chunks: IHDR, tEXt, header IDAT, then two IDATs per record, terminator, IEND
    first_record = offsets[3]
    for cut in sorted({*offsets[:-1], *(o + 5 for o in offsets[:-1])}):
        cut_path = tmp_path / f"cut{cut}.png"
        cut_path.write_bytes(data[:cut])
        if cut < first_record:
            with pytest.raises(CorruptFileError):
                PixelNetwork(cut_path, embedder="none")
            continue
        records, warned = open_net(cut_path)
        complete = sum(1 for i in range(3) if offsets[3 + 2 * i + 2] <= cut)
        assert warned
        assert records == originals[:complete]
        # Writing again tidies the file and keeps the prefix.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TailWarning)
            PixelNetwork(cut_path, embedder="none").append("after", "the cut")
        assert [r.question for r in PixelNetwork(cut_path, embedder="none").records()] == [
            *(r.question for r in originals[:complete]),
            "after",
        ]
        pngcheck(cut_path)


def test_every_flipped_byte_is_caught_or_harmless(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    originals = make_network(good)
    data = good.read_bytes()
    bad = tmp_path / "bad.png"
    caught = harmless = 0
    for i in range(0, len(data), 3):
        flipped = bytearray(data)
        flipped[i] ^= 0x41
        bad.write_bytes(bytes(flipped))
        try:
            records, warned = open_net(bad)
        except CorruptFileError:
            caught += 1
            continue
        if i >= len(data) - codec.TAIL_SIZE:
            # The tail after the committed data: nothing committed is affected.
            assert records == originals
            harmless += 1
        else:
            # A chunk length now points past the end: indistinguishable from a cut
            # file, so it is reported as one and only whole records are returned.
            assert warned and records == originals[: len(records)]
    assert caught > 0 and harmless > 0


def png(width: int, height: int, color: int, depth: int, idat: bytes, extra: bytes = b"") -> bytes:
    head = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return b"".join(
        [
            codec.SIGNATURE,
            codec.chunk(b"IHDR", head),
            extra,
            codec.chunk(b"IDAT", idat),
            codec.chunk(b"IEND", b""),
        ]
    )


def zeros_bomb(megabytes: int) -> bytes:
    comp = zlib.compressobj(9)
    block = bytes(1 << 20)
    return b"".join(comp.compress(block) for _ in range(megabytes)) + comp.flush()


def test_decompression_bombs_are_refused_in_bounded_memory(tmp_path: Path) -> None:
    bomb = zeros_bomb(256)  # 256 MiB of zeros in ~250 KB
    cases = {
        # An ordinary RGBA PNG claiming 100k x 100k pixels.
        "rgba": png(100_000, 100_000, 6, 8, bomb),
        # Our own layout, claiming the tallest possible image and a huge header band.
        "ours": png(
            1024,
            codec.MAX_HEIGHT,
            0,
            1,
            bomb,
            codec.text_chunk(4096, 1024, 0, 16384),
        ),
    }
    for name, blob in cases.items():
        path = tmp_path / f"{name}.png"
        path.write_bytes(blob)
        tracemalloc.start()
        with pytest.raises(CorruptFileError):
            PixelNetwork(path, embedder="none")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 32 * 1024 * 1024, f"{name}: peak {peak} bytes"


def test_a_record_that_claims_a_huge_payload_is_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    make_network(good)
    data = good.read_bytes()
    offsets = chunk_offsets(data)
    row = codec.PAYLOAD_MAGIC + struct.pack(">II", 1 << 30, 0)
    raw = b"\x00" + row + bytes(1024 // 8 - len(row))
    forged = codec.chunk(b"IDAT", codec.deflate_band(raw))
    (tmp_path / "forged.png").write_bytes(data[: offsets[3]] + forged + data[offsets[4] :])
    with pytest.raises(CorruptFileError, match="declares"):
        PixelNetwork(tmp_path / "forged.png", embedder="none")


def test_other_pngs_and_non_pngs_get_clear_errors(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (32, 32), "red").save(photo)
    with pytest.raises(CorruptFileError, match="not a HoloMind pixel network"):
        PixelNetwork(photo)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty"):
        PixelNetwork(empty)
    text = tmp_path / "notes.png"
    text.write_text("hello")
    with pytest.raises(CorruptFileError, match="not a PNG"):
        PixelNetwork(text)


@settings(max_examples=200, deadline=None)
@given(blob=st.binary(max_size=4096), keep_signature=st.booleans())
def test_random_bytes_raise_a_holomind_error(tmp_path_factory, blob: bytes, keep_signature: bool):
    path = tmp_path_factory.mktemp("rand") / "x.png"
    path.write_bytes((codec.SIGNATURE if keep_signature else b"") + blob)
    with pytest.raises(HoloMindError):
        PixelNetwork(path, embedder="none")


@pytest.fixture(scope="module")
def network_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("base") / "good.png"
    make_network(path)
    return path.read_bytes()


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_damage_to_a_real_network(tmp_path_factory, network_bytes: bytes, data) -> None:
    base = tmp_path_factory.mktemp("dmg")
    blob = bytearray(network_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    path = base / "damaged.png"
    path.write_bytes(bytes(blob))
    try:
        records, warned = open_net(path)
    except HoloMindError:
        return
    expected = ["What is pxOS?", "Zweite Frage? ✓", "third"]
    assert [r.question for r in records] == expected[: len(records)]
    assert warned or len(records) == len(expected)
