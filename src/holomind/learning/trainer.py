"""`holomind train` in Python: a library's stem (once) and cartridges, trained on one loop.

`Trainer` is the loop of `learning.loop` with the two stages of `learning.stages`:
a new library trains its stem on the first data it sees, then that data's
cartridges; every later run on the same library is a new *experience*: the stem
stays frozen, new domains get new cartridges, and only the cartridges that own
the new data learn.

A run saves everything needed to continue exactly — weights, every optimiser's
moments (each cartridge's with the cartridge), step, stage, phase, the sampler's
and torch's random states, the plugins' state — as one commit of the library
folder (``run/state.json`` + ``run/state.safetensors`` beside the cartridges; see
`cartridges.journal`). `Trainer(..., resume=True)` continues from the last
commit: killed at any step, the resumed run ends with the very weights of an
uninterrupted one (same seed, same device and thread count).
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from holomind.cartridges import (
    CartridgeConfig,
    CartridgeModel,
    Library,
    RouterConfig,
    Stem,
    StemConfig,
    WorkspaceConfig,
)
from holomind.cartridges.journal import Journal
from holomind.cartridges.library import REGISTRY
from holomind.errors import ConfigError, CorruptFileError, InvalidInputError
from holomind.learning.allocator import steady_allocator
from holomind.learning.data import Corpus
from holomind.learning.loop import Loop, Plugin, TrainState
from holomind.learning.plugins import PRESETS, peak_rss_mb, standard_plugins
from holomind.learning.stages import CartridgeStage, StemStage

RUN_STATE = "run/state.json"
RUN_TENSORS = "run/state.safetensors"
RUN_FORMAT = 1


@dataclass
class TrainConfig:
    """Everything `holomind train` can set; defaults are the seed's unless measured better."""

    dim: int = 256  # model width
    stem_depth: int = 4  # transformer blocks in the stem
    n_head: int = 4  # attention heads
    adapted_layers: int = 1  # top stem blocks that carry cartridge adapters
    adapter_rank: int = 16  # LoRA rank per cartridge
    # Linears each adapted block's LoRA adapts: the MLP's both (194 KB cartridges) learn a
    # domain the stem never saw far better than the seed's one (docs/continual.md)
    targets: tuple[str, ...] = ("mlp.c_fc", "mlp.c_proj")
    active_k: int = 4  # active cartridges per context
    slots: int = 2  # workspace winners per position
    route_weight: float = 1.0  # workspace salience per unit of route score (a log-likelihood)
    # When the shared workspace layer learns: in a library's "first" experience only (later
    # experiences then cannot shift how old domains' outputs are mixed), or "always"
    workspace_learns: str = "first"
    batch: int = 32  # windows per step
    seq_len: int = 64  # bytes per window
    lr: float = 1e-2  # cartridge and workspace learning rate (scaled by the phase)
    stem_lr: float = 1e-3  # stem learning rate (cosine-decayed)
    stem_steps: int = 2000  # stem training steps (only when the library has no stem)
    steps: int = 1000  # cartridge training steps
    spawn_threshold: float = 0.5  # cosine below which a document spawns a new cartridge
    cache_size: int = 64  # cartridges kept in host memory
    val_fraction: float = 0.1  # share of each file held out for validation
    log_every: int = 50  # steps between progress lines and metrics
    checkpoint_every: int = 500  # steps between commits (0 = only at stage ends and stops)
    seed: int = 0  # sampling and initialisation seed
    # Phases and parts of the cartridge stage: "holomind" (our measured defaults) or
    # "pragnosia" (seed 004's table exactly, with its intrinsic objectives and freezing)
    preset: str = "holomind"
    intrinsic: bool | None = None  # the intrinsic objectives on/off (None: the preset's choice)
    freezing: bool | None = None  # MaturityFreezing on/off (None: the preset's choice)
    device: str = "cpu"  # "cpu", "cuda" or "auto"
    threads: int = 1  # torch CPU threads

    def __post_init__(self) -> None:
        self.targets = tuple(self.targets)
        for name in ("dim", "stem_depth", "n_head", "adapter_rank", "active_k", "slots", "batch"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.seq_len < 2 or self.steps < 0 or self.stem_steps < 0:
            raise ConfigError("seq_len must be >= 2 and steps, stem_steps >= 0")
        if self.dim % self.n_head:
            raise ConfigError(f"dim {self.dim} must be a multiple of n_head {self.n_head}")
        if not 1 <= self.adapted_layers <= self.stem_depth:
            raise ConfigError(f"adapted_layers must be between 1 and stem_depth {self.stem_depth}")
        if self.preset not in PRESETS:
            raise ConfigError(
                f"unknown preset {self.preset!r}", hint=f"use one of {', '.join(PRESETS)}"
            )
        if self.workspace_learns not in ("first", "always"):
            raise ConfigError(
                f"workspace_learns must be 'first' or 'always', not {self.workspace_learns!r}"
            )
        try:
            CartridgeConfig(rank=self.adapter_rank, targets=self.targets)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
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


# Settings a resumed run may change: none of them changes what is learnt.
# (Threads can change float rounding: an exact resume needs the same count.)
FREE_ON_RESUME = frozenset({"log_every", "checkpoint_every", "threads", "device", "cache_size"})


def library_settings(root: Path) -> dict[str, Any]:
    """The TrainConfig fields a library fixes (its shape and output settings); {} if none."""
    if not (root / REGISTRY).is_file():
        return {}
    try:
        registry = json.loads((root / REGISTRY).read_text())
        stem = json.loads((root / "stem" / "config.json").read_text())
        model = registry.get("model", {})
        return {
            "dim": stem["n_embd"],
            "stem_depth": stem["n_layer"],
            "n_head": stem["n_head"],
            "seq_len": stem["block_size"],
            "adapted_layers": stem["adapted_layers"],
            "adapter_rank": registry["cartridge"]["rank"],
            "targets": tuple(registry["cartridge"]["targets"]),
            "active_k": model.get("router", {}).get("active_k", RouterConfig().active_k),
            "slots": model.get("workspace", {}).get("slots", WorkspaceConfig().slots),
            "route_weight": model.get("workspace", {}).get(
                "route_weight", WorkspaceConfig().route_weight
            ),
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorruptFileError(
            f"the library at {root} is unreadable ({exc})", hint="restore it from a backup"
        ) from None


def saved_run(root: Path) -> dict[str, Any] | None:
    """The last committed run state of the library folder, or None when there is none."""
    path = root / RUN_STATE
    if not path.is_file():
        return None
    try:
        run = json.loads(path.read_text())
        if run.get("format") != RUN_FORMAT:
            raise ValueError(f"unknown format {run.get('format')!r}")
        return run
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptFileError(
            f"{path} is not a training run's state ({exc})",
            hint=f"delete {root / 'run'} to train anew from what the library holds",
        ) from None


def resolve_config(root: Path, values: dict[str, Any], *, resume: bool = False) -> TrainConfig:
    """The settings of a run on ``root``: ``values`` over what the library or run fixes.

    A library fixes its shape and output settings (``dim``, ``active_k``, ``slots``, …);
    a run being resumed fixes every setting but those in ``FREE_ON_RESUME``. A value
    that contradicts them is a ``ConfigError`` naming both.
    """
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(values) - known
    if unknown:
        raise ConfigError(f"unknown settings {sorted(unknown)}", hint=f"known: {', '.join(known)}")
    if resume:
        run = saved_run(root)
        if run is None:
            raise InvalidInputError(
                f"there is no run to resume in {root}", hint="start one without --resume"
            )
        fixed, what = run["config"], "run"
    else:
        fixed, what = library_settings(root), "library"
    for key, value in values.items():
        if key in FREE_ON_RESUME and what == "run":
            continue
        if key in fixed and _norm(fixed[key]) != _norm(value):
            raise ConfigError(
                f"{key} is {fixed[key]!r} in the {what} at {root}, but {value!r} was asked for",
                hint=f"leave {key} out to use the {what}'s, or train into a new --library",
            )
    try:
        return TrainConfig(**{**fixed, **values})
    except TypeError as exc:
        raise ConfigError(f"bad settings ({exc})") from None


def _norm(value: Any) -> Any:
    return list(value) if isinstance(value, tuple | list) else value


class Trainer(Loop):
    """Trains a library's stem (when it has none) and this experience's cartridges on a corpus."""

    def __init__(
        self,
        config: TrainConfig,
        corpus: Corpus,
        library_root: Path,
        plugins: Sequence[Plugin] | None = None,
        *,
        resume: bool = False,
    ) -> None:
        """``plugins`` default to `standard_plugins` (learning rules, phases, checkpoints)."""
        super().__init__([], list(standard_plugins(config) if plugins is None else plugins))
        self.config = config
        self.corpus = corpus
        self.fingerprint = corpus.fingerprint()  # before domain detection names documents
        self.root = library_root
        self.resume = resume
        self.rng = np.random.default_rng(config.seed)
        self.journal = Journal(library_root)
        self.library: Library | None = None
        self.model: CartridgeModel | None = None

    # ---- running ----------------------------------------------------------------------------

    def fit(self) -> TrainState:
        """Run (or resume) the stages; returns the final state (``stopped_early`` on Ctrl-C).

        Training fixes glibc's mmap threshold for the process (`allocator.steady_allocator`)
        so that its peak memory stays the same from one experience to the next.
        """
        steady_allocator()
        torch.manual_seed(self.config.seed)
        handler = None
        if threading.current_thread() is threading.main_thread():
            handler = signal.signal(signal.SIGINT, lambda *_: self.request_stop())
        try:
            self.journal.lock()
            self._prepare()
            self.run()
        finally:
            if handler is not None:
                signal.signal(signal.SIGINT, handler)
            if self.library is not None:
                self.library.close()
            self.journal.unlock()
        return self.state

    def _prepare(self) -> None:
        run = saved_run(self.root)
        if self.resume:
            if run is None:
                raise InvalidInputError(
                    f"there is no run to resume in {self.root}", hint="start one without --resume"
                )
            if run["state"]["done"]:
                raise InvalidInputError(
                    f"the last run in {self.root} finished; there is nothing to resume",
                    hint="train new data without --resume",
                )
            self._restore(run)
            return
        if run is not None and not run["state"]["done"]:
            st = run["state"]
            raise InvalidInputError(
                f"{self.root} holds an unfinished run (stage {st['stage']}, step "
                f"{st['step']} of {st['total']})",
                hint=f"continue it with --resume, or delete {self.root / 'run'} to train anew "
                "from what is saved",
            )
        if Library.exists(self.root):
            self.library = self._open()
            self.stages = [CartridgeStage()]
        else:
            self.stages = [StemStage(), CartridgeStage()]

    def _open(self) -> Library:
        c = self.config
        lib = Library.open(
            self.root,
            device=c.device,
            writable=True,
            journal=self.journal,
            cache_size=c.cache_size,
        )
        for key, value in library_settings(self.root).items():
            if _norm(getattr(c, key)) != _norm(value):
                lib.close()
                raise ConfigError(
                    f"{key} is {value!r} in the library at {self.root}, but the settings ask "
                    f"for {getattr(c, key)!r}",
                    hint="use the library's settings (leave them out) or a new --library",
                )
        return lib

    def create_library(self, stem: Stem) -> Library:
        """The library around a just-trained stem; found as is when a crash came after creating it.

        The stem stage's end is run again after a crash between creating the library
        and committing the run's state; the stem it recomputes is bit-identical, so the
        library on disk is the one to open.
        """
        c = self.config
        if Library.exists(self.root):
            lib = self._open()
            if lib.stem_hash != stem.content_hash():
                lib.close()
                raise CorruptFileError(
                    f"{self.root} holds a stem other than the one this run trained",
                    hint=f"delete {self.root} and train again",
                )
            return lib
        return Library.create(
            self.root,
            stem,
            CartridgeConfig(rank=c.adapter_rank, targets=c.targets),
            router_config=RouterConfig(active_k=c.active_k),
            workspace_config=WorkspaceConfig(slots=c.slots, route_weight=c.route_weight),
            device=c.device,
            cache_size=c.cache_size,
            journal=self.journal,
        )

    def sample(self, batch: int | None = None) -> tuple[torch.Tensor, torch.Tensor, list]:
        """Random windows of the corpus (inputs, next-byte targets, their documents)."""
        x, y, docs = self.corpus.sample(self.rng, batch or self.config.batch)
        dev = self.config.device
        return torch.from_numpy(x).to(dev), torch.from_numpy(y).to(dev), docs

    # ---- saving and resuming ----------------------------------------------------------------

    def checkpoint(self) -> None:
        """Commit the library and everything needed to continue exactly from here."""
        files = self._run_files()
        if self.model is not None:
            self.model.save(files)
        elif self.library is not None:
            self.library.flush(files)
        else:  # the stem stage: no library yet, only the run's state
            for rel, blob in files.items():
                self.journal.write(rel, blob)
            self.journal.commit()

    def _run_files(self) -> dict[str, bytes]:
        from safetensors.torch import save

        s = self.state
        stage_state: dict[str, Any] = {}
        tensors = {"rng.torch": torch.get_rng_state()}
        if s.begun:
            stage_state, stage_tensors = self.stage.state_dict(self)
            tensors.update(stage_tensors)
        run = {
            "format": RUN_FORMAT,
            "config": asdict(self.config),
            "data": self.fingerprint,
            "stages": [stage.name for stage in self.stages],
            "state": s.saved(),
            "stage": stage_state,
            "rng": self.rng.bit_generator.state,
            "plugins": {type(p).__name__: p.state_dict() for p in self.plugins},
        }
        files = {RUN_STATE: json.dumps(run, indent=1).encode(), RUN_TENSORS: save(tensors)}
        return {**files, **self.extra_files()}

    def extra_files(self) -> dict[str, bytes]:
        """More files to commit with each checkpoint (library-relative path → bytes); none here.

        A job built on the trainer (e.g. `holomind.sleep`) returns its own bookkeeping,
        which then lands in the same atomic commit as the cartridges it describes.
        """
        return {}

    def _restore(self, run: dict[str, Any]) -> None:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        if run["data"] != self.fingerprint:
            raise InvalidInputError(
                f"the data is not what the run in {self.root} was training on",
                hint="resume with the same data folder (and --domain), unchanged",
            )
        try:
            tensors = load_file(str(self.root / RUN_TENSORS))
        except (OSError, SafetensorError) as exc:
            raise CorruptFileError(
                f"{self.root / RUN_TENSORS} is unreadable ({exc})",
                hint=f"delete {self.root / 'run'} to train anew from what the library holds",
            ) from None
        makers = {"stem": StemStage, "cartridges": CartridgeStage}
        self.stages = [makers[name]() for name in run["stages"]]
        saved = run["state"]
        for key, value in saved.items():
            setattr(self.state, key, value)
        if self.stage.name == "cartridges":
            self.library = self._open()
        if self.state.begun:
            self.stage.resume(self, run["stage"], tensors)
        by_name = run["plugins"]
        for plugin in self.plugins:
            plugin.load_state_dict(by_name.get(type(plugin).__name__, {}))
        self.rng.bit_generator.state = run["rng"]
        torch.set_rng_state(tensors["rng.torch"])

    # ---- measuring --------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, limit: int = 64) -> dict[str, float]:
        """Validation loss (nats per byte) of the whole model on each domain's held-out text.

        Windows go through in training-sized batches, so evaluating a large domain takes
        no more memory than a training step (peak RSS stays independent of the data).
        """
        assert self.model is not None
        was = self.model.training
        self.model.eval()
        result = {}
        dev, size = self.config.device, self.config.batch
        for name, (x, y) in self.corpus.validation_windows(limit).items():
            total = 0.0
            for lo in range(0, len(x), size):
                xb = torch.from_numpy(x[lo : lo + size]).to(dev)
                out = self.model(xb, torch.from_numpy(y[lo : lo + size]).to(dev))
                total += float(out.loss) * len(xb)
            result[name] = total / len(x)
        self.model.train(was)
        return result

    def trained(self) -> list[int]:
        """The cartridges this experience trains (those owning its documents)."""
        stage = next((st for st in self.stages if isinstance(st, CartridgeStage)), None)
        return sorted(stage.trainable) if stage is not None else []

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
            "trained": self.trained(),
            "val_before": s.val_before,
            "val_after": s.val_after,
            "peak_rss_mb": peak_rss_mb(),
            "config": asdict(self.config),
        }
