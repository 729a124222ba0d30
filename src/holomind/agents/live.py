"""The agents on a running simulation: what `holomind sim --agents` and the dashboard start.

`SimAgents` opens the agents' book and the ledger, attaches the RL agent
manager to a `Simulation` (it acts after every chunk) and, given a chat backend,
starts the pool of LLM agents on the simulation's workspace. `close()` stops
the pool, saves the RL agent's checkpoint, and closes the book and the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holomind.agents.llm_agents import AgentPool
from holomind.agents.manager import AgentManager
from holomind.agents.store import AgentStore
from holomind.ledger import Ledger
from holomind.llm import Backend
from holomind.sim import Simulation


@dataclass(frozen=True)
class AgentPaths:
    """Where the agents keep their files."""

    db: Path  # the agents' book (SQLite)
    checkpoint: Path  # the RL agent's checkpoint
    ledger: Path  # the ledger folder rewards are paid into

    @classmethod
    def under(cls, home: Path) -> AgentPaths:
        """The defaults under HOLOMIND_HOME."""
        return cls(home / "agents.db", home / "agents" / "rl-agent.safetensors", home / "ledger")


class SimAgents:
    """The RL agent manager and (with a backend) the LLM agents, attached to `sim`.

    Args:
        sim: the simulation (not yet running, or between runs).
        paths: book, checkpoint and ledger.
        backend: the chat model for the LLM agents (None: no LLM agents).
        learn: whether the RL agent keeps learning during the run.
        episode_steps: chunks per RL episode (what ``agent.best_return`` is measured on).
        pool: further `AgentPool` settings (interval_s, idle_s, max_agents, ...).
    """

    def __init__(
        self,
        sim: Simulation,
        paths: AgentPaths,
        *,
        backend: Backend | None = None,
        learn: bool = True,
        episode_steps: int = 40,
        pool: dict[str, Any] | None = None,
    ) -> None:
        self.sim = sim
        self.paths = paths
        self.store = AgentStore(paths.db)
        try:
            self.ledger = Ledger.open(paths.ledger, create=True)
            self.manager = AgentManager(
                paths.checkpoint, self.store, ledger=self.ledger, workspace=sim.workspace
            )
        except BaseException:
            self.store.close()
            raise
        self.manager.attach(sim, learn=learn, episode_steps=episode_steps)
        self.pool: AgentPool | None = None
        if backend is not None:
            self.pool = AgentPool(
                backend,
                sim.workspace,
                self.store,
                ledger=self.ledger,
                modulate=sim.modulate,
                band=sim.config.band_hz,
                **(pool or {}),
            )
            self.pool.start()
        self._closed = False
        self._final: dict[str, Any] | None = None  # the summary as it was when closed

    def summary(self) -> dict[str, Any]:
        """The RL agent's and the pool's summaries, and the ledger's balances, JSON-ready."""
        if self._final is not None:
            return self._final
        return {
            "rl": self.manager.summary(),
            "llm": self.pool.summary() if self.pool is not None else None,
            "db": str(self.paths.db),
            "ledger": {
                "path": str(self.paths.ledger),
                "entries": len(self.ledger),
                "balances": {a.name: a.balance for a in self.ledger.accounts()},
            },
        }

    def close(self) -> None:
        """Stop the LLM agents, save the RL agent, close the book and the ledger."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.pool is not None:
                self.pool.stop()
            self.manager.save()
            self.store.retire(self.manager.name, "the run ended")
            self._final = self.summary()
        finally:
            self.store.close()
            self.ledger.close()

    def __enter__(self) -> SimAgents:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
