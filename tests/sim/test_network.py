"""The network on the workspace: what a step publishes and logs, how `modulation` is applied."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from holomind.neuro import Sampling, SpikingNetwork, network_spec
from holomind.neuro.log import ActivityLog
from holomind.sim.network import NetworkNode
from holomind.workspace import GlobalWorkspace

STATE_KEYS = {
    "network",
    "neurons",
    "t_s",
    "chunk_s",
    "spikes",
    "total_spikes",
    "rate_hz",
    "rates_hz",
    "mean_v_mv",
    "drive_pa",
    "modulation",
    "wall_s",
}


@pytest.fixture(scope="module")
def node(brian_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NetworkNode]:
    db = tmp_path_factory.mktemp("node") / "run.db"
    ws = GlobalWorkspace()
    log = ActivityLog.create(db, {})
    net = SpikingNetwork(
        network_spec("seed"), cache_dir=brian_cache, sampling=Sampling(("v",), 3, 1.0)
    )
    yield NetworkNode(net, ws, log=log, raster_neurons=20, activations=10)
    net.close()
    log.close()
    ws.close()


def test_a_step_publishes_state_activations_and_raster(node: NetworkNode) -> None:
    state = node.step()
    ws = node.workspace
    assert ws.read("neuro/state") == state
    assert set(state) == STATE_KEYS
    assert state["network"] == "seed" and state["neurons"] == 1000
    assert state["chunk_s"] == pytest.approx(0.1)
    assert state["rates_hz"] == {"exc": state["rate_hz"]}
    assert state["rate_hz"] == pytest.approx(state["spikes"] / 1000 / 0.1, abs=1e-4)
    activations = ws.read("neural_activations")
    assert len(activations) == 10 and all(r >= 0 for r in activations)
    raster = ws.read("neuro/spikes")
    assert raster["neurons"] == 20 and len(raster["i"]) == len(raster["t_ms"])
    assert all(0 <= i < 20 for i in raster["i"])
    assert all(raster["t0_s"] * 1000 <= t <= raster["t1_s"] * 1000 for t in raster["t_ms"])
    # The raster's neurons fire as often as the activations say.
    counts = [raster["i"].count(k) / state["chunk_s"] for k in range(10)]
    assert counts == pytest.approx(activations, abs=1e-3)


def test_the_log_holds_every_spike_of_a_step(node: NetworkNode) -> None:
    before = node.spikes
    state = node.step()
    assert node.log is not None and node.log.flush(timeout=10)
    conn = sqlite3.connect(node.log.path)
    try:
        logged = conn.execute(
            "SELECT COUNT(*) FROM spikes WHERE time >= ? AND time < ?",
            (state["t_s"] - state["chunk_s"] - 1e-9, state["t_s"] - 1e-9),
        ).fetchone()[0]
        samples = conn.execute("SELECT COUNT(*) FROM neural_activity").fetchone()[0]
    finally:
        conn.close()
    assert logged == state["spikes"] == node.spikes - before
    assert samples == 3 * 100 * node.net.t / 0.1  # 3 neurons, every ms, every chunk so far


def test_the_newest_modulation_is_applied_once(node: NetworkNode) -> None:
    ws = node.workspace
    start = node.net.drive_pa
    ws.write("modulation", "increase")
    ws.write("modulation", {"action": "decrease", "strength": 2, "source": "agent"})
    state = node.step()
    assert node.net.drive_pa == start - 100.0  # only the newest, at 2 steps of 50 pA
    assert state["modulation"]["action"] == "decrease"
    assert state["modulation"]["source"] == "agent"
    node.step()
    assert node.net.drive_pa == start - 100.0  # not applied a second time
    ws.write("modulation", "boost")  # not a modulation: ignored
    node.step()
    assert node.net.drive_pa == start - 100.0
    node.workspace.write("modulation", {"action": "increase", "strength": 2})
    node.step()
    assert node.net.drive_pa == start
