"""The sleep goal, small: invented facts taught to a network, recalled by the cartridges alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from holomind.learning import Corpus, Trainer, resolve_config
from holomind.learning.texts import build_corpus
from holomind.memory import PixelNetwork
from holomind.sleep import sleep
from holomind.sleep.facts import invented_facts
from holomind.sleep.measure import held_out_losses, recall_answers, recalled

# LoRA on attention and MLP of both blocks: the shape bench/sleep.py measures
SHAPE = {
    "dim": 64,
    "stem_depth": 2,
    "n_head": 2,
    "adapted_layers": 2,
    "targets": ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"),
}


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
    # invented: nothing knows them before
    assert recalled(facts, recall_answers(lib, facts)) == [False] * 5
    before = held_out_losses(lib, data)
    result = sleep(net, lib)
    assert result.finished and result.steps == 100  # the default for 5 new records
    assert sum(recalled(facts, recall_answers(lib, facts))) >= 4  # >= 80 %
    after = held_out_losses(lib, data)
    assert set(after) == {"licences", "python"}
    assert all(after[d] <= before[d] * 1.01 for d in before), (before, after)
