"""The simulation, agents and ledger views' API: a real simulation with its agents in the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.neuro.conftest import brian_cache  # noqa: F401 -- the session-wide fixture
from tests.server.conftest import Server


@pytest.fixture(scope="module")
def server(start_server, module_home: Path, brian_cache: Path) -> Server:  # noqa: F811
    (module_home / "brian2").symlink_to(brian_cache, target_is_directory=True)
    return start_server()


def test_nothing_to_show_before_a_simulation(server: Server) -> None:
    c = server.client
    assert c.get("/api/sim").json() == {"job": None}
    assert c.get("/api/agents").json() == {"agents": [], "live": []}
    assert c.get("/api/agents/messages").json() == []
    assert c.get("/api/ledger").json() == {"ledger": None, "entries": []}
    assert c.get("/api/ledger/verify").status_code == 404
    assert c.get("/api/agents/rl-agent").status_code == 404
    refused = c.post("/api/sim/modulate", json={"action": "increase"})
    assert refused.status_code == 409 and refused.json()["error"] == "no sim job is running"
    assert c.post("/api/agents/messages/1/adopt").status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"band_low_hz": 20, "band_high_hz": 10},
        {"neurons": 5},
        {"network": "hh"},
        {"soup_programs": 3},
    ],
)
def test_bad_simulations_are_refused(server: Server, body: dict) -> None:
    assert server.client.post("/api/sim/start", json=body).status_code == 422


def test_a_simulation_with_agents_runs_pays_and_adopts(server: Server) -> None:
    from holomind.agents import AgentStore

    c = server.client
    body = {"neurons": 200, "chunk_ms": 50, "soup": False, "llm_agents": True, "duration_s": 600}
    job = c.post("/api/sim/start", json=body).json()
    assert job["kind"] == "sim" and job["params"]["agents"] is True
    server.wait_state(job["id"], "running")
    keys = lambda: {e["key"] for e in c.get("/api/workspace").json()}  # noqa: E731
    server.wait_for(
        lambda: {"neuro/state", "neuro/spikes", "agents/rl"} <= keys(), 300, "the first chunks"
    )
    # A person steers; the agent gives way for a chunk.
    moved = c.post("/api/sim/modulate", json={"action": "increase", "strength": 2}).json()
    assert moved["action"] == "increase" and moved["version"] >= 1
    server.wait_for(
        lambda: any(
            e["value"].get("source") == "person"
            for e in c.get("/api/workspace/history", params={"key": "modulation"}).json()
        ),
        what="the person's modulation",
    )
    # An episode of 40 chunks ends: its return is the agent's first best, paid in the ledger.
    ledger = server.wait_for(
        lambda: (
            (d := c.get("/api/ledger").json())["ledger"]
            and d["entries"][-1]["kind"] == "mint"
            and d
        ),
        what="a reward",
    )
    accounts = {a["name"]: a for a in ledger["ledger"]["accounts"]}
    assert accounts["rl-agent"]["balance"] == 10
    assert c.get("/api/ledger/verify").json()["ok"] is True
    listed = {a["name"]: a for a in c.get("/api/agents").json()["agents"]}
    assert listed["rl-agent"]["kind"] == "rl" and listed["rl-agent"]["balance"] == 10
    rows = c.get("/api/agents/rl-agent", params={"last": 5}).json()["rows"]
    assert len(rows) == 5 and all(r["kind"] == "step" and len(r["state"]) == 10 for r in rows)

    # A rate-watcher's proposal in the agents' book is adopted: applied, and paid.
    with AgentStore(server.home / "agents.db") as store:
        store.register("rate-watcher-9", "llm", "rate-watcher", "a test's rate jump")
        proposal = store.record(
            "rate-watcher-9", "proposal", {}, action=1, llm_response="decrease", commit=True
        )
        note = store.record("rate-watcher-9", "observation", {}, llm_response="calm", commit=True)
    refused = c.post(f"/api/agents/messages/{note}/adopt")
    assert refused.status_code == 400 and "not a proposal" in refused.json()["error"]
    adopted = c.post(f"/api/agents/messages/{proposal}/adopt").json()
    assert adopted["action"] == "decrease" and adopted["agent"] == "rate-watcher-9"
    assert c.post(f"/api/agents/messages/{proposal}/adopt").status_code == 400  # once only
    history = c.get("/api/workspace/history", params={"key": "modulation"}).json()
    assert any(e["value"].get("source") == "llm:rate-watcher-9" for e in history)
    # Oldest first; the simulation's own LLM agents may have written between the two.
    messages = c.get("/api/agents/messages", params={"after": proposal - 1, "last": 500}).json()
    ids = [m["id"] for m in messages]
    assert ids[0] == proposal and note in ids and ids == sorted(ids)
    balances = {a["name"]: a["balance"] for a in c.get("/api/ledger").json()["ledger"]["accounts"]}
    assert balances["rate-watcher-9"] == 5

    c.post(f"/api/jobs/{job['id']}/stop")
    done = server.wait_state(job["id"], "stopped")
    summary = done["result"]
    assert summary["stopped_by"] == "stopped" and summary["agents"]["rl"]["episodes"] >= 1
    assert summary["agents"]["llm"]["adopted"][0]["id"] == proposal
