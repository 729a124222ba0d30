"""Local learning, proved: one cartridge's loss reaches that cartridge's weights and nothing else.

Autograd hooks on every parameter that can learn (every cartridge's, the workspace
layer's) and on the router's scores; the stem is frozen, so no gradient can
accumulate in it, and its trunk runs outside the graph altogether.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
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
from holomind.learning.intrinsic import (
    compression_loss,
    disagreement_loss,
    surprise_loss,
    temporal_loss,
)

SMALL = StemConfig(block_size=16, n_layer=2, n_head=2, n_embd=16)
CARTS = 3


@pytest.fixture
def brain(tmp_path: Path) -> tuple[CartridgeModel, dict[str, torch.Tensor]]:
    """Three cartridges with random adapters, all active for every context (active_k 3)."""
    torch.manual_seed(0)
    lib = Library.create(
        tmp_path / "lib",
        Stem(SMALL),
        CartridgeConfig(rank=2, targets=("mlp.c_fc", "mlp.c_proj")),
        router_config=RouterConfig(active_k=CARTS),
        workspace_config=WorkspaceConfig(slots=2),
    )
    model = CartridgeModel(lib)
    for i in range(CARTS):
        cart = lib.spawn(lib.domain_id(f"d{i}"), torch.randn(SMALL.n_embd))
        with torch.no_grad():
            for p in cart.parameters():
                p.add_(torch.randn_like(p) * 0.1)
    with torch.no_grad():
        model.binding.salience.weight.normal_()
    params = {f"workspace.{n}": p for n, p in model.binding.named_parameters()}
    for i in range(CARTS):
        params.update({f"cart{i}.{n}": p for n, p in lib.get(i).named_parameters()})
    return model, params


def reached(
    model: CartridgeModel,
    params: dict[str, torch.Tensor],
    loss_of: Callable[[object, torch.Tensor], torch.Tensor],
) -> set[str]:
    """Names of the tensors a gradient reached from backpropagating ``loss_of(output, y)``."""
    torch.manual_seed(1)
    x = torch.randint(0, 256, (4, SMALL.block_size))
    y = torch.randint(0, 256, (4, SMALL.block_size))
    lib = model.library
    route = lib.router.route(model.embed(x))
    route.scores.requires_grad_(True)
    # the stem's trunk and embeddings made learnable on purpose: still nothing may reach them
    trunk = {f"stem.{n}": p for n, p in model.stem.named_parameters() if in_trunk(n)}
    for p in trunk.values():
        p.requires_grad_(True)
    hits: set[str] = set()
    watched = {**params, **trunk, "router.scores": route.scores}
    handles = [
        t.register_hook(lambda g, name=name: hits.add(name) if g.abs().sum() > 0 else None)
        for name, t in watched.items()
    ]
    out = model(x, y, route=route)
    assert out.route.ids.shape == (4, CARTS)  # every cartridge is active in every context
    loss_of(out, y).backward()
    for h in handles:
        h.remove()
    # the blocks the streams pass through (adapted block, final norm, LM head) are frozen
    top = [p for n, p in model.stem.named_parameters() if not in_trunk(n)]
    assert len(top) > 10 and all(not p.requires_grad and p.grad is None for p in top)
    for p in trunk.values():
        p.requires_grad_(False)
    return hits


def in_trunk(name: str) -> bool:
    """Whether a stem parameter belongs to the embeddings or the shared lower blocks."""
    return name.startswith(("wte.", "wpe.", "h.0."))


def own_nll(out, y: torch.Tensor) -> torch.Tensor:
    """Each stream's own next-byte loss (B, k, T)."""
    B, k, T, _ = out.stream_log_probs.shape
    return -out.stream_log_probs.gather(-1, y[:, None, :, None].expand(B, k, T, 1)).squeeze(-1)


def names_of(params: dict[str, torch.Tensor], cart: int) -> set[str]:
    return {n for n in params if n.startswith(f"cart{cart}.")}


@pytest.mark.parametrize("cart", range(CARTS))
def test_a_cartridges_own_loss_reaches_only_that_cartridge(brain, cart: int) -> None:
    model, params = brain

    def loss(out, y):
        return own_nll(out, y)[out.route.ids == cart].mean()

    assert reached(model, params, loss) == names_of(params, cart)


@pytest.mark.parametrize("term", ["surprise", "temporal", "disagreement", "compression"])
def test_each_intrinsic_term_of_a_cartridge_reaches_only_that_cartridge(brain, term) -> None:
    model, params = brain

    def loss(out, y):
        learning = out.route.ids == 1  # (B, k): the streams of cartridge 1
        B, k, T, C = out.hidden.shape
        h, nll = out.hidden.reshape(B * k, T, C), own_nll(out, y).reshape(B * k, T)
        if term == "surprise":
            return surprise_loss(h, nll, learning.reshape(-1))
        if term == "temporal":
            return temporal_loss(h, learning.reshape(-1))
        if term == "disagreement":
            return disagreement_loss(out.stream_log_probs, out.log_probs, learning)
        mine = own_nll(out, y).mean(dim=-1)[learning].mean()[None]
        return compression_loss(mine, torch.tensor([9.0]), torch.tensor([2.0]))

    mine = names_of(params, 1)
    if term in ("surprise", "temporal"):  # terms on the states: the adapters, not the head
        mine = {n for n in mine if ".lora." in n}
    assert reached(model, params, loss) == mine


def test_the_stage_losses_split_cartridges_from_the_workspace(brain) -> None:
    model, params = brain
    # what CartridgeStage minimises: the cartridges' own weighted losses reach every
    # active cartridge and nothing shared ...
    own = reached(model, params, lambda out, y: out.own_loss)
    assert own == set().union(*(names_of(params, i) for i in range(CARTS)))
    # ... and the mixture's loss reaches the workspace layer and no cartridge. It also reaches
    # the route scores' tensor (the workspace weighs them), but that is a leaf made from the
    # router's numpy arrays: nothing in the router has a gradient to take (its strengths move
    # only by the Hebbian rule).
    model.zero_grad(set_to_none=True)
    assert reached(model, params, lambda out, y: out.loss) == {
        "workspace.salience.weight",
        "workspace.salience.bias",
        "router.scores",
    }
