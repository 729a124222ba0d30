"""A tiny cartridge library (licences + Python, made once per module) and networks of facts."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from holomind.learning import Corpus, Trainer, resolve_config
from holomind.learning.texts import build_corpus
from holomind.memory import PixelNetwork
from holomind.sleep.facts import invented_facts

TINY = {"dim": 32, "stem_depth": 2, "n_head": 2, "adapter_rank": 2, "batch": 8}


@pytest.fixture(scope="module")
def trained_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library trained on two domains: stem 40 steps, cartridges 10 (seconds, not a model)."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("trained")
    data = build_corpus(root / "data", size=3000, domains=("licences", "python"))
    config = resolve_config(root / "lib", {**TINY, "stem_steps": 40, "steps": 10})
    Trainer(config, Corpus.from_folder(data, config.seq_len), root / "lib").fit()
    return root / "lib"


@pytest.fixture
def library(trained_library: Path, tmp_path: Path) -> Path:
    """A fresh copy of the trained library for one test."""
    return Path(shutil.copytree(trained_library, tmp_path / "lib"))


@pytest.fixture
def make_network(tmp_path: Path) -> Callable[..., Path]:
    """A pixel network holding the first ``n`` invented facts (keyword search: no model)."""

    def make(n: int = 5, name: str = "net.png") -> Path:
        path = tmp_path / name
        net = PixelNetwork(path, embedder="none")
        net.append_many([(f.question, f.answer) for f in invented_facts(n)])
        return path

    return make


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (or the one file), by relative path: to check nothing changed."""
    if root.is_file():
        return {root.name: root.read_bytes()}
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}
