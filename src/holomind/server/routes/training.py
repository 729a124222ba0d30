"""The training view's API: start `holomind train` on a data folder, pause, resume, device.

Data folders are named relative to the server's data root (``HOME/data`` unless
``--data-root`` says otherwise); the library is the server's. The seed's paths
``POST /training/pause``, ``/training/resume`` and ``/training/mode/{cpu|gpu}``
act on the running training job.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from holomind.errors import BusyError, MissingFileError
from holomind.server.security import child_path
from holomind.server.state import Dashboard, dashboard

router = APIRouter()
KIND = "train"  # TrainingJob.kind, named here so the server starts without loading torch
Board = Annotated[Dashboard, Depends(dashboard)]
MAX_LISTED_FILES = 10_000  # files counted per folder in the listing


class TrainRequest(BaseModel):
    """What to train on and how; fields left at their defaults keep the library's settings."""

    data: str = Field(min_length=1, max_length=300, description="folder under the data root")
    steps: int = Field(1000, ge=1, le=10_000_000, description="cartridge training steps")
    stem_steps: int = Field(2000, ge=0, le=10_000_000, description="stem steps (new library)")
    log_every: int = Field(10, ge=1, le=100_000, description="steps between metrics")
    checkpoint_every: int = Field(500, ge=0, le=10_000_000, description="steps between saves")
    batch: int = Field(32, ge=1, le=256)
    seq_len: int = Field(64, ge=2, le=512)
    dim: int = Field(256, ge=8, le=1024)
    stem_depth: int = Field(4, ge=1, le=12)
    n_head: int = Field(4, ge=1, le=16)
    adapter_rank: int = Field(16, ge=1, le=64)
    active_k: int = Field(4, ge=1, le=16)
    lr: float = Field(0.01, gt=0, le=1.0, description="cartridge learning rate")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    resume: bool = Field(False, description="continue the library's interrupted run (same data)")


@functools.cache
def gpu_available() -> bool:
    """Whether torch sees a CUDA device."""
    import torch

    return bool(torch.cuda.is_available())


def _folders(board: Dashboard) -> list[dict[str, Any]]:
    root = board.options.data_root
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        if folder.is_symlink() or not folder.is_dir():
            continue
        files = 0
        for _ in folder.rglob("*.txt"):
            files += 1
            if files >= MAX_LISTED_FILES:
                break
        out.append({"name": folder.name, "txt_files": files})
    return out


@router.get("/api/training")
def training(board: Board) -> dict[str, Any]:
    """The device, the library, the data folders and the latest training job."""
    job = board.jobs.latest(KIND)
    return {
        "device": board.training_device,
        "gpu": gpu_available(),
        "library": str(board.options.library),
        "data_root": str(board.options.data_root),
        "folders": _folders(board),
        "job": job.to_dict() if job is not None else None,
    }


@router.get("/api/training/folders")
def folders(board: Board) -> list[dict[str, Any]]:
    """The folders under the data root that training can read (``*.txt`` files counted)."""
    return _folders(board)


@router.post("/api/training/start", status_code=201)
def start(board: Board, request: TrainRequest) -> dict[str, Any]:
    """Start training the server's library on a data folder (one training job at a time)."""
    from holomind.learning import resolve_config, saved_run
    from holomind.server.training import TrainingJob

    data = child_path(board.options.data_root, request.data, "data folder")
    if not data.is_dir():
        raise MissingFileError(
            f"no data folder {request.data!r} in {board.options.data_root}",
            hint="put a folder of *.txt files there",
        )
    # A form sends every field; those left at their defaults must not contradict the shape
    # an existing library fixes, so only changed ones are passed on (log_every always: live).
    params = request.model_dump(exclude_defaults=True)
    settings = {k: v for k, v in params.items() if k not in ("data", "resume")}
    settings["log_every"] = request.log_every
    settings.update(device=board.training_device, threads=board.options.threads)
    library = board.options.library
    run = saved_run(library)
    if run is not None and not run["state"]["done"] and not request.resume:
        st = run["state"]
        raise BusyError(
            f"the library holds an unfinished run (stage {st['stage']}, step {st['step']} of "
            f"{st['total']})",
            hint='tick "resume" (API: "resume": true) and start again on the same data folder',
        )
    # refuse bad combinations (dim vs heads, a shape the library contradicts) now, not in the job
    resolve_config(library, settings, resume=request.resume)
    params.update(settings, data_path=str(data), library_path=str(board.options.library))
    return board.jobs.start(TrainingJob, params).to_dict()


@router.post("/training/pause")
def pause(board: Board) -> dict[str, Any]:
    """Hold the running training job after its current step (state: pausing, then paused)."""
    job = board.jobs.running(KIND)
    job.pause()
    return job.to_dict()


@router.post("/training/resume")
def resume(board: Board) -> dict[str, Any]:
    """Let a paused training job go on."""
    job = board.jobs.running(KIND)
    job.resume()
    return job.to_dict()


@router.post(
    "/training/mode/{mode}",
    responses={409: {"description": "GPU asked for on a machine without one"}},
)
def mode(board: Board, mode: Literal["cpu", "gpu"]) -> Any:
    """Train on the CPU or the GPU from the next training job on; refused (409) without a GPU."""
    if mode == "gpu" and not gpu_available():
        return JSONResponse(
            {
                "error": "there is no GPU: torch sees no CUDA device on this machine",
                "hint": "training stays on the CPU",
                "device": board.training_device,
            },
            status_code=409,
        )
    board.training_device = "cuda" if mode == "gpu" else "cpu"
    running = board.jobs.latest(KIND)
    note = (
        "the running job keeps its device; the next one uses this"
        if running is not None and running.active
        else "training jobs started from now on use this"
    )
    return {"device": board.training_device, "gpu": gpu_available(), "note": note}
