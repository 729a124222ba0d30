"""What every backend shares: reading error bodies, spotting overflows, streams."""

from __future__ import annotations

from collections.abc import Generator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from holomind.llm.base import Reply, ReplyStream, error_text, is_overflow, model_name

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"error": "plain words"}, "plain words"),
        ({"error": {"message": "inner words", "code": "x"}}, "inner words"),
        ({"message": "unwrapped", "type": "invalid_request_error"}, "unwrapped"),
        ({"detail": "fastapi words"}, "fastapi words"),
        ("raw text ", "raw text"),
        ({"error": 3}, ""),
        (None, ""),
    ],
)
def test_error_text_reads_every_shape(body, text):
    assert error_text(body) == text


def test_overflow_markers():
    assert is_overflow("", "context_length_exceeded")
    assert is_overflow("This model's maximum context length is 512 tokens.")
    assert not is_overflow("model not found")


@given(json_values)
def test_error_text_never_fails_on_any_body(body):
    assert isinstance(error_text(body), str)
    assert isinstance(error_text({"error": body}), str)


@given(st.text())
def test_both_error_shapes_read_the_same(message):
    assert error_text({"error": message}) == error_text({"error": {"message": message}})
    assert error_text({"error": message}) == message.strip()


def test_reply_stream_gives_pieces_then_the_reply():
    def pieces() -> Generator[str, None, Reply]:
        yield "Hel"
        yield "lo"
        return Reply(text="Hello", model="m", completion_tokens=2)

    stream = ReplyStream(pieces())
    assert stream.reply is None
    assert stream.text() == "Hello"
    assert stream.reply == Reply(text="Hello", model="m", completion_tokens=2)


def test_model_name_says_unknown_when_the_server_cannot_say():
    from holomind.llm import open_backend
    from tests.llm.servers import free_port

    down = open_backend("openai", url=f"http://127.0.0.1:{free_port()}/v1")
    assert model_name(down) == "unknown"  # no server to name its model
    named = open_backend("openai", url=f"http://127.0.0.1:{free_port()}/v1", model="qwen")
    assert model_name(named) == "qwen"
