"""Experiences in sequence: a new domain gets its own cartridge; earlier ones are not touched."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from holomind.cartridges import CartridgeModel, Library
from holomind.learning import Corpus, TrainConfig, Trainer
from holomind.learning.texts import build_corpus

TINY = {
    "dim": 32,
    "stem_depth": 2,
    "n_head": 2,
    "adapter_rank": 2,
    "batch": 4,
    "seq_len": 32,
    "stem_steps": 20,
    "steps": 12,
    "checkpoint_every": 0,
}


def snapshot(lib: Path) -> dict[str, bytes]:
    """Every file of the library but the ones a new experience must change."""
    changing = {"registry.json", "run", "index", "logs", ".lock"}
    return {
        str(p.relative_to(lib)): p.read_bytes()
        for p in sorted(lib.rglob("*"))
        if p.is_file() and p.relative_to(lib).parts[0] not in changing
    }


def test_a_new_domain_learns_in_its_own_cartridge_and_leaves_the_rest(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    data = build_corpus(tmp_path / "data", size=3000)
    lib = tmp_path / "lib"
    config = TrainConfig(**TINY)
    first = Trainer(config, Corpus.from_folder(data / "licences", 32, domain="licences"), lib)
    first.fit()
    old = snapshot(lib)
    old_counts = Library.open(lib).statistics.counts.copy()
    second = Trainer(config, Corpus.from_folder(data / "python", 32, domain="python"), lib)
    state = second.fit()
    new = snapshot(lib)
    # the stem, the workspace layer and every licence cartridge (weights, optimiser moments,
    # meta) are byte for byte what the first experience left
    assert {k: v for k, v in new.items() if k in old} == old
    assert set(new) - set(old) and all(k.startswith("domain_001/") for k in set(new) - set(old))
    registry = json.loads((lib / "registry.json").read_text())
    assert [d["name"] for d in registry["domains"]] == ["licences", "python"]
    python_ids = [i for i in range(registry["count"]) if i >= len(old_counts)]
    assert second.trained() == python_ids and set(state.val_after) == {"python"}
    reopened = Library.open(lib)
    assert reopened.statistics.counts[: len(old_counts)].tolist() == old_counts.tolist()
    assert all(reopened.statistics.counts[python_ids] > 0)
    assert all(reopened.meta(i)["steps"] > 0 for i in python_ids)
    # the new domain's held-out text is routed to its own cartridges
    x, _ = Corpus.from_folder(data / "python", 32, domain="python").validation_windows()["python"]
    route = reopened.router.route(CartridgeModel(reopened).embed(torch.from_numpy(x)))
    assert np.isin(route.ids[:, 0].numpy(), python_ids).mean() >= 0.75


def test_the_workspace_layer_learns_in_later_experiences_only_when_asked(tmp_path: Path) -> None:
    data = build_corpus(tmp_path / "data", size=3000, domains=["licences", "pydoc"])
    lib = tmp_path / "lib"
    Trainer(
        TrainConfig(**TINY), Corpus.from_folder(data / "licences", 32, domain="licences"), lib
    ).fit()
    before = (lib / "workspace.safetensors").read_bytes()
    always = TrainConfig(**TINY, workspace_learns="always")
    Trainer(always, Corpus.from_folder(data / "pydoc", 32, domain="pydoc"), lib).fit()
    assert (lib / "workspace.safetensors").read_bytes() != before
