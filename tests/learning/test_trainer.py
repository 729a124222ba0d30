"""Acceptance: training on licences, Python code and Python docs learns each domain."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from holomind.cartridges import CartridgeConfig, CartridgeModel, Library, Stem
from holomind.errors import ConfigError, InvalidInputError
from holomind.learning import (
    Corpus,
    Plugin,
    TrainConfig,
    Trainer,
    resolve_config,
    saved_run,
    standard_plugins,
)
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


class StopAt(Plugin):
    """Asks the loop to stop (as Ctrl-C does) after a given step of a given stage."""

    def __init__(self, stage: str, step: int) -> None:
        self.stage, self.step = stage, step

    def after_training_iteration(self, trainer: Trainer) -> None:
        if (trainer.state.stage, trainer.state.step) == (self.stage, self.step):
            trainer.request_stop()


TINY = {**SMALL, "dim": 32, "adapter_rank": 2, "batch": 4, "stem_steps": 6, "steps": 4}


def test_settings_come_from_the_library_and_contradictions_are_refused(
    trained, tmp_path: Path
) -> None:
    trainer, _, _, _ = trained
    config = resolve_config(trainer.root, {"steps": 7})
    assert (config.dim, config.stem_depth, config.adapter_rank, config.steps) == (64, 2, 4, 7)
    with pytest.raises(ConfigError, match=r"dim is 64 in the library at .*, but 32 was asked"):
        resolve_config(trainer.root, {"dim": 32})
    with pytest.raises(InvalidInputError, match="there is no run to resume"):
        resolve_config(tmp_path, {}, resume=True)
    finished = Trainer(trainer.config, trainer.corpus, trainer.root, resume=True)
    with pytest.raises(InvalidInputError, match="finished; there is nothing to resume"):
        finished.fit()


def test_a_stopped_run_resumes_only_on_its_own_data_and_settings(tmp_path: Path) -> None:
    data = Corpus.from_folder(build_corpus(tmp_path / "data", size=2000), 64)
    config = TrainConfig(**TINY)
    plugins = [*standard_plugins(config), StopAt("cartridges", 2)]
    state = Trainer(config, data, tmp_path / "lib", plugins).fit()
    assert state.stopped_early and (state.stage, state.step) == ("cartridges", 2)
    assert saved_run(tmp_path / "lib")["state"]["step"] == 2
    with pytest.raises(InvalidInputError, match="holds an unfinished run"):
        Trainer(config, data, tmp_path / "lib").fit()
    with pytest.raises(ConfigError, match="adapter_rank is 2 in the run"):
        resolve_config(tmp_path / "lib", {"adapter_rank": 3}, resume=True)
    assert resolve_config(tmp_path / "lib", {"log_every": 1}, resume=True).log_every == 1
    other = Corpus.from_folder(build_corpus(tmp_path / "other", size=2000, domains=["python"]), 64)
    with pytest.raises(InvalidInputError, match="the data is not what the run"):
        Trainer(config, other, tmp_path / "lib", resume=True).fit()
    state = Trainer(config, data, tmp_path / "lib", resume=True).fit()
    assert state.done and (state.stage, state.step) == ("cartridges", 4)
