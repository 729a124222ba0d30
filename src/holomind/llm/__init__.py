"""Chat backends behind one interface: embedded (bundled GGUF), OpenAI-compatible, Ollama.

``open_backend("embedded")`` needs nothing running; ``open_backend("openai", url=...)``
talks to LM Studio, llama.cpp's server or vLLM; ``open_backend("ollama")`` to Ollama.
Heavy libraries load only when a backend of that kind is opened.
"""

from __future__ import annotations

from pathlib import Path

from holomind.config import BACKENDS
from holomind.errors import ConfigError
from holomind.llm.base import (
    DEFAULT_URLS,
    NOT_ABOUT_FORMAT,
    Backend,
    Message,
    Reply,
    ReplyStream,
    model_name,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_URLS",
    "NOT_ABOUT_FORMAT",
    "Backend",
    "Message",
    "Reply",
    "ReplyStream",
    "model_name",
    "open_backend",
]


def open_backend(
    name: str = "embedded",
    *,
    url: str | None = None,
    model: str | None = None,
    threads: int = 1,
    context_window: int | None = None,
    timeout: float = 120.0,
) -> Backend:
    """Open the backend called `name` (embedded | openai | ollama) with these settings.

    `context_window` defaults to 2048 tokens for the embedded model and 4096 for servers.
    """
    if name == "embedded":
        from holomind.llm.embedded import EmbeddedBackend

        if url:
            raise ConfigError(
                "--url has no effect with the embedded backend",
                hint="add --backend openai (LM Studio, llama.cpp, vLLM) or --backend ollama",
            )
        return EmbeddedBackend(
            Path(model) if model else None, threads=threads, context_window=context_window or 2048
        )
    if name == "openai":
        from holomind.llm.openai_compat import OpenAIBackend

        return OpenAIBackend(url, model, context_window=context_window or 4096, timeout=timeout)
    if name == "ollama":
        from holomind.llm.ollama import OllamaBackend

        return OllamaBackend(url, model, context_window=context_window or 4096, timeout=timeout)
    raise ConfigError(f"unknown backend {name!r}", hint=f"use one of: {', '.join(BACKENDS)}")
