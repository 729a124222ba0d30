"""The chat WebSocket with the embedded model: tokens streamed, the Q&A appended, errors in-band."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets

from holomind.memory import PixelNetwork
from tests.server.conftest import Server


@pytest.fixture(scope="module")
def server(start_server) -> Server:
    return start_server("--max-tokens", "24")


async def converse(server: Server, *messages: str) -> list[list[dict]]:
    """Send each message on one socket; every reply message up to its done/error, per message."""
    replies = []
    async with websockets.connect(f"ws://127.0.0.1:{server.port}/ws/chat") as ws:
        for message in messages:
            await ws.send(message)
            got: list[dict] = []
            while not got or got[-1]["type"] == "token":
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 300)))
            replies.append(got)
    return replies


def test_a_question_streams_its_answer_and_is_remembered(server: Server) -> None:
    assert server.client.get("/api/chat").json() == {
        "backend": "embedded",
        "url": None,
        "model": None,
        "loaded": False,
        "max_tokens": 24,
        "turns": [],
    }
    [reply] = asyncio.run(converse(server, json.dumps({"message": "What is a hippocampus?"})))
    *tokens, done = reply
    assert tokens and all(t["type"] == "token" and isinstance(t["text"], str) for t in tokens)
    assert done["type"] == "done"
    assert done["answer"] == "".join(t["text"] for t in tokens).strip()
    assert done["record_id"] == 1 and done["completion_tokens"] <= 24
    grown = done["rows_after"] - done["rows_before"]
    assert grown > 0
    assert done["growth"] == (
        f"Network expanded: {done['rows_before']} → {done['rows_after']} rows (+{grown})"
    )
    [record] = PixelNetwork(server.home / "network.png", embedder=None).records()
    assert (record.id, record.question, record.answer) == (
        1,
        "What is a hippocampus?",
        done["answer"],
    )
    info = server.client.get("/api/chat").json()
    assert info["loaded"] is True and info["model"].startswith("SmolLM2")
    assert info["turns"][0]["record"] == 1 and info["turns"][0]["answer"] == done["answer"]
    appended = server.client.get("/api/workspace/history", params={"key": "memory/appended"}).json()
    assert appended[-1]["value"]["id"] == 1 and appended[-1]["value"]["records"] == 1


def test_bad_messages_get_an_error_and_the_socket_stays_open(server: Server) -> None:
    replies = asyncio.run(
        converse(
            server,
            "not json",
            json.dumps(["a", "list"]),
            json.dumps({"message": "   "}),
            json.dumps({"message": 42}),
            json.dumps({"message": "x" * 4001}),
        )
    )
    expected = 'send {"message": "your question"}'
    assert [r[-1] for r in replies] == [
        {"type": "error", "error": expected},
        {"type": "error", "error": expected},
        {"type": "error", "error": expected},
        {"type": "error", "error": expected},
        {"type": "error", "error": "the question has 4,001 characters; at most 4,000"},
    ]
    assert all(len(r) == 1 for r in replies)
    assert server.client.get("/api/memory").json()["records"] == 1
