"""Training from the dashboard: a real training loop in the server, paused, resumed, stopped."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.server.conftest import TINY_TRAINING, Server


@pytest.fixture(scope="module")
def server(start_server, corpus: Path) -> Server:
    return start_server()


def metrics(server: Server) -> dict:
    history = server.client.get("/api/workspace/history", params={"key": "train/metrics"}).json()
    return history[-1]["value"] if history else {}


def test_the_data_folders_and_devices_are_listed(server: Server) -> None:
    info = server.client.get("/api/training").json()
    assert info["folders"] == [{"name": "corpus", "txt_files": 18}]
    assert (info["device"], info["gpu"], info["job"]) == ("cpu", False, None)
    assert info["data_root"] == str(server.home / "data")


def test_gpu_mode_is_refused_clearly_without_a_gpu(server: Server) -> None:
    refused = server.client.post("/training/mode/gpu")
    assert refused.status_code == 409
    assert refused.json()["error"] == "there is no GPU: torch sees no CUDA device on this machine"
    assert refused.json()["hint"] == "training stays on the CPU"
    assert server.client.post("/training/mode/cpu").json()["device"] == "cpu"
    assert server.client.post("/training/mode/tpu").status_code == 422


def test_pause_and_resume_without_a_job_are_refused(server: Server) -> None:
    for path in ("/training/pause", "/training/resume"):
        refused = server.client.post(path)
        assert refused.status_code == 409
        assert refused.json()["error"] == "no train job is running"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"data": "nowhere"}, 404, "no data folder 'nowhere' in "),
        ({"data": "corpus", "dim": 30, "n_head": 4}, 400, "dim 30 must be a multiple of n_head 4"),
        ({"data": "corpus", "steps": 0}, 422, None),
    ],
)
def test_bad_training_requests(server: Server, body: dict, status: int, error: str | None) -> None:
    refused = server.client.post("/api/training/start", json=body)
    assert refused.status_code == status
    if error is not None:
        assert refused.json()["error"].startswith(error)


def test_a_training_job_pauses_resumes_and_stops_with_the_library_saved(server: Server) -> None:
    body = {"data": "corpus", "stem_steps": 20, "steps": 1_000_000, "log_every": 5, **TINY_TRAINING}
    started = server.client.post("/api/training/start", json=body)
    assert started.status_code == 201, started.text
    job = started.json()
    assert job["kind"] == "train" and job["params"]["dim"] == 32
    busy = server.client.post("/api/training/start", json=body)
    assert busy.status_code == 409
    assert busy.json()["error"] == f"train job {job['id']} is still running"

    server.wait_for(lambda: metrics(server).get("stage") == "cartridges", what="cartridge steps")
    paused = server.client.post("/training/pause").json()
    assert paused["state"] in ("pausing", "paused")
    server.wait_state(job["id"], "paused")
    held = server.job(job["id"])["progress"]["step"]
    time.sleep(1.0)
    assert server.job(job["id"])["progress"]["step"] == held  # nothing moves while paused
    assert server.client.post("/training/pause").json()["state"] == "paused"

    resumed = server.client.post("/training/resume").json()
    assert resumed["state"] == "running"
    server.wait_for(lambda: server.job(job["id"])["progress"]["step"] > held + 5, what="steps")

    live = server.wait_for(
        lambda: server.client.get("/cartridges").json()["live"], what="train/cartridges"
    )
    assert {c["name"] for c in live["cartridges"]} == {"licences", "pydoc", "python"}
    assert sum(c["recent_steps"] for c in live["cartridges"]) > 0

    stopping = server.client.post(f"/api/jobs/{job['id']}/stop").json()
    assert stopping["state"] in ("stopping", "stopped")
    done = server.wait_state(job["id"], "stopped")
    assert done["result"]["stopped_early"] is True and done["error"] is None
    assert done["result"]["cartridges"] == 3
    registry = json.loads((server.home / "cartridge_library" / "registry.json").read_text())
    assert registry["count"] == 3
    keys = {e["key"] for e in server.client.get("/api/workspace").json()}
    assert {"train/metrics", "train/cartridges", "train/done", "cartridges/spawned"} <= keys


def test_a_stopped_run_is_resumed_then_paused_and_stopped(server: Server) -> None:
    # the test above stopped its run early: a plain start is refused, --resume continues it
    body = {"data": "corpus", "stem_steps": 20, "steps": 1_000_000, "log_every": 5, **TINY_TRAINING}
    refused = server.client.post("/api/training/start", json=body)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error.startswith("the library holds an unfinished run (stage cartridges")
    job = server.client.post("/api/training/start", json={**body, "resume": True}).json()
    server.wait_for(lambda: server.job(job["id"])["progress"].get("step", 0) > 2, what="steps")
    server.client.post("/training/pause")
    server.wait_state(job["id"], "paused")
    server.client.post(f"/api/jobs/{job['id']}/stop")
    done = server.wait_state(job["id"], "stopped", "failed")
    assert done["state"] == "stopped" and done["result"]["stopped_early"] is True
