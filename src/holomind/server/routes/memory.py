"""The memory view's API: list, search, show, teach, export and import the pixel network.

Everything goes through `PixelNetwork`'s public methods. An uploaded network is
written to a private temporary folder and opened and verified like any file
the codec reads before a single record of it is imported.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from holomind.errors import CorruptFileError, MissingFileError
from holomind.memory import Hit, PixelNetwork, Record
from holomind.server.state import Dashboard, dashboard

router = APIRouter(prefix="/api/memory")
Board = Annotated[Dashboard, Depends(dashboard)]
Format = Literal["png", "jsonl"]
MAX_TEXT = 20_000  # characters of a taught question or answer


class Teach(BaseModel):
    """A question and its answer to remember."""

    question: str = Field(min_length=1, max_length=MAX_TEXT)
    answer: str = Field(min_length=1, max_length=MAX_TEXT)


def _record(rec: Record) -> dict[str, Any]:
    return rec.to_dict()


def _hit(hit: Hit) -> dict[str, Any]:
    return {"record": _record(hit.record), "score": hit.score, "via": hit.via}


@router.get("")
def stats(board: Board) -> dict[str, Any]:
    """Counts and sizes of the network (records, rows, bytes, vectors)."""
    return board.network.stats()


@router.get("/records")
def records(
    board: Board,
    offset: Annotated[int, Query(ge=0, description="records to skip, newest first")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    current: Annotated[bool, Query(description="leave out superseded records")] = False,
) -> dict[str, Any]:
    """A page of records, newest first, and how many there are."""
    every = board.network.records(include_superseded=not current)
    page = every[::-1][offset : offset + limit]
    return {"total": len(every), "offset": offset, "records": [_record(r) for r in page]}


@router.get("/records/{record_id}")
def show(board: Board, record_id: int) -> dict[str, Any]:
    """One record, whole."""
    rec = board.network.get(record_id)
    if rec is None:
        raise MissingFileError(f"no record #{record_id} in {board.network.path}")
    return _record(rec)


@router.post("/records", status_code=201)
def teach(board: Board, item: Teach) -> dict[str, Any]:
    """Remember a question and answer (it is appended to the network at once)."""
    return _record(board.network.append(item.question, item.answer, source="dashboard"))


@router.get("/search")
def search(
    board: Board,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> list[dict[str, Any]]:
    """The records most relevant to ``q``, best first (semantic; keywords without an embedder)."""
    return [_hit(h) for h in board.network.search(q, k)]


@router.get("/network.png", response_class=Response)
def network_png(
    board: Board, page: Annotated[int | None, Query(ge=0, le=1_000_000)] = None
) -> Response:
    """One page of the network, the newest unless ``page`` names another: the PNG a person reads."""
    pages = board.network.pages()
    if not pages:
        path = board.network.path
        raise MissingFileError(f"{path} has no records yet", hint="chat or teach something first")
    if page is not None and page >= len(pages):
        raise MissingFileError(
            f"the network has {len(pages)} page(s); there is no page {page}",
            hint=f"ask for a page from 0 to {len(pages) - 1}",
        )
    path = pages[-1 if page is None else page]
    with open(pages[0], "rb") as lock, open(path, "rb") as f:
        # Writers hold an exclusive lock on the first page while they append; a shared
        # one there means this page is read whole and committed.
        fcntl.flock(lock, fcntl.LOCK_SH)
        data = f.read()
    return Response(
        data,
        media_type="image/png",
        headers={"cache-control": "no-store", "x-network-pages": str(len(pages))},
    )


@router.get("/export", response_class=FileResponse)
def export(board: Board, format: Format = "png") -> FileResponse:
    """Every record as a new network (.png) or JSON lines (.jsonl), as a download."""
    folder = Path(tempfile.mkdtemp(prefix="holomind-export-"))
    target = folder / f"{board.network.path.stem}-export.{format}"
    try:
        board.network.export(target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    kind = "image/png" if format == "png" else "application/jsonl"
    return FileResponse(
        target,
        media_type=kind,
        filename=target.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "the file's bytes: a .png pixel network or a .jsonl export",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post("/import", openapi_extra=UPLOAD_BODY)
async def import_(request: Request, board: Board, format: Format = "png") -> dict[str, Any]:
    """Add the records of an uploaded network (or .jsonl export) that this network lacks."""
    data = await request.body()
    if not data:
        raise CorruptFileError("the upload is empty", hint="send the file's bytes as the body")
    if format == "jsonl":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise CorruptFileError("the uploaded .jsonl file is not UTF-8 text") from None
    return await run_in_threadpool(_import, board.network, data, format)


def _import(network: PixelNetwork, data: bytes, format: Format) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="holomind-import-") as tmp:
        path = Path(tmp) / f"upload.{format}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            if format == "png":
                check = PixelNetwork(path, embedder=None).verify()
                if not check.ok:
                    raise CorruptFileError(
                        f"the uploaded network is damaged: {'; '.join(check.problems)}",
                        hint="run `holomind memory verify --repair` on it first",
                    )
            added = network.import_from(path)
        except CorruptFileError as exc:  # name the upload, not the temporary file it was put in
            message = exc.message.replace(str(path), f"the uploaded .{format} file")
            raise CorruptFileError(message, hint=exc.hint) from None
    return {"added": len(added), "ids": [r.id for r in added], "records": len(network)}
