"""The dashboard's guard against a real server: token, host, origin, CORS, sizes, traversal."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest
import websockets
from hypothesis import given, settings
from hypothesis import strategies as st

from holomind.errors import ConfigError, InvalidInputError
from holomind.server.security import check_binding, child_path, is_loopback
from tests.server.conftest import TOKEN, Server


@pytest.fixture(scope="module")
def guarded(start_server) -> Server:
    """A loopback server with a token and a 1 MB upload limit."""
    return start_server("--max-upload-mb", "1", token=TOKEN)


def bare(server: Server) -> httpx.Client:
    """A client that sends no token."""
    return httpx.Client(base_url=server.url, timeout=30)


def raw_get(server: Server, target: str, headers: str = "") -> str:
    """Send a GET for ``target`` exactly as written (no path cleaning); the status line."""
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\n{headers}Connection: close\r\n\r\n".encode()
        )
        return s.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def ws_status(url: str, **kwargs) -> int:
    """Open a WebSocket: 101 when it is accepted, else the HTTP status that refused it."""

    async def go() -> int:
        try:
            async with websockets.connect(url, **kwargs) as ws:
                await ws.send("not json")
                reply = json.loads(await ws.recv())
                assert reply == {"type": "error", "error": 'send {"message": "your question"}'}
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    return asyncio.run(go())


@pytest.mark.parametrize("path", ["/", "/api/status", "/api/workspace", "/static/app.js"])
def test_http_needs_the_token(guarded: Server, path: str) -> None:
    with bare(guarded) as client:
        refused = client.get(path)
        assert refused.status_code == 401
        assert refused.json()["error"] == "this dashboard needs its token: open it as /?token=TOKEN"
        assert refused.headers["www-authenticate"] == 'Bearer realm="holomind"'
        assert client.get(path, headers={"x-holomind-token": TOKEN}).status_code == 200
        assert (
            client.get(path, headers={"authorization": "Bearer wrong-token-abcdef"}).status_code
            == 401
        )
    assert guarded.client.get(path).status_code == 200


def test_token_in_the_url_becomes_a_cookie_the_page_keeps_using(guarded: Server) -> None:
    with bare(guarded) as client:
        page = client.get("/", params={"token": TOKEN})
        assert page.status_code == 200
        cookie = page.headers["set-cookie"]
        assert cookie == f"holomind_token={TOKEN}; Path=/; HttpOnly; SameSite=Strict"
        # httpx kept the cookie: later requests carry it and nothing else
        assert client.get("/api/status").status_code == 200


def test_sse_needs_the_token(guarded: Server) -> None:
    with bare(guarded) as client:
        with client.stream("GET", "/stream/metrics") as refused:
            assert refused.status_code == 401
        headers = {"cookie": f"holomind_token={TOKEN}"}
        with client.stream("GET", "/stream/metrics", headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == "event: snapshot"


def test_websocket_needs_the_token(guarded: Server) -> None:
    url = f"ws://127.0.0.1:{guarded.port}/ws/chat"
    assert ws_status(url) == 401
    assert ws_status(f"{url}?token=wrong-token-abcdef") == 401
    assert ws_status(f"{url}?token={TOKEN}") == 101
    cookie = {"additional_headers": {"cookie": f"holomind_token={TOKEN}"}}
    assert ws_status(url, **cookie) == 101


def test_cross_origin_requests_are_refused_and_no_cors_is_offered(guarded: Server) -> None:
    evil = {"origin": "http://evil.example"}
    stop = guarded.client.post("/api/jobs/999/stop", headers=evil)
    assert stop.status_code == 403
    assert (
        stop.json()["error"] == "cross-origin requests are refused (origin 'http://evil.example')"
    )
    same = {"origin": guarded.url}
    assert guarded.client.post("/api/jobs/999/stop", headers=same).status_code == 404
    url = f"ws://127.0.0.1:{guarded.port}/ws/chat?token={TOKEN}"
    assert ws_status(url, origin="http://evil.example") == 403
    preflight = guarded.client.options(
        "/api/memory/records",
        headers={**evil, "access-control-request-method": "POST"},
    )
    read = guarded.client.get("/api/status", headers=evil)
    for response in (preflight, read):
        assert not [h for h in response.headers if h.startswith("access-control-")]


def test_only_loopback_host_names_are_served_on_loopback(guarded: Server) -> None:
    assert raw_get(guarded, "/api/status") == "HTTP/1.1 200 OK"
    wrong = guarded.client.get("/api/status", headers={"host": f"evil.example:{guarded.port}"})
    assert wrong.status_code == 400
    assert wrong.json()["error"] == (
        f"this dashboard answers only on loopback addresses, not 'evil.example:{guarded.port}'"
    )
    assert guarded.client.get("/api/status", headers={"host": "localhost"}).status_code == 200


def test_request_bodies_are_limited(guarded: Server) -> None:
    big = b'{"question": "' + b"x" * (1 << 20) + b'", "answer": "a"}'
    told = guarded.client.post(
        "/api/memory/records", content=big, headers={"content-type": "application/json"}
    )
    assert told.status_code == 413
    assert "larger than this server accepts (1,048,576 bytes)" in told.json()["error"]
    chunked = guarded.client.post(
        "/api/memory/records",
        content=iter([big[: 1 << 19], big[1 << 19 :]]),  # no Content-Length: chunked
        headers={"content-type": "application/json"},
    )
    assert chunked.status_code == 413
    upload = guarded.client.post("/api/memory/import", content=b"\0" * (2 << 20))
    assert upload.status_code == 413
    assert "(1,048,576 bytes)" in upload.json()["error"]
    assert not (guarded.home / "network.png").exists()


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("../outside", "data folder '../outside' leads out of"),
        ("corpus/../../outside", "data folder 'corpus/../../outside' leads out of"),
        ("/etc", "data folder '/etc' is an absolute path"),
        ("~root", "data folder '~root' is an absolute path"),
        ("linked", "data folder 'linked' goes through a symbolic link"),
        ("corpus\\..\\..", "data folder must be a plain relative name"),
    ],
)
def test_training_data_cannot_leave_the_data_root(guarded: Server, name: str, error: str) -> None:
    root = guarded.home / "data"
    outside = guarded.home / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_text("secret " * 1000)
    if not (root / "linked").is_symlink():
        (root / "linked").symlink_to(outside)
    refused = guarded.client.post("/api/training/start", json={"data": name})
    assert refused.status_code == 400
    assert refused.json()["error"].startswith(error)
    assert guarded.client.get("/api/jobs").json() == []
    listed = [f["name"] for f in guarded.client.get("/api/training/folders").json()]
    assert "linked" not in listed


@pytest.mark.parametrize(
    "target",
    [
        "/static/../../../pyproject.toml",
        "/static/%2e%2e/%2e%2e/security.py",
        "/static/..%2F..%2Fsecurity.py",
        "/static//etc/passwd",
        "/static/views/../../app.py",
    ],
)
def test_assets_cannot_reach_other_files(guarded: Server, target: str) -> None:
    assert raw_get(guarded, target) == "HTTP/1.1 404 Not Found"


def test_pages_carry_the_security_headers(guarded: Server) -> None:
    page = guarded.client.get("/")
    assert page.headers["content-security-policy"].startswith("default-src 'self'; ")
    assert "script-src 'self';" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"


def test_off_loopback_the_token_guards_everything(start_server, tmp_path: Path) -> None:
    exposed = start_server(token=TOKEN, host="0.0.0.0", home=tmp_path)
    with bare(exposed) as client:
        assert client.get("/api/status").status_code == 401
        assert client.get("/api/status", headers={"host": "any.name"}).status_code == 401
        with client.stream("GET", "/stream/metrics") as stream:
            assert stream.status_code == 401
    assert ws_status(f"ws://127.0.0.1:{exposed.port}/ws/chat") == 401
    assert exposed.client.get("/api/status").status_code == 200
    # bound off loopback, the Host header is whatever name the machine was reached by
    named = exposed.client.get("/api/status", headers={"host": f"holomind.lan:{exposed.port}"})
    assert named.status_code == 200


def test_binding_rules() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("[::1]")
    assert is_loopback("127.8.9.10") and not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.2") and not is_loopback("example.com")
    check_binding("127.0.0.1", None)
    check_binding("0.0.0.0", TOKEN)
    with pytest.raises(ConfigError, match="without a token"):
        check_binding("0.0.0.0", None)
    with pytest.raises(ConfigError, match="needs at least 12"):
        check_binding("127.0.0.1", "short")


def test_child_path_refuses_every_way_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "link").symlink_to(tmp_path)
    assert child_path(root, "a/b", "folder") == root / "a" / "b"
    assert child_path(root, "a/./b/", "folder") == root / "a" / "b"
    for bad in ("", " ", "..", "a/../..", "/tmp", "a/link", "a/link/root", "a\x00b"):
        with pytest.raises(InvalidInputError):
            child_path(root, bad, "folder")


@pytest.fixture(scope="module")
def child_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a way out planted in it: a symlink to its parent."""
    root = tmp_path_factory.mktemp("child_root")
    (root / "up").symlink_to(root.parent)
    return root


@given(name=st.text(max_size=40))
@settings(deadline=None)  # file-system calls on a loaded machine
def test_child_path_never_leaves_its_root(child_root: Path, name: str) -> None:
    root = child_root
    try:
        path = child_path(root, name, "name")
    except InvalidInputError:
        return
    assert path.resolve().is_relative_to(root.resolve())
