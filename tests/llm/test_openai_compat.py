"""The `openai` backend against a real `python -m llama_cpp.server` on 127.0.0.1.

The server runs the bundled SmolLM2 GGUF with a 512-token context. Error shapes that
llama.cpp's server never produces (LM Studio's string ``error``, vLLM's 404 for an
unknown model) come from a small stdlib HTTP server that answers with those bodies.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from holomind.errors import (
    BackendError,
    BackendTimeoutError,
    ContextOverflowError,
    ModelNotFoundError,
    ServerUnavailableError,
)
from holomind.llm import open_backend
from holomind.llm.openai_compat import OpenAIBackend
from tests.llm.servers import (
    SERVER_MODEL,
    JSONHandler,
    free_port,
    llama_server,
    serve,
    silent_server,
)

QUESTION = [{"role": "user", "content": "What is 2+2?"}]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return llama_server(tmp_path_factory.mktemp("llama")).url


def test_models_lists_the_served_model(server_url):
    backend = open_backend("openai", url=server_url)
    assert backend.models() == [SERVER_MODEL]
    assert backend.model == SERVER_MODEL  # the first listed, when none is named
    health = backend.health()
    assert health["ok"] is True
    assert health["models"] == [SERVER_MODEL]


def test_chat_answers_with_usage(server_url):
    backend = OpenAIBackend(server_url)
    reply = backend.chat(QUESTION, max_tokens=12, temperature=0.0)
    assert "4" in reply.text
    assert reply.model == SERVER_MODEL
    assert reply.prompt_tokens is not None and reply.prompt_tokens > 5
    assert 0 < reply.completion_tokens <= 12


def test_streaming_gives_the_same_answer_in_pieces(server_url):
    backend = OpenAIBackend(server_url)
    whole = backend.chat(QUESTION, max_tokens=12, temperature=0.0).text
    stream = backend.chat(QUESTION, stream=True, max_tokens=12, temperature=0.0)
    pieces = list(stream)
    assert len(pieces) > 1
    assert "".join(pieces) == whole
    assert stream.reply is not None and stream.reply.text == whole
    assert stream.reply.finish_reason in ("stop", "length")


@pytest.mark.parametrize("stream", [False, True])
def test_context_overflow_is_one_clear_error(server_url, stream):
    backend = OpenAIBackend(server_url)
    long = [{"role": "user", "content": "hello " * 700}]
    with pytest.raises(ContextOverflowError) as err:
        reply = backend.chat(long, stream=stream, max_tokens=8)
        if stream:
            list(reply)
    message = str(err.value)
    assert message.startswith("the prompt is longer than the model's context window (")
    assert "maximum context length is 512 tokens" in message
    assert message.endswith("or load the model with a larger context")


def test_server_down_names_the_fix():
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAIBackend(url, "any")
    with pytest.raises(ServerUnavailableError) as err:
        backend.chat(QUESTION, max_tokens=4)
    assert str(err.value) == (
        f"no server at {url}: start LM Studio's server (or llama.cpp, vLLM, Ollama) there, "
        "or use the embedded model (--backend embedded)"
    )
    assert backend.health()["ok"] is False


def test_timeout_names_the_fix():
    with silent_server() as url:
        backend = OpenAIBackend(url + "/v1", "any", timeout=0.3)
        with pytest.raises(BackendTimeoutError, match=r"did not answer within 0.3 s: .*--timeout"):
            backend.chat(QUESTION, max_tokens=4)


class OtherServers(JSONHandler):
    """Error bodies of LM Studio and vLLM, which llama.cpp's server does not produce."""

    def do_GET(self) -> None:
        models = [] if self.path.startswith("/empty") else [{"id": "qwen2.5-7b", "object": "model"}]
        self.send_json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        body = self.read_json()
        if body["model"] != "qwen2.5-7b":
            # vLLM's shape for an unknown model
            self.send_json(
                404,
                {
                    "object": "error",
                    "message": f"The model `{body['model']}` does not exist.",
                    "type": "NotFoundError",
                    "code": 404,
                },
            )
        elif self.path.startswith("/lmstudio"):
            # LM Studio's shape for an overflow: a plain string under "error"
            self.send_json(
                400,
                {
                    "error": "Trying to keep the first 2837 tokens when context the overflows. "
                    "However, the model is loaded with context length of only 2048 tokens"
                },
            )
        else:
            self.send_json(
                500, {"error": {"message": "CUDA out of memory", "type": "server_error"}}
            )


@pytest.fixture(scope="module")
def other_url() -> Iterator[str]:
    with serve(OtherServers) as url:
        yield url


def test_lm_studio_string_error_is_an_overflow(other_url):
    backend = OpenAIBackend(other_url + "/lmstudio/v1", "qwen2.5-7b")
    with pytest.raises(ContextOverflowError, match="context length of only 2048 tokens"):
        backend.chat(QUESTION, max_tokens=4)


def test_unknown_model_lists_the_loaded_ones(other_url):
    backend = OpenAIBackend(other_url + "/v1", "llama-3-70b")
    with pytest.raises(ModelNotFoundError) as err:
        backend.chat(QUESTION, max_tokens=4)
    assert str(err.value) == (
        f"model 'llama-3-70b' is not loaded on {other_url}/v1 "
        "(The model `llama-3-70b` does not exist.): "
        "load it in the server, or pass --model with one it lists: qwen2.5-7b"
    )


def test_no_models_loaded_names_the_fix(other_url):
    backend = OpenAIBackend(other_url + "/empty/v1")
    with pytest.raises(ModelNotFoundError, match="lists no models: load a model in the server"):
        backend.chat(QUESTION, max_tokens=4)


def test_other_server_errors_keep_the_server_message(other_url):
    backend = OpenAIBackend(other_url + "/v1", "qwen2.5-7b")
    with pytest.raises(BackendError, match=r"refused the request \(500: CUDA out of memory\)"):
        backend.chat(QUESTION, max_tokens=4)
