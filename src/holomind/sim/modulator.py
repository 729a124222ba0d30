"""The LLM modulator: reads network and soup on the workspace, asks a model, writes `modulation`.

Each decision turns the workspace's current situation (``neuro/state``,
``neural_activations``, ``avg_entropy``, ``diversity_index``) into a short
prompt and asks the model in one of two ways:

- **score** (the embedded model, by default): two questions the small model
  can answer, "Is that a problem?" and, if so, "Should its input be increased or
  decreased?", each answered by comparing the log-probability the model gives
  the possible answers (`holomind.sim.scoring`): no answer wins by being named
  first. "No" means maintain. bench/modulator.py measures this against the
  other ways of asking.
- **generate** (servers): the model writes JSON held to `DECISION_SCHEMA`
  (structured output), with the seed's keyword parsing as the fallback when the
  answer is not that JSON or the server does not support structured output.

Calls are rate-limited (`interval_s`); every decision is logged with its prompt
and answer in the activity log's ``decisions`` table, and published as
``modulation``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from holomind.errors import BackendError, InvalidInputError
from holomind.llm import NOT_ABOUT_FORMAT, Backend, Message, model_name
from holomind.neuro.log import ActivityLog
from holomind.sim.modulation import (
    DECISION_SCHEMA,
    Modulation,
    keyword_action,
    rule_action,
    schema_action,
)
from holomind.sim.scoring import AnswerScorer, can_score
from holomind.workspace import GlobalWorkspace

METHODS = ("auto", "score", "generate")  # auto: score where the backend can (embedded)

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
# How the question words the rate against the band when `relation` is on.
RELATION = {"increase": "too low", "decrease": "too high", "maintain": "within the target band"}
# The scored questions (bench/modulator.py: the wording the small model handles).
SCORED_SYSTEM = "You regulate a spiking neural network."
PROBLEM = ("Is that a problem?", ("Yes", "No"))
DIRECTION = ("Should its input be increased or decreased?", "Its input should be")
DIRECTIONS = {" increased": "increase", " decreased": "decrease"}


@dataclass
class Decision:
    """One modulator call: what it was asked, what it answered, what it decided."""

    action: str | None  # None: no decision (the call failed or was stopped)
    parsed_by: str  # "scores" | "schema" | "keywords" | "error" | "stopped"
    text: str  # the model's answer (scored: the answers chosen, with their log-probabilities)
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
        method: "score" (compare the log-probabilities of the possible answers: the
            embedded model only), "generate" (the model writes the answer) or "auto"
            (score where the backend can).
        structured: when generating, ask for structured output (off: free text and the
            seed's keywords).
        max_tokens: the longest answer generated.
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
        method: str = "auto",
        structured: bool = True,
        max_tokens: int = 24,
    ) -> None:
        if method not in METHODS:
            raise InvalidInputError(
                f"unknown modulator method {method!r}", hint=f"use one of: {', '.join(METHODS)}"
            )
        self.backend = backend
        self.workspace = workspace
        self.log = log
        self.band = band
        self.interval_s = interval_s
        self.relation = relation
        self.context = context
        if method == "auto":
            method = "score" if can_score(backend) else "generate"
        self.method = method
        self._scorer = AnswerScorer(backend) if method == "score" else None
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
        """The prompt for `situation` when generating: the rule in words, then the situation."""
        low, high = self.band
        return [
            {"role": "system", "content": SYSTEM.format(low=low, high=high)},
            {"role": "user", "content": self.describe(situation)},
        ]

    def describe(self, situation: dict[str, Any]) -> str:
        """The situation in a few sentences: rate and band, the relation, the context."""
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
        return " ".join(parts)

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
        if self.method == "score":
            decision = self._score(situation, stop)
        else:
            decision = self._ask(self.messages(situation), stop)
        decision.situation = situation
        self._record(decision)
        return decision

    def _score(self, situation: dict[str, Any], stop: threading.Event | None) -> Decision:
        """Two scored questions: is the situation a problem; if so, which way to move."""
        assert self._scorer is not None
        began = time.perf_counter()
        question, (yes, no) = PROBLEM
        messages: list[Message] = [
            {"role": "system", "content": SCORED_SYSTEM},
            {"role": "user", "content": f"{self.describe(situation)} {question}"},
        ]
        said = ""  # the answers chosen so far, as logged
        try:
            if stop is not None and stop.is_set():
                return Decision(None, "stopped", said, messages, _since(began))
            scores = self._scorer.logprobs(messages, (yes, no))
            problem = max(scores, key=scores.__getitem__)
            said = f"{_chosen(problem, scores)}."
            if problem == no:
                return Decision("maintain", "scores", said, messages, _since(began))
            messages += [
                {"role": "assistant", "content": f"{yes}."},
                {"role": "user", "content": DIRECTION[0]},
            ]
            if stop is not None and stop.is_set():
                return Decision(None, "stopped", said, messages, _since(began))
            scores = self._scorer.logprobs(messages, tuple(DIRECTIONS), DIRECTION[1])
        except BackendError as exc:
            return Decision(None, "error", said, messages, _since(began), str(exc))
        way = max(scores, key=scores.__getitem__)
        said += f" {DIRECTION[1]}{_chosen(way, scores)}."
        return Decision(DIRECTIONS[way], "scores", said, messages, _since(began))

    def _ask(self, messages: list[Message], stop: threading.Event | None) -> Decision:
        began = time.perf_counter()
        while True:
            fmt = FORMATS[self._format] if self.structured else None
            try:
                text = self._generate(messages, fmt, stop)
            except BackendError as exc:
                if fmt is None or isinstance(exc, NOT_ABOUT_FORMAT):
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
                    "model": model_name(self.backend),
                },
            )
        if self.log is not None:
            self.log.record(
                "decisions",
                time.time(),
                s.get("t_s"),
                model_name(self.backend),
                json.dumps(d.messages, ensure_ascii=False),
                d.text,
                d.action,
                d.parsed_by,
                d.latency_s,
                d.error,
            )


def _since(began: float) -> float:
    return time.perf_counter() - began


def _chosen(answer: str, scores: dict[str, float]) -> str:
    """An answer with its log-probability and its rivals', as logged: 'Yes (-2.45; No -3.43)'."""
    rivals = "; ".join(f"{a.strip()} {v:.2f}" for a, v in scores.items() if a != answer)
    return f"{answer} ({scores[answer]:.2f}; {rivals})"
