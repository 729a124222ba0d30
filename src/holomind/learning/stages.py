"""The stages `holomind train` runs: the stem (once per library), then cartridges (each experience).

**Stem**: a small causal transformer trained by ordinary backprop on the first
data a library sees, then frozen. Its weights live only in the run's state until
the stage ends; only then is the library created with it, so a stem interrupted
half-way is resumed, never used. **Cartridges**: every document gets a cartridge
(domain detection spawns one when a document is far from every signature); each
step routes windows of the data through the model and updates only the
cartridges that own this experience's documents (each from its own loss) and, in
a library's first experience, the workspace layer. Cartridges of earlier
experiences answer, but never learn from another domain's data. Routing
statistics, Hebbian strengths and maturity follow by plugins (`learning.plugins`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from holomind.cartridges import CartridgeModel, Stem
from holomind.cartridges.optim import load_optimizer_tensors, optimizer_tensors
from holomind.errors import ConfigError
from holomind.learning.loop import Stage


class StemStage(Stage):
    """Trains the stem with AdamW and a cosine schedule, then creates the library around it."""

    name = "stem"

    def __init__(self) -> None:
        self.stem: Stem | None = None
        self.opt: torch.optim.Optimizer | None = None

    def steps(self, loop: Any) -> int:
        """``stem_steps`` of the run's config."""
        return loop.config.stem_steps

    def begin(self, loop: Any) -> None:
        """A freshly initialised stem and its optimiser."""
        c = loop.config
        self.stem = Stem(c.stem_config()).to(c.device)
        self.opt = torch.optim.AdamW(self.stem.parameters(), lr=c.stem_lr, weight_decay=0.01)
        loop.state.phase = "stem"

    def resume(self, loop: Any, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        """The half-trained stem and its AdamW moments from the last checkpoint."""
        self.begin(loop)
        assert self.stem is not None and self.opt is not None
        weights = {k[len("stem.") :]: t for k, t in tensors.items() if k.startswith("stem.")}
        self.stem.load_state_dict(weights)
        load_optimizer_tensors(self.opt, self._names(), tensors, prefix="adamw.")

    def _names(self) -> list[str]:
        assert self.stem is not None
        return [name for name, _ in self.stem.named_parameters()]

    def forward(self, loop: Any, batch: Any) -> tuple[Any, dict[str, torch.Tensor]]:
        """Next-byte loss of the stem alone."""
        assert self.stem is not None
        x, y, _ = batch
        self.stem.train()
        _, loss = self.stem(x, y)
        return None, {"task": loss}

    def zero_grad(self, loop: Any) -> None:
        """Clear the stem's gradients."""
        assert self.opt is not None
        self.opt.zero_grad(set_to_none=True)

    def update(self, loop: Any) -> None:
        """One AdamW step at the cosine-decayed learning rate, gradients clipped to norm 1."""
        assert self.stem is not None and self.opt is not None
        c, s = loop.config, loop.state
        lr = c.stem_lr * 0.5 * (1 + math.cos(math.pi * s.step / max(1, s.total)))
        for group in self.opt.param_groups:
            group["lr"] = lr
        torch.nn.utils.clip_grad_norm_(self.stem.parameters(), 1.0)
        self.opt.step()
        s.tokens += loop.iteration.batch[0].numel()

    def end(self, loop: Any) -> None:
        """Centre the embeddings, freeze, and create the library (or find it created)."""
        assert self.stem is not None
        c = loop.config
        self.stem.eval()
        with torch.no_grad():  # centre of the corpus in embedding space (see Stem.embed_center)
            x, _, _ = loop.sample(max(c.batch, 64))
            self.stem.embed_center.copy_(self.stem.trunk(x).mean(dim=1).mean(dim=0))
        loop.library = loop.create_library(self.stem)

    def state_dict(self, loop: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The stem's weights and AdamW moments."""
        assert self.stem is not None and self.opt is not None
        tensors = {
            f"stem.{k}": v.detach().cpu().contiguous() for k, v in self.stem.state_dict().items()
        }
        tensors.update(optimizer_tensors(self.opt, self._names(), prefix="adamw."))
        return {}, tensors


class CartridgeStage(Stage):
    """Trains this experience's cartridges (and the workspace layer) on the frozen stem."""

    name = "cartridges"

    def __init__(self) -> None:
        self.trainable: set[int] = set()  # cartridges that own this experience's documents
        self.workspace_learns = True  # whether the shared workspace layer learns in this stage
        self.ws_opt: torch.optim.Optimizer | None = None

    def steps(self, loop: Any) -> int:
        """``steps`` of the run's config."""
        return loop.config.steps

    def begin(self, loop: Any) -> None:
        """Domain detection (spawning), the loss before training, the workspace optimiser."""
        lib = loop.library
        if lib.large:
            raise ConfigError(
                f"{lib.root} has {len(lib):,} cartridges: `holomind train` trains libraries "
                f"of up to {lib.router.config.exact_limit:,} (its domain detection routes "
                "exactly)",
                hint="train new domains into a new library",
            )
        loop.model = CartridgeModel(lib)
        self.workspace_learns = loop.config.workspace_learns == "always" or len(lib) == 0
        for doc in loop.corpus.documents:
            windows = loop.model.window_embeddings(doc.train)  # (16, C)
            cart_id, spawned = loop.model.assign(
                F.normalize(windows.mean(dim=0), dim=-1),
                doc.domain or "",
                spawn_threshold=loop.config.spawn_threshold,
                named=doc.domain is not None,
            )
            doc.cartridge = cart_id
            if doc.domain is None:
                doc.domain = lib.domain_names[int(lib.domains[cart_id])]
            lib.add_statistics(cart_id, windows)  # the router knows the document from now on
            if spawned:
                loop.emit("on_spawn", cart_id)
        lib.refresh_router()
        self.trainable = {doc.cartridge for doc in loop.corpus.documents}
        self.ws_opt = torch.optim.AdamW(loop.model.binding.parameters(), lr=loop.config.lr)
        loop.state.val_before = loop.evaluate()

    def resume(self, loop: Any, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
        """The documents' cartridges as assigned, and the workspace optimiser's moments."""
        loop.model = CartridgeModel(loop.library)
        for doc, (cart_id, domain) in zip(loop.corpus.documents, state["assigned"], strict=True):
            doc.cartridge, doc.domain = cart_id, domain
        self.trainable = {doc.cartridge for doc in loop.corpus.documents}
        self.workspace_learns = state["workspace_learns"]
        self.ws_opt = torch.optim.AdamW(loop.model.binding.parameters(), lr=loop.config.lr)
        load_optimizer_tensors(self.ws_opt, self._names(loop), tensors, prefix="workspace.")

    @staticmethod
    def _names(loop: Any) -> list[str]:
        return [name for name, _ in loop.model.binding.named_parameters()]

    def forward(self, loop: Any, batch: Any) -> tuple[Any, dict[str, torch.Tensor]]:
        """The model's mixture loss ("task") and the cartridges' own weighted losses."""
        x, y, _ = batch
        out = loop.model(x, y)
        return out, {"task": out.loss, "cartridges": out.own_loss}

    def zero_grad(self, loop: Any) -> None:
        """Clear the active cartridges' and the workspace layer's gradients."""
        assert self.ws_opt is not None
        for cart in loop.iteration.output.cartridges:
            cart.zero_grad(set_to_none=True)
        self.ws_opt.zero_grad(set_to_none=True)

    def update(self, loop: Any) -> None:
        """Step this experience's unfrozen cartridges (each its own AdamW) and the workspace.

        The workspace layer is shared by every domain, so by default it learns only in a
        library's first experience (``workspace_learns``): measured, its learning on a
        new domain raised an old domain's loss by 2.3 % (docs/continual.md).
        """
        assert self.ws_opt is not None
        c, s, out = loop.config, loop.state, loop.iteration.output
        lr = c.lr * s.lr_scale
        for cart in out.cartridges:
            if cart.state.id in self.trainable and not cart.state.frozen:
                cart.optimizer(lr).step()
                loop.library.mark_dirty(cart.state.id)
        if self.workspace_learns:
            for group in self.ws_opt.param_groups:
                group["lr"] = lr
            self.ws_opt.step()
        s.active = len(out.cartridges)
        s.tokens += loop.iteration.batch[0].numel()

    def end(self, loop: Any) -> None:
        """The validation loss after training."""
        loop.state.val_after = loop.evaluate()

    def state_dict(self, loop: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Which cartridge each document trains, and the workspace optimiser's moments."""
        assert self.ws_opt is not None
        state = {
            "assigned": [[d.cartridge, d.domain] for d in loop.corpus.documents],
            "workspace_learns": self.workspace_learns,
        }
        return state, optimizer_tensors(self.ws_opt, self._names(loop), prefix="workspace.")
