"""The soup from the dashboard: a real `Soup.run` in the server; its rows, picture, replicators."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image

from tests.server.conftest import Server


@pytest.fixture(scope="module")
def server(start_server) -> Server:
    return start_server()


def test_nothing_to_show_before_a_soup_runs(server: Server) -> None:
    assert server.client.get("/api/soup").json() == {
        "job": None,
        "since": 0,
        "rows": [],
        "most_common": [],
    }
    missing = server.client.get("/api/soup/image.png")
    assert missing.status_code == 404
    assert missing.json()["error"] == "no soup has run yet"


@pytest.mark.parametrize(
    "body", [{"num_programs": 1001}, {"num_programs": 1 << 20}, {"lang": "brainfuck"}]
)
def test_bad_soups_are_refused(server: Server, body: dict) -> None:
    assert server.client.post("/api/soup/start", json=body).status_code == 422


def test_a_soup_runs_publishes_rows_draws_itself_and_stops(server: Server, tmp_path) -> None:
    body = {"num_programs": 512, "epochs": 1_000_000, "print_interval": 2, "seed": 7}
    job = server.client.post("/api/soup/start", json=body).json()
    assert job["kind"] == "soup" and job["params"]["eval_selfrep"] is True
    data = server.wait_for(
        lambda: (d := server.client.get("/api/soup").json())["rows"][2:] and d, what="soup rows"
    )
    rows = data["rows"]
    assert [r["epoch"] for r in rows[:3]] == [1, 3, 5]
    assert all(r["soup_size"] == 512 and 0 < r["diversity"] <= 1 for r in rows)
    assert all(isinstance(r["replicators"], int) for r in rows)
    later = server.client.get("/api/soup", params={"since": 2}).json()
    assert later["since"] == 2 and later["rows"][0] == rows[2]
    top = data["most_common"]
    assert len(top) == 8 and all(len(p["program"]) == 64 and p["count"] >= 1 for p in top)

    keys = {e["key"]: e for e in server.client.get("/api/workspace").json()}
    assert {"soup/epoch", "soup/higher_entropy", "soup/diversity", "soup/replicators"} <= set(keys)

    picture = server.client.get("/api/soup/image.png", params={"rows": 100})
    assert picture.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(picture.content))
    assert (image.size, image.mode) == ((64, 100), "RGB")
    path = tmp_path / "soup.png"
    path.write_bytes(picture.content)
    assert subprocess.run(["pngcheck", "-q", str(path)], capture_output=True).returncode == 0

    assert server.client.post("/api/soup/start", json=body).status_code == 409
    server.client.post(f"/api/jobs/{job['id']}/stop")
    done = server.wait_state(job["id"], "stopped")
    assert done["result"]["epochs_run"] >= rows[-1]["epoch"]
    assert done["result"]["last_row"]["soup_size"] == 512
