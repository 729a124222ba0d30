"""Acceptance: training on licences, Python code and Python docs learns each domain."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from holomind.cartridges import CartridgeConfig, CartridgeModel, Library, Stem
from holomind.learning import Corpus, Plugin, TrainConfig, Trainer, standard_plugins
from holomind.learning.texts import DOMAINS, build_corpus

SMALL = {
    "dim": 64,
    "stem_depth": 2,
    "n_head": 2,
    "adapter_rank": 4,
    "batch": 16,
    "seq_len": 64,
    "lr": 3e-3,
    "stem_lr": 3e-3,
    "checkpoint_every": 0,
}


class Events(Plugin):
    """Records the life-cycle events in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def before_training(self, trainer: Trainer) -> None:
        self.seen.append("before_training")

    def after_stage(self, trainer: Trainer) -> None:
        self.seen.append(f"after_stage:{trainer.stages[trainer.state.stage_index - 1].name}")

    def on_spawn(self, trainer: Trainer, cart_id: int) -> None:
        self.seen.append(f"spawn:{cart_id}")

    def before_phase(self, trainer: Trainer) -> None:
        self.seen.append(trainer.state.phase)

    def after_training(self, trainer: Trainer) -> None:
        self.seen.append("after_training")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Trainer, Corpus, Events, dict]:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("train")
    corpus = Corpus.from_folder(build_corpus(root / "data"), 64)
    config = TrainConfig(stem_steps=400, steps=300, **SMALL)
    events = Events()
    trainer = Trainer(config, corpus, root / "lib", [*standard_plugins(config), events])
    untrained = {}  # validation loss of the untrained system, for comparison
    trainer.fit()
    fresh = Library.create(root / "untrained", _random_stem(config), CartridgeConfig(rank=4))
    model = CartridgeModel(fresh)
    for name, (x, y) in corpus.validation_windows().items():
        untrained[name] = model(torch.from_numpy(x), torch.from_numpy(y)).loss.item()
    return trainer, corpus, events, untrained


def _random_stem(config: TrainConfig) -> Stem:
    torch.manual_seed(1)
    return Stem(config.stem_config())


def test_training_lowers_every_domains_validation_loss(trained) -> None:
    trainer, _, _, untrained = trained
    after = trainer.state.val_after
    assert set(after) == set(DOMAINS)
    for name in DOMAINS:
        assert after[name] < untrained[name] - 1.0, (name, untrained[name], after[name])
        # the cartridge stage itself helps on held-out text, beyond the frozen stem
        assert after[name] < trainer.state.val_before[name], name


def test_a_cartridge_per_domain_is_spawned(trained) -> None:
    trainer, _, events, _ = trained
    lib = trainer.library
    domains = {lib.domain_names[int(d)] for d in lib.domains}
    assert domains == set(DOMAINS)
    assert [e for e in events.seen if not e.startswith("spawn")] == [
        "before_training",
        "after_stage:stem",
        "representation",
        "alignment",
        "stabilization",
        "after_stage:cartridges",
        "after_training",
    ]
    assert sum(e.startswith("spawn") for e in events.seen) == len(lib)


def test_router_picks_the_right_domain_for_held_out_text(trained) -> None:
    trainer, corpus, _, _ = trained
    lib, model = trainer.library, trainer.model
    hits, total = 0, 0
    for name, (x, _) in corpus.validation_windows(limit=200).items():
        route = lib.router.route(model.embed(torch.from_numpy(x)))
        picked = np.asarray(lib.domains)[route.ids[:, 0].numpy()]
        hits += int(sum(lib.domain_names[int(d)] == name for d in picked))
        total += len(x)
    assert hits / total >= 0.9, hits / total


def test_library_reopens_with_the_same_predictions(trained) -> None:
    trainer, corpus, _, _ = trained
    x, _ = next(iter(corpus.validation_windows(limit=4).values()))
    before = trainer.model(torch.from_numpy(x)).log_probs.detach()
    reopened = CartridgeModel(Library.open(trainer.root))
    after = reopened(torch.from_numpy(x)).log_probs.detach()
    assert torch.equal(before, after)
    assert reopened.generate("def ", 40, seed=3) == trainer.model.generate("def ", 40, seed=3)
