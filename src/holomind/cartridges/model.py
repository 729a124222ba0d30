"""The cartridge brain: stem trunk → router → active cartridges → workspace layer → prediction.

One forward pass: the frozen trunk runs once; the context's stem embedding is
routed to its top-k cartridges; the stem's top blocks run once per (context,
cartridge) stream with that cartridge's adapters, batched; each stream predicts
the next byte; the workspace layer lets the streams compete and mixes the
winners. Each cartridge learns from its own loss only (weighted by how much the
workspace listened to it); the workspace layer learns from the mixture's loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from holomind.cartridges.binding import WorkspaceConfig, WorkspaceLayer
from holomind.cartridges.cartridge import Cartridge, stack_adapters, stack_heads
from holomind.cartridges.library import Library
from holomind.cartridges.router import Route
from holomind.cartridges.stem import ByteTokenizer
from holomind.errors import CorruptFileError, InvalidInputError

WORKSPACE_WEIGHTS = "workspace.safetensors"


@dataclass
class BrainOutput:
    """What one forward pass produced."""

    log_probs: torch.Tensor  # (B, T, V) the broadcast prediction
    loss: torch.Tensor | None = None  # mixture NLL (what the model scores)
    own_loss: torch.Tensor | None = None  # each cartridge's own NLL, weighted by its share
    train_loss: torch.Tensor | None = None  # loss + own_loss: what training minimises
    route: Route | None = None
    cartridge_losses: dict[int, float] = field(default_factory=dict)  # own NLL per cartridge
    stream_losses: torch.Tensor | None = None  # (B, k) each chosen cartridge's own NLL per context
    cartridges: list[Cartridge] = field(default_factory=list)  # the active set, by position
    embeddings: torch.Tensor | None = None  # (B, C) context stem embeddings
    # per stream (context b, active slot j → cartridge route.ids[b, j]), kept in the graph
    # so that loss terms on a stream reach only its own cartridge (learning.intrinsic)
    hidden: torch.Tensor | None = None  # (B, k, T, C) the top block's states with its adapters
    stream_log_probs: torch.Tensor | None = None  # (B, k, T, V) each stream's own prediction
    shares: torch.Tensor | None = None  # (B, k, T) how much the workspace listened to each


class CartridgeModel(nn.Module):
    """The whole predictor over a library; works with an empty library (then it is the stem)."""

    def __init__(self, library: Library, workspace: WorkspaceConfig | None = None) -> None:
        """The model over ``library``, with the workspace settings saved in it unless given."""
        super().__init__()
        self.library = library
        self.stem = library.stem
        self.tokenizer = ByteTokenizer()
        config = workspace or library.workspace_config
        self.binding = WorkspaceLayer(config, self.stem.config.n_embd)
        self.binding.to(library.device)
        self._load_binding()

    @property
    def device(self) -> str:
        """Where tensors live."""
        return self.library.device

    def _load_binding(self) -> None:
        path = self.library.root / WORKSPACE_WEIGHTS
        if not path.is_file():
            return
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            self.binding.load_state_dict(load_file(str(path), device=self.device))
        except (SafetensorError, RuntimeError) as exc:
            raise CorruptFileError(
                f"{path} is unreadable ({exc})", hint="restore it or delete it to start afresh"
            ) from None

    def save(self, extra_files: dict[str, bytes] | None = None) -> None:
        """Commit the library (cartridges, index, registry), the workspace layer and extras."""
        from safetensors.torch import save

        tensors = {k: v.detach().cpu().contiguous() for k, v in self.binding.state_dict().items()}
        self.library.flush({WORKSPACE_WEIGHTS: save(tensors), **(extra_files or {})})

    def embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Context stem embeddings (B, C), unit length."""
        with torch.no_grad():
            return self.stem.embed(idx)

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None, route: Route | None = None
    ) -> BrainOutput:
        """Predict the next byte at each position of idx (B, T); the router picks unless given."""
        stem = self.stem
        with torch.no_grad():
            x = stem.trunk(idx)  # (B, T, C)
            emb = stem.pool(x)  # (B, C)
        if len(self.library) == 0:
            logp = F.log_softmax(stem.lm_head(stem.top(x)), dim=-1)  # (B, T, V)
            loss = _nll(logp, targets)
            return BrainOutput(logp, loss=loss, train_loss=loss, embeddings=emb)
        route = route or self.library.router.route(emb)
        B, T, C = x.shape
        k = route.ids.shape[1]
        unique, sel = torch.unique(route.ids.view(-1), return_inverse=True)  # (M,), (B*k,)
        carts = self.library.activate(unique.tolist())
        self.library.prefetch(route.runners_up)
        sel = sel.to(x.device)
        xs = x[:, None].expand(B, k, T, C).reshape(B * k, T, C)  # (B*k, T, C)
        h = stem.top(xs, stack_adapters(carts, sel))  # (B*k, T, C)
        logits = stack_heads(carts, sel, h, stem.lm_head(h))  # (B*k, T, V)
        logp = F.log_softmax(logits, dim=-1).view(B, k, T, -1)  # (B, k, T, V)
        scores = route.scores.to(x.device)
        mix, weights = self.binding(h.detach().view(B, k, T, C), logp.detach(), scores)
        out = BrainOutput(mix, route=route, cartridges=carts, embeddings=emb)
        out.hidden, out.stream_log_probs, out.shares = h.view(B, k, T, C), logp, weights
        if targets is None:
            return out
        own = -logp.gather(-1, targets[:, None, :, None].expand(B, k, T, 1)).squeeze(-1)
        out.loss = _nll(mix, targets)  # (B, k, T) own above; scalar here
        out.own_loss = (own * weights.detach()).sum(dim=1).mean()
        out.train_loss = out.loss + out.own_loss
        out.stream_losses = own.detach().mean(dim=2)  # (B, k)
        per = out.stream_losses.view(-1)  # (B*k,)
        for j, cart in enumerate(carts):
            mask = sel == j
            out.cartridge_losses[cart.state.id] = float(per[mask].mean())
        return out

    def window_embeddings(self, ids: list[int], windows: int = 16) -> torch.Tensor:
        """Embeddings (n, C) of up to ``windows`` evenly spaced windows of a document."""
        block = self.stem.config.block_size
        starts = sorted({int(s) for s in torch.linspace(0, max(0, len(ids) - block), windows)})
        batch = torch.tensor([ids[s : s + block] for s in starts], device=self.device)
        return self.embed(batch)  # (n, C)

    def document_embedding(self, ids: list[int], windows: int = 16) -> torch.Tensor:
        """A document's stem embedding (C,): the mean of up to ``windows`` evenly spaced windows."""
        return F.normalize(self.window_embeddings(ids, windows).mean(dim=0), dim=-1)  # (C,)

    def assign(
        self, embedding: torch.Tensor, domain: str, *, spawn_threshold: float, named: bool
    ) -> tuple[int, bool]:
        """The cartridge for a document; spawns one when it is far from every signature.

        With ``named`` (the data's sub-folder names the domain) only that domain's
        cartridges are candidates; otherwise every cartridge is. A spawned cartridge
        starts from the nearest existing one (knowledge building). A document that
        matches a frozen cartridge (and no unfrozen one) gets a child of it, in its
        domain: the frozen one keeps its files, the child learns the new data.
        Returns (id, spawned).
        """
        lib = self.library
        if lib.large:
            raise InvalidInputError(
                f"{lib.root} is too large for domain detection (spawning stops at "
                f"{lib.router.config.exact_limit} cartridges)",
                hint="train new domains into a new library",
            )
        e = embedding.detach().float().cpu().numpy()
        sims = lib.signatures @ e if len(lib) else np.zeros(0, dtype=np.float32)  # (N,)
        names = lib.domain_names
        member = np.array(
            [not named or names[d] == domain for d in np.asarray(lib.domains)], dtype=bool
        )
        frozen = np.zeros(len(lib), dtype=bool)
        frozen[lib.frozen_ids] = True
        live = np.where(member & ~frozen, sims, -np.inf)
        if len(lib) and live.max() >= spawn_threshold:
            return int(live.argmax()), False
        settled = np.where(member & frozen, sims, -np.inf)
        if len(lib) and settled.max() >= spawn_threshold:
            parent = int(settled.argmax())
            domain = names[int(lib.domains[parent])]
        else:
            parent = int(sims.argmax()) if len(lib) else None
            if not named:
                domain = f"domain_{len(names):03d}"
        cart = lib.spawn(lib.domain_id(domain), embedding, parent=parent)
        return cart.state.id, True

    @torch.no_grad()
    def generate(
        self,
        prompt: str,
        max_new_tokens: int = 200,
        *,
        temperature: float = 0.8,
        top_k: int = 40,
        seed: int = 0,
    ) -> str:
        """Continue prompt; the same seed always gives the same text."""
        if max_new_tokens < 0 or temperature <= 0 or top_k < 1:
            raise InvalidInputError(
                "max_new_tokens must be >= 0, temperature > 0 and top_k >= 1",
                hint="e.g. --max-tokens 200 --temperature 0.8 --top-k 40",
            )
        was_training = self.training
        self.eval()
        gen = torch.Generator(device="cpu").manual_seed(seed)
        ids = self.tokenizer.encode(prompt) or self.tokenizer.encode("\n")
        n_prompt = len(ids)
        block = self.stem.config.block_size
        for _ in range(max_new_tokens):
            ctx = torch.tensor([ids[-block:]], dtype=torch.long, device=self.device)
            logp = self(ctx).log_probs[0, -1].float().cpu() / temperature  # (V,)
            top = torch.topk(logp, min(top_k, logp.numel()))
            probs = torch.softmax(top.values, dim=-1)
            ids.append(int(top.indices[torch.multinomial(probs, 1, generator=gen)]))
        self.train(was_training)
        return self.tokenizer.decode(ids[n_prompt:])


def _nll(log_probs: torch.Tensor, targets: torch.Tensor | None) -> torch.Tensor | None:
    if targets is None:
        return None
    return F.nll_loss(log_probs.reshape(-1, log_probs.size(-1)), targets.reshape(-1))
