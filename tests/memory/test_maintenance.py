"""Verify, import and export: every byte checked, and imports that agree under concurrency."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zlib
from pathlib import Path

from holomind.memory import PixelNetwork

# Opens the target and the source, waits for the start signal, then imports.
IMPORTER = """
import sys, time
from pathlib import Path
from holomind.memory import PixelNetwork
target = PixelNetwork(sys.argv[1], embedder="none")
source = PixelNetwork(sys.argv[2], embedder="none")
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
print(len(target.import_from(source)), flush=True)
"""


def test_two_processes_importing_at_once_add_each_record_once(tmp_path: Path) -> None:
    source = PixelNetwork(tmp_path / "source.png", embedder="none", page_height=2000)
    source.append_many([(f"fact {i}?", f"answer {i}") for i in range(150)])
    fix = source.supersede(7, "a corrected answer")  # must point at #7's copy in the target
    for round_ in range(3):
        target = PixelNetwork(tmp_path / f"target{round_}.png", embedder="none")
        target.append("fact 3?", "answer 3")  # one of them is there already
        go = tmp_path / f"go{round_}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", IMPORTER, str(target.path), str(source.path), str(go)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        time.sleep(1.5)  # both have opened the networks and are waiting
        go.touch()
        added = [int(p.communicate(timeout=120)[0]) for p in procs]
        assert [p.returncode for p in procs] == [0, 0]
        assert sorted(added) == [0, 150]  # one imported everything new, the other nothing
        records = PixelNetwork(target.path, embedder="none").records()
        assert len(records) == 151  # 1 + 151 offered - 1 already there
        assert len({r.hash for r in records}) == 151
        copy_of_7 = next(r for r in records if r.hash == source.get(7).hash)
        corrected = next(r for r in records if r.hash == fix.hash)
        assert corrected.supersedes == copy_of_7.id
        assert copy_of_7.superseded_by == corrected.id


def test_import_points_a_correction_at_the_copy_already_here(tmp_path: Path) -> None:
    a = PixelNetwork(tmp_path / "a.png", embedder="none")
    old = a.append("capital of France?", "Lyon")
    b = PixelNetwork(tmp_path / "b.png", embedder="none")
    b.append("unrelated", "first")
    b.import_from(a.path)  # b has Lyon as #2
    a.supersede(old.id, "Paris")
    [fixed] = b.import_from(a.path)
    assert (fixed.answer, fixed.supersedes) == ("Paris", 2)
    assert b.get(2).superseded_by == fixed.id
    # The same through a JSONL export, which keeps ids and supersedes.
    a.export(tmp_path / "a.jsonl")
    c = PixelNetwork(tmp_path / "c.png", embedder="none")
    c.append("unrelated", "first")
    c.import_from(tmp_path / "a.jsonl")
    assert [(r.answer, r.supersedes, r.superseded_by) for r in c.records()] == [
        ("first", None, None),
        ("Lyon", None, 3),
        ("Paris", 2, None),
    ]


def test_verify_reads_every_page_and_names_the_damage(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none", page_height=400)
    net.append_many([(f"q{i}", "answer " * 20) for i in range(12)])
    report = net.verify()
    assert (report.ok, report.records, report.pages) == (True, 12, len(net.pages()))
    # Damage the last text band of page 2 behind a valid CRC: opening never inflates it.
    page = net.pages()[1]
    data = bytearray(page.read_bytes())
    starts, pos = [], 8
    while pos < len(data):
        starts.append(pos)
        pos += 12 + int.from_bytes(data[pos : pos + 4], "big")
    text = starts[-3]  # then the terminator and IEND
    length = int.from_bytes(data[text : text + 4], "big")
    data[text + 8 + length // 2] ^= 0x10
    crc = zlib.crc32(data[text + 4 : text + 8 + length])
    data[text + 8 + length : text + 12 + length] = crc.to_bytes(4, "big")
    page.write_bytes(bytes(data))
    assert len(PixelNetwork(net.path, embedder="none")) == 12
    report = net.verify()
    assert not report.ok and report.records == 12
    assert any("record #" in p or "Adler-32" in p for p in report.problems), report.problems


def test_export_to_jsonl_and_png_across_pages(tmp_path: Path, pngcheck) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none", page_height=400)
    net.append_many([(f"q{i}", "answer " * 20) for i in range(12)])
    assert net.export(tmp_path / "all.jsonl") == 12
    rows = [json.loads(x) for x in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == list(range(1, 13))
    assert net.export(tmp_path / "odd.png", filter=lambda r: r.id % 2 == 1) == 6
    odd = PixelNetwork(tmp_path / "odd.png", embedder="none")
    assert [r.question for r in odd.records()] == [f"q{i}" for i in range(0, 12, 2)]
    assert odd.get(2).meta["origin"] == {"network": "n.png", "id": 3}
    pngcheck(tmp_path / "odd.png")
