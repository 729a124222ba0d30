"""The cartridge library: disk → LRU host cache → active set, in constant memory.

Layout (the seed's)::

    library/
      registry.json                 what the library is: stem hash, cartridge shape, domains,
                                    count, and the settings that shape its outputs (active_k, slots)
      stem/                         stem.safetensors + config.json + tokenizer.json
      workspace.safetensors         the workspace layer's salience weights
      index/                        signatures.f32 (N, C), domains.i32, locals.i32, strengths.f32,
                                    hebbian.f32 (N, C) (the routes' Hebbian weights),
                                    routing statistics counts.f64 (N,), sums.f64 (N, C),
                                    moments.f64 (C, C) (see router.RoutingStatistics)
      index/hier/                   domain-grouped signatures for hierarchical routing (large N)
      domain_XXX/cart_YYYY/         weights.safetensors + optimizer.safetensors + meta.json
      run/                          a training run's state, for an exact resume (learning.Trainer)

Every change a writer makes is staged and committed as one (`journal.Journal`):
the files on disk are always one committed state, so a process killed at any
moment loses only the work since the last commit, never the library.

Only the cartridges a batch needs are resident: the cache holds at most
``cache_size`` (plus the ones pinned by the batch in flight), evicts the least
recently used, writes back those that learned, and loads the router's
runners-up in a background thread so the next batch finds them ready. The
index files are read into memory only for small libraries; large ones are
searched from disk by the hierarchical router.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from holomind.cartridges.binding import WorkspaceConfig
from holomind.cartridges.cartridge import (
    META,
    WEIGHTS,
    Cartridge,
    CartridgeConfig,
    CartridgeState,
)
from holomind.cartridges.journal import Journal
from holomind.cartridges.router import (
    ExactIndex,
    FileVector,
    HierarchicalIndex,
    LinearIndex,
    Router,
    RouterConfig,
    RoutingStatistics,
    build_hierarchical_index,
)
from holomind.cartridges.stem import Stem
from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError

REGISTRY = "registry.json"
FORMAT = 1


class Library:
    """A folder of cartridges on one stem, with an LRU cache and a router over their signatures."""

    def __init__(
        self,
        root: Path,
        stem: Stem,
        cartridge_config: CartridgeConfig,
        registry: dict,
        *,
        cache_size: int = 64,
        router_config: RouterConfig | None = None,
        device: str = "cpu",
        journal: Journal | None = None,
    ) -> None:
        self.root = root
        self.journal = journal or Journal(root)
        self.stem = stem
        self.stem_hash = registry["stem_hash"]
        self.cartridge_config = cartridge_config
        self.registry = registry
        self.cache_size = max(1, cache_size)
        self.device = device
        self.on_evict: list[Callable[[int], None]] = []
        self._cache: OrderedDict[int, Cartridge] = OrderedDict()
        self._dirty: set[int] = set()
        self._pinned: set[int] = set()
        self._staged: set[int] = set()  # written out since the last commit (evicted while dirty)
        self._pending: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cartridge-prefetch")
        self._closed = False
        self.loads = 0  # disk reads so far (cache misses)
        self._load_index()
        self.router = self._make_router(router_config or self.router_config)

    # ---- creating and opening -------------------------------------------------------------

    @classmethod
    def create(
        cls,
        root: Path,
        stem: Stem,
        cartridge_config: CartridgeConfig,
        *,
        router_config: RouterConfig | None = None,
        workspace_config: WorkspaceConfig | None = None,
        extra_files: dict[str, bytes] | None = None,
        **kwargs,
    ) -> Library:
        """Start an empty library around a trained stem (saved into it, then frozen).

        The settings that shape the library's outputs (``active_k``, ``slots``, …) are
        saved with it; ``extra_files`` (relative path → bytes) join the same commit.
        The returned library holds the folder's write lock (or uses the locked
        ``journal`` given) until `close`.
        """
        if (root / REGISTRY).exists():
            raise InvalidInputError(
                f"{root} already holds a cartridge library", hint="open it instead"
            )
        journal = kwargs.pop("journal", None) or Journal(root)
        if not journal.locked:
            journal.lock()
        router_config = router_config or RouterConfig()
        registry = {
            "format": FORMAT,
            "stem_hash": stem.content_hash(),
            "dim": stem.config.n_embd,
            "cartridge": {
                "rank": cartridge_config.rank,
                "targets": list(cartridge_config.targets),
            },
            "model": {
                "router": asdict(router_config),
                "workspace": asdict(workspace_config or WorkspaceConfig()),
            },
            "routing_statistics": True,
            "count": 0,
            "domains": [],
        }
        for name, blob in stem.files().items():
            journal.write(f"stem/{name}", blob)
        lib = cls(
            root,
            stem.freeze(),
            cartridge_config,
            registry,
            router_config=router_config,
            journal=journal,
            **kwargs,
        )
        lib.flush(extra_files)
        return lib

    @classmethod
    def open(cls, root: Path, *, device: str = "cpu", writable: bool = False, **kwargs) -> Library:
        """Open a library: read its registry and stem (hash-checked), but no cartridge.

        ``writable`` takes the folder's write lock (one writer at a time; or uses the
        locked ``journal`` given) and reads each cartridge with its optimiser moments,
        as training needs.
        """
        path = root / REGISTRY
        journal = kwargs.pop("journal", None) or Journal(root)
        if writable and path.is_file() and not journal.locked:
            journal.lock()
        elif root.is_dir():
            journal.settle()
        if not path.is_file():
            journal.unlock()
            raise MissingFileError(
                f"no cartridge library at {root} (no {REGISTRY})",
                hint="train one with `holomind train DATA_DIR --library DIR`",
            )
        try:
            registry = json.loads(path.read_text())
            if registry.get("format") != FORMAT:
                raise ValueError(f"unknown format {registry.get('format')!r}")
            config = CartridgeConfig(
                rank=registry["cartridge"]["rank"], targets=tuple(registry["cartridge"]["targets"])
            )
            settings = registry.get("model", {})
            RouterConfig(**settings.get("router", {}))
            WorkspaceConfig(**settings.get("workspace", {}))
        except (ValueError, KeyError, TypeError) as exc:
            journal.unlock()
            raise CorruptFileError(
                f"{path} is not a cartridge registry ({exc})", hint="restore it from a backup"
            ) from None
        stem = Stem.load(root / "stem", device=device)
        if stem.content_hash() != registry["stem_hash"]:
            journal.unlock()
            raise CorruptFileError(
                f"the stem in {root / 'stem'} is not the one {path} names",
                hint="put back the library's own stem",
            )
        return cls(root, stem, config, registry, device=device, journal=journal, **kwargs)

    @property
    def writable(self) -> bool:
        """Whether this process holds the write lock (and so reads optimiser moments)."""
        return self.journal.locked

    @property
    def router_config(self) -> RouterConfig:
        """The routing settings saved with the library (the seed's defaults when none are)."""
        return RouterConfig(**self.registry.get("model", {}).get("router", {}))

    @property
    def workspace_config(self) -> WorkspaceConfig:
        """The workspace layer's settings saved with the library."""
        return WorkspaceConfig(**self.registry.get("model", {}).get("workspace", {}))

    @staticmethod
    def exists(root: Path) -> bool:
        """Whether root holds a library."""
        return (root / REGISTRY).is_file()

    # ---- the index (signatures, domains, strengths) ----------------------------------------

    def _load_index(self) -> None:
        n, dim, idx = self.registry["count"], self.registry["dim"], self.root / "index"
        self.large = n > RouterConfig().exact_limit
        self.statistics: RoutingStatistics | None = None
        self.hebbian: np.ndarray | None = None  # (N, C); large libraries route without
        if self.large:
            # The per-cartridge vectors are never mapped: a mapped page a lookup touches
            # stays resident (and the kernel maps ~16 neighbours with it), so serving's
            # memory grew with the library's size (+10 MB at 10^6). Reads and writes by
            # pread/pwrite leave nothing behind. The signatures stay mapped: serving
            # routes through the hierarchical index's own files and never touches them.
            self.signatures = np.memmap(idx / "signatures.f32", np.float32, "r+", shape=(n, dim))
            self.domains = FileVector(idx / "domains.i32", np.int32, n)
            self.locals = FileVector(idx / "locals.i32", np.int32, n)
            self.strengths = FileVector(idx / "strengths.f32", np.float32, n, writable=True)
            return
        try:
            self.signatures = _read(idx / "signatures.f32", np.float32, n * dim).reshape(n, dim)
            self.domains = _read(idx / "domains.i32", np.int32, n)
            self.locals = _read(idx / "locals.i32", np.int32, n)
            self.strengths = _read(idx / "strengths.f32", np.float32, n)
            # libraries from before input-dependent routes have no file: all routes neutral
            hebbian = idx / "hebbian.f32"
            self.hebbian = (
                _read(hebbian, np.float32, n * dim).reshape(n, dim)
                if hebbian.is_file()
                else np.zeros((n, dim), dtype=np.float32)
            )
            if self.registry.get("routing_statistics") and n == 0:
                self.statistics = RoutingStatistics.empty(dim)
            elif self.registry.get("routing_statistics"):
                self.statistics = RoutingStatistics(
                    _read(idx / "counts.f64", np.float64, n),
                    _read(idx / "sums.f64", np.float64, n * dim).reshape(n, dim),
                    _read(idx / "moments.f64", np.float64, dim * dim).reshape(dim, dim),
                )
        except ValueError as exc:
            raise CorruptFileError(
                f"the index in {idx} is damaged ({exc})", hint="restore it from a backup"
            ) from None

    def _make_router(self, config: RouterConfig) -> Router:
        if len(self) > config.exact_limit:
            hier = self.root / "index" / "hier"
            meta = hier / "hier.json"
            if not meta.is_file() or json.loads(meta.read_text())["count"] != len(self):
                build_hierarchical_index(hier, self.signatures, self.domains.read_all())
            index: ExactIndex | HierarchicalIndex = HierarchicalIndex(hier, config.probe_domains)
        else:
            index = self._small_index(config)
        return Router(config, index, self.strengths, self.hebbian)

    def _small_index(self, config: RouterConfig) -> ExactIndex | LinearIndex:
        """The discriminant when the library has routing statistics, else the cosine."""
        if self.statistics is not None:
            found = self.statistics.discriminant(self.signatures, config.shrinkage)
            if found is not None:
                return LinearIndex(*found)
        return ExactIndex(self.signatures)

    def add_statistics(self, cart_id: int, embeddings: torch.Tensor) -> None:
        """Count context embeddings (n, C) as windows ``cart_id`` owns; its signature follows.

        The router is rebuilt by `refresh_router` (once per batch, not per cartridge).
        A frozen cartridge's statistics and signature stay as they are.
        """
        if cart_id in self.frozen_ids:
            return
        if self.statistics is None:  # a library from before routing statistics: start them
            self._check_writable()
            dim = self.signatures.shape[1]
            self.statistics = RoutingStatistics(
                np.zeros(len(self)), np.zeros((len(self), dim)), np.zeros((dim, dim))
            )
            self.registry["routing_statistics"] = True
        self.statistics.add(cart_id, embeddings.detach().double().cpu().numpy())
        self.set_signature(cart_id, torch.from_numpy(self.statistics.mean(cart_id)))

    def refresh_router(self) -> None:
        """Rebuild the router's index from the current signatures and statistics."""
        self.router.index = self._small_index(self.router.config)

    def __len__(self) -> int:
        return int(self.registry["count"])

    @property
    def domain_names(self) -> list[str]:
        """Domain names by domain number."""
        return [d["name"] for d in self.registry["domains"]]

    def domain_id(self, name: str) -> int:
        """The number of a domain, adding the domain if it is new."""
        names = self.domain_names
        if name in names:
            return names.index(name)
        self.registry["domains"].append({"id": len(names), "name": name, "count": 0})
        return len(names)

    def path_of(self, cart_id: int) -> Path:
        """The folder of cartridge ``cart_id``."""
        if not 0 <= cart_id < len(self):
            raise InvalidInputError(
                f"no cartridge {cart_id} in {self.root} (it has {len(self)})",
                hint="see `holomind cartridges list`",
            )
        return (
            self.root
            / f"domain_{int(self.domains[cart_id]):03d}"
            / (f"cart_{int(self.locals[cart_id]):04d}")
        )

    # ---- cartridges -------------------------------------------------------------------------

    def spawn(self, domain: int, signature: torch.Tensor, parent: int | None = None) -> Cartridge:
        """Create a cartridge in a domain, initialised from ``parent`` when given."""
        if self.large:
            raise InvalidInputError(
                f"{self.root} is a large library; spawning is supported up to "
                f"{RouterConfig().exact_limit} cartridges",
                hint="start a new library for new domains",
            )
        new_id = len(self)
        entry = self.registry["domains"][domain]
        lineage: list[int] = []
        if parent is not None:
            lineage = [*self.get(parent).state.lineage, parent]
        state = CartridgeState(
            id=new_id, domain=domain, name=entry["name"], parent=parent, lineage=lineage
        )
        cart = Cartridge(self.cartridge_config, self.stem.config, state)
        if parent is not None:
            cart.copy_from(self.get(parent))
        cart.set_signature(signature)
        cart.to(self.device)
        sig = cart.signature.detach().cpu().numpy()[None, :]
        self.signatures = np.concatenate([self.signatures, sig])
        self.domains = np.append(self.domains, np.int32(domain))
        self.locals = np.append(self.locals, np.int32(entry["count"]))
        self.strengths = np.append(self.strengths, np.float32(1.0))
        self.hebbian = np.concatenate([self.hebbian, np.zeros_like(sig)])
        if self.statistics is not None:
            self.statistics.grow()
        entry["count"] += 1
        self.registry["count"] = new_id + 1
        if parent is not None:  # lineage, readable without opening every cartridge
            self.registry.setdefault("parents", {})[str(new_id)] = parent
        self.refresh_router()
        self.router.strengths, self.router.hebbian = self.strengths, self.hebbian
        with self._lock:
            self._cache[new_id] = cart
        self._dirty.add(new_id)
        self._evict()
        return cart

    def freeze(self, cart_id: int) -> None:
        """Stop a cartridge learning for good: it still routes and predicts, its files never
        change again, and new data for it goes to a child (`CartridgeModel.assign`)."""
        self._check_writable()
        cart = self.get(cart_id)
        if cart.state.frozen:
            return
        cart.state.frozen = True
        cart.requires_grad_(False)
        self.registry["frozen"] = sorted({*self.frozen_ids, cart_id})
        self._dirty.add(cart_id)

    @property
    def frozen_ids(self) -> list[int]:
        """The frozen cartridges (kept in the registry, so no cartridge is read to know)."""
        return list(self.registry.get("frozen", []))

    def set_signature(self, cart_id: int, vector: torch.Tensor) -> None:
        """Move a cartridge's signature (its domain identity) to a new unit vector."""
        cart = self.get(cart_id)
        cart.set_signature(vector)
        self.signatures[cart_id] = cart.signature.detach().cpu().numpy()
        self._dirty.add(cart_id)

    def get(self, cart_id: int) -> Cartridge:
        """A cartridge, from the cache or (a miss) from disk."""
        with self._lock:
            cart = self._cache.get(cart_id)
            if cart is not None:
                self._cache.move_to_end(cart_id)
                return cart
            pending = self._pending.pop(cart_id, None)
        cart = pending.result() if pending is not None else self._read(cart_id)
        with self._lock:
            self._cache[cart_id] = cart
            self._cache.move_to_end(cart_id)
        self._evict()
        return cart

    def activate(self, ids: list[int]) -> list[Cartridge]:
        """Load and pin the cartridges a batch needs; the previous batch's are unpinned."""
        self._pinned = set(ids)
        return [self.get(i) for i in ids]

    def prefetch(self, ids: list[int]) -> None:
        """Start loading likely-next cartridges in the background.

        Loads finished since the last call join the cache (and so its LRU bound)
        whether or not they were used; at most ``cache_size`` loads are in flight.
        """
        if self._closed:
            return
        with self._lock:
            done = [i for i, f in self._pending.items() if f.done()]
            for i in done:
                self._cache[i] = self._pending.pop(i).result()
            for i in ids:
                if len(self._pending) >= self.cache_size:
                    break
                if i not in self._cache and i not in self._pending and 0 <= i < len(self):
                    self._pending[i] = self._pool.submit(self._read, i)
        self._evict()

    def mark_dirty(self, cart_id: int) -> None:
        """Note that a cached cartridge changed and must be written back."""
        self._dirty.add(cart_id)

    def cached_ids(self) -> list[int]:
        """Ids resident in the host cache, least recently used first."""
        with self._lock:
            return list(self._cache)

    def _read(self, cart_id: int) -> Cartridge:
        rel = self._rel(cart_id)
        folder = self.journal.staging / rel if cart_id in self._staged else self.root / rel
        cart = Cartridge.load(
            folder,
            self.stem_hash,
            self.stem.config,
            self.cartridge_config,
            with_optimizer=self.writable,
        )
        # The index, not the file, is the authority on where a cartridge lives.
        cart.state.id, cart.state.domain = cart_id, int(self.domains[cart_id])
        cart.requires_grad_(not cart.state.frozen)
        self.loads += 1
        return cart.to(self.device)

    def _evict(self) -> None:
        while True:
            with self._lock:
                if len(self._cache) <= self.cache_size:
                    return
                victim = next((i for i in self._cache if i not in self._pinned), None)
                if victim is None:
                    return
                cart = self._cache[victim]
            # Written out while still cached: a prefetch of it meanwhile would read stale files.
            if victim in self._dirty:
                self._write(cart)
            with self._lock:
                self._cache.pop(victim)
            for callback in self.on_evict:
                callback(victim)

    def _check_writable(self) -> None:
        if not self.writable:
            raise InvalidInputError(
                f"{self.root} was opened read-only", hint="open it with writable=True to train"
            )

    def _rel(self, cart_id: int) -> str:
        return str(self.path_of(cart_id).relative_to(self.root))

    def _write(self, cart: Cartridge) -> None:
        self._check_writable()
        rel = self._rel(cart.state.id)
        for name, blob in cart.files(self.stem_hash).items():
            self.journal.write(f"{rel}/{name}", blob)
        self._staged.add(cart.state.id)
        self._dirty.discard(cart.state.id)

    def flush(self, extra_files: dict[str, bytes] | None = None) -> None:
        """Commit every change as one: cartridges, index, registry and ``extra_files``.

        ``extra_files`` maps paths relative to the library to their new bytes (a
        training run's state, the workspace layer). A crash at any point leaves the
        previous commit or this one on disk, never a mixture.
        """
        with self._lock:
            pending = list(self._pending.values())
        wait(pending)  # no background read may race the moves below
        with self._lock:
            dirty = [self._cache[i] for i in sorted(self._dirty) if i in self._cache]
        for cart in dirty:
            self._write(cart)
        self._check_writable()
        if self.large:  # its index is written in place (large libraries are served, not trained)
            self.signatures.flush()
            self.strengths.flush()
        else:
            arrays = [
                ("signatures.f32", self.signatures, np.float32),
                ("domains.i32", self.domains, np.int32),
                ("locals.i32", self.locals, np.int32),
                ("strengths.f32", self.strengths, np.float32),
                ("hebbian.f32", self.hebbian, np.float32),
            ]
            if self.statistics is not None:
                arrays += [
                    ("counts.f64", self.statistics.counts, np.float64),
                    ("sums.f64", self.statistics.sums, np.float64),
                    ("moments.f64", self.statistics.moments, np.float64),
                ]
            for name, values, dtype in arrays:
                self.journal.write(f"index/{name}", values.astype(dtype).tobytes())
        for rel, blob in (extra_files or {}).items():
            self.journal.write(rel, blob)
        self.journal.write(REGISTRY, json.dumps(self.registry, indent=2).encode())
        self.journal.commit()
        self._staged.clear()

    def close(self) -> None:
        """Stop the prefetch thread, release index files and the write lock (no flush)."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True)
        self.journal.unlock()
        if isinstance(self.router.index, HierarchicalIndex):
            self.router.index.close()
        for vector in (self.domains, self.locals, self.strengths):
            if isinstance(vector, FileVector):
                vector.close()

    def meta(self, cart_id: int) -> dict:
        """One cartridge's meta.json, plus its id, folder, size and Hebbian strength."""
        path = self.path_of(cart_id)
        try:
            meta = json.loads((path / META).read_text())
            size = (path / WEIGHTS).stat().st_size
        except (OSError, ValueError) as exc:
            raise CorruptFileError(
                f"cannot read cartridge {path} ({exc})", hint="restore it or delete the folder"
            ) from None
        meta.update(
            id=cart_id,
            path=str(path.relative_to(self.root)),
            size_bytes=size,
            strength=float(self.strengths[cart_id]),
        )
        return meta

    def iter_meta(self) -> Iterator[dict]:
        """Each cartridge's meta (see `meta`), in id order, read one at a time."""
        for cart_id in range(len(self)):
            yield self.meta(cart_id)


def _read(path: Path, dtype: type, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros(0, dtype=dtype)
    data = np.fromfile(path, dtype=dtype)
    if data.size != count:
        raise ValueError(f"{path.name} holds {data.size} values, expected {count}")
    return data
