"""A cartridge: one domain's expert, a few LoRA adapters and an output head on the frozen stem.

Kept apart like PEFT's config / layer / model: ``CartridgeConfig`` says what is
adapted, ``Cartridge`` holds the tensors and its life-cycle state, and
``stack_adapters`` turns several cartridges into per-stream adapters for one
batched pass through the stem's top blocks. On disk a cartridge is a folder with
``weights.safetensors`` (adapters, head, signature), ``optimizer.safetensors``
(its own AdamW moments, once it has trained) and ``meta.json`` (what it adapts,
which stem, maturity, frozen, lineage, the other files' SHA-256).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from holomind.cartridges.journal import read_verified
from holomind.cartridges.optim import load_optimizer_tensors, optimizer_tensors
from holomind.cartridges.stem import Adapters, StemConfig
from holomind.errors import CorruptFileError, MissingFileError, StemMismatchError
from holomind.files import atomic_write_bytes

WEIGHTS = "weights.safetensors"
OPTIMIZER = "optimizer.safetensors"
META = "meta.json"
FORMAT = 1

# in/out width of each Linear a cartridge may adapt, as multiples of n_embd
_TARGET_SHAPES = {
    "attn.c_attn": (1, 3),
    "attn.c_proj": (1, 1),
    "mlp.c_fc": (1, 4),
    "mlp.c_proj": (4, 1),
}


@dataclass
class CartridgeConfig:
    """What a cartridge adapts; shared by every cartridge of a library."""

    rank: int = 16  # LoRA rank of every adapter and of the output head
    # Linears adapted in each top block; the block's last one, so that the backward pass
    # to the adapters stays short (training then outpaces a dense model of the same size)
    targets: tuple[str, ...] = ("mlp.c_proj",)
    init_std: float = 0.02  # std of the LoRA A matrices (B starts at zero: a new cartridge = stem)

    def __post_init__(self) -> None:
        self.targets = tuple(self.targets)
        unknown = set(self.targets) - set(_TARGET_SHAPES)
        if unknown:
            raise ValueError(
                f"unknown LoRA targets {sorted(unknown)}; use {sorted(_TARGET_SHAPES)}"
            )
        if self.rank < 1:
            raise ValueError(f"rank must be at least 1, got {self.rank}")


@dataclass
class CartridgeState:
    """A cartridge's identity and life-cycle, kept in meta.json."""

    id: int = 0  # global id in the library; its folder is domain_XXX/cart_YYYY
    domain: int = 0  # domain number (domain_XXX)
    name: str = ""  # domain name, e.g. the data sub-folder it was trained on
    parent: int | None = None  # the cartridge it was initialised from (knowledge building)
    lineage: list[int] = field(default_factory=list)  # ancestors, oldest first
    maturity: float = 0.0  # 0..1: how settled its loss is
    frozen: bool = False  # a frozen cartridge routes and predicts but no longer learns
    steps: int = 0  # training steps it has taken part in
    loss_window: list[float] = field(default_factory=list)  # its last own losses (maturity)
    created: float = field(default_factory=time.time)  # unix time of spawning


class Cartridge(nn.Module):
    """LoRA adapters for the stem's top blocks, a low-rank output head, and a signature."""

    def __init__(
        self,
        config: CartridgeConfig,
        stem_config: StemConfig,
        state: CartridgeState | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.stem_config = stem_config
        self.state = state or CartridgeState()
        C, V, r = stem_config.n_embd, stem_config.vocab_size, config.rank
        self.lora = nn.ParameterDict()
        for layer in range(stem_config.n_layer - stem_config.adapted_layers, stem_config.n_layer):
            for target in config.targets:
                fin, fout = (m * C for m in _TARGET_SHAPES[target])
                key = _key(layer, target)
                self.lora[key + "_A"] = nn.Parameter(torch.randn(fin, r) * config.init_std)
                self.lora[key + "_B"] = nn.Parameter(torch.zeros(r, fout))
        self.head_A = nn.Parameter(torch.randn(C, r) * config.init_std)  # (C, r)
        self.head_B = nn.Parameter(torch.zeros(r, V))  # (r, V)
        self.head_bias = nn.Parameter(torch.zeros(V))  # (V,)
        self.register_buffer("signature", torch.zeros(C))  # (C,) the domain's identity
        self._optimizer: torch.optim.AdamW | None = None
        self._moments: dict[str, torch.Tensor] | None = None  # read from disk, not yet bound

    def optimizer(self, lr: float) -> torch.optim.Optimizer:
        """This cartridge's own AdamW at learning rate ``lr``; its moments are saved with it."""
        if self._optimizer is None:
            self._optimizer = torch.optim.AdamW(self.parameters(), lr=lr, weight_decay=0.0)
            if self._moments is not None:
                load_optimizer_tensors(self._optimizer, self._param_names(), self._moments)
                self._moments = None
        for group in self._optimizer.param_groups:
            group["lr"] = lr
        return self._optimizer

    def _param_names(self) -> list[str]:
        return [name for name, _ in self.named_parameters()]

    def _flat_moments(self) -> dict[str, torch.Tensor] | None:
        if self._optimizer is None or not self._optimizer.state:
            return self._moments
        return optimizer_tensors(self._optimizer, self._param_names())

    def set_signature(self, vector: torch.Tensor) -> None:
        """Replace the signature with a unit-length copy of vector."""
        self.signature.copy_(F.normalize(vector.detach().to(self.signature), dim=-1))

    def num_bytes(self) -> int:
        """Size of the tensors stored on disk."""
        return sum(t.numel() * t.element_size() for t in self._tensors().values())

    def _tensors(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().cpu().contiguous() for k, v in self._all_tensors().items()}

    def copy_from(self, parent: Cartridge) -> None:
        """Start from another cartridge's weights (its knowledge), keeping our own identity."""
        with torch.no_grad():
            for (_, mine), (_, theirs) in zip(
                sorted(self._all_tensors().items()),
                sorted(parent._all_tensors().items()),
                strict=True,
            ):
                mine.copy_(theirs)

    def _all_tensors(self) -> dict[str, torch.Tensor]:
        named = dict(self.named_parameters())
        named["signature"] = self.signature
        return named

    def files(self, stem_hash: str) -> dict[str, bytes]:
        """The cartridge's files by name; meta.json (last) records the others' SHA-256."""
        from safetensors.torch import save

        out = {WEIGHTS: save(self._tensors())}
        moments = self._flat_moments()
        if moments is not None:
            out[OPTIMIZER] = save(moments)
        meta = {
            "format": FORMAT,
            "stem_hash": stem_hash,
            "rank": self.config.rank,
            "targets": list(self.config.targets),
            "adapted_layers": self.stem_config.adapted_layers,
            "weights_sha256": hashlib.sha256(out[WEIGHTS]).hexdigest(),
            "optimizer_sha256": hashlib.sha256(out[OPTIMIZER]).hexdigest()
            if OPTIMIZER in out
            else None,
            **asdict(self.state),
        }
        out[META] = json.dumps(meta, indent=2).encode()
        return out

    def save(self, directory: Path, stem_hash: str) -> None:
        """Write the files into directory, each atomically, meta.json last."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, blob in self.files(stem_hash).items():
            atomic_write_bytes(directory / name, blob)

    @classmethod
    def load(
        cls,
        directory: Path,
        stem_hash: str,
        stem_config: StemConfig,
        config: CartridgeConfig | None = None,
        *,
        with_optimizer: bool = False,
    ) -> Cartridge:
        """Read a cartridge (its AdamW moments too when asked); refuse a mismatched one."""
        from safetensors import SafetensorError
        from safetensors.torch import load

        meta_path, weights_path = directory / META, directory / WEIGHTS
        for p in (meta_path, weights_path):
            if not p.is_file():
                raise MissingFileError(f"cartridge file {p} is missing")
        try:
            meta = json.loads(meta_path.read_text())
            if meta.get("format") != FORMAT:
                raise ValueError(f"unknown format {meta.get('format')!r}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptFileError(
                f"{meta_path} is not a cartridge meta.json ({exc})",
                hint="restore the file or delete the cartridge folder",
            ) from None
        if meta.get("stem_hash") != stem_hash:
            raise StemMismatchError(
                f"cartridge {directory} was made on stem {str(meta.get('stem_hash'))[:12]}…, "
                f"not on this stem {stem_hash[:12]}…",
                hint="load it into the library whose stem made it",
            )
        hint = "the file was changed or truncated; restore it or delete the cartridge"
        blob = read_verified(weights_path, meta.get("weights_sha256"), hint)
        moments = None
        if with_optimizer and meta.get("optimizer_sha256"):
            moments = read_verified(directory / OPTIMIZER, meta["optimizer_sha256"], hint)
        try:
            config = config or CartridgeConfig(rank=meta["rank"], targets=tuple(meta["targets"]))
            known = {f for f in CartridgeState.__dataclass_fields__}
            state = CartridgeState(**{k: v for k, v in meta.items() if k in known})
            cart = cls(config, stem_config, state)
            cart._load_tensors(load(blob))
            if moments is not None:
                cart._moments = load(moments)
        except (KeyError, TypeError, ValueError, RuntimeError, SafetensorError) as exc:
            raise CorruptFileError(
                f"cartridge {directory} does not fit this stem ({exc})",
                hint="its rank, targets or sizes differ from the library's",
            ) from None
        return cart

    def _load_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        mine = self._all_tensors()
        if set(tensors) != set(mine):
            raise ValueError(f"tensor names differ: {sorted(set(tensors) ^ set(mine))}")
        with torch.no_grad():
            for name, t in tensors.items():
                if t.shape != mine[name].shape:
                    raise ValueError(f"{name} has shape {tuple(t.shape)}")
                mine[name].copy_(t)


def _key(layer: int, target: str) -> str:
    return f"h{layer}_{target.replace('.', '_')}"


def stack_adapters(cartridges: list[Cartridge], index: torch.Tensor) -> list[Adapters]:
    """Per top block, LoRA (A, B) gathered so that stream n uses cartridges[index[n]]."""
    first = cartridges[0]
    sc = first.stem_config
    out: list[Adapters] = []
    for layer in range(sc.n_layer - sc.adapted_layers, sc.n_layer):
        adapters: Adapters = {}
        for target in first.config.targets:
            key = _key(layer, target)
            a = torch.stack([c.lora[key + "_A"] for c in cartridges])[index]  # (N, in, r)
            b = torch.stack([c.lora[key + "_B"] for c in cartridges])[index]  # (N, r, out)
            adapters[target] = (a, b)
        out.append(adapters)
    return out


def stack_heads(
    cartridges: list[Cartridge], index: torch.Tensor, h: torch.Tensor, base_logits: torch.Tensor
) -> torch.Tensor:
    """Each stream's logits with its own cartridge's head correction."""
    a = torch.stack([c.head_A for c in cartridges])[index]  # (N, C, r)
    b = torch.stack([c.head_B for c in cartridges])[index]  # (N, r, V)
    bias = torch.stack([c.head_bias for c in cartridges])[index]  # (N, V)
    return base_logits + torch.bmm(torch.bmm(h, a), b) + bias[:, None, :]  # (N, T, V)
