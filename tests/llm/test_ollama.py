"""The `ollama` backend against a local stand-in for Ollama's native API.

No Ollama binary can be installed on this machine, so these tests run a small
stdlib HTTP server (in a thread, on 127.0.0.1) that speaks Ollama's documented
``GET /api/tags`` and ``POST /api/chat`` shapes (NDJSON streaming, ``done``,
``prompt_eval_count``, ``{"error": "..."}`` bodies) and reproduces both of
Ollama's silent truncations: older runners fill the window, newer ones keep
num_ctx / 2 + 2 tokens. Its "tokenizer" counts one token per 4 characters.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import ClassVar

import pytest

from holomind.errors import (
    BackendError,
    BackendTimeoutError,
    ContextOverflowError,
    ModelNotFoundError,
    ServerUnavailableError,
)
from holomind.llm import open_backend
from holomind.llm.ollama import OllamaBackend
from tests.llm.servers import JSONHandler, free_port, serve, silent_server

MODELS = ["smollm2:135m", "old-runner:latest", "crashy:latest"]


class FakeOllama(JSONHandler):
    """Answers like Ollama: echoes the last user message back, word by word."""

    requests: ClassVar[list[dict]] = []

    def do_GET(self) -> None:
        if self.path != "/api/tags":
            self.send_json(404, {"error": "404 page not found"})
            return
        self.send_json(
            200,
            {
                "models": [
                    {
                        "name": name,
                        "model": name,
                        "modified_at": "2024-11-20T10:00:00.000000000Z",
                        "size": 91_000_000,
                        "digest": "0" * 64,
                        "details": {"format": "gguf", "family": "llama", "parameter_size": "135M"},
                    }
                    for name in MODELS
                ]
            },
        )

    def do_POST(self) -> None:
        body = self.read_json()
        FakeOllama.requests.append(body)
        if self.path != "/api/chat":
            self.send_json(404, {"error": "404 page not found"})
            return
        model = body["model"]
        if model not in MODELS:
            self.send_json(404, {"error": f'model "{model}" not found, try pulling it first'})
            return
        num_ctx = body.get("options", {}).get("num_ctx", 2048)
        tokens = sum(math.ceil(len(m["content"]) / 4) + 4 for m in body["messages"])
        if tokens > num_ctx:
            read = num_ctx if model == "old-runner:latest" else num_ctx // 2 + 2
        else:
            read = tokens
        words = ("You said: " + body["messages"][-1]["content"]).split(" ")
        words = words[: body.get("options", {}).get("num_predict", 128)]
        final = {
            "model": model,
            "created_at": "2024-11-20T10:00:01Z",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 1000,
            "prompt_eval_count": read,
            "eval_count": len(words),
        }
        if not body.get("stream", True):
            final["message"]["content"] = " ".join(words)
            self.send_json(200, final)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            event = {
                "model": model,
                "created_at": "2024-11-20T10:00:01Z",
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            self.wfile.write(json.dumps(event).encode() + b"\n")
            if model == "crashy:latest":
                error = {"error": "an error was encountered while running the model"}
                self.wfile.write(json.dumps(error).encode() + b"\n")
                return
        self.wfile.write(json.dumps(final).encode() + b"\n")


@pytest.fixture(scope="module")
def ollama_url() -> Iterator[str]:
    with serve(FakeOllama) as url:
        yield url


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_models_come_from_api_tags(ollama_url):
    backend = open_backend("ollama", url=ollama_url)
    assert backend.models() == MODELS
    assert backend.model == "smollm2:135m"  # the first listed, when none is named
    assert backend.health()["ok"] is True


def test_chat_sends_num_ctx_and_reads_counts(ollama_url):
    backend = OllamaBackend(ollama_url, "smollm2:135m", context_window=1024)
    reply = backend.chat(ask("hello there"), max_tokens=16, temperature=0.0)
    assert reply.text == "You said: hello there"
    assert reply.prompt_tokens == 3 + 4
    assert reply.completion_tokens == 4
    assert reply.finish_reason == "stop"
    sent = FakeOllama.requests[-1]
    assert sent["stream"] is False
    assert sent["options"] == {"num_ctx": 1024, "num_predict": 16, "temperature": 0.0}


def test_streaming_yields_pieces_then_the_reply(ollama_url):
    backend = OllamaBackend(ollama_url, "smollm2:135m")
    stream = backend.chat(ask("one two three"), stream=True, max_tokens=16)
    pieces = list(stream)
    assert pieces == ["You", " said:", " one", " two", " three"]
    assert stream.reply is not None
    assert stream.reply.text == "You said: one two three"
    assert stream.reply.completion_tokens == 5
    assert FakeOllama.requests[-1]["stream"] is True


def test_url_with_v1_suffix_is_accepted(ollama_url):
    backend = OllamaBackend(ollama_url + "/v1/", "smollm2:135m")
    assert backend.url == ollama_url
    assert backend.chat(ask("hi"), max_tokens=4).text == "You said: hi"


def test_json_format_is_passed_as_ollama_format(ollama_url):
    backend = OllamaBackend(ollama_url, "smollm2:135m")
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    backend.chat(ask("x"), max_tokens=4, response_format={"type": "json_object"})
    assert FakeOllama.requests[-1]["format"] == "json"
    backend.chat(
        ask("x"),
        max_tokens=4,
        response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema}},
    )
    assert FakeOllama.requests[-1]["format"] == schema


@pytest.mark.parametrize("stream", [False, True])
def test_half_window_truncation_is_detected(ollama_url, stream):
    backend = OllamaBackend(ollama_url, "smollm2:135m", context_window=400)
    long = "word " * 400  # 2000 chars: 504 tokens to the stand-in, more than num_ctx 400
    with pytest.raises(ContextOverflowError, match=r"read only 202 prompt tokens.*cut the prompt"):
        reply = backend.chat(ask(long), stream=stream, max_tokens=64)
        if stream:
            list(reply)


def test_full_window_truncation_is_detected(ollama_url):
    backend = OllamaBackend(ollama_url, "old-runner:latest", context_window=400)
    with pytest.raises(ContextOverflowError, match="read only 400 prompt tokens"):
        backend.chat(ask("word " * 400), max_tokens=8)


def test_a_prompt_that_fits_is_not_flagged(ollama_url):
    backend = OllamaBackend(ollama_url, "smollm2:135m", context_window=400)
    # 200 tokens: exactly half the window, but its text really is that long: nothing was cut.
    reply = backend.chat(ask("abcd" * 196), max_tokens=8)
    assert reply.prompt_tokens == 196 + 4  # 4 tokens of per-message overhead
    assert reply.text.startswith("You said: abcd")


def test_hopeless_prompt_is_refused_before_sending(ollama_url):
    backend = OllamaBackend(ollama_url, "smollm2:135m", context_window=256)
    before = len(FakeOllama.requests)
    with pytest.raises(ContextOverflowError, match="num_ctx 256"):
        backend.chat(ask("x" * 6000), max_tokens=8)
    assert len(FakeOllama.requests) == before


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_model_names_the_fix(ollama_url, stream):
    backend = OllamaBackend(ollama_url, "llama9:70b")
    with pytest.raises(ModelNotFoundError) as err:
        reply = backend.chat(ask("hi"), stream=stream, max_tokens=4)
        if stream:
            list(reply)
    assert str(err.value) == (
        f"model 'llama9:70b' is not available in Ollama at {ollama_url} "
        '(model "llama9:70b" not found, try pulling it first): pull it with '
        "`ollama pull llama9:70b`, or pass --model with one that `ollama list` shows"
    )


def test_error_in_the_middle_of_a_stream(ollama_url):
    backend = OllamaBackend(ollama_url, "crashy:latest")
    stream = backend.chat(ask("hi"), stream=True, max_tokens=4)
    with pytest.raises(BackendError, match="an error was encountered while running the model"):
        list(stream)


def test_server_down_names_the_fix():
    url = f"http://127.0.0.1:{free_port()}"
    backend = OllamaBackend(url, "smollm2:135m")
    with pytest.raises(ServerUnavailableError) as err:
        backend.chat(ask("hi"), max_tokens=4)
    assert str(err.value).startswith(f"no server at {url}: start LM Studio's server")
    assert backend.health() == {"ok": False, "backend": "ollama", "error": str(err.value)}


@pytest.mark.parametrize("stream", [False, True])
def test_timeout_names_the_fix(stream):
    with silent_server() as url:
        backend = OllamaBackend(url, "smollm2:135m", timeout=0.3)
        with pytest.raises(BackendTimeoutError, match=r"did not answer within 0.3 s: .*--timeout"):
            reply = backend.chat(ask("hi"), stream=stream, max_tokens=4)
            if stream:
                list(reply)
