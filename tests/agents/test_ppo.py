"""PPO on the seed's policy: the network's shape, learning on a toy task, exact save and load."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from holomind.agents import PPO, PPOConfig
from holomind.errors import CorruptFileError, InvalidInputError


def test_the_policy_is_the_seeds_network():
    ppo = PPO()
    layers = [m for m in ppo.policy.model]
    shapes = [tuple(m.weight.shape) for m in layers if isinstance(m, torch.nn.Linear)]
    assert shapes == [(128, 10), (128, 128), (3, 128)]
    assert isinstance(layers[-1], torch.nn.Softmax)
    probs = ppo.policy(torch.zeros(4, 10))
    assert probs.shape == (4, 3) and torch.allclose(probs.sum(1), torch.ones(4))


def _bandit_obs(rng):
    obs = np.zeros(10, dtype=np.float32)
    obs[0] = rng.integers(2)  # the action that pays is 0 when obs[0] == 0, else 1
    return obs


def _train_bandit(ppo, steps, rng):
    for _ in range(steps):
        obs = _bandit_obs(rng)
        step = ppo.act(obs)
        r = 1.0 if step.action == int(obs[0]) else 0.0
        ppo.record(obs, step, r, _bandit_obs(rng), terminated=True)


def test_learns_a_contextual_bandit():
    rng = np.random.default_rng(0)
    ppo = PPO(PPOConfig(rollout=64, minibatch=16, seed=1))
    _train_bandit(ppo, 640, rng)
    assert ppo.updates == 10
    for cue in (0, 1):
        obs = np.zeros(10, dtype=np.float32)
        obs[0] = cue
        assert ppo.act(obs, greedy=True).action == cue


def test_save_and_load_continue_exactly(tmp_path):
    a = PPO(PPOConfig(rollout=32, minibatch=8, seed=2))
    _train_bandit(a, 96, np.random.default_rng(5))
    a.save(tmp_path / "agent.safetensors", {"steps": 96})
    b, extra = PPO.load(tmp_path / "agent.safetensors")
    assert extra == {"steps": 96} and b.updates == a.updates == 3 and b.config == a.config
    # Same weights, optimizer moments and sampler state: the next updates are identical.
    _train_bandit(a, 64, np.random.default_rng(6))
    _train_bandit(b, 64, np.random.default_rng(6))
    assert a.updates == b.updates == 5
    for pa, pb in zip(
        [*a.policy.parameters(), *a.critic.parameters()],
        [*b.policy.parameters(), *b.critic.parameters()],
        strict=True,
    ):
        assert torch.equal(pa, pb)


def test_a_damaged_checkpoint_is_refused(tmp_path):
    path = tmp_path / "agent.safetensors"
    PPO().save(path, {})
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data[:100]))
    with pytest.raises(CorruptFileError, match="not an agent checkpoint"):
        PPO.load(path)
    path.write_bytes(b"\x00" * 64)
    with pytest.raises(CorruptFileError):
        PPO.load(path)


def test_bad_settings_are_refused():
    with pytest.raises(InvalidInputError, match="minibatch"):
        PPOConfig(rollout=8, minibatch=16)
    with pytest.raises(InvalidInputError):
        PPOConfig(gamma=0)
