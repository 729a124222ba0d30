"""The simulation as a Gymnasium environment: the API check, determinism, observation, reward."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from holomind.agents import ACTION_COST, ENV_ID, OBSERVATION, EnvConfig, observe, reward
from holomind.errors import InvalidInputError


def test_check_env_passes(env):
    check_env(env, skip_render_check=True)


def test_check_env_passes_through_gymnasium_make(brian_cache):
    made = gymnasium.make(ENV_ID, config=EnvConfig(), cache_dir=brian_cache)
    try:
        check_env(made.unwrapped)
        assert made.spec is not None and made.spec.id == ENV_ID
    finally:
        made.close()


def test_same_seed_same_episode_other_seed_other_start(env):
    def run(seed):
        obs, info = env.reset(seed=seed)
        seen = [obs]
        for action in (0, 0, 2, 1, 2):
            obs, _, terminated, truncated, info = env.step(action)
            seen.append(obs)
            assert not terminated and not truncated
        return np.stack(seen), info

    a, info_a = run(7)
    b, info_b = run(7)
    assert np.array_equal(a, b) and info_a == info_b
    c, _ = run(8)
    assert not np.array_equal(a, c)


def test_steps_move_the_real_drive_and_truncate(env):
    _, info = env.reset(seed=3)
    start = info["drive_pa"]
    assert start % 50 == 0 and abs(start) <= 12 * 50  # a whole number of the seed's 50 pA steps
    _, _, _, _, info = env.step(0)  # increase
    assert info["drive_pa"] == start + 50 and info["action"] == "increase"
    _, _, _, _, info = env.step(1)  # decrease
    assert info["drive_pa"] == start
    truncated, steps = False, 2
    while not truncated:
        _, _, terminated, truncated, info = env.step(2)
        steps += 1
        assert not terminated
    assert steps == EnvConfig().episode_steps
    assert info["t_s"] == pytest.approx((steps + 1) * 0.025)  # one chunk at reset, one per step


def test_refuses_a_step_before_reset_and_a_bad_action(brian_cache):
    from holomind.agents import ModulationEnv

    fresh = ModulationEnv(EnvConfig(), cache_dir=brian_cache)
    with pytest.raises(InvalidInputError, match="reset"):
        fresh.step(0)
    fresh.reset(seed=0)
    with pytest.raises(InvalidInputError, match="0, 1 or 2"):
        fresh.step(3)
    fresh.close()
    fresh.close()  # twice is fine


def test_reward_inside_below_and_above_the_band():
    band = (5.0, 15.0)
    assert reward(10.0, band, "maintain") == 1.0
    assert reward(5.0, band, "maintain") == 1.0
    assert reward(10.0, band, "increase") == 1.0 - ACTION_COST
    assert reward(0.0, band, "maintain") == -0.5
    assert reward(20.0, band, "decrease") == pytest.approx(-0.5 - ACTION_COST)
    assert reward(90.0, band, "maintain") == -2.0  # the penalty is capped


def test_observation_from_workspace_values():
    seen = {
        "neuro/state": {
            "network": "seed",
            "rate_hz": 30.0,
            "drive_pa": 150.0,
            "mean_v_mv": -56.0,
            "modulation": {"action": "decrease", "strength": 1.0, "source": "agent"},
        },
        "neural_activations": [0.0, 10.0, 0.0, 40.0],
        "avg_entropy": 2.0,
        "diversity_index": 0.5,
    }
    obs = observe(seen, previous_rate=10.0, band=(5.0, 15.0))
    expected = dict(
        rate=2.0,
        previous_rate=10 / 15,
        below_band=0.0,
        above_band=1.5,
        drive=150 / 1500,
        mean_v=0.6,
        active=0.5,
        entropy=0.25,
        diversity=0.5,
        last_action=-1.0,
    )
    assert obs.dtype == np.float32 and obs.shape == (10,)
    assert list(OBSERVATION) == list(expected)
    assert obs == pytest.approx(np.array(list(expected.values()), dtype=np.float32))


def test_observation_before_anything_was_published():
    assert observe({}, 0.0, (5.0, 15.0)).tolist() == [0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0, 0, 0, 0]
