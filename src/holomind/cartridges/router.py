"""The router (prefrontal cortex): picks the cartridges a context needs, and learns by Hebb's rule.

A context's stem embedding is scored against every cartridge; the top
``active_k`` become the active set. A trained library keeps *routing
statistics* — per cartridge, how many training windows it owned and the sum of
their embeddings; for all of them, the second moment — and scores by the
Gaussian discriminant they give (each cartridge a Gaussian around its mean, one
covariance pooled over all, shrunk toward a scaled identity): a log-likelihood,
which tells a new domain's windows from an old one's where a cosine to the means
does not (measured in docs/continual.md). Statistics are sums, so they grow
exactly, experience after experience. Libraries without them (older ones,
synthetic ones, large ones) score by the cosine to each signature.

Routes also learn by seed 004's local rules (`cartridges.hebbian`): each
cartridge has Hebbian weights over the input features — where it predicted
better than its rivals, its route strengthens for inputs like those — and a
homeostatic *strength* that follows a usage target, so no cartridge can
monopolise the routing. Both start neutral (weights 0, strength 1): a library
whose routes never learnt routes by its index alone, bit for bit.
Small libraries are searched exactly (one matmul + top-k); large ones
hierarchically: the library's domain centroids first, then exactly inside the
few best domains, read from disk with ``pread`` so that the signature matrix is
never resident as a whole.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from holomind.cartridges.hebbian import hebbian_deltas, usage_error, winner_take_most
from holomind.errors import CorruptFileError


@dataclass
class RouterConfig:
    """How contexts are routed to cartridges."""

    active_k: int = 4  # cartridges active per context (the seed's active_k)
    hebbian_lr: float = 0.05  # η: Hebbian weight change per unit of (share × loss advantage)
    hebbian_weight: float = 1.0  # how far the Hebbian terms (φ·w, log strength) shift a score
    hebbian_decay: float = 0.001  # per update, each learning route's weights decay by this share
    hebbian_max: float = 2.0  # bound on the norm of a cartridge's Hebbian weights
    homeostasis: float = 0.5  # η_h: log-strength change per unit of (usage target − usage)
    strength_min: float = 0.5  # strengths are clipped to [min, max] ...
    strength_max: float = 2.0  # ... so a route can be favoured, never made a monopoly
    inhibition: float = 0.5  # β: lateral inhibition among the chosen (winner-take-most)
    shrinkage: float = 0.01  # discriminant routing: covariance shrinkage toward a scaled identity
    exact_limit: int = 4096  # libraries up to this many cartridges are searched exactly
    probe_domains: int = 2  # hierarchical search: domains searched exactly per query
    prefetch: int = 2  # runners-up per context handed to the library to prefetch


@dataclass
class Route:
    """The router's choice for a batch of contexts."""

    ids: torch.Tensor  # (B, k) chosen cartridge ids, best first
    scores: torch.Tensor  # (B, k) route scores (discriminant or cosine, + Hebbian bias)
    runners_up: list[int]  # ids ranked just below the chosen ones: likely next
    threshold: torch.Tensor | None = None  # (B,) θ: the first runner-up's score

    def activations(self, inhibition: float) -> np.ndarray:
        """Winner-take-most activations (B, k) of the chosen, driven by their scores above θ.

        Computed when asked (by the Hebbian update), so serving does not pay for it.
        """
        if self.threshold is None:
            raise ValueError("this route has no threshold (it was not made by Router.route)")
        drive = (self.scores - self.threshold[:, None]).numpy()
        return winner_take_most(drive, inhibition)


class ExactIndex:
    """All signatures in memory; exact cosine scores by one matrix product."""

    def __init__(self, signatures: np.ndarray) -> None:
        self.signatures = np.ascontiguousarray(signatures, dtype=np.float32)  # (N, C)

    def __len__(self) -> int:
        return self.signatures.shape[0]

    def search(self, queries: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-m (scores, ids) per query, best first."""
        scores = queries @ self.signatures.T  # (B, N)
        return top_m(scores, np.broadcast_to(np.arange(len(self)), scores.shape), m)


class LinearIndex:
    """Scores ``q @ W.T + b`` by one matrix product (the discriminant of `RoutingStatistics`)."""

    def __init__(self, weights: np.ndarray, biases: np.ndarray) -> None:
        self.weights = np.ascontiguousarray(weights, dtype=np.float32)  # (N, C)
        self.biases = np.ascontiguousarray(biases, dtype=np.float32)  # (N,)

    def __len__(self) -> int:
        return self.weights.shape[0]

    def search(self, queries: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-m (scores, ids) per query, best first."""
        scores = queries @ self.weights.T + self.biases  # (B, N)
        return top_m(scores, np.broadcast_to(np.arange(len(self)), scores.shape), m)


class RoutingStatistics:
    """Windows owned and embedding sums per cartridge; the second moment of every embedding.

    ``counts`` (N,), ``sums`` (N, C) and ``moments`` (C, C) are float64 sums, so adding
    an experience's windows is exact and order-free up to rounding.
    """

    def __init__(self, counts: np.ndarray, sums: np.ndarray, moments: np.ndarray) -> None:
        self.counts, self.sums, self.moments = counts, sums, moments

    @classmethod
    def empty(cls, dim: int) -> RoutingStatistics:
        """No cartridge, no window."""
        return cls(np.zeros(0), np.zeros((0, dim)), np.zeros((dim, dim)))

    def grow(self) -> None:
        """Room for one more cartridge (it has owned no window yet)."""
        self.counts = np.append(self.counts, 0.0)
        self.sums = np.concatenate([self.sums, np.zeros((1, self.sums.shape[1]))])

    def add(self, cart_id: int, embeddings: np.ndarray) -> None:
        """Count windows (n, C) as owned by ``cart_id``."""
        e = np.asarray(embeddings, dtype=np.float64)
        self.counts[cart_id] += len(e)
        self.sums[cart_id] += e.sum(axis=0)
        self.moments += e.T @ e

    def mean(self, cart_id: int) -> np.ndarray:
        """The mean embedding of the windows ``cart_id`` owned."""
        return self.sums[cart_id] / self.counts[cart_id]

    def discriminant(
        self, signatures: np.ndarray, shrinkage: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Weights (N, C) and biases (N,) of the Gaussian discriminant; None before any window.

        A cartridge that owned no window yet stands at its signature.
        """
        total = self.counts.sum()
        if total <= 0:
            return None
        owned = self.counts > 0
        means = np.array(signatures, dtype=np.float64)  # (N, C)
        means[owned] = self.sums[owned] / self.counts[owned, None]
        scatter = self.moments - (means[owned].T * self.counts[owned]) @ means[owned]
        dim = scatter.shape[0]
        cov = (1 - shrinkage) * scatter / total + shrinkage * np.trace(
            scatter / total
        ) / dim * np.eye(dim)
        weights = np.linalg.solve(cov, means.T).T  # (N, C): Σ⁻¹ μ
        biases = -0.5 * (weights * means).sum(axis=1)  # equal priors
        return weights, biases


class HierarchicalIndex:
    """Signatures grouped by domain on disk; search probes the best domains' centroids first."""

    def __init__(self, directory: Path, probe_domains: int = 2) -> None:
        meta = json.loads((directory / "hier.json").read_text())
        self.dim, self.count = meta["dim"], meta["count"]
        self.probe = probe_domains
        self.centroids = np.fromfile(directory / "centroids.f32", dtype=np.float32).reshape(
            -1, self.dim
        )  # (D, C)
        self.offsets = np.fromfile(directory / "offsets.i64", dtype=np.int64)  # (D + 1,)
        self._rows = os.open(directory / "by_domain.f32", os.O_RDONLY)
        self._ids = os.open(directory / "by_domain.i64", os.O_RDONLY)

    def __len__(self) -> int:
        return self.count

    def close(self) -> None:
        """Release the file handles."""
        os.close(self._rows)
        os.close(self._ids)

    def search(self, queries: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-m (scores, ids) per query among the members of its best domains."""
        probe = min(self.probe, len(self.centroids))
        domains = np.argsort(-(queries @ self.centroids.T), axis=1)[:, :probe]  # (B, probe)
        out_s = np.full((len(queries), m), -np.inf, dtype=np.float32)
        out_i = np.zeros((len(queries), m), dtype=np.int64)
        for b, q in enumerate(queries):
            spans = [(int(self.offsets[d]), int(self.offsets[d + 1])) for d in domains[b]]
            total = sum(hi - lo for lo, hi in spans)
            rows = np.empty((total, self.dim), dtype=np.float32)  # (members, C)
            ids = np.empty(total, dtype=np.int64)  # (members,)
            at = 0
            for lo, hi in spans:  # read straight into place: no intermediate copies
                os.preadv(self._rows, [rows[at : at + hi - lo]], lo * self.dim * 4)
                os.preadv(self._ids, [ids[at : at + hi - lo]], lo * 8)
                at += hi - lo
            s, i = top_m((rows @ q)[None, :], ids[None, :], m)
            out_s[b, : s.shape[1]], out_i[b, : i.shape[1]] = s[0], i[0]
        return out_s, out_i


class FileVector:
    """A 1-D array in a file, read and written element by element with pread/pwrite.

    Unlike a memmap, it keeps nothing resident: large libraries' per-cartridge
    index arrays (4 MB each at 10^6 cartridges) cost memory only for the
    elements a batch asks for.
    """

    def __init__(self, path: Path, dtype: type, count: int, *, writable: bool = False) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self.count = count
        size = path.stat().st_size if path.is_file() else -1
        if size != count * self.dtype.itemsize:
            raise CorruptFileError(
                f"{path} holds {max(size, 0)} bytes, expected {count * self.dtype.itemsize}",
                hint="restore the library's index from a backup",
            )
        self._fd = os.open(path, os.O_RDWR if writable else os.O_RDONLY)

    def __len__(self) -> int:
        return self.count

    def _offsets(self, index: object) -> np.ndarray:
        ids = np.asarray(index, dtype=np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.count):
            raise IndexError(f"index out of range for {self.path.name} of {self.count}")
        return ids * self.dtype.itemsize

    def __getitem__(self, index: int | np.ndarray) -> np.ndarray:
        """Element(s) at integer index or array of indices (a numpy scalar or array)."""
        offsets = self._offsets(index)
        out = np.empty(offsets.shape, dtype=self.dtype)
        flat, size = out.reshape(-1), self.dtype.itemsize
        for j, offset in enumerate(offsets.reshape(-1).tolist()):
            flat[j : j + 1] = np.frombuffer(os.pread(self._fd, size, offset), self.dtype)
        return out[()] if out.ndim == 0 else out

    def __setitem__(self, index: int | np.ndarray, values: object) -> None:
        """Write element(s) at integer index or array of indices."""
        offsets = self._offsets(index).reshape(-1)
        data = np.broadcast_to(np.asarray(values, dtype=self.dtype), offsets.shape)
        for offset, value in zip(offsets.tolist(), data, strict=True):
            os.pwrite(self._fd, value.tobytes(), offset)

    def read_all(self) -> np.ndarray:
        """The whole array in memory (for one-off rebuilds, never while serving)."""
        return np.fromfile(self.path, dtype=self.dtype, count=self.count)

    def flush(self) -> None:
        """Make the writes so far durable (fsync)."""
        os.fsync(self._fd)

    def close(self) -> None:
        """Release the file handle; idempotent."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def build_hierarchical_index(
    directory: Path, signatures: np.ndarray, domains: np.ndarray, chunk: int = 65536
) -> None:
    """Write the domain-grouped copy of the signatures, domain offsets and unit centroids."""
    directory.mkdir(parents=True, exist_ok=True)
    order = np.argsort(domains, kind="stable")
    sorted_domains = domains[order]
    n_domains = int(domains.max()) + 1 if len(domains) else 0
    offsets = np.searchsorted(sorted_domains, np.arange(n_domains + 1)).astype(np.int64)
    dim = signatures.shape[1]
    sums = np.zeros((n_domains, dim), dtype=np.float64)
    with open(directory / "by_domain.f32", "wb") as f:
        for lo in range(0, len(order), chunk):
            part = np.asarray(signatures[order[lo : lo + chunk]], dtype=np.float32)
            f.write(part.tobytes())
            np.add.at(sums, sorted_domains[lo : lo + chunk], part)
    order.astype(np.int64).tofile(directory / "by_domain.i64")
    offsets.tofile(directory / "offsets.i64")
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    (sums / np.maximum(norms, 1e-12)).astype(np.float32).tofile(directory / "centroids.f32")
    (directory / "hier.json").write_text(json.dumps({"dim": dim, "count": len(order)}))


def top_m(scores: np.ndarray, ids: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The m best (score, id) pairs of each row, best first."""
    m = min(m, scores.shape[1])
    part = np.argpartition(-scores, m - 1, axis=1)[:, :m]  # (B, m) unordered
    s = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-s, axis=1, kind="stable")
    return np.take_along_axis(s, order, axis=1), np.take_along_axis(
        np.asarray(ids), np.take_along_axis(part, order, axis=1), axis=1
    )


class Router:
    """Scores contexts against signatures, picks the top k, and learns routes by local rules."""

    def __init__(
        self,
        config: RouterConfig,
        index: ExactIndex | LinearIndex | HierarchicalIndex,
        strengths: np.ndarray | FileVector,
        hebbian: np.ndarray | None = None,
    ) -> None:
        """``hebbian`` (N, C): each cartridge's weights over input features (None: no such term)."""
        self.config = config
        self.index = index
        self.strengths = strengths
        self.hebbian = hebbian

    @property
    def strengths(self) -> np.ndarray | FileVector:
        """Homeostatic strength per cartridge (N,), around 1; read from disk for large libraries."""
        return self._strengths

    @strengths.setter
    def strengths(self, values: np.ndarray | FileVector) -> None:
        self._strengths = values
        # a plain view of the same memory: indexing a memmap object costs ~0.1 ms per call
        self._view = values.view(np.ndarray) if isinstance(values, np.ndarray) else values

    def route(self, embeddings: torch.Tensor) -> Route:
        """Pick the top ``active_k`` cartridges for each context embedding (B, C)."""
        q = embeddings.detach().float().cpu().numpy()  # (B, C)
        c = self.config
        k = min(c.active_k, len(self.index))
        m = min(len(self.index), 2 * k + c.prefetch)
        base, ids = self.index.search(q, m)  # (B, m)
        bias = np.log(self._view[ids.ravel()]).reshape(ids.shape)  # (B, m)
        if self.hebbian is not None:
            bias = bias + np.einsum("bmc,bc->bm", self.hebbian[ids], q)
        scores, ids = top_m(base + c.hebbian_weight * bias, ids, m)
        threshold = scores[:, k] if m > k else scores[:, k - 1]  # θ: the first runner-up
        runners = [int(i) for i in np.unique(ids[:, k : k + c.prefetch])]
        return Route(
            ids=torch.from_numpy(np.ascontiguousarray(ids[:, :k])),
            scores=torch.from_numpy(np.ascontiguousarray(scores[:, :k])).float(),
            runners_up=runners,
            threshold=torch.from_numpy(np.ascontiguousarray(threshold)).float(),
        )

    def hebbian_update(
        self, embeddings: torch.Tensor, route: Route, losses: torch.Tensor, learners: set[int]
    ) -> None:
        """``Δw_e = η · corr(φ(x), ΔL_e)`` for the ``learners`` among the routed cartridges.

        ``embeddings`` (B, C) are the contexts' φ(x), ``losses`` (B, k) each chosen
        cartridge's own loss on each context (see `cartridges.hebbian`).
        """
        if self.hebbian is None:
            return
        c = self.config
        deltas = hebbian_deltas(
            embeddings.detach().float().cpu().numpy(),
            route.ids.numpy(),
            losses.detach().float().cpu().numpy(),
            route.activations(c.inhibition),
            c.hebbian_lr,
        )
        for e, delta in deltas.items():
            if e not in learners:
                continue
            w = (1.0 - c.hebbian_decay) * self.hebbian[e].astype(np.float64) + delta
            norm = float(np.linalg.norm(w))
            if norm > c.hebbian_max:
                w *= c.hebbian_max / norm
            self.hebbian[e] = w

    def homeostasis_update(
        self, first: np.ndarray, owners: np.ndarray, learners: list[int]
    ) -> None:
        """Move each learner's strength toward its usage target (see `cartridges.hebbian`).

        ``first`` (B,) is each context's first-choice cartridge, ``owners`` (B,) the
        cartridge that owns it.
        """
        if not learners:
            return
        c = self.config
        idx = np.asarray(learners)
        s = np.log(self._view[idx].astype(np.float64))
        s += c.homeostasis * usage_error(first, owners, learners)
        self._view[idx] = np.clip(np.exp(s), c.strength_min, c.strength_max)
