"""The soup view's API: run the primordial soup as a job; its rows, picture and replicators."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from holomind.errors import MissingFileError
from holomind.server.soup import SoupJob
from holomind.server.state import Dashboard, dashboard

router = APIRouter(prefix="/api/soup")
Board = Annotated[Dashboard, Depends(dashboard)]


class SoupRequest(BaseModel):
    """A soup run: `holomind soup`'s settings, sized for watching live by default."""

    lang: Literal["bff_noheads", "bff"] = "bff_noheads"
    seed: int = Field(0, ge=0, le=2**63 - 1)
    num_programs: int = Field(4096, ge=2, le=1 << 18, multiple_of=2)
    epochs: int = Field(100_000, ge=0, le=10_000_000, description="run epochs 0..epochs")
    print_interval: int = Field(16, ge=1, le=100_000, description="epochs between log rows")
    eval_selfrep: bool = Field(True, description="count replicators at every row")


def _job(board: Dashboard) -> SoupJob:
    job = board.jobs.latest(SoupJob.kind)
    if not isinstance(job, SoupJob):
        raise MissingFileError("no soup has run yet", hint="start one with POST /api/soup/start")
    return job


@router.post("/start", status_code=201)
def start(board: Board, request: SoupRequest) -> dict[str, Any]:
    """Start a soup (one at a time); it publishes soup/* keys at every log row."""
    params = {**request.model_dump(), "threads": board.options.threads}
    return board.jobs.start(SoupJob, params).to_dict()


@router.get("")
def soup(
    board: Board,
    since: Annotated[int, Query(ge=0, description="rows already seen: only later ones")] = 0,
    top: Annotated[int, Query(ge=0, le=50)] = 8,
) -> dict[str, Any]:
    """The latest soup job, its log rows (from ``since``) and its most common programs."""
    job = board.jobs.latest(SoupJob.kind)
    if not isinstance(job, SoupJob):
        return {"job": None, "since": since, "rows": [], "most_common": []}
    return {
        "job": job.to_dict(),
        "since": since,
        "rows": job.rows()[since:],
        "most_common": job.most_common(top),
    }


@router.get("/image.png", response_class=Response)
def image(board: Board, rows: Annotated[int, Query(ge=1, le=4096)] = 512) -> Response:
    """The first ``rows`` programs of the latest soup: a pixel row each, bytes coloured by kind."""
    picture = _job(board).picture(rows)
    if picture is None:
        raise MissingFileError("the soup is not made yet", hint="try again in a moment")
    return Response(picture, media_type="image/png", headers={"cache-control": "no-store"})
