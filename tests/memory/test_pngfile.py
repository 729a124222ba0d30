"""Pages: a network of any size stays a set of PNGs every viewer opens, read as one network.

``tests/data/pixel_v1.png`` is a format-1 network (one file, no pages) written by
HoloMind itself at commit 2c0bb75 (MIT, this project): three records, one of which
supersedes another.
"""

from __future__ import annotations

import os
import shutil
import struct
import threading
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image

from holomind.errors import CorruptFileError, InvalidInputError
from holomind.memory import PixelNetwork, codec

V1 = Path(__file__).parent.parent / "data" / "pixel_v1.png"


def open_strictly(path: Path) -> Image.Image:
    """Open and decode a PNG with Pillow's default limits, any bomb warning an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(path)
        image.load()
    return image


def test_5000_records_make_pages_that_every_viewer_opens(tmp_path: Path, pngcheck) -> None:
    net = PixelNetwork(tmp_path / "big.png", embedder="none")
    pairs = [(f"Question {i}: what about item {i}?", f"Answer {i}, " + "detail " * 25) for i in
             range(5000)]  # fmt: skip
    for start in range(0, 5000, 1000):
        net.append_many(pairs[start : start + 1000])
    pages = net.pages()
    assert len(pages) > 10
    assert [p.name for p in pages[:3]] == ["big.png", "big.0001.png", "big.0002.png"]
    assert sorted(p.name for p in tmp_path.glob("big*.png")) == sorted(p.name for p in pages)
    height = 0
    for page in pages:
        image = open_strictly(page)  # Pillow's default pixel limit, no bomb warning
        assert image.size[0] == 1024 and image.size[1] <= 16384
        height += image.size[1]
        pngcheck(page)
    again = PixelNetwork(net.path, embedder="none")
    assert len(again) == 5000 and again.stats()["height"] == height
    assert again.records(after=4998) == net.records(after=4998)
    assert [(r.id, r.question) for r in again.records(after=2499, limit=2)] == [
        (2500, "Question 2499: what about item 2499?"),
        (2501, "Question 2500: what about item 2500?"),
    ]
    assert [h.record.id for h in again.search("item 4321", k=1)] == [4322]
    report = again.verify()
    assert (report.ok, report.records, report.pages) == (True, 5000, len(pages))


def test_a_batch_spanning_pages_commits_on_each_and_reads_back(tmp_path: Path, pngcheck) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none", page_height=400)
    first = net.append("first", "alone")
    batch = net.append_many([(f"q{i} Grüße", "answer " * 20) for i in range(9)])
    assert [r.id for r in batch] == list(range(2, 11))
    assert len(net.pages()) >= 3
    reread = PixelNetwork(net.path, embedder="none")
    assert reread.records() == [first, *batch]
    assert reread.stats()["page_height"] == 400  # the network keeps its page height
    for page in net.pages():
        assert open_strictly(page).size[1] <= 400
        pngcheck(page)
    # A later writer that asks for another height still writes the network's own.
    later = PixelNetwork(net.path, embedder="none", page_height=2000)
    later.append_many([(f"more {i}", "answer " * 20) for i in range(4)])
    assert all(open_strictly(p).size[1] <= 400 for p in later.pages())
    assert later.verify().ok


def test_a_batch_that_fails_to_start_a_page_keeps_what_it_committed(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none", page_height=400)
    net.append("first", "alone")
    # A folder where the new page's temporary file must go: creating that page fails.
    blocker = tmp_path / f".n.0001.png.{os.getpid()}.{threading.get_ident()}.new"
    blocker.mkdir()
    with pytest.raises(InvalidInputError, match=r"cannot create .*n\.0001\.png"):
        net.append_many([(f"q{i}", "answer " * 20) for i in range(9)])
    kept = net.records()
    assert 1 < len(kept) < 10  # the records that fitted on the first page were committed
    assert [r.question for r in kept] == ["first"] + [f"q{i}" for i in range(len(kept) - 1)]
    assert PixelNetwork(net.path, embedder="none").records() == kept
    blocker.rmdir()
    assert net.append("after", "the failure").id == len(kept) + 1
    assert net.verify().ok


def test_a_record_too_tall_for_a_page_is_refused_before_anything_is_written(tmp_path: Path):
    net = PixelNetwork(tmp_path / "n.png", embedder="none", page_height=256)
    net.append("small", "fits")
    before = net.path.read_bytes()
    with pytest.raises(InvalidInputError, match="too large for a page"):
        net.append_many([("ok", "fits"), ("huge", "x" * 40_000)])
    assert net.path.read_bytes() == before and net.pages() == [net.path]
    with pytest.raises(InvalidInputError, match="page height"):
        PixelNetwork(tmp_path / "m.png", page_height=10)


def test_a_missing_page_and_a_page_opened_alone_get_clear_errors(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none", page_height=300)
    net.append_many([(f"q{i}", "answer " * 20) for i in range(10)])
    pages = net.pages()
    assert len(pages) >= 4
    with pytest.raises(InvalidInputError, match=r"is page 2 of the network n\.png"):
        PixelNetwork(pages[1], embedder="none")
    shutil.move(pages[1], tmp_path / "elsewhere.png")
    with pytest.raises(CorruptFileError, match=r"n\.0001\.png of .* is missing"):
        PixelNetwork(net.path, embedder="none")
    assert not net.verify().ok


def test_a_cut_closed_page_is_damage_not_a_torn_append(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none", page_height=300)
    net.append_many([(f"q{i}", "answer " * 20) for i in range(10)])
    page = net.pages()[1]
    page.write_bytes(page.read_bytes()[:-100])
    (tmp_path / ".n.png.index").unlink()  # or the cached page would be used without reading
    with pytest.raises(CorruptFileError, match=r"n\.0001\.png is (truncated|cut)"):
        PixelNetwork(net.path, embedder="none")


def test_format_1_files_are_read_and_appended_to(tmp_path: Path, pngcheck) -> None:
    path = tmp_path / "old.png"
    shutil.copy(V1, path)
    net = PixelNetwork(path, embedder="none")
    assert [(r.id, r.question, r.superseded_by) for r in net.records()] == [
        (1, "What is pxOS?", 3),
        (2, "Wie heißt die Hauptstadt? 日本", None),
        (3, "What is pxOS?", None),
    ]
    assert net.stats()["format_version"] == 1
    new = net.append("And now?", "Written by format 2 code.")
    assert new.id == 4 and net.pages() == [path]  # it had room: still one file
    assert [r.id for r in PixelNetwork(path, embedder="none").records()] == [1, 2, 3, 4]
    assert net.verify().ok
    pngcheck(path)


def as_format_1(path: Path) -> None:
    """Rewrite page 0's description as format 1 wrote it (no page, no page height)."""
    data = path.read_bytes()
    pos = 8
    while True:
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"tEXt":
            break
        pos += 12 + length
    body = data[pos + 8 : pos + 8 + length]
    info = codec.json.loads(body[len(codec.TEXT_KEY) + 1 :])
    info = {k: v for k, v in info.items() if k not in ("page", "page_rows")} | {"version": 1}
    text = codec.TEXT_KEY + b"\x00" + codec.json.dumps(info, sort_keys=True).encode()
    chunk = (
        struct.pack(">I", len(text))
        + b"tEXt"
        + text
        + struct.pack(">I", zlib.crc32(b"tEXt" + text))
    )
    path.write_bytes(data[:pos] + chunk + data[pos + 12 + length :])


def test_a_format_1_file_taller_than_a_page_continues_on_a_new_page(tmp_path: Path, pngcheck):
    path = tmp_path / "tall.png"
    net = PixelNetwork(path, embedder="none", page_height=2**20)
    net.append_many([(f"q{i}", "answer " * 20) for i in range(260)])
    as_format_1(path)
    old = PixelNetwork(path, embedder="none")
    assert old.stats()["height"] > 16384 and old.stats()["format_version"] == 1
    before = path.read_bytes()
    rec = old.append("after the upgrade", "goes to page 2")
    assert rec.id == 261 and [p.name for p in old.pages()] == ["tall.png", "tall.0001.png"]
    assert path.read_bytes() == before  # the old file is never rewritten
    assert PixelNetwork(path, embedder="none").get(261) == rec
    assert open_strictly(old.pages()[1]).size[1] <= 16384
    pngcheck(old.pages()[1])
    assert old.verify().ok
