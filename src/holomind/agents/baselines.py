"""Controllers the trained agent is measured against: random, always maintain, and a PID.

Each maps the environment's observation to an action index (`holomind.sim.ACTIONS`:
0 increase, 1 decrease, 2 maintain) and is reset between episodes. `evaluate`
runs any of them, or the trained agent, on a `ModulationEnv` for a few seeded
episodes and reports the returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from holomind.agents.env import OBSERVATION, ModulationEnv

INCREASE, DECREASE, MAINTAIN = 0, 1, 2
_RATE = OBSERVATION.index("rate")


class Controller(Protocol):
    """Anything that picks a modulation from an observation."""

    def reset(self) -> None:
        """Forget the last episode."""

    def __call__(self, obs: np.ndarray) -> int:
        """The action for `obs`."""


@dataclass
class RandomPolicy:
    """Each action with equal probability, from its own seeded generator."""

    seed: int = 0
    rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def reset(self) -> None:
        """Nothing to forget (the generator runs on across episodes)."""

    def __call__(self, obs: np.ndarray) -> int:
        return int(self.rng.integers(3))


class AlwaysMaintain:
    """Never touches the drive."""

    def reset(self) -> None:
        """Nothing to forget."""

    def __call__(self, obs: np.ndarray) -> int:
        return MAINTAIN


@dataclass
class PIDController:
    """A classical PID on the firing rate, its output turned into one drive step or none.

    The error is the band's centre minus the rate (Hz); the output
    u = kp·e + ki·Σe·dt + kd·Δe/dt is in drive steps: above `deadband` increase,
    below −`deadband` decrease, else maintain. The integral is clamped (anti-windup).
    Gains were chosen on the seed network (200 neurons, 25 ms chunks, band 5–15 Hz)
    by a small grid search in `bench/agents.py --tune-pid`; the defaults are its best.
    """

    band: tuple[float, float] = (5.0, 15.0)
    kp: float = 0.1  # drive steps per Hz of error
    ki: float = 0.5  # drive steps per Hz·s
    kd: float = 0.0  # drive steps per Hz/s
    deadband: float = 0.5  # |u| below this: maintain
    dt: float = 0.025  # seconds per step (the chunk)
    windup: float = 2.0  # the integral's bound, Hz·s
    integral: float = 0.0
    previous: float | None = None

    def reset(self) -> None:
        """Clear the integral and the derivative's memory."""
        self.integral = 0.0
        self.previous = None

    def __call__(self, obs: np.ndarray) -> int:
        low, high = self.band
        rate = float(obs[_RATE]) * high  # the observation scales the rate by the band's top
        error = (low + high) / 2 - rate
        self.integral = float(np.clip(self.integral + error * self.dt, -self.windup, self.windup))
        derivative = 0.0 if self.previous is None else (error - self.previous) / self.dt
        self.previous = error
        u = self.kp * error + self.ki * self.integral + self.kd * derivative
        if u > self.deadband:
            return INCREASE
        if u < -self.deadband:
            return DECREASE
        return MAINTAIN


def evaluate(
    env: ModulationEnv,
    controller: Callable[[np.ndarray], int],
    episodes: int,
    seed: int,
    reset: Callable[[], None] | None = None,
) -> list[float]:
    """The return of each of `episodes` episodes, seeded `seed`, `seed + 1`, …"""
    returns = []
    for k in range(episodes):
        if reset is not None:
            reset()
        obs, _ = env.reset(seed=seed + k)
        total, done = 0.0, False
        while not done:
            obs, r, terminated, truncated, _ = env.step(controller(obs))
            total += r
            done = terminated or truncated
        returns.append(round(total, 4))
    return returns
