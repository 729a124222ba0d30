"""The `embedded` backend: the bundled SmolLM2 GGUF run in this process by llama.cpp."""

from __future__ import annotations

import json

import pytest

from holomind.errors import ConfigError, ContextOverflowError, CorruptFileError, ModelNotFoundError
from holomind.llm import open_backend
from holomind.llm.embedded import BUNDLED_FILE, EmbeddedBackend, Sampling, bundled_model_path

QUESTION = [{"role": "user", "content": "What is 2+2?"}]


@pytest.fixture(scope="module")
def backend() -> EmbeddedBackend:
    return EmbeddedBackend(threads=1)


def test_bundled_model_is_found():
    path = bundled_model_path()
    assert path.name == BUNDLED_FILE
    assert path.stat().st_size > 50_000_000


def test_chat_answers(backend):
    reply = backend.chat(QUESTION, max_tokens=16, temperature=0.0)
    assert "4" in reply.text
    assert reply.model == "SmolLM2-135M-Instruct.Q4_1"
    assert reply.prompt_tokens is not None and reply.prompt_tokens > 5
    assert 0 < reply.completion_tokens <= 16
    assert reply.finish_reason in ("stop", "length")


def test_streaming_gives_the_same_answer_in_pieces(backend):
    whole = backend.chat(QUESTION, max_tokens=16, temperature=0.0).text
    stream = backend.chat(QUESTION, stream=True, max_tokens=16, temperature=0.0)
    pieces = list(stream)
    assert len(pieces) > 1
    assert "".join(pieces) == whole
    assert stream.reply is not None
    assert stream.reply.text == whole
    assert stream.reply.completion_tokens == backend.count_tokens(whole)


def test_sampling_settings_reach_llama_cpp(backend):
    # A prompt the model answers at length, so a repeat penalty changes the words.
    ask = [{"role": "user", "content": "What is a hippocampus?"}]

    def raw(**sampling):
        out = backend.llama.create_chat_completion(
            messages=ask, max_tokens=48, temperature=0.0, **sampling
        )
        return out["choices"][0]["message"]["content"]

    assert backend.sampling == Sampling()
    assert backend.sampling.repeat_penalty > 1.0  # the measured default, not llama.cpp's 1.0
    ours = backend.chat(ask, max_tokens=48, temperature=0.0).text
    assert ours == raw(**Sampling().kwargs())
    plain = EmbeddedBackend(threads=1, sampling=Sampling(repeat_penalty=1.0))
    assert plain.llama is backend.llama  # one model, settings per call
    assert plain.chat(ask, max_tokens=48, temperature=0.0).text == raw(repeat_penalty=1.0)
    assert raw(repeat_penalty=1.0) != raw(**Sampling().kwargs())


SCHEMA = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_object", "schema": SCHEMA},  # llama-cpp-python's shape
        {"type": "json_schema", "json_schema": {"name": "sum", "schema": SCHEMA}},  # OpenAI's
    ],
)
def test_json_schema_is_followed(backend, response_format):
    reply = backend.chat(QUESTION, max_tokens=24, temperature=0.0, response_format=response_format)
    assert isinstance(json.loads(reply.text)["answer"], int)


def test_model_is_loaded_once_per_process(backend):
    again = open_backend("embedded", threads=1)
    assert again.llama is backend.llama


def test_models_health_and_token_count(backend):
    assert backend.models() == ["SmolLM2-135M-Instruct.Q4_1"]
    assert backend.context_window == 2048
    assert backend.health() == {
        "ok": True,
        "backend": "embedded",
        "model": "SmolLM2-135M-Instruct.Q4_1",
        "models": ["SmolLM2-135M-Instruct.Q4_1"],
        "context_window": 2048,
    }
    assert backend.count_tokens("hello world") == 2
    assert backend.count_tokens("") == 0


@pytest.mark.parametrize("stream", [False, True])
def test_context_overflow_is_one_clear_error(stream):
    small = EmbeddedBackend(threads=1, context_window=200)  # rounded up to 256
    with pytest.raises(ContextOverflowError, match=r"exceed context window of 256"):
        reply = small.chat([{"role": "user", "content": "hello " * 300}], stream=stream)
        if stream:
            list(reply)


def test_missing_model_file_names_the_fix(tmp_path):
    with pytest.raises(ModelNotFoundError) as err:
        open_backend("embedded", model=str(tmp_path / "nope.gguf"))
    assert str(err.value) == (
        f"no GGUF model at {tmp_path / 'nope.gguf'}: pass --model with a .gguf file, "
        "or leave it out for the bundled SmolLM2"
    )


def test_corrupt_model_file_is_refused(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(CorruptFileError, match=r"is not a model llama\.cpp can load"):
        EmbeddedBackend(junk)


def test_url_with_embedded_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="--url has no effect with the embedded backend"):
        open_backend("embedded", url="http://localhost:1234/v1")


def test_unknown_backend_name():
    with pytest.raises(ConfigError, match="unknown backend 'telepathy'"):
        open_backend("telepathy")
