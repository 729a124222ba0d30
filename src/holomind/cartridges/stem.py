"""The stem: a small causal transformer trained once, then frozen and shared by every cartridge.

Read top to bottom like nanoGPT's model.py: a config, attention, MLP, block, the
stem itself. The stem's lower blocks are the shared *trunk* (run once per batch);
its top ``adapted_layers`` blocks are run once per active cartridge with that
cartridge's LoRA adapters. The tokenizer is raw UTF-8 bytes (vocabulary 256).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
from torch.nn import functional as F

from holomind.errors import CorruptFileError, MissingFileError

STEM_WEIGHTS = "stem.safetensors"
STEM_CONFIG = "config.json"
STEM_TOKENIZER = "tokenizer.json"

# One LoRA per adapted Linear: A (N, in, r) and B (N, r, out), one row per stream.
Adapters = dict[str, tuple[torch.Tensor, torch.Tensor]]


@dataclass
class StemConfig:
    """Shape of the stem; every field has the seed's default."""

    vocab_size: int = 256  # raw bytes: every text encodes, nothing to train or ship
    block_size: int = 64  # context length in tokens (the seed's seq_len)
    n_layer: int = 4  # transformer blocks (the seed's stem_depth)
    n_head: int = 4  # attention heads per block
    n_embd: int = 256  # model width (the seed's dim)
    adapted_layers: int = 1  # top blocks that carry cartridge adapters; the rest is the trunk
    lora_scale: float = 1.0  # LoRA output multiplier (alpha / rank)

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd {self.n_embd} must be a multiple of n_head {self.n_head}")
        if not 1 <= self.adapted_layers <= self.n_layer:
            raise ValueError(f"adapted_layers must be in 1..{self.n_layer}")


class ByteTokenizer:
    """UTF-8 bytes as tokens: lossless, needs no training, and cannot disagree with the stem."""

    vocab_size = 256

    def encode(self, text: str) -> list[int]:
        """The token ids of a text (its UTF-8 bytes)."""
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        """The text for token ids; invalid UTF-8 sequences become U+FFFD."""
        return bytes(ids).decode("utf-8", errors="replace")


def lora_linear(
    x: torch.Tensor, layer: nn.Linear, lora: tuple[torch.Tensor, torch.Tensor] | None, scale: float
) -> torch.Tensor:
    """A frozen Linear plus, per stream, its own low-rank update ``x @ A @ B``."""
    y = layer(x)  # (N, T, out)
    if lora is None:
        return y
    a, b = lora  # (N, in, r), (N, r, out)
    return y + scale * torch.bmm(torch.bmm(x, a), b)  # (N, T, out)


class CausalSelfAttention(nn.Module):
    """Multi-head masked self-attention."""

    def __init__(self, config: StemConfig) -> None:
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        self.n_head = config.n_head
        self.scale = config.lora_scale

    def forward(self, x: torch.Tensor, adapters: Adapters) -> torch.Tensor:
        B, T, C = x.size()
        qkv = lora_linear(x, self.c_attn, adapters.get("attn.c_attn"), self.scale)  # (B, T, 3C)
        q, k, v = qkv.split(C, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # (B, T, C)
        return lora_linear(y, self.c_proj, adapters.get("attn.c_proj"), self.scale)


class MLP(nn.Module):
    """Position-wise feed-forward network, 4x wide."""

    def __init__(self, config: StemConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.scale = config.lora_scale

    def forward(self, x: torch.Tensor, adapters: Adapters) -> torch.Tensor:
        h = F.gelu(lora_linear(x, self.c_fc, adapters.get("mlp.c_fc"), self.scale))  # (B, T, 4C)
        return lora_linear(h, self.c_proj, adapters.get("mlp.c_proj"), self.scale)  # (B, T, C)


class Block(nn.Module):
    """Pre-norm transformer block."""

    def __init__(self, config: StemConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, adapters: Adapters | None = None) -> torch.Tensor:
        adapters = adapters or {}
        x = x + self.attn(self.ln_1(x), adapters)
        return x + self.mlp(self.ln_2(x), adapters)


class Stem(nn.Module):
    """The shared frozen backbone: byte embeddings, transformer blocks, an LM head."""

    def __init__(self, config: StemConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.h = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Mean trunk embedding of the training corpus: subtracting it makes cosine
        # similarity between contexts meaningful (raw mean-pooled states all point one way).
        self.register_buffer("embed_center", torch.zeros(config.n_embd))
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):  # GPT-2's scaled init of residual projections
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    @property
    def trunk_layers(self) -> int:
        """How many lower blocks are shared by all cartridges."""
        return self.config.n_layer - self.config.adapted_layers

    def trunk(self, idx: torch.Tensor) -> torch.Tensor:
        """Hidden states after the shared lower blocks."""
        T = idx.size(1)
        if self.config.block_size < T:
            raise ValueError(f"sequence of {T} tokens exceeds block_size {self.config.block_size}")
        pos = torch.arange(T, device=idx.device)  # (T,)
        x = self.wte(idx) + self.wpe(pos)  # (B, T, C)
        for block in self.h[: self.trunk_layers]:
            x = block(x)
        return x  # (B, T, C)

    def top(self, x: torch.Tensor, adapters: list[Adapters] | None = None) -> torch.Tensor:
        """Hidden states after the adapted upper blocks and the final norm."""
        for i, block in enumerate(self.h[self.trunk_layers :]):
            x = block(x, adapters[i] if adapters else None)  # (N, T, C)
        return self.ln_f(x)  # (N, T, C)

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """The context's stem embedding: centred, unit-length mean of the trunk states."""
        return self.pool(self.trunk(idx))

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """The stem embedding (B, C) of trunk states x (B, T, C) already computed."""
        return F.normalize(x.mean(dim=1) - self.embed_center, dim=-1)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Plain next-byte prediction without cartridges (used to pre-train the stem)."""
        logits = self.lm_head(self.top(self.trunk(idx)))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def freeze(self) -> Stem:
        """Stop all learning in the stem and switch it to inference mode."""
        self.requires_grad_(False)
        return self.eval()

    def content_hash(self) -> str:
        """SHA-256 over the config and every tensor: the identity stamped on cartridges."""
        h = hashlib.sha256(json.dumps(asdict(self.config), sort_keys=True).encode())
        for name, t in sorted(self.state_dict().items()):
            h.update(name.encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()

    def files(self) -> dict[str, bytes]:
        """Weights, config (with the content hash) and tokenizer, by file name."""
        from safetensors.torch import save

        digest = self.content_hash()
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        config = json.dumps({**asdict(self.config), "hash": digest}, indent=2)
        return {
            STEM_WEIGHTS: save(tensors, metadata={"content_hash": digest}),
            STEM_CONFIG: config.encode(),
            STEM_TOKENIZER: json.dumps({"type": "bytes", "vocab_size": 256}).encode(),
        }

    @classmethod
    def load(cls, directory: Path, device: str = "cpu") -> Stem:
        """Read a saved stem, check it against its recorded hash, and freeze it."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        weights, cfg_path = directory / STEM_WEIGHTS, directory / STEM_CONFIG
        for p in (weights, cfg_path):
            if not p.is_file():
                raise MissingFileError(
                    f"no stem at {p}", hint="train one first with `holomind train DATA_DIR`"
                )
        try:
            raw = json.loads(cfg_path.read_text())
            expected = raw.pop("hash")
            stem = cls(StemConfig(**raw))
            stem.load_state_dict(load_file(str(weights)))
        except (ValueError, KeyError, TypeError, RuntimeError, SafetensorError) as exc:
            raise CorruptFileError(
                f"stem in {directory} is unreadable ({exc.__class__.__name__}: {exc})",
                hint="delete the library's stem/ folder and train again",
            ) from None
        if stem.content_hash() != expected:
            raise CorruptFileError(
                f"stem in {directory} does not match its recorded hash",
                hint="the files were changed or truncated; restore them or train again",
            )
        return stem.to(device).freeze()
