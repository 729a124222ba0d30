"""The memory API on a real server: list, search, show, teach, export, import, hostile uploads."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from holomind.memory import PixelNetwork
from tests.server.conftest import Server

FACTS = [
    ("What is pxOS?", "A GPU-native operating system where pixels are the primitives."),
    ("Who wrote the soup paper?", "Agüera y Arcas and colleagues, in 2024."),
    ("What does the hippocampus do?", "It records episodes quickly; the neocortex learns slowly."),
]


@pytest.fixture(scope="module")
def server(start_server) -> Server:
    return start_server()


@pytest.fixture(scope="module")
def taught(server: Server) -> list[dict]:
    out = []
    for q, a in FACTS:
        response = server.client.post("/api/memory/records", json={"question": q, "answer": a})
        assert response.status_code == 201, response.text
        out.append(response.json())
    return out


def pngcheck(path: Path) -> int:
    return subprocess.run(["pngcheck", "-q", str(path)], capture_output=True).returncode


def test_an_empty_network_has_no_picture(server: Server) -> None:
    assert server.client.get("/api/memory").json()["records"] == 0
    missing = server.client.get("/api/memory/network.png")
    assert missing.status_code == 404
    assert missing.json()["hint"] == "chat or teach something first"


def test_teach_then_list_show_and_search(server: Server, taught: list[dict]) -> None:
    assert [r["id"] for r in taught] == [1, 2, 3]
    assert taught[1]["answer"] == FACTS[1][1] and taught[1]["meta"] == {"source": "dashboard"}
    page = server.client.get("/api/memory/records", params={"limit": 2}).json()
    assert page["total"] == 3 and [r["id"] for r in page["records"]] == [3, 2]
    older = server.client.get("/api/memory/records", params={"offset": 2}).json()
    assert [r["id"] for r in older["records"]] == [1]
    assert server.client.get("/api/memory/records/2").json() == taught[1]
    missing = server.client.get("/api/memory/records/42")
    assert missing.status_code == 404 and missing.json()["error"].startswith("no record #42 in ")
    hits = server.client.get("/api/memory/search", params={"q": "GPU operating system", "k": 2})
    best = hits.json()[0]
    assert best["record"]["id"] == 1 and best["via"] == "semantic" and best["score"] > 0
    stats = server.client.get("/api/memory").json()
    assert (stats["records"], stats["with_vectors"], stats["clean"]) == (3, 3, True)


def test_each_page_of_a_paged_network_is_served(start_server, tmp_path: Path) -> None:
    home = tmp_path / "paged"
    net = PixelNetwork(home / "network.png", embedder="none", page_height=256)
    while len(net.pages()) < 2:
        net.append_many([(f"Question {len(net)}?", "An answer long enough to take rows.")] * 4)
    pages = net.pages()
    server = start_server(home=home)
    newest = server.client.get("/api/memory/network.png")
    assert newest.headers["x-network-pages"] == str(len(pages))
    assert newest.content == pages[-1].read_bytes()
    assert server.client.get("/api/memory/network.png?page=0").content == pages[0].read_bytes()


@pytest.mark.parametrize(
    "body",
    [{"question": "", "answer": "a"}, {"question": "q"}, {"question": "q", "answer": "x" * 20_001}],
)
def test_bad_teaching_is_refused(server: Server, body: dict) -> None:
    assert server.client.post("/api/memory/records", json=body).status_code == 422


def test_the_network_png_is_the_file_itself(server: Server, taught: list[dict], tmp_path) -> None:
    image = server.client.get("/api/memory/network.png")
    assert image.headers["content-type"] == "image/png"
    assert image.content == (server.home / "network.png").read_bytes()
    assert Image.open(io.BytesIO(image.content)).size[0] == 1024
    (tmp_path / "n.png").write_bytes(image.content)
    assert pngcheck(tmp_path / "n.png") == 0
    assert image.headers["x-network-pages"] == "1"
    assert server.client.get("/api/memory/network.png?page=0").content == image.content
    beyond = server.client.get("/api/memory/network.png?page=1")
    assert beyond.status_code == 404
    assert "there is no page 1" in beyond.json()["error"]


def test_export_as_png_and_jsonl(server: Server, taught: list[dict], tmp_path) -> None:
    png = server.client.get("/api/memory/export", params={"format": "png"})
    assert png.headers["content-disposition"] == 'attachment; filename="network-export.png"'
    (tmp_path / "e.png").write_bytes(png.content)
    assert pngcheck(tmp_path / "e.png") == 0
    exported = PixelNetwork(tmp_path / "e.png", embedder=None)
    assert [(r.question, r.answer) for r in exported.records()] == FACTS
    lines = server.client.get("/api/memory/export", params={"format": "jsonl"}).text.splitlines()
    assert [json.loads(line)["question"] for line in lines] == [q for q, _ in FACTS]
    assert server.client.get("/api/memory/export", params={"format": "csv"}).status_code == 422


def test_import_adds_only_what_is_new(server: Server, taught: list[dict], tmp_path) -> None:
    other = PixelNetwork(tmp_path / "other.png", embedder=None)
    other.append(*FACTS[0])  # already known: skipped
    other.append("What is a cartridge?", "A small LoRA expert on the frozen stem.")
    added = server.client.post(
        "/api/memory/import", content=(tmp_path / "other.png").read_bytes()
    ).json()
    assert (added["added"], added["ids"], added["records"]) == (1, [4], 4)
    line = json.dumps({"question": "What is Hebbian?", "answer": "Fire together, wire together."})
    jsonl = server.client.post(
        "/api/memory/import", params={"format": "jsonl"}, content=(line + "\n").encode()
    ).json()
    assert (jsonl["added"], jsonl["records"]) == (1, 5)
    again = server.client.post(
        "/api/memory/import", params={"format": "jsonl"}, content=line.encode()
    ).json()
    assert again["added"] == 0


def hostile_uploads(tmp_path: Path) -> list[tuple[str, bytes, str]]:
    plain = io.BytesIO()
    Image.new("L", (64, 64)).save(plain, format="PNG")
    good = PixelNetwork(tmp_path / "good.png", embedder=None)
    good.append("q", "a")
    whole = (tmp_path / "good.png").read_bytes()
    flipped = bytearray(whole)
    flipped[len(whole) // 2] ^= 0xFF
    return [
        ("png", b"", "the upload is empty"),
        ("png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "at byte 8 fails its CRC check"),
        ("png", b"\x89PNG\r\n\x1a\n", "the uploaded .png file is truncated inside its PNG header"),
        ("png", b"GIF89a" + bytes(range(256)), "the uploaded .png file is not a PNG file"),
        (
            "png",
            plain.getvalue(),
            "the uploaded .png file is a PNG but not a HoloMind pixel network",
        ),
        ("png", whole[: len(whole) - 40], "the uploaded network is damaged: the uploaded .png"),
        ("png", bytes(flipped), "fails its CRC check"),
        ("jsonl", b"\xff\xfe not text", "the uploaded .jsonl file is not UTF-8 text"),
        ("jsonl", b'{"question": "q"}\n', "the uploaded .jsonl file:1: not a memory record"),
        ("jsonl", b"[1, 2]\n", "the uploaded .jsonl file:1: not a memory record"),
    ]


def test_hostile_uploads_are_refused_and_nothing_changes(
    server: Server, taught: list[dict], tmp_path
) -> None:
    before = (server.home / "network.png").read_bytes()
    for fmt, body, error in hostile_uploads(tmp_path):
        refused = server.client.post("/api/memory/import", params={"format": fmt}, content=body)
        assert refused.status_code == 400, (fmt, body[:20], refused.text)
        assert error in refused.json()["error"]
    assert (server.home / "network.png").read_bytes() == before
