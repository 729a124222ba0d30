"""Save, restart, load: bit-identical outputs; wrong stems and damaged files are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from holomind.cartridges import (
    Cartridge,
    CartridgeConfig,
    CartridgeModel,
    Library,
    RouterConfig,
    Stem,
    StemConfig,
    WorkspaceConfig,
)
from holomind.errors import CorruptFileError, MissingFileError, StemMismatchError

SMALL = StemConfig(block_size=32, n_layer=2, n_head=2, n_embd=32)


def make_library(
    root: Path, seed: int = 0, router_config: RouterConfig | None = None
) -> CartridgeModel:
    """A library with two trained-looking cartridges (random adapters) on a random stem."""
    torch.manual_seed(seed)
    lib = Library.create(root, Stem(SMALL), CartridgeConfig(rank=4), router_config=router_config)
    model = CartridgeModel(lib)
    for name in ("a", "b"):
        cart = lib.spawn(lib.domain_id(name), torch.randn(SMALL.n_embd))
        with torch.no_grad():
            for p in cart.parameters():
                p.add_(torch.randn_like(p) * 0.05)
    with torch.no_grad():
        model.binding.salience.weight.normal_()
    model.save()
    return model


def test_save_restart_load_is_bit_identical(tmp_path: Path) -> None:
    model = make_library(tmp_path / "lib")
    x = torch.randint(0, 256, (3, 32))
    before = model(x).log_probs.detach().numpy()
    sample = model.generate("hello", 30, seed=7)
    model.library.close()
    script = (
        "import sys, numpy, torch; from pathlib import Path;"
        "from holomind.cartridges import CartridgeModel, Library;"
        "m = CartridgeModel(Library.open(Path(sys.argv[1])));"
        "x = torch.from_numpy(numpy.load(sys.argv[2]));"
        "numpy.save(sys.argv[3], m(x).log_probs.detach().numpy());"
        "print(m.generate('hello', 30, seed=7), end='')"
    )
    np.save(tmp_path / "x.npy", x.numpy())
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(tmp_path / "lib"),
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = np.load(tmp_path / "y.npy")
    assert before.tobytes() == after.tobytes()
    assert done.stdout == sample


def test_cartridge_from_another_stem_is_refused(tmp_path: Path) -> None:
    ours = make_library(tmp_path / "ours", seed=0)
    theirs = make_library(tmp_path / "theirs", seed=1)
    with pytest.raises(StemMismatchError, match="was made on stem"):
        Cartridge.load(theirs.library.path_of(0), ours.library.stem_hash, ours.library.stem.config)


def test_cartridge_file_size_and_meta(tmp_path: Path) -> None:
    model = make_library(tmp_path / "lib")
    folder = tmp_path / "lib" / "domain_001" / "cart_0000"
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["stem_hash"] == model.library.stem_hash
    assert meta["rank"] == 4 and meta["targets"] == ["mlp.c_proj"]
    assert (meta["id"], meta["name"], meta["frozen"]) == (1, "b", False)
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "weights.safetensors"]


def test_seed_default_cartridge_is_about_100_kb() -> None:
    cart = Cartridge(CartridgeConfig(), StemConfig())
    # rank 16 on the top block's mlp.c_proj (1024 -> 256) + a rank-16 head + bias + signature
    assert cart.num_bytes() == 4 * (16 * (1024 + 256) + 16 * (256 + 256) + 256 + 256)


def _adamw_steps(cart: Cartridge, n: int) -> None:
    """n AdamW steps on a fixed quadratic loss of every parameter."""
    gen = torch.Generator().manual_seed(5)
    targets = [torch.randn(p.shape, generator=gen) for p in cart.parameters()]
    for _ in range(n):
        loss = sum(((p - t) ** 2).sum() for p, t in zip(cart.parameters(), targets, strict=True))
        opt = cart.optimizer(0.01)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_a_cartridge_continues_exactly_with_the_adamw_moments_saved_with_it(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    whole = Cartridge(CartridgeConfig(rank=2), SMALL)
    halves = Cartridge(CartridgeConfig(rank=2), SMALL)
    halves.copy_from(whole)
    _adamw_steps(whole, 5)
    _adamw_steps(halves, 3)
    halves.save(tmp_path / "cart", "stem")
    meta = json.loads((tmp_path / "cart" / "meta.json").read_text())
    assert len(meta["optimizer_sha256"]) == 64
    resumed = Cartridge.load(tmp_path / "cart", "stem", SMALL, with_optimizer=True)
    _adamw_steps(resumed, 2)
    for (name, a), (_, b) in zip(whole.named_parameters(), resumed.named_parameters(), strict=True):
        assert torch.equal(a, b), name
    # read without its moments (as serving does), the same cartridge starts AdamW afresh
    fresh = Cartridge.load(tmp_path / "cart", "stem", SMALL)
    _adamw_steps(fresh, 2)
    assert not torch.equal(fresh.head_B, resumed.head_B)
    moments = tmp_path / "cart" / "optimizer.safetensors"
    moments.write_bytes(moments.read_bytes()[:-4])
    with pytest.raises(CorruptFileError, match=r"optimizer\.safetensors does not match"):
        Cartridge.load(tmp_path / "cart", "stem", SMALL, with_optimizer=True)


def test_settings_that_shape_outputs_are_saved_with_the_library(tmp_path: Path) -> None:
    torch.manual_seed(0)
    Library.create(
        tmp_path / "lib",
        Stem(SMALL),
        CartridgeConfig(rank=2),
        router_config=RouterConfig(active_k=1),
        workspace_config=WorkspaceConfig(slots=1, route_weight=3.0),
    ).close()
    registry = json.loads((tmp_path / "lib" / "registry.json").read_text())
    assert registry["model"]["router"]["active_k"] == 1
    reopened = Library.open(tmp_path / "lib")
    assert reopened.router.config.active_k == 1
    assert CartridgeModel(reopened).binding.config == WorkspaceConfig(slots=1, route_weight=3.0)


def test_damaged_weights_are_refused(tmp_path: Path) -> None:
    model = make_library(tmp_path / "lib")
    weights = model.library.path_of(0) / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CorruptFileError, match="checksum"):
        Library.open(tmp_path / "lib", cache_size=1).get(0)


def test_tampered_stem_is_refused(tmp_path: Path) -> None:
    make_library(tmp_path / "lib")
    cfg = tmp_path / "lib" / "stem" / "config.json"
    raw = json.loads(cfg.read_text())
    raw["hash"] = "0" * 64
    cfg.write_text(json.dumps(raw))
    with pytest.raises(CorruptFileError, match="does not match its recorded hash"):
        Library.open(tmp_path / "lib")


def test_missing_library(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="no cartridge library"):
        Library.open(tmp_path / "nope")


def test_lru_cache_keeps_constant_residency_and_writes_back(tmp_path: Path) -> None:
    torch.manual_seed(0)
    lib = Library.create(tmp_path / "lib", Stem(SMALL), CartridgeConfig(rank=2), cache_size=3)
    for i in range(8):
        lib.spawn(lib.domain_id(f"d{i % 2}"), torch.randn(SMALL.n_embd))
    lib.flush()
    assert len(lib.cached_ids()) == 3
    cart = lib.get(0)
    with torch.no_grad():
        cart.head_bias.fill_(0.5)
    lib.mark_dirty(0)
    for i in range(1, 8):
        lib.get(i)
    assert 0 not in lib.cached_ids() and len(lib.cached_ids()) == 3
    assert lib.get(0).head_bias[0].item() == 0.5  # written back on eviction, read again
    lib.prefetch([5, 6])
    lib._pool.submit(lambda: None).result()  # the one prefetch thread has loaded 5
    loads = lib.loads
    lib.get(5)
    assert lib.loads == loads  # served by the prefetch: no second read from disk
    for i in range(40):  # prefetched but never used: bounded by the cache, not kept forever
        lib.prefetch([i % 8, (i + 3) % 8])
    lib._pool.submit(lambda: None).result()  # let the loads in flight finish
    lib.prefetch([])
    assert len(lib.cached_ids()) <= 3
    lib.close()


def test_workspace_competition_runs_in_forward(tmp_path: Path) -> None:
    model = make_library(tmp_path / "lib")
    model.library.router.config = RouterConfig(active_k=2)
    out = model(torch.randint(0, 256, (4, 32)), torch.randint(0, 256, (4, 32)))
    assert out.route is not None and out.route.ids.shape == (4, 2)
    assert set(out.cartridge_losses) == {0, 1}
    assert torch.allclose(out.log_probs.exp().sum(-1), torch.ones(4, 32), atol=1e-5)


def test_domain_detection_spawns_far_documents_from_the_nearest(tmp_path: Path) -> None:
    lib = Library.create(tmp_path / "lib", Stem(SMALL), CartridgeConfig(rank=2))
    model = CartridgeModel(lib)
    e = torch.eye(SMALL.n_embd)
    first, spawned = model.assign(e[0], "", spawn_threshold=0.5, named=False)
    assert (first, spawned) == (0, True)
    near = torch.nn.functional.normalize(e[0] + 0.3 * e[1], dim=0)
    assert model.assign(near, "", spawn_threshold=0.5, named=False) == (0, False)
    far = torch.nn.functional.normalize(e[1] + 0.5 * e[0], dim=0)
    second, spawned = model.assign(far, "", spawn_threshold=0.95, named=False)
    assert (second, spawned) == (1, True)
    cart = lib.get(second)
    assert (cart.state.parent, cart.state.lineage) == (0, [0])
    assert lib.domain_names == ["domain_000", "domain_001"]
    # a named domain only matches its own cartridges: a new name spawns even when near
    third, spawned = model.assign(e[0], "docs", spawn_threshold=0.5, named=True)
    assert (third, spawned, lib.domain_names[-1]) == (2, True, "docs")
    assert torch.equal(lib.get(third).head_B, lib.get(0).head_B)  # knowledge copied
