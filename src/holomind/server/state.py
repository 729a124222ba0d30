"""The dashboard's parts, made once per server: options, workspace, hub, jobs, network, chat."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from holomind.memory import PixelNetwork
from holomind.server.chat import ChatService
from holomind.server.hub import Hub, ObservedWorkspace
from holomind.server.jobs import JobRunner
from holomind.server.security import Limits


@dataclass(frozen=True)
class ServerOptions:
    """What `holomind serve` was told: where to listen, what to guard, which files to use."""

    network: Path  # the pixel network the chat and memory views use
    library: Path  # the cartridge library training writes and the cartridge views read
    data_root: Path  # training data folders are named relative to this folder
    home: Path | None = None  # HOLOMIND_HOME: the simulation's logs, the agents, the ledger
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None  # required off loopback
    backend: str = "embedded"  # chat backend: embedded | openai | ollama
    url: str | None = None  # chat server URL for openai/ollama
    model: str | None = None  # chat model name (or .gguf for embedded)
    threads: int = 1  # threads for the chat model, torch and numba
    max_tokens: int = 256  # longest chat answer
    limits: Limits = field(default_factory=Limits)
    system_interval: float = 2.0  # seconds between ``server/system`` writes


class Dashboard:
    """Everything a route needs, shared by every request of one server."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self.workspace = ObservedWorkspace(workers=2)
        self.hub = Hub(self.workspace)
        self.jobs = JobRunner(self.workspace)
        self.network = PixelNetwork(options.network, workspace=self.workspace)
        self.chat = ChatService(
            self.network,
            self.workspace,
            backend=options.backend,
            url=options.url,
            model=options.model,
            threads=options.threads,
            max_tokens=options.max_tokens,
        )
        self.training_device = "cpu"  # what the next training job runs on (POST /training/mode)

    def close(self) -> None:
        """Stop jobs (they save), the chat, the hub and the workspace, in that order."""
        self.jobs.shutdown()
        self.chat.close()
        self.hub.stop()
        self.workspace.close()


def dashboard(request: Request) -> Dashboard:
    """The server's `Dashboard` (a FastAPI dependency)."""
    return request.app.state.dashboard
