"""The page, its assets, the live stream and the workspace: what every view is built on.

Assets are read from the package once, into a table keyed by their relative
path; a request names a key in that table, never a file, so no URL can reach
anything else on disk.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import AsyncIterator
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from holomind import __version__
from holomind.errors import MissingFileError
from holomind.server.hub import HISTORY, encode
from holomind.server.state import Dashboard, dashboard

router = APIRouter()
Board = Annotated[Dashboard, Depends(dashboard)]

_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".md": "text/plain"}


def _load_assets() -> dict[str, tuple[bytes, str]]:
    """Every file under the package's ``static`` folder: relative path → (bytes, media type)."""
    table: dict[str, tuple[bytes, str]] = {}
    todo = [(resources.files("holomind.server") / "static", "")]
    while todo:
        folder, prefix = todo.pop()
        for item in folder.iterdir():
            if item.is_dir():
                todo.append((item, f"{prefix}{item.name}/"))
            else:
                suffix = "." + item.name.rsplit(".", 1)[-1]
                kind = _TYPES.get(suffix) or mimetypes.guess_type(item.name)[0] or "text/plain"
                table[prefix + item.name] = (item.read_bytes(), kind)
    return table


ASSETS = _load_assets()


def _asset(path: str) -> Response:
    found = ASSETS.get(path)
    if found is None:
        raise MissingFileError(f"no asset {path!r}")
    body, kind = found
    return Response(body, media_type=kind, headers={"cache-control": "no-cache"})


@router.get("/", include_in_schema=False)
def index() -> Response:
    """The dashboard page."""
    return _asset("index.html")


@router.get("/static/{path:path}", include_in_schema=False)
def static(path: str) -> Response:
    """A script, style sheet or licence shipped with the package."""
    return _asset(path)


@router.get("/api/status")
def status(board: Board) -> dict[str, Any]:
    """Version, files in use, stream clients, workspace counters."""
    o = board.options
    return {
        "version": __version__,
        "network": str(o.network),
        "library": str(o.library),
        "data_root": str(o.data_root),
        "stream_clients": board.hub.clients,
        "events": board.hub.events,
        "workspace": board.workspace.stats(),
    }


@router.get("/api/views")
def views() -> list[str]:
    """The views the page loads: one script per view under /static/views/."""
    return sorted(p[6:-3] for p in ASSETS if p.startswith("views/") and p.endswith(".js"))


@router.get("/api/workspace")
def workspace(
    board: Board,
    prefix: Annotated[str, Query(max_length=200, description="only keys starting with this")] = "",
) -> list[dict[str, Any]]:
    """Every live workspace key: value, version and write time (plus age in seconds)."""
    now = time.time()
    return [{**e, "age_s": now - e["time"]} for e in board.hub.snapshot((prefix,))]


@router.get("/api/workspace/history")
def history(
    board: Board,
    key: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=HISTORY)] = HISTORY,
) -> list[dict[str, Any]]:
    """The key's last values seen since the server started (oldest first), for plots."""
    return board.hub.history(key, limit)


@router.get("/stream/metrics", response_class=EventSourceResponse)
async def stream(
    request: Request,
    board: Board,
    keys: Annotated[
        str, Query(max_length=1000, description="comma-separated key prefixes; empty: all keys")
    ] = "",
) -> EventSourceResponse:
    """Server-sent events: one ``snapshot`` of every key, then a ``ws`` event per write."""
    prefixes = tuple(p for p in (k.strip() for k in keys.split(",")) if p)
    client = board.hub.connect(prefixes)

    async def events() -> AsyncIterator[ServerSentEvent]:
        try:
            yield ServerSentEvent(encode(board.hub.snapshot(prefixes)), event="snapshot")
            while True:
                yield ServerSentEvent(await client.queue.get(), event="ws")
        finally:
            board.hub.disconnect(client)

    return EventSourceResponse(events(), ping=15)


@router.get("/api/jobs")
def jobs(board: Board) -> list[dict[str, Any]]:
    """Every job the server remembers, newest first."""
    return [j.to_dict() for j in board.jobs.jobs()]


@router.get("/api/jobs/{job_id}")
def job(board: Board, job_id: int) -> dict[str, Any]:
    """One job: state, parameters, progress, result or error."""
    return board.jobs.get(job_id).to_dict()


@router.post("/api/jobs/{job_id}/stop")
def stop_job(board: Board, job_id: int) -> dict[str, Any]:
    """Ask a job to stop; it keeps what it has done (training saves the library)."""
    return board.jobs.stop(job_id).to_dict()
