"""The RL agent manager: training beats random, checkpoint and resume, acting on a live run."""

from __future__ import annotations

import numpy as np
import pytest

from holomind.agents import AgentManager, AgentStore, PPOConfig
from holomind.agents.baselines import RandomPolicy, evaluate
from holomind.errors import CorruptFileError
from holomind.ledger import Ledger
from holomind.neuro.runner import Sampling
from holomind.sim import SimConfig, Simulation
from holomind.workspace import GlobalWorkspace

# Few steps: a short rollout, many epochs over it, no entropy bonus (see docs/agents.md).
QUICK = PPOConfig(rollout=40, minibatch=20, lr=3e-3, epochs=10, entropy=0.0, seed=1)


@pytest.fixture
def ledger(tmp_path):
    with Ledger.open(tmp_path / "ledger", create=True) as opened:
        yield opened


@pytest.mark.slow
def test_a_trained_agent_beats_random(env, tmp_path, ledger):
    with AgentStore(tmp_path / "agents.db") as store:
        manager = AgentManager(tmp_path / "rl.safetensors", store, ledger=ledger, config=QUICK)
        summary = manager.train(env, 400)
        assert summary["steps"] == 400 and summary["episodes"] == 10 and summary["updates"] == 10
        trained = evaluate(env, lambda obs: manager.ppo.act(obs, greedy=True).action, 4, 1000)
        random = evaluate(env, RandomPolicy(0), 4, 1000)
        assert np.mean(trained) > np.mean(random) + 10, (trained, random)
        # Every step is a row of the seed's table; the agent retired when training ended.
        assert len(store.interactions("rl-agent", last=1000)) == 400
        assert store.agent("rl-agent").retired_why == "training ended"
    # Each new best return was paid, and the returns paid only ever rise.
    paid = ledger.earned("rl-agent", "agent.best_return")
    assert [p["episode_return"] for p in paid] == sorted({p["episode_return"] for p in paid})
    assert paid[-1]["episode_return"] == summary["best_return"]
    assert ledger.balance("rl-agent") == 10 * len(paid) == 10 * len(summary["rewards"])
    assert ledger.verify().ok


def test_checkpoint_and_resume(env, tmp_path, ledger):
    path = tmp_path / "rl.safetensors"
    with AgentStore(tmp_path / "agents.db") as store:
        first = AgentManager(path, store, ledger=ledger, config=QUICK)
        assert not first.resumed
        first.train(env, 80)
        best = first.best_return
        second = AgentManager(path, store, ledger=ledger)
        assert second.resumed and second.ppo.config == QUICK
        assert (second.steps, second.episodes, second.best_return) == (80, 2, best)
        assert second.ppo.updates == first.ppo.updates == 2
        second.train(env, 40)
        assert (second.steps, second.episodes) == (120, 3)
        episodes = {r.episode for r in store.interactions("rl-agent", last=1000)}
        assert episodes == {1, 2, 3}
    assert second.refused == []  # episode numbers went on: no reward was a replay


def test_a_damaged_checkpoint_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "rl.safetensors"
    path.write_bytes(b"garbage" * 20)
    with AgentStore(tmp_path / "agents.db") as store, pytest.raises(CorruptFileError):
        AgentManager(path, store)
    assert path.read_bytes() == b"garbage" * 20


def test_acts_on_a_live_simulation_and_is_paid_for_a_soup_transition(brian_cache, tmp_path, ledger):
    ws = GlobalWorkspace()
    seen = []
    ws.subscribe("agents/rl", seen.append)
    config = SimConfig(
        network="seed", neurons=200, chunk_ms=25, soup=False, sampling=Sampling(neurons=0)
    )
    with (
        AgentStore(tmp_path / "agents.db") as store,
        Simulation(config, workspace=ws, cache_dir=brian_cache) as sim,
    ):
        manager = AgentManager(tmp_path / "rl.safetensors", store, ledger=ledger, config=QUICK)
        manager.attach(sim, episode_steps=10)
        drives = []
        for k in range(1, 31):
            ws.write("soup/epoch", 16 * k)  # a soup whose entropy crosses 3 bits at epoch 400
            ws.write("soup/higher_entropy", 1.0 if k < 25 else 3.2)
            drives.append(sim.step()["drive_pa"])
        assert len(set(drives)) > 1  # the agent moved the drive
        assert sim.network.last_modulation["source"] == "rl-agent"
        # The first chunk gives the first observation; then one step per chunk.
        assert (manager.steps, manager.episodes) == (29, 2)
        # A person's modulation wins over the agent's pending one; the agent then holds
        # back one chunk, and learns nothing from chunks its own action did not start.
        before = sim.network.net.drive_pa
        version = sim.modulate("increase", strength=4, source="person")
        state = sim.step()
        assert state["modulation"]["source"] == "person"
        assert state["drive_pa"] == min(before + 200, 1500)
        assert ws.version("modulation") == version and manager.steps == 29
        sim.step()
        assert ws.version("modulation") == version + 1 and manager.steps == 29
        sim.step()
        assert manager.steps == 30
        assert len(store.interactions("rl-agent", last=100)) == 30
    (paid,) = ledger.earned("rl-agent", "soup.replicator_transition")
    assert paid["epoch"] == 16 * 25 and 16 <= paid["modulation_epoch"] <= paid["epoch"]
    assert "soup.replicator_transition" in [r["rule"] for r in manager.rewards]
    assert seen and seen[-1]["agent"] == "rl-agent" and seen[-1]["learning"] is True
    ws.close()
