"""The sleep view's API: how far the library has consolidated the network; start a sleep."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from holomind.server.state import Dashboard, dashboard

router = APIRouter()
KIND = "sleep"  # SleepJob.kind, named here so the server starts without loading torch
Board = Annotated[Dashboard, Depends(dashboard)]


class SleepRequest(BaseModel):
    """How long to sleep; unset, `holomind sleep`'s default for what is new."""

    steps: int | None = Field(None, ge=1, le=1_000_000, description="training steps")
    log_every: int = Field(10, ge=1, le=100_000, description="steps between reports")


@router.get("/api/sleep")
def status(board: Board) -> dict[str, Any]:
    """The network, the library, the records consolidated so far and the latest sleep job."""
    from holomind.cartridges import Library
    from holomind.sleep.marks import mark_of, network_key, read_marks

    lib = board.options.library
    upto = mark_of(read_marks(lib), network_key(board.network)) if Library.exists(lib) else 0
    job = board.jobs.latest(KIND)
    return {
        "network": str(board.network.path),
        "library": str(lib),
        "records": len(board.network),
        "consolidated": upto,
        "job": job.to_dict() if job is not None else None,
    }


@router.post("/api/sleep/start", status_code=201)
def start(board: Board, request: SleepRequest) -> dict[str, Any]:
    """Start consolidating the server's network into its library (one sleep job at a time)."""
    from holomind.cartridges import Library
    from holomind.errors import MissingFileError
    from holomind.server.sleep import SleepJob
    from holomind.sleep import open_network

    # refuse a missing library or an empty network now, not in the job
    if not Library.exists(board.options.library):
        raise MissingFileError(
            f"{board.options.library} is not a cartridge library",
            hint="train one first (the Training view)",
        )
    open_network(board.network.path)
    params = request.model_dump()
    params.update(
        network_path=str(board.network.path),
        library_path=str(board.options.library),
        threads=board.options.threads,
    )
    return board.jobs.start(SleepJob, params).to_dict()
