"""The LLM modulator: reads network and soup on the workspace, asks a model, writes `modulation`.

Each decision turns the workspace's current situation (``neuro/state``,
``neural_activations``, ``avg_entropy``, ``diversity_index``) into a short
prompt, asks the backend for JSON held to `DECISION_SCHEMA` (a llama.cpp grammar
on the embedded model, structured output on servers), and falls back to the
seed's keyword parsing when the answer is not that JSON (or the server does not
support structured output). Calls are rate-limited (`interval_s`); every
decision is logged with its prompt and answer in the activity log's
``decisions`` table, and published as ``modulation``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from holomind.errors import (
    BackendError,
    BackendTimeoutError,
    ContextOverflowError,
    ModelNotFoundError,
    ServerUnavailableError,
)
from holomind.llm import Backend, Message
from holomind.neuro.log import ActivityLog
from holomind.sim.modulation import (
    DECISION_SCHEMA,
    Modulation,
    keyword_action,
    rule_action,
    schema_action,
)
from holomind.workspace import GlobalWorkspace

SYSTEM = (
    "You regulate a spiking neural network whose firing rate should stay between {low:g} and "
    '{high:g} Hz. If its firing rate is too low, answer {{"action": "increase"}}. If it is '
    'too high, answer {{"action": "decrease"}}. If it is within the target band, answer '
    '{{"action": "maintain"}}.'
)
# Structured output, in the shapes servers take it: OpenAI's (LM Studio, vLLM, llama.cpp's
# server, Ollama and the embedded model via holomind.llm), then llama-cpp-python's server's.
FORMATS: tuple[dict[str, Any], ...] = (
    {"type": "json_schema", "json_schema": {"name": "modulation", "schema": DECISION_SCHEMA}},
    {"type": "json_object", "schema": DECISION_SCHEMA},
)
# Failures that say nothing about structured output (the call never got that far).
_NOT_ABOUT_FORMAT = (
    ServerUnavailableError,
    BackendTimeoutError,
    ContextOverflowError,
    ModelNotFoundError,
)
# How the question words the rate against the band when `relation` is on.
RELATION = {"increase": "too low", "decrease": "too high", "maintain": "within the target band"}


@dataclass
class Decision:
    """One modulator call: what it was asked, what it answered, what it decided."""

    action: str | None  # None: no decision (the call failed or was stopped)
    parsed_by: str  # "schema" | "keywords" | "error" | "stopped"
    text: str  # the model's answer
    messages: list[Message]  # the prompt
    latency_s: float
    error: str | None = None
    situation: dict[str, Any] = field(default_factory=dict)


def situation_from(workspace: GlobalWorkspace) -> dict[str, Any] | None:
    """What the modulator looks at, read from the workspace (None before the first chunk)."""
    state = workspace.read("neuro/state")
    if not isinstance(state, dict):
        return None
    return {
        "rate_hz": state.get("rate_hz", 0.0),
        "mean_v_mv": state.get("mean_v_mv"),
        "drive_pa": state.get("drive_pa", 0.0),
        "t_s": state.get("t_s"),
        "activations": (workspace.read("neural_activations") or [])[:10],
        "avg_entropy": workspace.read("avg_entropy"),
        "diversity_index": workspace.read("diversity_index"),
    }


class Modulator:
    """Asks a chat backend whether the network needs more or less input.

    Args:
        backend: any `holomind.llm` backend.
        workspace: read for the situation, written with the decision.
        log: where decisions and prompts are stored (None: not stored).
        band: the target firing-rate band, Hz.
        interval_s: least time between two calls to the model.
        relation: also say in words whether the rate is too low, too high or within the band
            (the small embedded model cannot compare the numbers itself: see bench/modulator.py).
        context: also give the membrane potential, the first neurons' rates and the soup's
            entropy and diversity (off by default: they make SmolLM2-135M answer worse).
        structured: ask for structured output (off: free text and the seed's keywords).
        max_tokens: the longest answer asked for.
    """

    def __init__(
        self,
        backend: Backend,
        workspace: GlobalWorkspace,
        *,
        log: ActivityLog | None = None,
        band: tuple[float, float] = (5.0, 15.0),
        interval_s: float = 5.0,
        relation: bool = True,
        context: bool = False,
        structured: bool = True,
        max_tokens: int = 24,
    ) -> None:
        self.backend = backend
        self.workspace = workspace
        self.log = log
        self.band = band
        self.interval_s = interval_s
        self.relation = relation
        self.context = context
        self.max_tokens = max_tokens
        self.structured = structured  # turned off when the backend honours no shape of it
        self._format = 0  # index into FORMATS of the shape this backend is asked with
        self.decisions = 0
        self.agreed = 0  # decisions equal to `rule_action` on the same situation
        self._last_call = -float("inf")

    def ready(self) -> bool:
        """Whether the rate limit allows a call now."""
        return time.monotonic() - self._last_call >= self.interval_s

    def messages(self, situation: dict[str, Any]) -> list[Message]:
        """The prompt for `situation`: the rule in words, then the situation."""
        low, high = self.band
        s = situation
        parts = [f"Firing rate: {s['rate_hz']:.1f} Hz. Target band: {low:g} to {high:g} Hz."]
        if self.relation:
            parts.append(f"The firing rate is {RELATION[rule_action(s['rate_hz'], self.band)]}.")
        if self.context and s.get("mean_v_mv") is not None:
            parts.append(f"Mean membrane potential: {s['mean_v_mv']:.1f} mV.")
        if self.context and s.get("activations"):
            parts.append(f"First neurons' rates (Hz): {s['activations']}.")
        if self.context and s.get("avg_entropy") is not None:
            parts.append(
                f"Soup entropy: {s['avg_entropy']:.2f} bits/byte, "
                f"diversity {s.get('diversity_index') or 0:.2f}."
            )
        return [
            {"role": "system", "content": SYSTEM.format(low=low, high=high)},
            {"role": "user", "content": " ".join(parts)},
        ]

    def decide(
        self, situation: dict[str, Any] | None = None, stop: threading.Event | None = None
    ) -> Decision | None:
        """Ask the model about `situation` (default: the workspace's), publish and log the answer.

        Returns None when there is nothing to decide about yet (no ``neuro/state``).
        """
        situation = situation if situation is not None else situation_from(self.workspace)
        if situation is None:
            return None
        self._last_call = time.monotonic()
        messages = self.messages(situation)
        decision = self._ask(messages, stop)
        decision.situation = situation
        self._record(decision)
        return decision

    def _ask(self, messages: list[Message], stop: threading.Event | None) -> Decision:
        began = time.perf_counter()
        while True:
            fmt = FORMATS[self._format] if self.structured else None
            try:
                text = self._generate(messages, fmt, stop)
            except BackendError as exc:
                if fmt is None or isinstance(exc, _NOT_ABOUT_FORMAT):
                    return Decision(None, "error", "", messages, _since(began), str(exc))
                self._next_format()  # this server refuses that shape of structured output
                continue
            if text is None:
                return Decision(None, "stopped", "", messages, _since(began))
            action = schema_action(text)
            if action is not None:
                return Decision(action, "schema", text, messages, _since(began))
            if fmt is None:
                return Decision(keyword_action(text), "keywords", text, messages, _since(began))
            self._next_format()  # the server ignored that shape: try the next one

    def _next_format(self) -> None:
        # Shapes are tried in order and never again once passed: one failed call each.
        self._format += 1
        if self._format == len(FORMATS):
            self.structured = False

    def _generate(
        self, messages: list[Message], fmt: dict[str, Any] | None, stop: threading.Event | None
    ) -> str | None:
        stream = self.backend.chat(
            messages, stream=True, max_tokens=self.max_tokens, temperature=0.0, response_format=fmt
        )
        pieces = []
        for piece in stream:
            if stop is not None and stop.is_set():
                return None  # abandoned: a stopping simulation does not wait for the model
            pieces.append(piece)
        return "".join(pieces)

    def _record(self, d: Decision) -> None:
        s = d.situation
        if d.action is not None:
            self.decisions += 1
            self.agreed += d.action == rule_action(s["rate_hz"], self.band)
            mod = Modulation(d.action, 1.0, "llm")
            self.workspace.write(
                "modulation",
                {
                    **mod.to_dict(),
                    "t_s": s.get("t_s"),
                    "rate_hz": s["rate_hz"],
                    "parsed_by": d.parsed_by,
                    "latency_s": round(d.latency_s, 3),
                    "model": self.model_name(),
                },
            )
        if self.log is not None:
            self.log.record(
                "decisions",
                time.time(),
                s.get("t_s"),
                self.model_name(),
                json.dumps(d.messages, ensure_ascii=False),
                d.text,
                d.action,
                d.parsed_by,
                d.latency_s,
                d.error,
            )

    def model_name(self) -> str:
        """The backend's model, or "unknown" when the backend cannot say."""
        try:
            return self.backend.model
        except BackendError:  # a server that is down cannot name its model
            return "unknown"


def _since(began: float) -> float:
    return time.perf_counter() - began
