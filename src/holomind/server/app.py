"""The dashboard application: FastAPI routes behind the security guard, and `serve` to run it.

`create_app(options)` builds the app and its `Dashboard` of parts (closed when the
server stops); `serve(options)` checks the binding and the port, prints the URL
and runs uvicorn until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import threading
from collections.abc import AsyncIterator
from typing import Any

import psutil
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from holomind import __version__
from holomind.errors import BusyError, ConfigError, HoloMindError, MissingFileError
from holomind.server.hub import encode
from holomind.server.routes import ROUTERS
from holomind.server.security import Guard, check_binding, is_loopback
from holomind.server.state import Dashboard, ServerOptions


class FiniteJSONResponse(JSONResponse):
    """JSON where NaN and infinities (a loss before the first step) are written as null."""

    def render(self, content: Any) -> bytes:
        """The body: compact UTF-8 JSON."""
        return encode(content).encode("utf-8")


def error_status(exc: HoloMindError) -> int:
    """The HTTP status for a typed error: 404 missing, 409 busy, 400 anything else wrong."""
    if isinstance(exc, MissingFileError):
        return 404
    if isinstance(exc, BusyError):
        return 409
    return 400


def create_app(options: ServerOptions) -> FastAPI:
    """The dashboard app for these options, its parts opened (a bad network file fails here)."""
    board = Dashboard(options)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        board.hub.start(asyncio.get_running_loop())
        monitor = asyncio.create_task(_publish_system(board))
        try:
            yield
        finally:
            monitor.cancel()
            await asyncio.to_thread(board.close)

    app = FastAPI(
        title="HoloMind dashboard",
        version=__version__,
        description="Watch and steer HoloMind: the workspace live, chat, memory, training, "
        "cartridges and the soup.",
        lifespan=lifespan,
        default_response_class=FiniteJSONResponse,
        docs_url=None,  # FastAPI's Swagger page loads its scripts from a CDN: not offline
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )

    @app.exception_handler(HoloMindError)
    async def holomind_error(request: Request, exc: HoloMindError) -> Response:
        return FiniteJSONResponse(
            {"error": exc.message, "hint": exc.hint}, status_code=error_status(exc)
        )

    app.state.dashboard = board
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        Guard, token=options.token, loopback=is_loopback(options.host), limits=options.limits
    )
    return app


async def _publish_system(board: Dashboard) -> None:
    """Write ``server/system`` (CPU, memory, threads, stream clients) every few seconds."""
    process = psutil.Process()
    process.cpu_percent()
    while True:
        with process.oneshot():
            stats = {
                "cpu_percent": process.cpu_percent(),
                "rss_mb": round(process.memory_info().rss / 1e6, 1),
                "threads": threading.active_count(),
            }
        stats.update(
            system_memory_percent=psutil.virtual_memory().percent,
            load_1m=os.getloadavg()[0],
            stream_clients=board.hub.clients,
        )
        board.workspace.write("server/system", stats)
        await asyncio.sleep(board.options.system_interval)


def url_of(options: ServerOptions) -> str:
    """The address a person opens (with the token when there is one)."""
    host = options.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    url = f"http://{shown}:{options.port}/"
    return f"{url}?token={options.token}" if options.token else url


def serve(options: ServerOptions, *, log_level: str = "warning") -> None:
    """Run the dashboard until Ctrl-C; refuses an unguarded binding off loopback."""
    import uvicorn

    check_binding(options.host, options.token)
    _check_port(options.host, options.port)
    config = uvicorn.Config(
        create_app(options),
        host=options.host,
        port=options.port,
        log_level=log_level,
        ws="websockets-sansio",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    print(f"HoloMind dashboard: {url_of(options)}", flush=True)
    server.run()
    if not server.started:  # uvicorn has logged why
        sys.exit(2)


def _check_port(host: str, port: int) -> None:
    """Refuse in one line, before anything loads, when the address cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror})",
                hint="pass another --port, or stop what is using it",
            ) from None
