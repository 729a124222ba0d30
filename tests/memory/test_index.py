"""The sidecar index: a cache of closed pages, rebuilt whenever missing, stale or damaged."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from holomind.memory import PixelNetwork
from holomind.memory.index import sidecar_path


class Fixed:
    """A deterministic 8-d embedder, so stored vectors and searches are checkable."""

    name, dim = "fixed-8", 8

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.array([self.embed_query(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        v = np.zeros(8, dtype=np.float32)
        for word in text.lower().split():
            v[sum(map(ord, word)) % 8] += 1
        return v


def build(path: Path, n: int = 30) -> PixelNetwork:
    net = PixelNetwork(path, embedder=Fixed(), page_height=400)
    net.append_many([(f"question {i} about topic{i % 7}", f"answer {i} " * 8) for i in range(n)])
    net.supersede(3, "a corrected answer")
    return net


def view(net: PixelNetwork) -> tuple:
    """Everything a reader gets back, to compare two ways of opening."""
    return (
        net.records(),
        net.stored_models(),
        [(h.record.id, round(h.score, 5)) for h in net.search("topic3 answer", k=5)],
        net.stats(),
    )


@pytest.fixture
def network(tmp_path: Path) -> PixelNetwork:
    return build(tmp_path / "net.png")


def test_closed_pages_are_cached_and_the_cache_reads_like_the_pngs(network: PixelNetwork):
    index = sidecar_path(network.path)
    assert index.name == ".net.png.index" and index.exists()
    cached = view(PixelNetwork(network.path, embedder=Fixed()))
    index.unlink()
    from_pngs = view(PixelNetwork(network.path, embedder=Fixed()))
    assert cached == from_pngs
    assert cached[0][2].superseded_by == 31 and len(cached[0]) == 31


def test_a_missing_index_is_rebuilt_as_it_was(network: PixelNetwork) -> None:
    index = sidecar_path(network.path)
    written = index.read_bytes()
    index.unlink()
    PixelNetwork(network.path, embedder="none")
    assert index.read_bytes() == written


def test_a_damaged_index_is_rebuilt_from_the_pngs(network: PixelNetwork) -> None:
    index = sidecar_path(network.path)
    expected = view(PixelNetwork(network.path, embedder=Fixed()))
    good = index.read_bytes()
    for at in (3, len(good) // 3, len(good) // 2, len(good) - 5):
        damaged = bytearray(good)
        damaged[at] ^= 0x5A
        index.write_bytes(bytes(damaged))
        assert view(PixelNetwork(network.path, embedder=Fixed())) == expected
        assert index.read_bytes() == good  # repaired on the way
    index.write_bytes(good[: len(good) // 2])  # cut short
    assert view(PixelNetwork(network.path, embedder=Fixed())) == expected
    assert index.read_bytes() == good


def test_a_stale_index_never_overrules_the_pngs(tmp_path: Path) -> None:
    mine = build(tmp_path / "mine" / "net.png")
    other = build(tmp_path / "other" / "net.png", n=31)  # same layout, other records
    # Another network's pages put in place of ours: the cache no longer matches them.
    for page in other.pages():
        shutil.copy(page, mine.path.parent / page.name)
    reread = PixelNetwork(mine.path, embedder=Fixed())
    assert reread.records() == PixelNetwork(other.path, embedder=Fixed()).records()
    # A page touched in place is stale too, even at the same size.
    page = mine.pages()[1]
    stamp = page.stat().st_mtime_ns
    os.utime(page, ns=(stamp + 10**9, stamp + 10**9))
    assert PixelNetwork(mine.path, embedder="none").records() == reread.records()
    assert PixelNetwork(mine.path, embedder="none").verify().ok


def test_a_network_of_one_page_needs_no_index(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "small.png", embedder="none")
    net.append("q", "a")
    assert [p.name for p in tmp_path.iterdir()] == ["small.png"]
