"""The training loop: one loop, named life-cycle events, plugins that hook them (as in Avalanche).

`Trainer.fit` runs two stages. **Stem**: if the library has no stem yet, a small
causal transformer is trained once on all the text by ordinary backprop, then
frozen and saved. **Cartridges**: every document is routed to a cartridge
(domain detection spawns one when a document is far from every signature),
then each step samples windows, lets the model route them, and updates only the
active cartridges (each from its own loss), the workspace layer, the Hebbian
strengths and the owners' signatures. Phases, freezing, progress lines,
TensorBoard, workspace metrics and checkpoints are plugins (`learning.plugins`).

Events, in order: ``before_training``, ``before_stem``, ``after_stem``,
``on_spawn``, ``before_cartridges``, ``before_phase``, ``after_training_iteration``,
``after_training``.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from holomind.cartridges import (
    CartridgeConfig,
    CartridgeModel,
    Library,
    RouterConfig,
    Stem,
    StemConfig,
    WorkspaceConfig,
)
from holomind.errors import ConfigError
from holomind.learning.data import Corpus


@dataclass
class TrainConfig:
    """Everything `holomind train` can set; defaults are the seed's."""

    dim: int = 256  # model width
    stem_depth: int = 4  # transformer blocks in the stem
    n_head: int = 4  # attention heads
    adapted_layers: int = 1  # top stem blocks that carry cartridge adapters
    adapter_rank: int = 16  # LoRA rank per cartridge
    active_k: int = 4  # active cartridges per context
    slots: int = 2  # workspace winners per position
    batch: int = 32  # windows per step
    seq_len: int = 64  # bytes per window
    lr: float = 3e-4  # cartridge learning rate (scaled by the phase)
    stem_lr: float = 1e-3  # stem learning rate (cosine-decayed)
    stem_steps: int = 2000  # stem training steps (only when the library has no stem)
    steps: int = 1000  # cartridge training steps
    spawn_threshold: float = 0.5  # cosine below which a document spawns a new cartridge
    signature_rate: float = 0.05  # how fast an owner's signature follows its documents
    cache_size: int = 64  # cartridges kept in host memory
    val_fraction: float = 0.1  # tail of each file held out for validation
    log_every: int = 50  # steps between progress lines and metrics
    checkpoint_every: int = 500  # steps between saves (0 = only at the end)
    seed: int = 0  # sampling and initialisation seed
    device: str = "cpu"  # "cpu", "cuda" or "auto"
    threads: int = 1  # torch CPU threads

    def __post_init__(self) -> None:
        for name in ("dim", "stem_depth", "n_head", "adapter_rank", "active_k", "slots", "batch"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.seq_len < 2 or self.steps < 0 or self.stem_steps < 0:
            raise ConfigError("seq_len must be >= 2 and steps, stem_steps >= 0")
        if self.dim % self.n_head:
            raise ConfigError(f"dim {self.dim} must be a multiple of n_head {self.n_head}")
        if not 1 <= self.adapted_layers <= self.stem_depth:
            raise ConfigError(f"adapted_layers must be between 1 and stem_depth {self.stem_depth}")
        if self.device == "auto":
            self.device = "cuda" if torch.cuda.is_available() else "cpu"
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("device cuda was asked for but no GPU is available", hint="use cpu")

    def stem_config(self) -> StemConfig:
        """The stem shape these settings describe."""
        return StemConfig(
            block_size=self.seq_len,
            n_layer=self.stem_depth,
            n_head=self.n_head,
            n_embd=self.dim,
            adapted_layers=self.adapted_layers,
        )


class Plugin:
    """A hook-set on the training loop; override the events you need."""

    def before_training(self, trainer: Trainer) -> None:
        """Called once, before anything is trained."""

    def before_stem(self, trainer: Trainer) -> None:
        """Called before the stem is trained (only when the library has no stem)."""

    def after_stem(self, trainer: Trainer) -> None:
        """Called when the stem is trained, frozen and saved."""

    def on_spawn(self, trainer: Trainer, cart_id: int) -> None:
        """Called when domain detection spawns a cartridge."""

    def before_cartridges(self, trainer: Trainer) -> None:
        """Called when documents have cartridges and the cartridge steps begin."""

    def before_phase(self, trainer: Trainer) -> None:
        """Called when the cartridge stage enters a new phase."""

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Called after every stem or cartridge step."""

    def after_training(self, trainer: Trainer) -> None:
        """Called once at the end, also after Ctrl-C (the library is saved just before)."""


@dataclass
class TrainState:
    """What the loop is doing now; plugins read and write it."""

    stage: str = "stem"  # "stem" or "cartridges"
    phase: str = "stem"  # stem, representation, alignment, stabilization
    step: int = 0  # steps taken in this stage
    total: int = 0  # steps planned in this stage
    loss: float = math.nan  # this step's loss
    lr_scale: float = 1.0  # the phase's multiplier on the cartridge learning rate
    freeze_threshold: float | None = None  # maturity above which a cartridge freezes
    active: int = 0  # cartridges active this step
    tokens: int = 0  # tokens trained on in this stage
    started: float = field(default_factory=time.perf_counter)
    stopped_early: bool = False  # Ctrl-C
    val_before: dict[str, float] = field(default_factory=dict)
    val_after: dict[str, float] = field(default_factory=dict)


class Trainer:
    """Trains a library's stem (once) and cartridges on a corpus."""

    def __init__(
        self,
        config: TrainConfig,
        corpus: Corpus,
        library_root: Path,
        plugins: Sequence[Plugin] = (),
    ) -> None:
        self.config = config
        self.corpus = corpus
        self.root = library_root
        self.plugins = list(plugins)
        self.state = TrainState()
        self.rng = np.random.default_rng(config.seed)
        self.library: Library | None = None
        self.model: CartridgeModel | None = None
        self._optimizers: dict[int, torch.optim.Optimizer] = {}
        self._stop = threading.Event()

    def emit(self, event: str, *args: Any) -> None:
        """Call one life-cycle event on every plugin."""
        for plugin in self.plugins:
            getattr(plugin, event)(self, *args)

    def request_stop(self) -> None:
        """Finish the current step, save, and stop (what Ctrl-C does)."""
        self._stop.set()

    def fit(self) -> TrainState:
        """Run both stages; returns the final state (``stopped_early`` after Ctrl-C)."""
        torch.manual_seed(self.config.seed)
        handler = None
        if threading.current_thread() is threading.main_thread():
            handler = signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        try:
            self.emit("before_training")
            if Library.exists(self.root):
                self.library = self._open()
            else:
                self.library = self._train_stem()
            if not self._stop.is_set():
                self._train_cartridges()
            self.save()
            self.state.stopped_early = self._stop.is_set()
            self.emit("after_training")
        finally:
            if handler is not None:
                signal.signal(signal.SIGINT, handler)
            if self.library is not None:
                self.library.close()
        return self.state

    def save(self) -> None:
        """Write everything learnt so far."""
        if self.model is not None:
            self.model.save()
        elif self.library is not None:
            self.library.flush()

    def _open(self) -> Library:
        c = self.config
        lib = Library.open(
            self.root,
            device=c.device,
            cache_size=c.cache_size,
            router_config=RouterConfig(active_k=c.active_k),
        )
        if lib.stem.config.block_size != c.seq_len or lib.stem.config.n_embd != c.dim:
            raise ConfigError(
                f"{self.root} has a stem of dim {lib.stem.config.n_embd}, seq "
                f"{lib.stem.config.block_size}; the settings ask for dim {c.dim}, seq {c.seq_len}",
                hint="use the library's shape or a new --library",
            )
        return lib

    # ---- stage 1: the stem -----------------------------------------------------------------

    def _train_stem(self) -> Library:
        c, s = self.config, self.state
        stem = Stem(c.stem_config()).to(c.device)
        s.stage, s.phase, s.step, s.total, s.tokens = "stem", "stem", 0, c.stem_steps, 0
        s.started = time.perf_counter()
        self.emit("before_stem")
        opt = torch.optim.AdamW(stem.parameters(), lr=c.stem_lr, weight_decay=0.01)
        stem.train()
        while s.step < c.stem_steps and not self._stop.is_set():
            lr = c.stem_lr * 0.5 * (1 + math.cos(math.pi * s.step / max(1, c.stem_steps)))
            for group in opt.param_groups:
                group["lr"] = lr
            x, y = self._batch()
            _, loss = stem(x, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(stem.parameters(), 1.0)
            opt.step()
            s.step += 1
            s.loss = loss.item()
            s.tokens += x.numel()
            self.emit("after_training_iteration")
        stem.eval()
        with torch.no_grad():  # centre of the corpus in embedding space (see Stem.embed_center)
            x, _ = self._batch(max(c.batch, 64))
            stem.embed_center.copy_(stem.trunk(x).mean(dim=1).mean(dim=0))
        lib = Library.create(
            self.root,
            stem,
            CartridgeConfig(rank=c.adapter_rank),
            device=c.device,
            cache_size=c.cache_size,
            router_config=RouterConfig(active_k=c.active_k),
        )
        self.emit("after_stem")
        return lib

    def _batch(self, batch: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        x, y, _ = self.corpus.sample(self.rng, batch or self.config.batch)
        dev = self.config.device
        return torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev)

    # ---- stage 2: cartridges ---------------------------------------------------------------

    def _train_cartridges(self) -> None:
        c, s, lib = self.config, self.state, self.library
        assert lib is not None
        model = CartridgeModel(lib, WorkspaceConfig(slots=c.slots))
        self.model = model
        lib.on_evict.append(lambda cart_id: self._optimizers.pop(cart_id, None))
        self._assign_documents()
        s.val_before = self.evaluate()
        s.stage, s.step, s.total, s.tokens = "cartridges", 0, c.steps, 0
        s.started = time.perf_counter()
        self.emit("before_cartridges")
        ws_opt = torch.optim.AdamW(model.binding.parameters(), lr=c.lr)
        model.train()
        while s.step < c.steps and not self._stop.is_set():
            x, y, docs = self.corpus.sample(self.rng, c.batch)
            x_t = torch.from_numpy(x).to(c.device)
            out = model(x_t, torch.from_numpy(y).to(c.device))
            assert out.train_loss is not None and out.loss is not None and out.route is not None
            for cart in out.cartridges:
                cart.zero_grad(set_to_none=True)
            ws_opt.zero_grad(set_to_none=True)
            out.train_loss.backward()
            lr = c.lr * s.lr_scale
            for cart in out.cartridges:
                if cart.state.frozen:
                    continue
                opt = self._optimizer(cart)
                for group in opt.param_groups:
                    group["lr"] = lr
                opt.step()
                lib.mark_dirty(cart.state.id)
            ws_opt.step()
            ids = list(out.cartridge_losses)
            lib.router.hebbian_update(ids, [out.cartridge_losses[i] for i in ids])
            self._track_maturity(out.cartridge_losses)
            self._follow_signatures(out.embeddings, docs)
            s.step += 1
            s.loss = out.loss.item()
            s.active = len(out.cartridges)
            s.tokens += x.size
            self.emit("after_training_iteration")
        s.val_after = self.evaluate()

    def _optimizer(self, cart: Any) -> torch.optim.Optimizer:
        opt = self._optimizers.get(cart.state.id)
        if opt is None or opt.param_groups[0]["params"][0] is not next(cart.parameters()):
            opt = torch.optim.AdamW(cart.parameters(), lr=self.config.lr, weight_decay=0.0)
            self._optimizers[cart.state.id] = opt
        return opt

    def _assign_documents(self) -> None:
        """Domain detection: give every document a cartridge, spawning where none is near."""
        model, lib = self.model, self.library
        assert model is not None and lib is not None
        for doc in self.corpus.documents:
            emb = model.document_embedding(doc.train)
            cart_id, spawned = model.assign(
                emb,
                doc.domain or "",
                spawn_threshold=self.config.spawn_threshold,
                named=doc.domain is not None,
            )
            doc.cartridge = cart_id
            if doc.domain is None:
                doc.domain = lib.domain_names[int(lib.domains[cart_id])]
            if spawned:
                self.emit("on_spawn", cart_id)

    def _track_maturity(self, losses: dict[int, float]) -> None:
        """Fast and slow running means of each cartridge's loss; maturity = how close they are."""
        lib = self.library
        assert lib is not None
        for cart_id, loss in losses.items():
            st = lib.get(cart_id).state
            st.steps += 1
            st.loss_fast = loss if st.loss_fast is None else 0.7 * st.loss_fast + 0.3 * loss
            st.loss_ema = loss if st.loss_ema is None else 0.97 * st.loss_ema + 0.03 * loss
            if st.steps >= 20:
                drift = abs(st.loss_fast - st.loss_ema) / max(st.loss_ema, 1e-6)
                st.maturity = float(max(0.0, 1.0 - 10.0 * drift))

    def _follow_signatures(self, embeddings: torch.Tensor | None, docs: list) -> None:
        """Move each owner's signature toward the embeddings of its own documents' windows."""
        lib = self.library
        assert lib is not None and embeddings is not None
        owners = np.array([d.cartridge for d in docs])
        for cart_id in np.unique(owners):
            mean = embeddings[torch.from_numpy(owners == cart_id)].mean(dim=0)
            sig = torch.from_numpy(np.array(lib.signatures[cart_id])).to(mean)
            rate = self.config.signature_rate
            lib.set_signature(int(cart_id), F.normalize(sig + rate * (mean - sig), dim=-1))

    @torch.no_grad()
    def evaluate(self, limit: int = 64) -> dict[str, float]:
        """Validation loss (nats per byte) of the whole model on each domain's held-out text."""
        assert self.model is not None
        was = self.model.training
        self.model.eval()
        result = {}
        for name, (x, y) in self.corpus.validation_windows(limit).items():
            dev = self.config.device
            out = self.model(torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev))
            result[name] = float(out.loss)
        self.model.train(was)
        return result

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account of the run."""
        s = self.state
        return {
            "stage": s.stage,
            "phase": s.phase,
            "step": s.step,
            "loss": s.loss,
            "stopped_early": s.stopped_early,
            "cartridges": len(self.library) if self.library else 0,
            "val_before": s.val_before,
            "val_after": s.val_after,
            "config": asdict(self.config),
        }
