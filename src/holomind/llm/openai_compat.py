"""The `openai` backend: any OpenAI-compatible server through the openai SDK.

LM Studio (``http://localhost:1234/v1``), llama.cpp's server, vLLM and Ollama's
``/v1`` all speak this protocol; the model defaults to the first one the server lists.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import openai

from holomind.errors import BackendError, ModelNotFoundError, ServerUnavailableError
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


class OpenAIBackend(Backend):
    """Chat with a model on an OpenAI-compatible server (LM Studio, llama.cpp, vLLM)."""

    name = "openai"

    def __init__(
        self,
        url: str | None = None,
        model: str | None = None,
        *,
        api_key: str | None = None,
        context_window: int = 4096,
        timeout: float = 120.0,
    ) -> None:
        self.url = (url or DEFAULT_URLS["openai"]).rstrip("/")
        self._model = model
        self._context_window = context_window
        self.timeout = timeout
        # Local servers ignore the key, but the SDK refuses to start without one.
        self._client = openai.OpenAI(
            base_url=self.url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=0,
        )

    @property
    def model(self) -> str:
        """The model named at start, else the first one the server lists."""
        if self._model is None:
            names = self.models()
            if not names:
                raise ModelNotFoundError(
                    f"the server at {self.url} lists no models",
                    hint="load a model in the server (in LM Studio: the Developer tab)",
                )
            self._model = names[0]
        return self._model

    @property
    def context_window(self) -> int:
        """The context size given at start (servers do not report it in a standard way)."""
        return self._context_window

    def models(self) -> list[str]:
        """The ids of the models the server has loaded or can load."""
        try:
            return [m.id for m in self._client.models.list()]
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None

    def _generate(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> Generator[str, None, Reply]:
        model = self.model
        pieces: list[str] = []
        finish: str | None = None
        try:
            with self._client.chat.completions.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=temperature,
                stream=True,
                **self._format_args(response_format),
            ) as chunks:
                for chunk in chunks:
                    if not chunk.choices:
                        continue
                    choice = chunk.choices[0]
                    finish = choice.finish_reason or finish
                    if choice.delta and choice.delta.content:
                        pieces.append(choice.delta.content)
                        yield choice.delta.content
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None
        if finish is None and not pieces:
            self._explain_empty_stream(messages, temperature, response_format)
        return Reply(text="".join(pieces), model=model, finish_reason=finish)

    def _explain_empty_stream(
        self,
        messages: list[Message],
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> None:
        """Raise the reason a stream ended before its first piece.

        llama.cpp's server answers 200 and closes the stream when the prompt is
        rejected (a context overflow, for one); the same request without streaming
        and one token long gets the error body the stream swallowed. The server also
        resets the connection the broken stream used, so a first refusal is retried.
        """
        try:
            self._complete(messages, 1, temperature, response_format)
        except ServerUnavailableError:
            self._complete(messages, 1, temperature, response_format)
        raise BackendError(
            f"the server at {self.url} ended the stream without an answer",
            hint="its log says why; retry without streaming to see the error",
        )

    def _complete(
        self,
        messages: list[Message],
        max_tokens: int,
        temperature: float,
        response_format: dict[str, Any] | None,
    ) -> Reply:
        model = self.model
        try:
            done = self._client.chat.completions.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                max_tokens=max_tokens,
                temperature=temperature,
                **self._format_args(response_format),
            )
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None
        choice = done.choices[0]
        usage = done.usage
        return Reply(
            text=choice.message.content or "",
            model=done.model or model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            finish_reason=choice.finish_reason,
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self._client.close()

    @staticmethod
    def _format_args(response_format: dict[str, Any] | None) -> dict[str, Any]:
        return {"response_format": response_format} if response_format else {}

    def _translate(self, exc: openai.OpenAIError) -> Exception:
        """Turn an SDK error into the typed error that names the fix."""
        if isinstance(exc, openai.APITimeoutError):
            return timeout_error(f"the server at {self.url}", self.timeout)
        if isinstance(exc, openai.APIConnectionError):
            return unavailable_error(self.url)
        if isinstance(exc, openai.APIStatusError):
            message = error_text(exc.body) or exc.message
            code = exc.body.get("code") if isinstance(exc.body, dict) else None
            if is_overflow(message, str(code) if code else None):
                return overflow_error(message)
            if exc.status_code == 404 or "not found" in message.lower():
                return self._model_missing(message)
            return BackendError(
                f"the server at {self.url} refused the request ({exc.status_code}: {message})",
                hint="check --model and the server's log",
            )
        return BackendError(f"the server at {self.url} failed: {exc}")

    def _model_missing(self, message: str) -> ModelNotFoundError:
        try:
            names = [m.id for m in self._client.models.list()]
        except openai.OpenAIError:
            names = []
        listed = ", ".join(names) if names else "none"
        return ModelNotFoundError(
            f"model {self._model!r} is not loaded on {self.url} ({message})",
            hint=f"load it in the server, or pass --model with one it lists: {listed}",
        )
