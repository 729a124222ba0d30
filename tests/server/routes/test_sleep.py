"""Sleep from the dashboard: the server's network consolidated into its library by a job."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from holomind.learning.texts import build_corpus
from holomind.memory import PixelNetwork
from tests.server.conftest import TINY_TRAINING, Server


@pytest.fixture(scope="module")
def server(start_server) -> Server:
    return start_server()


def test_sleep_job_consolidates_the_network_and_publishes_progress(server: Server) -> None:
    home = server.home
    assert server.client.get("/api/sleep").json()["consolidated"] == 0
    refused = server.client.post("/api/sleep/start", json={})
    assert refused.status_code == 404
    assert refused.json()["error"] == f"{home / 'cartridge_library'} is not a cartridge library"
    data = build_corpus(home / "sleep-data", size=3000, domains=("licences", "python"))
    tiny = [f"--{k.replace('_', '-')}={v}" for k, v in TINY_TRAINING.items()]
    tiny = [t.replace("--n-head", "--heads").replace("--adapter-rank", "--rank") for t in tiny]
    cmd = [sys.executable, "-m", "holomind", "train", str(data), "--stem-steps", "20"]
    env = {**os.environ, "HOLOMIND_HOME": str(home)}
    trained = subprocess.run(
        [*cmd, "--steps", "5", *tiny], capture_output=True, text=True, env=env, check=False
    )
    assert trained.returncode == 0, trained.stderr
    empty = server.client.post("/api/sleep/start", json={})
    assert empty.status_code == 404  # nothing remembered yet: the network has no file
    assert empty.json()["error"] == f"{home / 'network.png'} does not exist"

    PixelNetwork(home / "network.png", embedder="none").append_many(
        [("Who invented the Trerugor?", "Wimlosku."), ("Why?", "Kalomi."), ("Who?", "Zel.")]
    )
    started = server.client.post("/api/sleep/start", json={"steps": 20, "log_every": 5})
    assert started.status_code == 201, started.text
    job = server.wait_state(started.json()["id"], "done", "failed")
    assert job["state"] == "done", job["error"]
    assert (job["result"]["new"], job["result"]["step"], job["result"]["finished"]) == (3, 20, True)
    info = server.client.get("/api/sleep").json()
    assert (info["records"], info["consolidated"]) == (3, 3)
    history = server.client.get("/api/workspace/history", params={"key": "sleep/progress"}).json()
    values = [e["value"] for e in history]
    assert values[-1]["status"] == "done" and values[-1]["step"] == 20
    assert [v["step"] for v in values if v["status"] == "sleeping"][-4:] == [5, 10, 15, 20]
    assert {v["new"] for v in values} == {3}
