"""The RL agent's networks: seed 002's policy (10 → 128 → 128 → 3, softmax) and a value critic.

`Agent` is the seed's network exactly: two hidden ReLU layers of 128 and a
softmax over the three modulations. PPO also needs a state-value estimate;
`Critic` is a separate small network so the policy stays the seed's.
"""

from __future__ import annotations

import torch
from torch import nn


class Agent(nn.Module):
    """Seed 002's policy: observation (10) → action probabilities (3)."""

    def __init__(self, input_size: int = 10, hidden_size: int = 128, output_size: int = 3) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(input_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, output_size),
            nn.Softmax(dim=-1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Action probabilities, (B, 3) for (B, 10)."""
        return self.model(x)


class Critic(nn.Module):
    """The value of an observation: expected discounted return from there, (B, 10) → (B,)."""

    def __init__(self, input_size: int = 10, hidden_size: int = 64) -> None:
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(input_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, hidden_size),
            nn.Tanh(),
            nn.Linear(hidden_size, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """State values, (B,)."""
        return self.model(x).squeeze(-1)
