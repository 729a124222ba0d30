"""Real local servers the LLM tests talk to: llama.cpp's OpenAI server and silent sockets.

The llama.cpp server is started once per test process (it takes a few seconds)
and stopped when the process exits; tests in several folders share it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from holomind.llm.embedded import bundled_model_path

# `python -m llama_cpp.server`, with the weights kept out of AMX buffers as the embedded
# backend keeps them (see `use_plain_cpu_buffers`: that path crashes on some VMs).
LAUNCH_SERVER = (
    "from holomind.llm.embedded import use_plain_cpu_buffers; use_plain_cpu_buffers(); "
    "import runpy; runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)"
)
SERVER_CONTEXT = 512  # small, so a context overflow is easy to provoke
SERVER_MODEL = "smollm2"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A socket that accepts connections and never answers, for timeout tests; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


class JSONHandler(BaseHTTPRequestHandler):
    """A quiet request handler with a helper for JSON answers."""

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""

    def send_json(self, status: int, body: dict) -> None:
        """Answer with `body` as JSON and this status."""
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_json(self) -> dict:
        """The request's JSON body."""
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))


@contextlib.contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Run `handler` on 127.0.0.1 in a thread; yields the server's base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class LlamaServer:
    """A running `python -m llama_cpp.server` with the bundled GGUF."""

    process: subprocess.Popen
    url: str  # the OpenAI base URL, ending in /v1
    log: Path


_server: LlamaServer | None = None


def llama_server(tmp_dir: Path) -> LlamaServer:
    """The shared llama.cpp server, started on first use (one thread, 512-token context)."""
    global _server
    if _server is not None and _server.process.poll() is None:
        return _server
    port = free_port()
    log = tmp_dir / "llama_server.log"
    cmd = [
        sys.executable,
        "-c",
        LAUNCH_SERVER,
        "--model",
        str(bundled_model_path()),
        "--model_alias",
        SERVER_MODEL,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(SERVER_CONTEXT),
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "OMP_NUM_THREADS": "1"}
        )
    atexit.register(_stop, process)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                _server = LlamaServer(process, url, log)
                return _server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    _stop(process)
    raise RuntimeError(f"llama_cpp.server not ready in 90 s: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
