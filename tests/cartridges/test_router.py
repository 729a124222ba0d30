"""Router: exact and hierarchical search agree; Hebbian routes and homeostasis act as specified."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from holomind.cartridges.router import (
    ExactIndex,
    FileVector,
    HierarchicalIndex,
    LinearIndex,
    Router,
    RouterConfig,
    RoutingStatistics,
    build_hierarchical_index,
    top_m,
)
from holomind.errors import CorruptFileError


def clustered(n_domains: int, per: int, dim: int, rng: np.random.Generator):
    centres = rng.standard_normal((n_domains, dim))
    sig = np.repeat(centres, per, axis=0) + 0.5 * rng.standard_normal((n_domains * per, dim))
    sig /= np.linalg.norm(sig, axis=1, keepdims=True)
    return sig.astype(np.float32), np.repeat(np.arange(n_domains), per).astype(np.int32)


def test_top_m_orders_best_first() -> None:
    s, i = top_m(np.array([[0.1, 0.9, 0.5, 0.7]]), np.array([[10, 11, 12, 13]]), 3)
    assert i.tolist() == [[11, 13, 12]]
    assert np.allclose(s, [[0.9, 0.7, 0.5]])


def test_hierarchical_recall_against_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    sig, dom = clustered(50, 40, 32, rng)
    perm = rng.permutation(len(sig))  # ids not grouped by domain on purpose
    sig, dom = sig[perm], dom[perm]
    build_hierarchical_index(tmp_path, sig, dom)
    hier, exact = HierarchicalIndex(tmp_path, probe_domains=4), ExactIndex(sig)
    q = sig[rng.integers(0, len(sig), 200)] + 0.1 * rng.standard_normal((200, 32))
    q = (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)
    _, e = exact.search(q, 4)
    _, h = hier.search(q, 4)
    recall = np.mean([len(set(a) & set(b)) / 4 for a, b in zip(e, h, strict=True)])
    assert recall >= 0.95
    hier.close()


def test_routes_without_learnt_hebbian_state_are_the_index_alone() -> None:
    rng = np.random.default_rng(0)
    sig = rng.standard_normal((6, 4)).astype(np.float32)
    index = LinearIndex(sig, rng.standard_normal(6).astype(np.float32))
    router = Router(
        RouterConfig(active_k=2), index, np.ones(6, np.float32), np.zeros((6, 4), np.float32)
    )
    q = rng.standard_normal((5, 4)).astype(np.float32)
    route = router.route(torch.from_numpy(q))
    scores, ids = index.search(q, 2)
    assert torch.equal(route.ids, torch.from_numpy(ids))
    assert torch.equal(route.scores, torch.from_numpy(scores))  # bit for bit


def test_hebbian_update_moves_only_the_learners_routes_toward_their_inputs() -> None:
    cfg = RouterConfig(active_k=2, prefetch=0, hebbian_lr=0.1, hebbian_decay=0.5, hebbian_max=10.0)
    hebbian = np.zeros((3, 2), np.float32)
    hebbian[1] = [1.0, 1.0]
    strengths = np.ones(3, np.float32)
    router = Router(cfg, ExactIndex(np.eye(3, 2, dtype=np.float32)), strengths, hebbian)
    phi = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    route = router.route(phi)
    # scores: index cosine + φ·w (cartridge 1's route is already strong: +1 everywhere)
    assert route.ids.tolist() == [[0, 1], [1, 0]]
    assert route.scores.tolist() == [[1.0, 1.0], [2.0, 0.0]]
    # drives above θ (the runner-up, cartridge 2: 0); a tie shares: a = (1 − 0.5·A) / 0.5
    assert route.activations(0.5).flatten().tolist() == pytest.approx([2 / 3, 2 / 3, 2.0, 0.0])
    losses = torch.tensor([[2.0, 1.0], [1.0, 3.0]])
    router.hebbian_update(phi, route, losses, learners={1})
    # cartridge 1: context 0 share .5 × advantage .5 × φ₀; context 1 share 1 × advantage 1 × φ₁
    assert hebbian[1].tolist() == pytest.approx([0.5 + 0.1 * 0.125, 0.5 + 0.1 * 0.5])
    assert hebbian[0].tolist() == [0.0, 0.0] and hebbian[2].tolist() == [0.0, 0.0]
    assert strengths.tolist() == [1.0, 1.0, 1.0]


def test_hebbian_weights_stay_bounded() -> None:
    cfg = RouterConfig(active_k=1, hebbian_lr=10.0, hebbian_max=2.0, hebbian_decay=0.0)
    hebbian = np.zeros((2, 2), np.float32)
    router = Router(cfg, ExactIndex(np.eye(2, dtype=np.float32)), np.ones(2, np.float32), hebbian)
    phi = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    for _ in range(20):
        route = router.route(phi)
        router.hebbian_update(phi, route, torch.tensor([[1.0], [1.0]]), learners={0, 1})
    assert np.linalg.norm(hebbian, axis=1).max() <= 2.0 + 1e-6


def test_homeostasis_moves_strengths_toward_usage_targets_within_bounds() -> None:
    cfg = RouterConfig(homeostasis=0.5, strength_min=0.5, strength_max=2.0)
    strengths = np.ones(3, dtype=np.float32)
    router = Router(cfg, ExactIndex(np.eye(3, dtype=np.float32)), strengths)
    # cartridge 0 wins every context, though it owns half; 1 owns the other half, wins none
    router.homeostasis_update(np.array([0, 0]), np.array([0, 1]), [0, 1, 2])
    assert strengths.tolist() == pytest.approx([np.exp(-0.25), np.exp(0.25), 1.0])
    for _ in range(50):
        router.homeostasis_update(np.array([0, 0]), np.array([0, 1]), [0, 1])
    assert strengths.tolist() == pytest.approx([0.5, 2.0, 1.0])  # clipped: never a monopoly


def test_route_picks_nearest_signatures() -> None:
    sig = np.eye(4, dtype=np.float32)
    router = Router(RouterConfig(active_k=2, prefetch=1), ExactIndex(sig), np.ones(4, np.float32))
    route = router.route(torch.tensor([[0.9, 0.1, 0.05, 0.0], [0.0, 0.05, 0.2, 0.8]]))
    assert route.ids.tolist() == [[0, 1], [3, 2]]
    assert route.runners_up == [1, 2]  # each context's next-best id, offered for prefetching


def test_file_vector_reads_and_writes_elements_in_place(tmp_path: Path) -> None:
    values = np.arange(10, dtype=np.float32) / 4
    values.tofile(tmp_path / "v.f32")
    vec = FileVector(tmp_path / "v.f32", np.float32, 10, writable=True)
    assert len(vec) == 10
    assert float(vec[3]) == 0.75
    assert vec[np.array([[9, 0], [2, 2]])].tolist() == [[2.25, 0.0], [0.5, 0.5]]
    vec[np.array([1, 4])] = [7.0, 8.0]
    vec[5] = 9.0
    vec.close()
    expected = values.copy()
    expected[[1, 4, 5]] = [7.0, 8.0, 9.0]
    assert np.fromfile(tmp_path / "v.f32", np.float32).tolist() == expected.tolist()
    with pytest.raises(IndexError):
        FileVector(tmp_path / "v.f32", np.float32, 10)[10]


def test_file_vector_refuses_a_file_of_the_wrong_size(tmp_path: Path) -> None:
    np.zeros(9, dtype=np.int32).tofile(tmp_path / "d.i32")
    with pytest.raises(CorruptFileError, match="holds 36 bytes, expected 40"):
        FileVector(tmp_path / "d.i32", np.int32, 10)


def test_homeostasis_writes_through_a_file_vector(tmp_path: Path) -> None:
    np.ones(3, dtype=np.float32).tofile(tmp_path / "s.f32")
    strengths = FileVector(tmp_path / "s.f32", np.float32, 3, writable=True)
    router = Router(RouterConfig(active_k=3), ExactIndex(np.eye(3, dtype=np.float32)), strengths)
    router.homeostasis_update(np.array([2, 2]), np.array([0, 0]), [0, 2])
    on_disk = np.fromfile(tmp_path / "s.f32", np.float32)
    assert on_disk[0] > 1.0 > on_disk[2]
    assert router.route(torch.tensor([[1.0, 0.0, 0.0]])).ids[0, 0].item() == 0
    strengths.close()


def test_discriminant_routing_tells_apart_what_the_cosine_confuses() -> None:
    """Two domains that differ along a quiet direction but spread along a loud shared one."""
    rng = np.random.default_rng(0)
    dim, n = 8, 2000
    scale = np.full(dim, 0.05)
    scale[0] = 3.0  # both domains spread widely along e0
    means = np.zeros((2, dim))
    means[:, 2] = 1.0  # a common offset, so the means point almost the same way
    means[1, 1] = 0.3  # the domains differ only along the quiet e1

    def sample(k: int, count: int) -> np.ndarray:
        return means[k] + scale * rng.standard_normal((count, dim))

    stats = RoutingStatistics.empty(dim)
    for k in range(2):
        stats.grow()
        stats.add(k, sample(k, n))
    signatures = np.stack([stats.mean(k) / np.linalg.norm(stats.mean(k)) for k in range(2)])
    held = np.concatenate([sample(0, 500), sample(1, 500)])
    truth = np.repeat([0, 1], 500)
    weights, biases = stats.discriminant(signatures, shrinkage=0.01)
    router = Router(RouterConfig(active_k=1), LinearIndex(weights, biases), np.ones(2, np.float32))
    discriminant = (router.route(torch.from_numpy(held)).ids[:, 0].numpy() == truth).mean()
    cosine = ((held @ signatures.T).argmax(axis=1) == truth).mean()
    assert discriminant >= 0.99 and cosine < 0.75, (discriminant, cosine)


def test_statistics_are_sums_and_a_fresh_cartridge_stands_at_its_signature() -> None:
    stats = RoutingStatistics.empty(2)
    stats.grow()
    stats.grow()
    stats.add(0, np.array([[1.0, 0.0], [3.0, 0.0]]))
    stats.add(0, np.array([[2.0, 3.0]]))
    assert stats.counts.tolist() == [3.0, 0.0]
    assert stats.mean(0).tolist() == [2.0, 1.0]
    assert stats.moments.tolist() == [[14.0, 6.0], [6.0, 9.0]]
    weights, biases = stats.discriminant(np.array([[1.0, 0.0], [0.0, 1.0]]), shrinkage=0.0)
    # pooled covariance: scatter of cartridge 0 around its mean over all 3 windows
    cov = np.array([[2.0, 0.0], [0.0, 6.0]]) / 3
    expected = np.linalg.solve(cov, np.array([[2.0, 1.0], [0.0, 1.0]]).T).T
    assert np.allclose(weights, expected)
    assert np.allclose(biases, -0.5 * (expected * np.array([[2.0, 1.0], [0.0, 1.0]])).sum(1))
    assert RoutingStatistics.empty(2).discriminant(np.eye(2), 0.01) is None
