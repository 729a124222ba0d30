"""The workspace layer: active cartridges compete for a few slots; the winners are broadcast.

After Goyal et al. 2021 ("Coordination among neural modules through a shared
global workspace"): every active cartridge proposes an output at each position;
its salience is the router's score plus a learned read of its own hidden state;
only the ``slots`` most salient per position win, and the prediction broadcast
to the rest of the system is the winners' mixture, weighted by salience.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass
class WorkspaceConfig:
    """How cartridge outputs compete."""

    slots: int = 2  # winners per position
    route_weight: float = 10.0  # salience per unit of route score (inverse temperature)


class WorkspaceLayer(nn.Module):
    """Salience competition over cartridge outputs, then a mixture of the winners."""

    def __init__(self, config: WorkspaceConfig, n_embd: int) -> None:
        super().__init__()
        self.config = config
        self.salience = nn.Linear(n_embd, 1)
        nn.init.zeros_(self.salience.weight)
        nn.init.zeros_(self.salience.bias)

    def forward(
        self, h: torch.Tensor, log_probs: torch.Tensor, route_scores: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mixture log-probabilities (B, T, V) and each cartridge's share (B, k, T)."""
        k = h.shape[1]
        sal = self.config.route_weight * route_scores[:, :, None]  # (B, k, 1)
        sal = sal + self.salience(h).squeeze(-1)  # (B, k, T)
        slots = min(self.config.slots, k)
        threshold = sal.topk(slots, dim=1).values[:, -1:, :]  # (B, 1, T) weakest winner
        sal = sal.masked_fill(sal < threshold, float("-inf"))  # losers get no share
        weights = torch.softmax(sal, dim=1)  # (B, k, T)
        mix = torch.logsumexp(log_probs + weights.clamp_min(1e-30).log()[..., None], dim=1)
        return mix, weights  # (B, T, V), (B, k, T)
