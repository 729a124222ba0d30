"""The sleep goal, small: invented facts taught to a network, recalled by the cartridges alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from holomind.cartridges import CartridgeModel, Library
from holomind.learning import Corpus, Trainer, resolve_config
from holomind.learning.texts import build_corpus
from holomind.memory import PixelNetwork
from holomind.sleep import recall_prompt, sleep
from holomind.sleep.facts import invented_facts

# LoRA on attention and MLP of both blocks: the shape bench/sleep.py measures
SHAPE = {
    "dim": 64,
    "stem_depth": 2,
    "n_head": 2,
    "adapted_layers": 2,
    "targets": ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"),
}


def _recalled(lib: Path, facts: list) -> list[bool]:
    model = CartridgeModel(Library.open(lib))
    answers = [model.generate(recall_prompt(f.question), 12, top_k=1) for f in facts]
    return [f.key in answer for f, answer in zip(facts, answers, strict=True)]


def _held_out(lib: Path, data: Path) -> dict[str, float]:
    config = resolve_config(lib, {})
    trainer = Trainer(config, Corpus.from_folder(data, config.seq_len), lib)
    trainer.model = CartridgeModel(Library.open(lib))
    return trainer.evaluate()


@pytest.mark.slow
def test_sleep_teaches_the_cartridges_what_the_network_holds(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    data = build_corpus(tmp_path / "data", size=6000, domains=("licences", "python"))
    lib = tmp_path / "lib"
    config = resolve_config(lib, {**SHAPE, "stem_steps": 300, "steps": 40, "lr": 3e-3})
    Trainer(config, Corpus.from_folder(data, config.seq_len), lib).fit()
    facts = invented_facts(5)
    net = tmp_path / "net.png"
    PixelNetwork(net, embedder="none").append_many([(f.question, f.answer) for f in facts])
    assert _recalled(lib, facts) == [False] * 5  # invented: nothing knows them before
    before = _held_out(lib, data)
    result = sleep(net, lib)
    assert result.finished and result.steps == 100  # the default for 5 new records
    assert sum(_recalled(lib, facts)) >= 4  # >= 80 %
    after = _held_out(lib, data)
    assert set(after) == {"licences", "python"}
    assert all(after[d] <= before[d] * 1.01 for d in before), (before, after)
