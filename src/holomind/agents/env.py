"""The simulation as a Gymnasium environment: observe the workspace, modulate the network.

`ModulationEnv` wraps a real `holomind.sim.Simulation`: every `step` applies one
modulation (`increase`, `decrease`, `maintain` the network's drive by one step)
and runs one chunk of the Brian2 network; the observation is a 10-number vector
read from the workspace (`observe`), the reward says how well the firing rate
keeps to a target band (`reward`). `reset(seed=...)` builds the network afresh
from a seed drawn by the environment's generator and moves its drive to a random
starting offset, so the same seed gives the same episode exactly (Gymnasium's
`check_env` checks that).

The observation and the reward are plain functions of workspace values, so the
agent manager computes the same ones on a running `holomind sim` (where nothing
is reset) as this environment does in training.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from holomind.errors import InvalidInputError
from holomind.neuro.models import network_spec
from holomind.neuro.runner import Sampling
from holomind.sim import ACTIONS, SimConfig, Simulation, parse_modulation
from holomind.sim.modulation import SIGN
from holomind.workspace import GlobalWorkspace

OBSERVATION = (
    "rate",  # population rate over the last chunk / the band's top
    "previous_rate",  # the chunk before's, same scale
    "below_band",  # (low - rate) / band width, 0 inside or above the band
    "above_band",  # (rate - high) / band width, 0 inside or below
    "drive",  # drive offset / the largest offset the network allows
    "mean_v",  # (mean membrane potential + 65 mV) / 15 mV
    "active",  # fraction of the first neurons (neural_activations) that fired
    "entropy",  # the soup's high-order entropy / 8 bits (0 without a soup)
    "diversity",  # the soup's diversity index (0 without a soup)
    "last_action",  # the last modulation applied: +1 increase, -1 decrease, 0 maintain/none
)
LOW = np.array([0, 0, 0, 0, -1, -5, 0, 0, 0, -1], dtype=np.float32)
HIGH = np.array([20, 20, 10, 10, 1, 5, 1, 1, 1, 1], dtype=np.float32)
ACTION_COST = 0.05  # subtracted for every increase or decrease: move only when it helps
MAX_PENALTY = 2.0  # the most a step outside the band costs


@dataclass(frozen=True)
class EnvConfig:
    """The environment's network and task; small and short by default so training is quick."""

    network: str = "seed"  # seed | coba | cuba
    neurons: int = 200  # network size (inputs per neuron as at the standard size)
    chunk_ms: float = 25.0  # simulated time per step
    band_hz: tuple[float, float] = (5.0, 15.0)  # the target firing-rate band
    episode_steps: int = 40  # steps before the episode is truncated
    start_steps: int = 12  # reset moves the drive by up to this many steps, either way
    soup: bool = False  # run a soup beside the network (its figures enter the observation)
    soup_programs: int = 256  # soup size when it runs
    target: str = "cython"  # Brian2 code target

    def __post_init__(self) -> None:
        low, high = self.band_hz
        if not 0 <= low < high:
            raise InvalidInputError(f"the target band must be low < high, got {low}:{high}")
        if self.episode_steps < 1:
            raise InvalidInputError(f"episodes need at least 1 step, got {self.episode_steps}")
        if self.start_steps < 0:
            raise InvalidInputError(f"start_steps must be 0 or more, got {self.start_steps}")


def observe(seen: dict[str, Any], previous_rate: float, band: tuple[float, float]) -> np.ndarray:
    """The observation vector (see OBSERVATION) from workspace values (`Simulation.observe()`)."""
    low, high = band
    width = high - low
    state = seen.get("neuro/state") or {}
    rate = float(state.get("rate_hz") or 0.0)
    spec_drive = _drive_bound(state)
    activations = seen.get("neural_activations") or []
    mod = parse_modulation(state.get("modulation"))
    entropy = seen.get("avg_entropy")
    diversity = seen.get("diversity_index")
    vec = np.array(
        [
            rate / high,
            previous_rate / high,
            max(low - rate, 0.0) / width,
            max(rate - high, 0.0) / width,
            float(state.get("drive_pa") or 0.0) / spec_drive,
            (float(state.get("mean_v_mv") or -65.0) + 65.0) / 15.0,
            sum(1 for a in activations if a > 0) / len(activations) if activations else 0.0,
            float(entropy) / 8.0 if _finite(entropy) else 0.0,
            float(diversity) if _finite(diversity) else 0.0,
            SIGN[mod.action] if mod is not None else 0.0,
        ],
        dtype=np.float32,
    )
    return np.clip(vec, LOW, HIGH)


def reward(rate_hz: float, band: tuple[float, float], action: str) -> float:
    """+1 for a chunk inside the band; outside, minus the distance in band widths (at most 2).

    Every `increase` or `decrease` costs ACTION_COST more, so holding still inside
    the band is the best a controller can do.
    """
    low, high = band
    width = high - low
    if rate_hz < low:
        value = -min((low - rate_hz) / width, MAX_PENALTY)
    elif rate_hz > high:
        value = -min((rate_hz - high) / width, MAX_PENALTY)
    else:
        value = 1.0
    return value - (ACTION_COST if action != "maintain" else 0.0)


class ModulationEnv(gym.Env[np.ndarray, np.int64]):
    """Keep a real spiking network's firing rate inside a band by modulating its drive.

    Actions: 0 increase, 1 decrease, 2 maintain (`holomind.sim.ACTIONS`), one drive
    step each. Episodes are `episode_steps` chunks long (truncated, never terminated).

    Args:
        config: network and task.
        cache_dir: Brian2's compiled-code cache (default HOLOMIND_HOME/brian2).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, config: EnvConfig = EnvConfig(), *, cache_dir: Path | None = None) -> None:
        super().__init__()
        self.config = config
        self.cache_dir = cache_dir
        self.spec_drive = network_spec(config.network, config.neurons).drive
        self.action_space = gym.spaces.Discrete(len(ACTIONS))
        self.observation_space = gym.spaces.Box(LOW, HIGH, dtype=np.float32)
        self.sim: Simulation | None = None
        self.workspace: GlobalWorkspace | None = None
        self._steps = 0
        self._rate = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """A new network (seeded from the environment's generator) at a random drive offset."""
        super().reset(seed=seed)
        self._close_sim()
        net_seed = int(self.np_random.integers(2**31 - 1))
        offset = int(self.np_random.integers(-self.config.start_steps, self.config.start_steps + 1))
        c = self.config
        # A fresh workspace each episode: a `modulation` left from the last one must not act.
        self.workspace = GlobalWorkspace()
        self.sim = Simulation(
            SimConfig(
                network=c.network,
                neurons=c.neurons,
                seed=net_seed,
                sampling=Sampling(neurons=0),
                chunk_ms=c.chunk_ms,
                soup=c.soup,
                soup_programs=c.soup_programs,
                band_hz=c.band_hz,
                target=c.target,
            ),
            workspace=self.workspace,
            cache_dir=self.cache_dir,
        )
        self.sim.network.net.shift_drive(offset * self.spec_drive.step_pa)
        state = self.sim.step()
        self._rate = state["rate_hz"]
        self._steps = 0
        obs = observe(self.sim.observe(), self._rate, c.band_hz)
        return obs, self._info(state, None)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply one modulation, run one chunk; the reward is `reward` of the chunk's rate."""
        if self.sim is None:
            raise InvalidInputError("call reset() before step()")
        if not self.action_space.contains(action):
            raise InvalidInputError(f"action must be 0, 1 or 2, got {action!r}")
        name = ACTIONS[int(action)]
        self.sim.modulate(name, source="agent")
        previous = self._rate
        state = self.sim.step()
        self._rate = state["rate_hz"]
        self._steps += 1
        obs = observe(self.sim.observe(), previous, self.config.band_hz)
        r = reward(self._rate, self.config.band_hz, name)
        truncated = self._steps >= self.config.episode_steps
        return obs, r, False, truncated, self._info(state, name)

    def close(self) -> None:
        """End the network's Brian2 thread; safe to call twice."""
        self._close_sim()

    def _close_sim(self) -> None:
        if self.sim is not None:
            self.sim.close()
            self.sim = None
        if self.workspace is not None:
            self.workspace.close()
            self.workspace = None

    @staticmethod
    def _info(state: dict[str, Any], action: str | None) -> dict[str, Any]:
        return {
            "rate_hz": state["rate_hz"],
            "drive_pa": state["drive_pa"],
            "t_s": state["t_s"],
            "action": action,
        }


def _drive_bound(state: dict[str, Any]) -> float:
    name = state.get("network")
    return _largest_offset(name) if isinstance(name, str) else 1000.0


@functools.lru_cache(maxsize=8)
def _largest_offset(network: str) -> float:
    # The network's largest drive offset, so the observation is on one scale for every network.
    try:
        d = network_spec(network, 10).drive
    except InvalidInputError:
        return 1000.0
    return max(abs(d.low_pa), abs(d.high_pa))


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
