"""A compact PPO (clipped surrogate, GAE) for the seed's policy, fed one transition at a time.

Why our own and not Stable-Baselines3: the policy must be the seed's network
exactly (10 → 128 → 128 → 3 with a softmax layer), the same learner has to run
both on the training environment and inside a live `holomind sim` (where the
agent manager sees one chunk at a time and there is no `env.step` to call), and
a checkpoint must be safe to open (SB3 saves pickles; ours is one safetensors
file with a JSON header). PPO itself is Schulman et al. 2017 as CleanRL's
single-file version writes it: advantages by GAE(λ), normalised per minibatch,
a clipped ratio, a value loss, an entropy bonus, gradient clipping.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from holomind.agents.policy import Agent, Critic
from holomind.errors import CorruptFileError, InvalidInputError
from holomind.files import atomic_write_bytes

FORMAT = "holomind-agent/1"


@dataclass(frozen=True)
class PPOConfig:
    """PPO's settings; every field has a default that trains the modulation task in minutes."""

    lr: float = 1e-3  # Adam learning rate (the seed's)
    gamma: float = 0.95  # discount: a chunk's reward counts for ~20 chunks
    lam: float = 0.9  # GAE's λ
    clip: float = 0.2  # PPO's ratio clip
    epochs: int = 4  # passes over each rollout
    rollout: int = 128  # transitions per update
    minibatch: int = 32  # transitions per gradient step
    entropy: float = 0.01  # entropy bonus: keeps exploring early on
    value_coef: float = 0.5  # weight of the critic's loss
    max_grad_norm: float = 0.5  # gradient clipping
    seed: int = 0  # initial weights, action sampling, minibatch order

    def __post_init__(self) -> None:
        if self.rollout < 1 or not 1 <= self.minibatch <= self.rollout:
            raise InvalidInputError(
                f"PPO needs 1 <= minibatch <= rollout, got {self.minibatch} and {self.rollout}"
            )
        if not self.lr > 0 or not 0 < self.gamma <= 1 or not 0 <= self.lam <= 1:
            raise InvalidInputError("PPO needs lr > 0, 0 < gamma <= 1 and 0 <= lam <= 1")


@dataclass
class Step:
    """What the policy did in one state: the action, its log-probability, the state's value."""

    action: int
    logp: float
    value: float
    probs: list[float]


class PPO:
    """The seed's policy and a critic, learning from transitions handed to `record`."""

    def __init__(self, config: PPOConfig = PPOConfig(), obs_size: int = 10, actions: int = 3):
        self.config = config
        torch.manual_seed(config.seed)
        self.policy = Agent(obs_size, 128, actions)
        self.critic = Critic(obs_size)
        self.optimizer = torch.optim.Adam(
            [*self.policy.parameters(), *self.critic.parameters()], lr=config.lr
        )
        self.generator = torch.Generator().manual_seed(config.seed)
        self.updates = 0  # gradient updates made (one per full rollout)
        self.last_losses: dict[str, float] = {}
        self._buffer: list[tuple[np.ndarray, int, float, float, np.ndarray, bool, bool]] = []

    # -- acting --------------------------------------------------------------------

    @torch.no_grad()
    def act(self, obs: np.ndarray, greedy: bool = False) -> Step:
        """Choose an action for `obs`: sampled from the policy, or its most likely (greedy)."""
        x = torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)
        probs = self.policy(x)[0]
        if greedy:
            action = int(torch.argmax(probs))
        else:
            action = int(torch.multinomial(probs, 1, generator=self.generator))
        logp = float(torch.log(probs[action].clamp_min(1e-8)))
        return Step(action, logp, float(self.critic(x)[0]), [round(float(p), 4) for p in probs])

    # -- learning ------------------------------------------------------------------

    def record(
        self,
        obs: np.ndarray,
        step: Step,
        reward: float,
        next_obs: np.ndarray,
        terminated: bool = False,
        truncated: bool = False,
    ) -> bool:
        """Keep one transition; update when a rollout is full. Returns whether it updated."""
        self._buffer.append(
            (obs, step.action, step.logp, reward, next_obs, terminated, truncated or terminated)
        )
        if len(self._buffer) < self.config.rollout:
            return False
        self.update()
        return True

    def update(self) -> None:
        """One PPO update on the transitions kept so far (then forget them)."""
        if not self._buffer:
            return
        c = self.config
        obs = torch.as_tensor(np.stack([t[0] for t in self._buffer]), dtype=torch.float32)
        actions = torch.as_tensor([t[1] for t in self._buffer])
        old_logp = torch.as_tensor([t[2] for t in self._buffer], dtype=torch.float32)
        rewards = torch.as_tensor([t[3] for t in self._buffer], dtype=torch.float32)
        nxt = torch.as_tensor(np.stack([t[4] for t in self._buffer]), dtype=torch.float32)
        terminated = torch.as_tensor([t[5] for t in self._buffer], dtype=torch.float32)
        ended = [t[6] for t in self._buffer]
        n = len(self._buffer)
        with torch.no_grad():
            values = self.critic(obs)
            next_values = self.critic(nxt) * (1 - terminated)  # truncation bootstraps
            deltas = rewards + c.gamma * next_values - values
            adv = torch.zeros(n)
            running = 0.0
            for t in reversed(range(n)):
                # Each transition carries its own next state, so the rollout may end anywhere.
                running = float(deltas[t]) + (0.0 if ended[t] else c.gamma * c.lam * running)
                adv[t] = running
            returns = adv + values
        losses = {"policy": 0.0, "value": 0.0, "entropy": 0.0}
        batches = 0
        for _ in range(c.epochs):
            order = torch.randperm(n, generator=self.generator)
            for start in range(0, n, c.minibatch):
                idx = order[start : start + c.minibatch]
                probs = self.policy(obs[idx]).clamp_min(1e-8)  # (b, 3)
                logp = torch.log(probs.gather(1, actions[idx, None]).squeeze(1))
                entropy = -(probs * probs.log()).sum(1).mean()
                a = adv[idx]
                if len(idx) > 1:
                    a = (a - a.mean()) / (a.std() + 1e-8)
                ratio = torch.exp(logp - old_logp[idx])
                policy_loss = -torch.min(ratio * a, ratio.clamp(1 - c.clip, 1 + c.clip) * a).mean()
                value_loss = (self.critic(obs[idx]) - returns[idx]).pow(2).mean()
                loss = policy_loss + c.value_coef * value_loss - c.entropy * entropy
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(
                    [*self.policy.parameters(), *self.critic.parameters()], c.max_grad_norm
                )
                self.optimizer.step()
                losses["policy"] += policy_loss.item()
                losses["value"] += value_loss.item()
                losses["entropy"] += entropy.item()
                batches += 1
        self.last_losses = {k: round(v / batches, 5) for k, v in losses.items()}
        self.updates += 1
        self._buffer.clear()

    @property
    def pending(self) -> int:
        """Transitions kept since the last update."""
        return len(self._buffer)

    # -- checkpoints ---------------------------------------------------------------

    def save(self, path: Path, extra: dict[str, Any]) -> None:
        """Write weights, optimizer and sampler state and `extra` (JSON) to one file, atomically."""
        from safetensors.torch import save

        tensors: dict[str, torch.Tensor] = {}
        for name, t in self.policy.state_dict().items():
            tensors[f"policy.{name}"] = t
        for name, t in self.critic.state_dict().items():
            tensors[f"critic.{name}"] = t
        opt = self.optimizer.state_dict()
        for i, state in opt["state"].items():
            for name, t in state.items():
                tensors[f"optimizer.{i}.{name}"] = torch.as_tensor(t).reshape(-1).clone()
        tensors["generator"] = self.generator.get_state()
        header = {
            "format": FORMAT,
            "config": asdict(self.config),
            "updates": self.updates,
            "param_groups": opt["param_groups"],
            "extra": extra,
        }
        data = save(
            {k: v.contiguous() for k, v in tensors.items()}, {"holomind": json.dumps(header)}
        )
        atomic_write_bytes(path, data)

    @classmethod
    def load(cls, path: Path) -> tuple[PPO, dict[str, Any]]:
        """A learner as `save` left it, and the `extra` it was saved with."""
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as f:
                header = json.loads((f.metadata() or {})["holomind"])
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 -- not a dict
            if header.get("format") != FORMAT:
                raise ValueError(f"unknown format {header.get('format')!r}")
            ppo = cls(PPOConfig(**header["config"]))
            ppo.policy.load_state_dict(_prefixed(tensors, "policy."))
            ppo.critic.load_state_dict(_prefixed(tensors, "critic."))
            params = [*ppo.policy.parameters(), *ppo.critic.parameters()]
            state: dict[int, dict[str, torch.Tensor]] = {}
            for key, t in _prefixed(tensors, "optimizer.").items():
                i, name = key.split(".", 1)
                shape = () if name == "step" else params[int(i)].shape
                state.setdefault(int(i), {})[name] = t.reshape(shape)
            ppo.optimizer.load_state_dict({"state": state, "param_groups": header["param_groups"]})
            ppo.generator.set_state(tensors["generator"])
            ppo.updates = int(header["updates"])
            return ppo, dict(header["extra"])
        except FileNotFoundError:
            raise
        except (SafetensorError, OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
            raise CorruptFileError(
                f"{path} is not an agent checkpoint HoloMind can read ({exc})",
                hint="delete it to start the agent afresh, or point to another checkpoint",
            ) from None


def _prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
