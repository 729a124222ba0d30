"""Measuring a sleep: what the cartridge model alone recalls, and every domain's held-out loss."""

from __future__ import annotations

from pathlib import Path

from holomind.cartridges import CartridgeModel, Library
from holomind.learning import Corpus, Trainer, resolve_config
from holomind.sleep.facts import Fact
from holomind.sleep.replay import recall_prompt


def recall_answers(library: Path, facts: list[Fact], tokens: int = 16) -> list[str]:
    """The cartridge model's greedy continuation of each fact's recall prompt (no LLM, no
    retrieval): ``Q: <question>\\nA:``."""
    lib = Library.open(library)
    try:
        model = CartridgeModel(lib)
        return [
            model.generate(recall_prompt(f.question), tokens, temperature=1.0, top_k=1)
            for f in facts
        ]
    finally:
        lib.close()


def recalled(facts: list[Fact], answers: list[str]) -> list[bool]:
    """Whether each answer contains its fact's key word."""
    return [f.key in answer for f, answer in zip(facts, answers, strict=True)]


def held_out_losses(library: Path, data: Path) -> dict[str, float]:
    """Held-out loss (nats/byte) of each domain of a data folder under the library's model."""
    config = resolve_config(library, {})
    trainer = Trainer(config, Corpus.from_folder(data, config.seq_len), library)
    lib = Library.open(library)
    try:
        trainer.model = CartridgeModel(lib)
        return trainer.evaluate()
    finally:
        lib.close()
