"""The library's index: routing statistics committed with it; large indexes read unmapped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from holomind.cartridges import CartridgeConfig, Library, RouterConfig, Stem, StemConfig
from holomind.cartridges.library import REGISTRY
from holomind.cartridges.router import ExactIndex, FileVector, LinearIndex

SMALL = StemConfig(block_size=32, n_layer=2, n_head=2, n_embd=32)


def large_library(root: Path, count: int, per_domain: int = 500) -> np.ndarray:
    """An index of `count` clustered signatures and no cartridge folders (routing needs none)."""
    torch.manual_seed(0)
    Library.create(root, Stem(SMALL), CartridgeConfig(rank=4)).close()
    rng = np.random.default_rng(0)
    n_domains = count // per_domain
    domains = np.repeat(np.arange(n_domains, dtype=np.int32), per_domain)
    centres = rng.standard_normal((n_domains, SMALL.n_embd))
    sig = centres[domains] + 0.3 * rng.standard_normal((count, SMALL.n_embd))
    sig = (sig / np.linalg.norm(sig, axis=1, keepdims=True)).astype(np.float32)
    idx = root / "index"
    sig.tofile(idx / "signatures.f32")
    domains.tofile(idx / "domains.i32")
    np.tile(np.arange(per_domain, dtype=np.int32), n_domains).tofile(idx / "locals.i32")
    np.ones(count, dtype=np.float32).tofile(idx / "strengths.f32")
    registry = json.loads((root / REGISTRY).read_text())
    registry["count"] = count
    registry["domains"] = [
        {"id": d, "name": f"d{d}", "count": per_domain} for d in range(n_domains)
    ]
    (root / REGISTRY).write_text(json.dumps(registry))
    return sig


def mapped_files() -> set[str]:
    """Names of the files this process has mapped into memory."""
    lines = Path("/proc/self/maps").read_text().splitlines()
    return {Path(line.split()[-1]).name for line in lines if len(line.split()) >= 6}


def test_large_library_reads_its_index_without_mapping_it(tmp_path: Path) -> None:
    count = 5500
    assert count > RouterConfig().exact_limit
    sig = large_library(tmp_path / "lib", count)
    lib = Library.open(tmp_path / "lib", cache_size=2, writable=True)
    assert lib.large
    assert all(isinstance(v, FileVector) for v in (lib.domains, lib.locals, lib.strengths))
    route = lib.router.route(torch.from_numpy(sig[[7, 4321]]))
    assert route.ids[:, 0].tolist() == [7, 4321]
    assert lib.path_of(4321) == tmp_path / "lib" / "domain_008" / "cart_0321"
    lib.router.homeostasis_update(np.array([8, 8]), np.array([7, 7]), [7, 8])
    lib.flush()
    assert not mapped_files() & {"domains.i32", "locals.i32", "strengths.f32"}
    lib.close()
    on_disk = np.fromfile(tmp_path / "lib" / "index" / "strengths.f32", np.float32)
    assert on_disk[7] > 1.0 > on_disk[8]
    assert on_disk[9:].tolist() == [1.0] * (count - 9)


def test_routing_statistics_are_committed_and_route_after_a_restart(tmp_path: Path) -> None:
    torch.manual_seed(0)
    lib = Library.create(tmp_path / "lib", Stem(SMALL), CartridgeConfig(rank=2))
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((2, SMALL.n_embd))
    for k in range(2):
        lib.spawn(lib.domain_id(f"d{k}"), torch.from_numpy(centres[k]))
    assert isinstance(lib.router.index, ExactIndex)  # no window counted yet: the cosine
    for k in range(2):
        windows = centres[k] + 0.3 * rng.standard_normal((50, SMALL.n_embd))
        lib.add_statistics(k, torch.from_numpy(windows))
    lib.refresh_router()
    assert isinstance(lib.router.index, LinearIndex)
    mean = lib.statistics.mean(1)
    assert np.allclose(lib.signatures[1], mean / np.linalg.norm(mean), atol=1e-6)
    queries = torch.from_numpy(centres[[0, 1, 1]] + 0.3 * rng.standard_normal((3, SMALL.n_embd)))
    routed = lib.router.route(queries)
    assert routed.ids[:, 0].tolist() == [0, 1, 1]
    lib.flush()
    lib.close()
    again = Library.open(tmp_path / "lib")
    assert again.statistics.counts.tolist() == [50.0, 50.0]
    assert torch.equal(again.router.route(queries).ids, routed.ids)
    assert torch.equal(again.router.route(queries).scores, routed.scores)
