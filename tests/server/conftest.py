"""Shared set-up for the dashboard tests: a real `holomind serve` on a free port, httpx, chromium.

Each test module starts one server (module scope) in its own HOLOMIND_HOME and,
when it needs one, one headless chromium driven by Playwright. Screenshots go to
``tests/artifacts/dashboard/`` (git-ignored), kept for a person to look at.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "test-token-0123456789abcdef"
# A training run small enough for a test: a tiny stem and rank-2 cartridges.
TINY_TRAINING = {"dim": 32, "stem_depth": 2, "n_head": 2, "adapter_rank": 2, "batch": 8}


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python -m holomind serve` in a subprocess, with an httpx client on its URL."""

    def __init__(self, home: Path, *args: str, token: str | None = None, host: str = "127.0.0.1"):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        env = {**os.environ, "HOLOMIND_HOME": str(home), "HOLOMIND_TOKEN": token or ""}
        self.log = home / "serve.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "holomind",
                "serve",
                "--host",
                host,
                "--port",
                str(self.port),
                *args,
            ],
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"holomind serve exited: {self.log.read_text()}")
            try:
                if self.client.get("/api/status").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"holomind serve did not start: {self.log.read_text()}")

    def wait_for(self, check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
        """Poll ``check`` until it returns something truthy; that value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what or check}")

    def job(self, job_id: int) -> dict[str, Any]:
        """A job's state now."""
        return self.client.get(f"/api/jobs/{job_id}").json()

    def wait_state(self, job_id: int, *states: str, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until a job reaches one of ``states``; the job."""
        return self.wait_for(
            lambda: (j := self.job(job_id))["state"] in states and j,
            timeout,
            f"job {job_id} to be {states}",
        )

    def stop(self) -> None:
        """SIGTERM (jobs stop and save), then kill if it lingers."""
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="module")
def module_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's HOLOMIND_HOME (its server's network, library and data root live here)."""
    return tmp_path_factory.mktemp("dashboard_home")


@pytest.fixture(scope="module")
def start_server(module_home: Path) -> Iterator[Callable[..., Server]]:
    """Start servers for this module (each in ``module_home`` unless told); all stop at the end."""
    started: list[Server] = []

    def start(*args: str, token: str | None = None, home: Path | None = None, **kw: Any) -> Server:
        server = Server(home or module_home, *args, token=token, **kw)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def corpus(module_home: Path) -> Path:
    """A three-domain text corpus under the data root, as ``data/corpus``."""
    from holomind.learning.texts import build_corpus

    root = module_home / "data" / "corpus"
    build_corpus(root, size=3000)
    return root


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (its own browser download is not used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a screenshot of the page under tests/artifacts/dashboard/; its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
