"""The agents' book: the seed's agent_interactions table, the agents table, reading it back."""

from __future__ import annotations

import sqlite3

import pytest

from holomind.agents import AgentStore
from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError


def test_the_seeds_table_and_rows(tmp_path):
    path = tmp_path / "agents.db"
    with AgentStore(path, commit_rows=2) as store:
        store.register("rl-agent", "rl", "modulation", "created")
        first = store.record("rl-agent", "step", [0.5, 1.0], action=2, reward=1.0, episode=1)
        store.record("rl-agent", "step", [0.4, 1.0], action=0, reward=-0.5, episode=1)
        store.register("rate-watcher-1", "llm", "rate-watcher", "rate jumped")
        said = store.record(
            "rate-watcher-1",
            "proposal",
            {"neuro/state": {"rate_hz": 30}},
            action=1,
            llm_response='{"kind": "proposal"}',
            prompt="[]",
            commit=True,
        )
        store.retire("rate-watcher-1", "idle")
        # Committed: another connection sees every row.
        with sqlite3.connect(path) as other:
            columns = [r[1] for r in other.execute("PRAGMA table_info(agent_interactions)")]
            assert columns[:6] == ["id", "time", "state", "action", "reward", "llm_response"]
            assert other.execute("SELECT COUNT(*) FROM agent_interactions").fetchone() == (3,)
        rows = store.interactions("rl-agent")
        assert [(r.id, r.action, r.reward, r.state) for r in rows] == [
            (first, 2, 1.0, [0.5, 1.0]),
            (first + 1, 0, -0.5, [0.4, 1.0]),
        ]
        assert [r.id for r in store.interactions(kinds=("proposal",))] == [said]
        assert [r.id for r in store.interactions(last=1)] == [said]
        assert store.interaction(first).episode == 1
        agents = {a.name: a for a in store.agents()}
        assert agents["rl-agent"].interactions == 2 and agents["rl-agent"].retired is None
        assert agents["rate-watcher-1"].retired_why == "idle"
        with pytest.raises(InvalidInputError, match=r"no agent 'nobody'.*rl-agent"):
            store.agent("nobody")
        with pytest.raises(InvalidInputError, match="#999"):
            store.interaction(999)


def test_a_retired_agent_comes_back_when_registered_again(tmp_path):
    with AgentStore(tmp_path / "a.db") as store:
        store.register("rl-agent", "rl", "modulation", "created")
        store.retire("rl-agent", "training ended")
        store.register("rl-agent", "rl", "modulation", "resumed")
        (agent,) = store.agents()
        assert agent.retired is None and agent.reason == "created"


def test_missing_and_damaged_books_are_refused(tmp_path):
    with pytest.raises(MissingFileError, match="agents train"):
        AgentStore(tmp_path / "none.db", create=False)
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(CorruptFileError, match="not an agents database"):
        AgentStore(bad)
