"""The simulation view's API: run the spiking network (and its agents) as a job, steer it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator

from holomind.server.sim import SimJob, import_brian2
from holomind.server.state import Dashboard, dashboard

router = APIRouter(prefix="/api/sim")
import_brian2()  # a simulation job's thread cannot be the first to import it
Board = Annotated[Dashboard, Depends(dashboard)]


class SimRequest(BaseModel):
    """A simulation run: `holomind sim`'s main settings, sized for watching live by default."""

    network: Literal["seed", "coba", "cuba"] = "seed"
    neurons: int = Field(400, ge=20, le=4000, description="network size")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    duration_s: float = Field(60.0, gt=0, le=3600, description="simulated seconds")
    chunk_ms: float = Field(100.0, ge=1, le=1000, description="simulated ms per chunk")
    band_low_hz: float = Field(5.0, ge=0, le=500)
    band_high_hz: float = Field(15.0, gt=0, le=500)
    soup: bool = Field(True, description="a primordial soup beside the network")
    soup_programs: int = Field(512, ge=2, le=8192, multiple_of=2)
    agents: bool = Field(True, description="the RL agent modulates after every chunk")
    llm_agents: bool = Field(False, description="LLM agents spawn on novelty (loads the model)")

    @model_validator(mode="after")
    def _band(self) -> SimRequest:
        if not self.band_low_hz < self.band_high_hz:
            raise ValueError("band_low_hz must be below band_high_hz")
        return self


class Modulate(BaseModel):
    """A person's modulation of the running network."""

    action: Literal["increase", "decrease", "maintain"]
    strength: float = Field(1.0, gt=0, le=10, description="drive steps")


@router.post("/start", status_code=201)
def start(board: Board, request: SimRequest) -> dict[str, Any]:
    """Start a simulation (one at a time) on the server's workspace."""
    o = board.options
    params = {
        **request.model_dump(),
        "home": str(o.home),
        "backend": o.backend,
        "url": o.url,
        "model": o.model,
        "threads": o.threads,
    }
    return board.jobs.start(SimJob, params).to_dict()


@router.get("")
def sim(board: Board) -> dict[str, Any]:
    """The latest simulation job (its settings, progress and, once ended, its summary)."""
    job = board.jobs.latest(SimJob.kind)
    return {"job": job.to_dict() if job is not None else None}


@router.post("/modulate")
def modulate(board: Board, request: Modulate) -> dict[str, Any]:
    """Move the running network's drive by hand; it acts at the next chunk (the agent waits)."""
    job = board.jobs.running(SimJob.kind)
    assert isinstance(job, SimJob)
    version = job.modulate(request.action, request.strength)
    return {"action": request.action, "strength": request.strength, "version": version}
