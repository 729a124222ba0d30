"""LLM agents on the embedded SmolLM2: spawned by novelty, logged, published, retired."""

from __future__ import annotations

import json
import time

import pytest

from holomind.agents import AgentPool, AgentStore, NoveltyDetector
from holomind.errors import InvalidInputError
from holomind.ledger import Ledger
from holomind.llm import open_backend
from holomind.workspace import GlobalWorkspace


def wait(check, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_a_rate_jump_spawns_an_agent_that_speaks_then_retires(tmp_path):
    ws = GlobalWorkspace()
    said = []
    ws.subscribe("agents/messages", said.append)
    backend = open_backend("embedded")
    applied = []
    with (
        AgentStore(tmp_path / "agents.db") as store,
        Ledger.open(tmp_path / "ledger", create=True) as ledger,
    ):
        pool = AgentPool(
            backend,
            ws,
            store,
            ledger=ledger,
            modulate=lambda a, s, src: applied.append((a, s, src)) or 1,
            interval_s=0.0,
            idle_s=1.0,
            detector=NoveltyDetector(warmup=2),
        )
        pool.start()
        for k, rate in enumerate((10, 10, 10, 40)):
            ws.write("neuro/state", {"rate_hz": rate, "t_s": 0.1 * (k + 1), "drive_pa": 0.0})
        message = wait(lambda: said and said[0])
        assert message["agent"] == "rate-watcher-1" and message["role"] == "rate-watcher"
        assert message["kind"] in ("observation", "proposal") and message["text"]
        assert message["news"][0].startswith("firing rate jumped from ~10.0 to 40.0 Hz")
        # Every message is a row of the book with its prompt, the values read and the answer.
        row = store.interaction(message["id"])
        assert row.agent == "rate-watcher-1" and row.kind == message["kind"]
        prompt = json.loads(row.prompt)
        assert prompt[0]["role"] == "system" and "between 5 and 15 Hz" in prompt[0]["content"]
        assert "neuro/state" in prompt[1]["content"] and row.state["neuro/state"]["rate_hz"] == 40
        assert row.llm_response
        # Idle for idle_s: retired, and the roster says so.
        wait(lambda: store.agent("rate-watcher-1").retired is not None, 30)
        assert store.agent("rate-watcher-1").retired_why == "idle for 1 s"
        assert ws.read("agents/roster") == []
        assert ledger.account("rate-watcher-1").balance == 0
        # Only a proposal with a modulation can be adopted.
        with pytest.raises(InvalidInputError):
            pool.adopt(store.record("rate-watcher-1", "observation", {}, commit=True))
        proposal = store.record("rate-watcher-1", "proposal", {}, action=0, commit=True)
        assert pool.adopt(proposal)["action"] == "increase"
        assert applied == [("increase", 1.0, "llm:rate-watcher-1")]
        assert ledger.balance("rate-watcher-1") == 5
        pool.stop()
        summary = pool.summary()
        assert summary["spawned"] == 1 and summary["messages"] >= 1 and summary["live"] == []
    backend.close()
    ws.close()
