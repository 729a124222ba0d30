"""The cartridge views' API: the registry on disk (`/cartridges`, the seed's path), one cartridge.

The library is read through `Library.open` and its metas; the result is kept
until ``registry.json`` changes, so the radial graph can poll it cheaply while
training writes the library.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from holomind.errors import CorruptFileError, MissingFileError
from holomind.server.state import Dashboard, dashboard

router = APIRouter()
Board = Annotated[Dashboard, Depends(dashboard)]
REGISTRY = "registry.json"
RETRIES = 3  # a library being flushed can be caught between two of its files


class _Cache:
    """The last registry read, keyed by the library folder and its registry file's stamp."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[str, int, int] | None = None
        self.value: dict[str, Any] | None = None


_cache = _Cache()


def read_library(root: Path) -> dict[str, Any]:
    """The library's stem, domains and every cartridge's meta (empty when there is no library)."""
    from holomind.cartridges import Library

    if not Library.exists(root):
        return {"library": str(root), "exists": False, "domains": [], "cartridges": []}
    registry = root / REGISTRY
    with _cache.lock:
        attempt = 1
        while True:
            stat = registry.stat()
            key = (str(root), stat.st_mtime_ns, stat.st_size)
            if key == _cache.key and _cache.value is not None:
                return _cache.value
            try:
                value = _read(root)
            except CorruptFileError:
                if attempt == RETRIES:
                    raise
                attempt += 1
                time.sleep(0.2)
                continue
            _cache.key, _cache.value = key, value
            return value


def _read(root: Path) -> dict[str, Any]:
    from holomind.cartridges import Library

    lib = Library.open(root)
    try:
        return {
            "library": str(root),
            "exists": True,
            "stem_hash": lib.stem_hash,
            "domains": lib.registry["domains"],
            "cartridges": list(lib.iter_meta()),
        }
    finally:
        lib.close()


@router.get("/cartridges")
def cartridges(board: Board) -> dict[str, Any]:
    """Every cartridge (meta, size, Hebbian strength) and, while training, the live activity."""
    return {**read_library(board.options.library), "live": board.workspace.read("train/cartridges")}


@router.get("/api/cartridges/{cart_id}")
def cartridge(board: Board, cart_id: int) -> dict[str, Any]:
    """One cartridge's meta.json, folder, size and strength."""
    for meta in read_library(board.options.library)["cartridges"]:
        if meta["id"] == cart_id:
            return meta
    raise MissingFileError(f"no cartridge {cart_id} in {board.options.library}")
