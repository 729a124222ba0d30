"""HebbianRouting on the loop: it changes the routes and nothing else; off, routes stay neutral."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from holomind.cartridges import CartridgeModel, Library
from holomind.learning import (
    Corpus,
    HebbianRouting,
    MaturityTracking,
    PhaseSchedule,
    Plugin,
    RouterStatistics,
    TrainConfig,
    Trainer,
)
from holomind.learning.texts import build_corpus

TINY = {
    "dim": 32,
    "stem_depth": 2,
    "n_head": 2,
    "adapter_rank": 2,
    "batch": 8,
    "seq_len": 32,
    "stem_steps": 20,
    "steps": 15,
    "active_k": 2,
    "checkpoint_every": 0,
}


class Snapshot(Plugin):
    """Copies everything a cartridge step can change, after each update."""

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def after_update(self, loop: Trainer) -> None:
        if loop.state.stage != "cartridges":
            return
        lib = loop.library
        carts = {}
        for i in range(len(lib)):
            cart = lib.get(i)
            tensors = {k: v.detach().clone() for k, v in cart.state_dict().items()}
            carts[i] = (tensors, asdict(cart.state))
        self.seen.append(
            {
                "cartridges": carts,
                "workspace": {k: v.clone() for k, v in loop.model.binding.state_dict().items()},
                "signatures": lib.signatures.copy(),
                "statistics": (lib.statistics.counts.copy(), lib.statistics.sums.copy()),
                "routes": (lib.hebbian.copy(), np.array(lib.strengths, copy=True)),
            }
        )


def same(a: dict, b: dict) -> bool:
    for i, (ta, sa) in a["cartridges"].items():
        tb, sb = b["cartridges"][i]
        if sa != sb or any(not torch.equal(ta[k], tb[k]) for k in ta):
            return False
    return (
        all(torch.equal(a["workspace"][k], b["workspace"][k]) for k in a["workspace"])
        and np.array_equal(a["signatures"], b["signatures"])
        and all(np.array_equal(x, y) for x, y in zip(a["statistics"], b["statistics"], strict=True))
    )


def test_hebbian_routing_changes_the_routes_and_nothing_else(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    data = build_corpus(tmp_path / "data", size=3000)
    config = TrainConfig(**TINY)
    before, after = Snapshot(), Snapshot()
    plugins = [PhaseSchedule(), MaturityTracking(), before, HebbianRouting(), after]
    Trainer(config, Corpus.from_folder(data, 32), tmp_path / "lib", plugins).fit()
    assert len(before.seen) == len(after.seen) == TINY["steps"]
    for a, b in zip(before.seen, after.seen, strict=True):
        assert same(a, b)  # cartridges, workspace, signatures, statistics: untouched
    moved = [
        not all(np.array_equal(x, y) for x, y in zip(a["routes"], b["routes"], strict=True))
        for a, b in zip(before.seen, after.seen, strict=True)
    ]
    assert all(moved)  # and the routes learnt at every step
    lib = Library.open(tmp_path / "lib")
    assert np.abs(lib.hebbian).max() > 0 and not np.all(lib.strengths == 1.0)
    lib.close()


def test_without_hebbian_routing_the_routes_stay_neutral_and_route_by_the_index(
    tmp_path: Path,
) -> None:
    torch.set_num_threads(1)
    data = build_corpus(tmp_path / "data", size=3000)
    corpus = Corpus.from_folder(data, 32)
    config = TrainConfig(**TINY)
    plugins = [PhaseSchedule(), MaturityTracking(), RouterStatistics()]
    Trainer(config, corpus, tmp_path / "lib", plugins).fit()
    lib = Library.open(tmp_path / "lib")
    assert lib.hebbian.shape == (len(lib), 32) and not lib.hebbian.any()
    assert np.all(lib.strengths == 1.0)
    x, _ = next(iter(corpus.validation_windows(limit=16).values()))
    q = CartridgeModel(lib).embed(torch.from_numpy(x))
    route = lib.router.route(q)
    scores, ids = lib.router.index.search(q.numpy(), route.ids.shape[1])
    assert torch.equal(route.ids, torch.from_numpy(ids))
    assert torch.equal(route.scores, torch.from_numpy(scores))
    lib.close()
