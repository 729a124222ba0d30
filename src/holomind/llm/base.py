"""The one interface every chat backend speaks, and the parts they share.

A backend answers `chat(messages, ...)` with a `Reply`, or with a `ReplyStream`
of text pieces when ``stream=True``; it lists `models()` and reports `health()`.
Failures a user can fix surface as the typed errors in `holomind.errors`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

from holomind.errors import (
    BackendError,
    BackendTimeoutError,
    ContextOverflowError,
    ModelNotFoundError,
    ServerUnavailableError,
)

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}

# Phrases servers use when a prompt does not fit: llama.cpp server, vLLM, OpenAI,
# LM Studio ("Trying to keep the first N tokens when context overflows"), Ollama.
_OVERFLOW_MARKERS = (
    "context length",
    "context window",
    "context_length_exceeded",
    "maximum context",
    "context overflow",
    "when context the overflows",
    "when context overflows",
    "exceed context",
    "exceeds the context",
    "n_ctx",
    "too many tokens",
    "prompt is too long",
)

# Failures that say nothing about structured output (the call never got that far): a
# caller that asked for structured output and got one of these does not retry without.
NOT_ABOUT_FORMAT: tuple[type[BackendError], ...] = (
    ServerUnavailableError,
    BackendTimeoutError,
    ContextOverflowError,
    ModelNotFoundError,
)

# Where the servers people run listen by default.
DEFAULT_URLS = {"openai": "http://localhost:1234/v1", "ollama": "http://localhost:11434"}


@dataclass(frozen=True)
class Reply:
    """A finished answer and what it cost."""

    text: str  # the assistant's answer
    model: str  # the model that wrote it
    prompt_tokens: int | None = None  # tokens the prompt took, when the backend says
    completion_tokens: int | None = None  # tokens generated, when the backend says
    finish_reason: str | None = None  # "stop", "length", ... when the backend says


class ReplyStream:
    """The pieces of an answer as they arrive; `reply` is set once iteration ends."""

    def __init__(self, pieces: Generator[str, None, Reply]) -> None:
        self._pieces = pieces
        self.reply: Reply | None = None

    def __iter__(self) -> Iterator[str]:
        self.reply = yield from self._pieces

    def text(self) -> str:
        """Consume the stream and return the whole answer."""
        return "".join(self)


class Backend(ABC):
    """A chat model HoloMind can talk to: embedded, OpenAI-compatible or Ollama."""

    name: str = "backend"

    @property
    @abstractmethod
    def model(self) -> str:
        """The model this backend answers with."""

    @property
    @abstractmethod
    def context_window(self) -> int:
        """How many tokens prompt and answer may take together."""

    @overload
    def chat(
        self,
        messages: Sequence[Message],
        *,
        stream: Literal[False] = False,
        max_tokens: int = 256,
        temperature: float = 0.7,
        response_format: dict[str, Any] | None = None,
    ) -> Reply: ...

    @overload
    def chat(
        self,
        messages: Sequence[Message],
        *,
        stream: Literal[True],
        max_tokens: int = 256,
        temperature: float = 0.7,
        response_format: dict[str, Any] | None = None,
    ) -> ReplyStream: ...

    def chat(
        self,
        messages: Sequence[Message],
        *,
        stream: bool = False,
        max_tokens: int = 256,
        temperature: float = 0.7,
        response_format: dict[str, Any] | None = None,
    ) -> Reply | ReplyStream:
        """Answer a conversation; with ``stream=True`` the answer comes piece by piece."""
        if stream:
            return ReplyStream(
                self._generate(list(messages), max_tokens, temperature, response_format)
            )
        return self._complete(list(messages), max_tokens, temperature, response_format)

    def _complete(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> Reply:
        """Answer in one piece; by default by draining the stream."""
        pieces = self._generate(messages, max_tokens, temperature, response_format)
        while True:
            try:
                next(pieces)
            except StopIteration as done:
                return done.value

    @abstractmethod
    def _generate(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> Generator[str, None, Reply]:
        """Yield the answer's text pieces, then return the finished `Reply`, whole text included."""

    @abstractmethod
    def models(self) -> list[str]:
        """The models this backend can answer with."""

    def health(self) -> dict[str, Any]:
        """Whether the backend answers, and with what: ``{"ok", "backend", "model", ...}``."""
        try:
            names = self.models()
        except ServerUnavailableError as exc:
            return {"ok": False, "backend": self.name, "error": str(exc)}
        return {
            "ok": True,
            "backend": self.name,
            "model": self.model,
            "models": names,
            "context_window": self.context_window,
        }

    def count_tokens(self, text: str) -> int:
        """An upper estimate of the tokens `text` takes (backends that can tokenize say exactly)."""
        # Three characters per token over-counts English for the usual BPE vocabularies,
        # which is the safe side when budgeting a prompt.
        return math.ceil(len(text) / 3)

    def close(self) -> None:  # noqa: B027 -- most backends hold nothing to release
        """Release connections or memory the backend holds."""


def model_name(backend: Backend) -> str:
    """`backend`'s model, or "unknown" when it cannot say (a server that is down)."""
    try:
        return backend.model
    except BackendError:
        return "unknown"


def error_text(body: Any) -> str:
    """The human message inside a server's error body, whichever shape it has.

    Servers answer ``{"error": "text"}`` (LM Studio, Ollama), ``{"error": {"message":
    ...}}`` (OpenAI, llama.cpp, vLLM), or the inner object alone (the openai SDK
    unwraps ``error`` before we see it).
    """
    if isinstance(body, str):
        return body.strip()
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, str):
            return inner.strip()
        if isinstance(inner, dict):
            for key in ("message", "detail", "error"):
                if isinstance(inner.get(key), str):
                    return inner[key].strip()
        if isinstance(body.get("detail"), str):
            return body["detail"].strip()
    return ""


def is_overflow(message: str, code: str | None = None) -> bool:
    """Whether an error message (or code) says the prompt did not fit the context."""
    text = f"{message} {code or ''}".lower()
    return any(marker in text for marker in _OVERFLOW_MARKERS)


def overflow_error(detail: str) -> ContextOverflowError:
    """The one error for a prompt longer than the model's context window."""
    return ContextOverflowError(
        f"the prompt is longer than the model's context window ({detail})",
        hint="ask a shorter question, use --context to match the model's window, "
        "or load the model with a larger context",
    )


def unavailable_error(url: str) -> ServerUnavailableError:
    """The one error for a URL where no server answers."""
    return ServerUnavailableError(
        f"no server at {url}",
        hint="start LM Studio's server (or llama.cpp, vLLM, Ollama) there, "
        "or use the embedded model (--backend embedded)",
    )


def timeout_error(where: str, seconds: float) -> BackendTimeoutError:
    """The one error for a server (`where`, e.g. "Ollama at URL") that did not answer in time."""
    return BackendTimeoutError(
        f"{where} did not answer within {seconds:g} s",
        hint="the model may still be loading: retry, or raise --timeout",
    )
