"""The cartridge views' API on a real server: the registry (`/cartridges`) and one cartridge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.server.conftest import TINY_TRAINING, Server


@pytest.fixture(scope="module")
def server(start_server, corpus: Path) -> Server:
    return start_server()


def test_no_library_yet(server: Server) -> None:
    assert server.client.get("/cartridges").json() == {
        "library": str(server.home / "cartridge_library"),
        "exists": False,
        "domains": [],
        "cartridges": [],
        "live": None,
    }
    assert server.client.get("/api/cartridges/0").status_code == 404


def test_the_registry_lists_every_cartridge_with_strength_and_lineage(server: Server) -> None:
    body = {"data": "corpus", "stem_steps": 20, "steps": 40, "log_every": 10, **TINY_TRAINING}
    job = server.client.post("/api/training/start", json=body).json()
    server.wait_state(job["id"], "done")
    library = server.home / "cartridge_library"
    data = server.client.get("/cartridges").json()
    registry = json.loads((library / "registry.json").read_text())
    assert data["exists"] is True and data["stem_hash"] == registry["stem_hash"]
    assert [d["name"] for d in data["domains"]] == ["licences", "pydoc", "python"]
    carts = data["cartridges"]
    assert [c["id"] for c in carts] == [0, 1, 2]
    for cart in carts:
        meta = json.loads((library / cart["path"] / "meta.json").read_text())
        assert cart["name"] == meta["name"] and cart["steps"] == meta["steps"]
        assert cart["lineage"] == meta["lineage"] and cart["parent"] == meta["parent"]
        assert cart["size_bytes"] == (library / cart["path"] / "weights.safetensors").stat().st_size
        assert 0.5 <= cart["strength"] <= 2.0
    assert server.client.get("/api/cartridges/2").json() == carts[2]
    assert server.client.get("/api/cartridges/3").status_code == 404


def test_a_damaged_library_is_a_clear_error(server: Server) -> None:
    registry = server.home / "cartridge_library" / "registry.json"
    registry.write_text("{not json")
    refused = server.client.get("/cartridges")
    assert refused.status_code == 400
    assert refused.json()["error"].startswith(f"{registry} is not a cartridge registry")
