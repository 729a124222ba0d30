"""The simulation (with its agents) as a dashboard job, on the server's one workspace.

`SimJob` builds a `holomind.sim.Simulation` on the server's workspace, so the
page sees ``neuro/*``, ``modulation`` and the soup's keys live, and runs it for
the asked duration or until stopped. With ``agents`` it attaches the RL agent
manager and, with ``llm_agents``, the pool of LLM agents (`holomind.agents.SimAgents`:
the agents' book and the ledger under HOLOMIND_HOME, as `holomind sim --agents`).
Each run keeps its activity log in HOLOMIND_HOME/sims/.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from holomind.errors import InvalidInputError
from holomind.neuro import runner
from holomind.server.jobs import Job


def import_brian2() -> None:
    """Import Brian2 now if this is the main thread (the server calls it as it loads its routes).

    Brian2 installs a Ctrl-C handler when it is first imported, which only the main
    thread may do: imported first in a job's thread it fails. The server keeps its
    own Ctrl-C handler and error hook (`holomind.neuro.runner.import_brian2`).
    """
    if threading.current_thread() is threading.main_thread():
        runner.import_brian2()


class SimJob(Job):
    """A simulation run; params are `SimRequest`'s fields plus ``home`` and the chat settings."""

    kind = "sim"

    def __init__(self, job_id: int, params: dict[str, Any], workspace: Any) -> None:
        super().__init__(job_id, params, workspace)
        self.sim: Any = None
        self.team: Any = None  # SimAgents while agents run
        self._progress: dict[str, Any] = {}

    def run(self) -> dict[str, Any]:
        """Simulate until ``duration_s`` or a stop; the summary of the run and its agents."""
        from holomind.agents import AgentPaths, SimAgents
        from holomind.llm import open_backend
        from holomind.neuro.runner import Sampling
        from holomind.sim import SimConfig, Simulation

        p = self.params
        home = Path(p["home"])
        config = SimConfig(
            network=p["network"],
            neurons=p["neurons"],
            seed=p["seed"],
            sampling=Sampling(neurons=0),
            chunk_ms=p["chunk_ms"],
            soup=p["soup"],
            soup_programs=p["soup_programs"],
            band_hz=(p["band_low_hz"], p["band_high_hz"]),
        )
        db = home / "sims" / f"{time.strftime('%Y%m%d-%H%M%S')}-job{self.id}.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        backend = None
        if p["agents"] and p["llm_agents"]:
            backend = open_backend(
                p["backend"], url=p["url"], model=p["model"], threads=p["threads"]
            )
        try:
            self.sim = Simulation(
                config, db=db, workspace=self.workspace, cache_dir=home / "brian2"
            )
            try:
                if p["agents"]:
                    self.team = SimAgents(self.sim, AgentPaths.under(home), backend=backend)
                if self.stop_requested.is_set():
                    self.sim.stopped_by = "stopped"
                else:
                    self.sim.run(p["duration_s"], on_progress=self._keep, progress_s=0.5)
            finally:
                if self.team is not None:
                    self.team.close()
                self.sim.close()
        finally:
            if backend is not None:
                backend.close()
        summary = self.sim.summary()
        if self.team is not None:
            summary["agents"] = self.team.summary()
        return summary

    def _keep(self, progress: dict[str, Any]) -> None:
        self._progress = {
            k: progress[k] for k in ("t_s", "end_s", "rate_hz", "drive_pa", "eta_s", "speed")
        }

    def request_stop(self) -> None:
        """End the chunk in progress; the run stores its state and the agents save."""
        super().request_stop()
        if self.sim is not None:
            self.sim.stop("stopped")

    def progress(self) -> dict[str, Any]:
        """Network time, the end, rate, drive, ETA."""
        return dict(self._progress)

    def modulate(self, action: str, strength: float) -> int:
        """A person's modulation of the running network (it acts at the next chunk)."""
        if self.sim is None or not self.active:
            raise InvalidInputError("the simulation is not running", hint="start it first")
        return self.sim.modulate(action, strength=strength, source="person")

    def adopt(self, message_id: int) -> dict[str, Any]:
        """Adopt an LLM agent's proposal (see `AgentPool.adopt`)."""
        if self.team is None or self.team.pool is None or not self.active:
            raise InvalidInputError(
                "no simulation with LLM agents is running",
                hint="start the simulation with agents and LLM agents first",
            )
        return self.team.pool.adopt(message_id)
