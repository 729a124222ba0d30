"""`holomind cartridges list|show|generate` on a real library, via the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from holomind.cartridges import CartridgeModel, Library, RouterConfig
from tests.cartridges.test_model import make_library


@pytest.fixture
def library(tmp_path: Path) -> Path:
    model = make_library(tmp_path / "lib")
    model.library.close()
    return tmp_path / "lib"


def test_list_json_has_one_object_per_cartridge(holomind, library: Path) -> None:
    done = holomind("cartridges", "list", "--library", str(library), "--json")
    assert done.returncode == 0, done.stderr
    carts = json.loads(done.stdout)
    assert [(c["id"], c["path"], c["name"]) for c in carts] == [
        (0, "domain_000/cart_0000", "a"),
        (1, "domain_001/cart_0000", "b"),
    ]
    assert all(c["size_bytes"] > 0 and c["frozen"] is False for c in carts)
    table = holomind("cartridges", "list", "--library", str(library))
    assert table.returncode == 0 and "domain_001/cart_0000" in table.stdout


def test_show_by_id_and_by_folder(holomind, library: Path) -> None:
    by_id = json.loads(
        holomind("cartridges", "show", "1", "--library", str(library), "--json").stdout
    )
    by_path = json.loads(
        holomind(
            "cartridges", "show", "domain_001/cart_0000", "--library", str(library), "--json"
        ).stdout
    )
    assert by_id == by_path
    assert by_id["name"] == "b" and by_id["strength"] == 1.0 and by_id["rank"] == 4
    nope = holomind("cartridges", "show", "9", "--library", str(library))
    assert nope.returncode == 2 and "no cartridge 9" in nope.stderr


def test_generate_is_deterministic_per_seed(holomind, library: Path) -> None:
    args = ("cartridges", "generate", "--library", str(library), "--max-tokens", "40")
    one = holomind(*args, "--seed", "5", "The ")
    two = holomind(*args, "--seed", "5", "The ")
    other = holomind(*args, "--seed", "6", "The ")
    assert one.returncode == 0, one.stderr
    assert one.stdout == two.stdout and one.stdout.startswith("The ")
    assert one.stdout != other.stdout
    bad = holomind(*args, "--temperature", "0", "x")
    assert bad.returncode == 2 and "temperature > 0" in bad.stderr


def test_generate_uses_the_settings_saved_with_the_library(holomind, tmp_path: Path) -> None:
    make_library(tmp_path / "lib", router_config=RouterConfig(active_k=1)).library.close()
    lib = tmp_path / "lib"
    done = holomind("cartridges", "generate", "--library", str(lib), "--max-tokens", "30", "ab")
    assert done.returncode == 0, done.stderr
    saved = CartridgeModel(Library.open(lib)).generate("ab", 30)
    both = CartridgeModel(Library.open(lib, router_config=RouterConfig(active_k=2)))
    assert done.stdout == "ab" + saved + "\n"
    assert both.generate("ab", 30) != saved  # active_k matters, and the saved 1 was used


def test_missing_library_is_one_clear_line(holomind, tmp_path: Path) -> None:
    done = holomind("cartridges", "list", "--library", str(tmp_path / "none"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: no cartridge library at {tmp_path / 'none'}")
