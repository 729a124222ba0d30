"""An optimiser's state as named tensors and back, so it can be saved with what it trains.

`torch.optim` keys its state by parameter position; on disk we key it by
parameter name (``<param>.<exp_avg|exp_avg_sq|step>`` for AdamW), which makes
the file readable, checkable and independent of the order a module lists its
parameters in. Restored moments make the next update bit-identical to an
uninterrupted run's.
"""

from __future__ import annotations

import torch


def optimizer_tensors(
    optimizer: torch.optim.Optimizer, names: list[str], prefix: str = ""
) -> dict[str, torch.Tensor]:
    """The optimiser's per-parameter state, named ``prefix + <param name>.<field>``."""
    state = optimizer.state_dict()["state"]
    return {
        f"{prefix}{names[i]}.{key}": t.detach().cpu().contiguous()
        for i, entry in sorted(state.items())
        for key, t in entry.items()
        if isinstance(t, torch.Tensor)
    }


def load_optimizer_tensors(
    optimizer: torch.optim.Optimizer,
    names: list[str],
    tensors: dict[str, torch.Tensor],
    prefix: str = "",
) -> None:
    """Put back state saved by `optimizer_tensors` (parameters without any stay fresh)."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for i, name in enumerate(names):
        head = f"{prefix}{name}."
        entry = {
            k[len(head) :]: t
            for k, t in tensors.items()
            if k.startswith(head) and "." not in k[len(head) :]
        }
        if entry:
            state[i] = entry
    groups = optimizer.state_dict()["param_groups"]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
