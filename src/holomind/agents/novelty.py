"""Novelty on the workspace: the events that spawn LLM agents.

`NoveltyDetector.see(key, value)` is fed the writes to `KEYS` in order and
returns a `Novelty` when one of three things happens:

- ``soup_transition``: the soup's high-order entropy (``soup/higher_entropy``)
  crosses 3 bits/byte upwards, cubff's line for the replicator state transition;
- ``new_domain``: a cartridge domain is spawned (``cartridges/spawned``);
- ``rate_jump``: the network's rate (``neuro/state``) moves away from its recent
  mean (an exponential average over ~5 chunks) by more than `jump_hz` and by more
  than `jump_ratio` of that mean; then nothing for `cooldown` chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KEYS = ("soup/higher_entropy", "cartridges/spawned", "neuro/state")
TRANSITION_BITS = 3.0  # cubff: above this the soup has gone through its state transition


@dataclass(frozen=True)
class Novelty:
    """Something new: which kind, in words, and the value that showed it."""

    kind: str  # soup_transition | new_domain | rate_jump
    reason: str
    value: Any


class NoveltyDetector:
    """Turns a stream of workspace writes into novelties (see the module's doc)."""

    def __init__(
        self,
        *,
        jump_hz: float = 5.0,
        jump_ratio: float = 0.5,
        warmup: int = 5,
        cooldown: int = 20,
        alpha: float = 0.2,
    ) -> None:
        self.jump_hz = jump_hz
        self.jump_ratio = jump_ratio
        self.warmup = warmup
        self.cooldown = cooldown
        self.alpha = alpha
        self._entropy: float | None = None
        self._mean: float | None = None
        self._chunks = 0
        self._quiet = 0

    def see(self, key: str, value: Any) -> Novelty | None:
        """The novelty this write shows, if any."""
        if key == "soup/higher_entropy" and isinstance(value, int | float):
            before, self._entropy = self._entropy, float(value)
            if before is not None and before < TRANSITION_BITS <= value:
                return Novelty(
                    "soup_transition",
                    f"soup entropy crossed {TRANSITION_BITS:g} bits/byte ({before:.2f} → "
                    f"{value:.2f})",
                    value,
                )
        elif key == "cartridges/spawned" and isinstance(value, dict):
            return Novelty(
                "new_domain", f"new cartridge {value.get('id')} for {value.get('domain')!r}", value
            )
        elif key == "neuro/state" and isinstance(value, dict):
            return self._rate(value)
        return None

    def _rate(self, state: dict[str, Any]) -> Novelty | None:
        rate = state.get("rate_hz")
        if not isinstance(rate, int | float):
            return None
        mean, self._chunks = self._mean, self._chunks + 1
        self._mean = rate if mean is None else mean + self.alpha * (rate - mean)
        if self._quiet > 0:
            self._quiet -= 1
            return None
        if mean is None or self._chunks <= self.warmup:
            return None
        change = rate - mean
        if abs(change) > self.jump_hz and abs(change) > self.jump_ratio * mean:
            self._quiet = self.cooldown
            return Novelty(
                "rate_jump",
                f"firing rate jumped from ~{mean:.1f} to {rate:.1f} Hz at t = "
                f"{state.get('t_s', 0):.2f} s",
                {"rate_hz": rate, "mean_hz": round(mean, 3), "t_s": state.get("t_s")},
            )
        return None
