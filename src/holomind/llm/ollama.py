"""The `ollama` backend: Ollama's native ``/api/chat`` with an explicit context size.

Ollama's OpenAI endpoint uses the model's default context (often 2048 tokens) and
cuts longer prompts silently. The native API lets us send ``num_ctx``, and its
``prompt_eval_count`` tells us how many prompt tokens the model actually read: when
that count fills the whole window, the prompt was cut and we say so.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import httpx

from holomind.errors import BackendError, ModelNotFoundError
from holomind.llm.base import (
    DEFAULT_URLS,
    Backend,
    Message,
    Reply,
    error_text,
    is_overflow,
    overflow_error,
    timeout_error,
    unavailable_error,
)


class OllamaBackend(Backend):
    """Chat with a model served by Ollama, with ``num_ctx`` set on every request."""

    name = "ollama"

    def __init__(
        self,
        url: str | None = None,
        model: str | None = None,
        *,
        context_window: int = 4096,
        timeout: float = 120.0,
    ) -> None:
        url = (url or DEFAULT_URLS["ollama"]).rstrip("/")
        # People paste the OpenAI-style address; the native API lives at the root.
        for suffix in ("/v1", "/api"):
            url = url.removesuffix(suffix)
        self.url = url
        self._model = model
        self._context_window = context_window
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    @property
    def model(self) -> str:
        """The model named at start, else the first one Ollama lists."""
        if self._model is None:
            names = self.models()
            if not names:
                raise ModelNotFoundError(
                    f"Ollama at {self.url} has no models",
                    hint="pull one first, e.g. `ollama pull llama3.2`",
                )
            self._model = names[0]
        return self._model

    @property
    def context_window(self) -> int:
        """The ``num_ctx`` sent with every request."""
        return self._context_window

    def models(self) -> list[str]:
        """The names of the models Ollama has pulled (``/api/tags``)."""
        response = self._request("GET", "/api/tags")
        return [m["name"] for m in response.json().get("models", [])]

    def _payload(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
        stream: bool,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "stream": stream,
            "options": {
                "num_ctx": self._context_window,
                "num_predict": max_tokens,
                "temperature": temperature,
            },
        }
        if response_format:
            payload["format"] = _ollama_format(response_format)
        return payload

    def _check_fits(self, messages: list[Message], max_tokens: int) -> None:
        # Cheap early refusal: even at the fewest tokens this text can be, it cannot fit.
        least = _least_tokens(messages)
        if least + max_tokens > self._context_window:
            raise overflow_error(
                f"at least {least} prompt tokens + {max_tokens} to answer "
                f"> num_ctx {self._context_window}"
            )

    def _finish(
        self, final: dict[str, Any], text: str, messages: list[Message], max_tokens: int
    ) -> Reply:
        read = final.get("prompt_eval_count")
        if read is not None and self._was_cut(read, _least_tokens(messages), max_tokens):
            raise overflow_error(
                f"Ollama read only {read} prompt tokens with num_ctx {self._context_window}: "
                "it cut the prompt silently"
            )
        return Reply(
            text=text,
            model=final.get("model", self.model),
            prompt_tokens=read,
            completion_tokens=final.get("eval_count"),
            finish_reason=final.get("done_reason"),
        )

    def _was_cut(self, read: int, least: int, max_tokens: int) -> bool:
        """Whether ``prompt_eval_count`` shows one of Ollama's two silent truncations.

        Older runners cut an over-long prompt to fill the whole window; newer ones keep
        num_ctx / 2 + 2 tokens. A prompt that really is about half the window is told
        apart by its length: its text cannot be that short in tokens.
        """
        half = self._context_window // 2
        filled_window = read >= self._context_window - max_tokens
        kept_half = half <= read <= half + 8 and least > half + 8
        return filled_window or kept_half

    def _generate(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> Generator[str, None, Reply]:
        self._check_fits(messages, max_tokens)
        payload = self._payload(messages, max_tokens, temperature, response_format, True)
        pieces: list[str] = []
        final: dict[str, Any] = {}
        try:
            with self._http.stream("POST", "/api/chat", json=payload) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._status_error(response)
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    if "error" in event:
                        raise self._message_error(error_text(event), 500)
                    piece = event.get("message", {}).get("content", "")
                    if piece:
                        pieces.append(piece)
                        yield piece
                    if event.get("done"):
                        final = event
        except httpx.TimeoutException:
            raise timeout_error(f"Ollama at {self.url}", self.timeout) from None
        except httpx.TransportError:
            raise unavailable_error(self.url) from None
        return self._finish(final, "".join(pieces), messages, max_tokens)

    def _complete(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> Reply:
        self._check_fits(messages, max_tokens)
        payload = self._payload(messages, max_tokens, temperature, response_format, False)
        final = self._request("POST", "/api/chat", json=payload).json()
        text = final.get("message", {}).get("content", "")
        return self._finish(final, text, messages, max_tokens)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise timeout_error(f"Ollama at {self.url}", self.timeout) from None
        except httpx.TransportError:
            raise unavailable_error(self.url) from None
        if response.status_code >= 400:
            raise self._status_error(response)
        return response

    def _status_error(self, response: httpx.Response) -> Exception:
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        return self._message_error(error_text(body) or response.reason_phrase, response.status_code)

    def _message_error(self, message: str, status: int) -> Exception:
        if is_overflow(message):
            return overflow_error(message)
        if status == 404 or "not found" in message.lower():
            return ModelNotFoundError(
                f"model {self._model!r} is not available in Ollama at {self.url} ({message})",
                hint=f"pull it with `ollama pull {self._model}`, or pass --model with one "
                "that `ollama list` shows",
            )
        return BackendError(f"Ollama at {self.url} failed ({status}: {message})")


def _least_tokens(messages: list[Message]) -> int:
    """A lower bound on the tokens these messages take (BPE averages ~4 chars a token)."""
    return sum(len(m["content"]) for m in messages) // 6


def _ollama_format(response_format: dict[str, Any]) -> str | dict[str, Any]:
    """Map an OpenAI ``response_format`` to Ollama's ``format``: "json" or a JSON schema."""
    if response_format.get("type") == "json_schema":
        return response_format.get("json_schema", {}).get("schema", "json")
    return response_format.get("schema") or "json"
