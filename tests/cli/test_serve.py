"""`holomind serve`: its help, and the refusals that come before anything is served."""

from __future__ import annotations

import socket

from tests.server.conftest import TOKEN, free_port


def test_help_names_the_guarded_options(holomind) -> None:
    done = holomind("serve", "--help")
    assert done.returncode == 0
    for option in ("--host", "--port", "--token", "--data-root", "--max-upload-mb"):
        assert option in done.stdout


def test_off_loopback_without_a_token_is_refused(holomind) -> None:
    done = holomind("serve", "--host", "0.0.0.0", env={"HOLOMIND_TOKEN": ""})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: binding to 0.0.0.0 would open the dashboard to the network without a token: "
        "pass --token (or set HOLOMIND_TOKEN), or bind to 127.0.0.1"
    )


def test_a_short_token_is_refused(holomind) -> None:
    done = holomind("serve", "--token", "abc")
    assert done.returncode == 2
    assert done.stderr.startswith("error: the token is 3 characters; it needs at least 12: ")


def test_a_taken_port_is_refused_in_one_line(holomind) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = holomind("serve", "--port", str(port), env={"HOLOMIND_TOKEN": TOKEN})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: cannot listen on 127.0.0.1:{port} (Address already in use): "
        "pass another --port, or stop what is using it"
    )


def test_a_damaged_network_is_refused_before_serving(holomind, holomind_home) -> None:
    (holomind_home / "network.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    done = holomind("serve", "--port", str(free_port()))
    assert done.returncode == 2
    assert done.stderr.startswith("error: chunk b'\\x00\\x00\\x00\\x00' at byte 8 fails its CRC")
