"""Maturity from a window of losses; a frozen cartridge never changes; its data spawns a child."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from holomind.cartridges import CartridgeConfig, Library, Stem, StemConfig
from holomind.learning import Corpus, MaturityFreezing, MaturityTracking, TrainConfig, Trainer
from holomind.learning.maturity import maturity
from holomind.learning.texts import build_corpus

TINY = ["--dim", "32", "--stem-depth", "2", "--heads", "2", "--rank", "2", "--batch", "4"]


def test_maturity_compares_the_halves_of_a_window() -> None:
    assert maturity([2.0] * 99, window=100) == 0.0  # not a full window yet
    assert maturity([2.0] * 100, window=100) == 1.0
    falling = [2.0] * 50 + [1.98] * 50  # medians 1 % lower: 1 − 10 · 0.01
    assert maturity(falling, window=100) == pytest.approx(0.9)
    assert maturity([5.0] * 30 + falling, window=100) == pytest.approx(0.9)  # the last 100 only
    assert maturity([2.0] * 50 + [2.1] * 50, window=100) == pytest.approx(0.5)  # rising too
    assert maturity([2.0, 2.2] * 50, window=100) == 1.0  # noisy but level
    assert maturity([3.0] * 50 + [1.0] * 50, window=100) == 0.0  # clipped


def test_one_noisy_step_neither_matures_nor_freezes_a_cartridge() -> None:
    steady = [2.0] * 100
    assert maturity([*steady[:-1], 4.0], window=100) == 1.0  # one spike moves no median
    # a loss still falling 1 % per half-window stays at 0.9, below the 0.95 to freeze, whatever
    # one step does (with means, a last step of 3.0 would make it look flat: 0.998)
    falling = [2.0] * 50 + [1.98] * 49
    for last in (0.5, 1.98, 2.0, 3.0, 10.0):
        assert maturity([*falling, last], window=100) == pytest.approx(0.9)


def loop_on(lib: Library, losses: dict[int, float], threshold: float | None) -> SimpleNamespace:
    """What the two plugins read of a cartridge step."""
    carts = [lib.get(i) for i in losses]
    return SimpleNamespace(
        state=SimpleNamespace(stage="cartridges", freeze_threshold=threshold),
        library=lib,
        stage=SimpleNamespace(trainable=set(losses)),
        iteration=SimpleNamespace(
            output=SimpleNamespace(cartridge_losses=losses, cartridges=carts)
        ),
    )


def test_tracking_fills_the_window_and_freezing_waits_for_the_phase_threshold(
    tmp_path: Path,
) -> None:
    lib = Library.create(
        tmp_path / "lib",
        Stem(StemConfig(block_size=32, n_layer=2, n_head=2, n_embd=32)),
        CartridgeConfig(rank=2),
    )
    domain = lib.domain_id("d")
    for _ in range(2):
        lib.spawn(domain, torch.randn(32))
    tracking, freezing = MaturityTracking(window=4), MaturityFreezing(min_steps=4)
    # cartridge 0's loss is level, cartridge 1's still falls by 10 % per half-window
    for step, falling in enumerate((2.0, 2.0, 1.8, 1.8, 1.6)):
        loop = loop_on(lib, {0: 2.0, 1: falling}, threshold=None if step < 4 else 0.95)
        tracking.after_update(loop)
        freezing.after_update(loop)
    zero, one = lib.get(0).state, lib.get(1).state
    assert zero.loss_window == [2.0] * 4 and zero.steps == 5 and zero.maturity == 1.0
    assert one.loss_window == [2.0, 1.8, 1.8, 1.6] and one.maturity == pytest.approx(0.0)
    assert zero.frozen and not one.frozen and lib.frozen_ids == [0]
    assert not any(p.requires_grad for p in lib.get(0).parameters())
    tracking.after_update(loop_on(lib, {0: 9.0, 1: 1.6}, threshold=0.95))
    assert lib.get(0).state.loss_window == [2.0] * 4  # frozen: nothing of it changes any more
    lib.close()


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.slow
def test_a_frozen_cartridge_is_hash_stable_and_its_new_data_spawns_a_child(
    holomind, tmp_path: Path
) -> None:
    torch.set_num_threads(1)
    data = build_corpus(tmp_path / "data", size=3000, domains=("licences", "python"))
    lib = tmp_path / "lib"
    config = TrainConfig(
        dim=32, stem_depth=2, n_head=2, adapter_rank=2, batch=4, seq_len=32,
        stem_steps=20, steps=10, checkpoint_every=0,
    )  # fmt: skip
    Trainer(config, Corpus.from_folder(data, 32), lib).fit()
    library = Library.open(lib, writable=True)
    licences = library.domain_names.index("licences")
    frozen = [i for i in range(len(library)) if int(library.domains[i]) == licences]
    for cart_id in frozen:
        library.freeze(cart_id)
    library.flush()
    count = len(library)
    folders = [library.path_of(i) for i in frozen]
    library.close()
    before = [digests(f) for f in folders]
    assert all(json.loads((f / "meta.json").read_text())["frozen"] for f in folders)

    # more training with its data absent: python's cartridges learn, the frozen ones stay put
    done = holomind("train", str(data / "python"), "--domain", "python", "--library", str(lib),
                    "--steps", "8", *TINY)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [digests(f) for f in folders] == before

    # with its data present: the data goes to a child of the frozen cartridge, in its domain
    done = holomind("train", str(data / "licences"), "--domain", "licences", "--library",
                    str(lib), "--steps", "8", "--json", *TINY)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [digests(f) for f in folders] == before
    registry = json.loads((lib / "registry.json").read_text())
    children = list(range(count, registry["count"]))
    assert children, "no child was spawned"
    assert sorted(registry["frozen"]) == frozen
    assert json.loads(done.stdout)["trained"] == children  # only the children learnt
    library = Library.open(lib)
    for child in children:
        meta = library.meta(child)
        assert meta["parent"] in frozen and registry["parents"][str(child)] == meta["parent"]
        assert meta["lineage"][-1] == meta["parent"] and meta["name"] == "licences"
        assert not meta["frozen"] and meta["steps"] > 0
    library.close()
