"""What a `modulation` is: the three actions, how a value on the workspace is read, the rules.

Anything may write the workspace key ``modulation`` (the LLM modulator, an
agent, a person): either a bare action string (``"increase"``, as the seed
wrote it) or a dict ``{"action": ..., "strength": ..., "source": ...}``. The
spiking network reads it with `parse_modulation`; a value that is neither is
ignored, never half-applied.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from typing import Any

ACTIONS = ("increase", "decrease", "maintain")
SIGN = {"increase": 1.0, "decrease": -1.0, "maintain": 0.0}
MAX_STRENGTH = 10.0

# The JSON the modulator's model is held to (llama.cpp grammar, servers' structured output).
DECISION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"action": {"type": "string", "enum": list(ACTIONS)}},
    "required": ["action"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Modulation:
    """One decision about the network's drive."""

    action: str  # increase | decrease | maintain
    strength: float = 1.0  # drive steps (the network's step size times this), in (0, 10]
    source: str = "unknown"  # who decided: llm, agent, person, ...

    def to_dict(self) -> dict[str, Any]:
        """The workspace form."""
        return asdict(self)


def parse_modulation(value: Any) -> Modulation | None:
    """The modulation a workspace value asks for, or None if it is not one."""
    if isinstance(value, str):
        action = value.strip().lower()
        return Modulation(action) if action in ACTIONS else None
    if not isinstance(value, dict):
        return None
    action = value.get("action")
    if not isinstance(action, str) or action.strip().lower() not in ACTIONS:
        return None
    strength = value.get("strength", 1.0)
    if isinstance(strength, bool) or not isinstance(strength, int | float):
        return None
    if not (math.isfinite(strength) and 0 < strength <= MAX_STRENGTH):
        return None
    source = value.get("source", "unknown")
    return Modulation(
        action.strip().lower(), float(strength), source if isinstance(source, str) else "unknown"
    )


def schema_action(text: str) -> str | None:
    """The action in a JSON answer held to DECISION_SCHEMA, or None if it is not one."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(data, dict) and data.get("action") in ACTIONS:
        return data["action"]
    return None


_WORD = re.compile(r"\b(increase|decrease|maintain)\b")


def keyword_action(text: str) -> str:
    """The seed's keyword parsing, made a little more forgiving; "maintain" when unsure.

    The seed looked for "increase activity" / "decrease activity". Here: those
    phrases first; otherwise the action word that appears first in the text.
    """
    lower = text.lower()
    if "increase activity" in lower:
        return "increase"
    if "decrease activity" in lower:
        return "decrease"
    found = _WORD.search(lower)
    return found.group(1) if found else "maintain"


def rule_action(rate_hz: float, band: tuple[float, float]) -> str:
    """The obvious rule: below the target band increase, above it decrease, else maintain."""
    low, high = band
    if rate_hz < low:
        return "increase"
    if rate_hz > high:
        return "decrease"
    return "maintain"
