"""The page's foundation: assets from the package, the views list, the workspace API, the stream."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from tests.server.conftest import Server


@pytest.fixture(scope="module")
def server(start_server) -> Server:
    return start_server()


def events(lines, count: int) -> list[tuple[str, object]]:
    """The next ``count`` server-sent events as (event name, parsed data)."""
    out, name = [], None
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))
            if len(out) == count:
                return out
    raise AssertionError("the stream ended")


def test_the_page_and_its_assets_come_from_the_package(server: Server) -> None:
    static = resources.files("holomind.server") / "static"
    page = server.client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert page.content == (static / "index.html").read_bytes()
    script = server.client.get("/static/views/chat.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.content == (static / "views" / "chat.js").read_bytes()
    assert b"http://" not in page.content and b"https://" not in page.content  # no CDN
    assert server.client.get("/static/nothing.js").status_code == 404
    assert server.client.get("/api/docs").status_code == 404  # Swagger's page needs a CDN


def test_views_are_listed_from_the_package(server: Server) -> None:
    assert server.client.get("/api/views").json() == [
        "agents",
        "cartridges",
        "chat",
        "ledger",
        "memory",
        "sim",
        "sleep",
        "soup",
        "training",
        "workspace",
    ]


def test_status_and_system_metrics(server: Server) -> None:
    status = server.client.get("/api/status").json()
    assert status["network"] == str(server.home / "network.png")
    assert status["library"] == str(server.home / "cartridge_library")
    system = server.wait_for(
        lambda: server.client.get("/api/workspace", params={"prefix": "server/"}).json(),
        what="server/system",
    )
    assert [e["key"] for e in system] == ["server/system"]
    value = system[0]["value"]
    assert value["rss_mb"] > 10 and value["threads"] >= 1
    assert set(value) == {
        "cpu_percent",
        "rss_mb",
        "threads",
        "system_memory_percent",
        "load_1m",
        "stream_clients",
    }


def test_the_stream_sends_a_snapshot_then_every_write_while_a_job_runs(server: Server) -> None:
    with server.client.stream("GET", "/stream/metrics", params={"keys": "soup/,server/jobs"}) as s:
        assert s.status_code == 200
        lines = s.iter_lines()
        [(name, snapshot)] = events(lines, 1)
        assert name == "snapshot"
        assert all(e["key"].startswith(("soup/", "server/jobs")) for e in snapshot)
        job = server.client.post(
            "/api/soup/start", json={"num_programs": 256, "print_interval": 1}
        ).json()
        seen = events(lines, 12)
        server.client.post(f"/api/jobs/{job['id']}/stop")
    assert {name for name, _ in seen} == {"ws"}
    keys = [e["key"] for _, e in seen]
    assert keys[0] == "server/jobs" and "soup/higher_entropy" in keys
    assert "server/system" not in keys
    epochs = [e for _, e in seen if e["key"] == "soup/epoch"]
    assert [e["value"] for e in epochs] == list(range(1, len(epochs) + 1))
    assert [e["version"] for e in epochs] == [e["value"] for e in epochs]
    history = server.client.get("/api/workspace/history", params={"key": "soup/epoch"}).json()
    assert history[: len(epochs)] == epochs
    server.wait_state(job["id"], "stopped")


def test_jobs_api(server: Server) -> None:
    jobs = server.client.get("/api/jobs").json()
    assert [j["kind"] for j in jobs] == ["soup"]
    assert server.client.get(f"/api/jobs/{jobs[0]['id']}").json()["state"] == "stopped"
    missing = server.client.get("/api/jobs/99")
    assert missing.status_code == 404 and missing.json()["error"] == "no job 99"
