"""Routing across networks, sharing, and publishing to the global workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from holomind.errors import InvalidInputError
from holomind.memory import NetworkOrchestrator, PixelNetwork
from holomind.workspace import GlobalWorkspace


@pytest.fixture
def experts(tmp_path: Path) -> tuple[Path, Path]:
    cooking = PixelNetwork(tmp_path / "cooking.png", embedder="none")
    cooking.append("How long to boil an egg?", "Boil the egg for seven minutes.")
    cooking.append("How to cook rice?", "Simmer rice with twice its volume of water.")
    code = PixelNetwork(tmp_path / "python.png", embedder="none")
    code.append("How to reverse a list in Python?", "Use list.reverse() or slicing [::-1].")
    code.append("What is a Python generator?", "A function that yields values lazily.")
    return cooking.path, code.path


def test_routes_to_the_network_that_knows(experts: tuple[Path, Path]) -> None:
    orch = NetworkOrchestrator(list(experts), embedder="none")
    assert [r.network.path.name for r in orch.route("python generator", top=2)] == ["python.png"]
    assert [r.network.path.name for r in orch.route("boil egg rice", top=1)] == ["cooking.png"]
    found = orch.search("how to cook python rice", k=3)
    assert {net.path.name for net, _ in found} == {"cooking.png", "python.png"}
    with pytest.raises(InvalidInputError):
        NetworkOrchestrator([])


def test_search_shows_a_shared_record_once(experts: tuple[Path, Path], tmp_path: Path) -> None:
    copy = PixelNetwork(tmp_path / "copy.png", embedder="none")
    copy.import_from(experts[0])
    orch = NetworkOrchestrator([experts[0], copy.path], embedder="none")
    found = orch.search("boil an egg", k=2, top=2)
    assert [(net.path.name, hit.record.question) for net, hit in found] == [
        ("cooking.png", "How long to boil an egg?")
    ]


def test_export_filter_and_import_dedup_keep_provenance(experts, tmp_path: Path, pngcheck):
    cooking = PixelNetwork(experts[0], embedder="none")
    assert cooking.export(tmp_path / "eggs.png", filter=lambda r: "egg" in r.question) == 1
    assert cooking.export(tmp_path / "all.jsonl") == 2
    rows = [json.loads(x) for x in (tmp_path / "all.jsonl").read_text().splitlines()]
    assert [r["question"] for r in rows] == ["How long to boil an egg?", "How to cook rice?"]
    with pytest.raises(InvalidInputError, match="already exists"):
        cooking.export(tmp_path / "all.jsonl")

    merged = PixelNetwork(tmp_path / "merged.png", embedder="none")
    assert len(merged.import_from(tmp_path / "eggs.png")) == 1
    added = merged.import_from(experts[0])
    assert [r.question for r in added] == ["How to cook rice?"]
    assert merged.import_from(tmp_path / "all.jsonl") == []
    egg = merged.get(1)
    assert egg.meta["origin"] == {"network": "cooking.png", "id": 1}
    assert egg.created == cooking.get(1).created
    assert merged.verify().ok
    for name in ("eggs.png", "merged.png", "cooking.png", "python.png"):
        pngcheck(tmp_path / name)


def test_append_publishes_memory_appended(tmp_path: Path) -> None:
    ws = GlobalWorkspace()
    try:
        net = PixelNetwork(tmp_path / "n.png", embedder="none", workspace=ws)
        rec = net.append("q?", "a!")
        assert ws.read("memory/appended") == {
            "path": str(tmp_path / "n.png"),
            "id": rec.id,
            "hash": rec.hash,
            "question": "q?",
            "records": 1,
        }
    finally:
        ws.close()
