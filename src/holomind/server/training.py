"""Training as a dashboard job: `holomind train`'s loop in a thread; pause, resume, live cartridges.

Two plugins on the trainer's loop do what the dashboard needs and nothing in
`holomind.learning` changes: `PauseGate` holds the loop between steps while
paused, and `CartridgeActivity` publishes ``train/cartridges`` (the cartridges
in memory, their strength, maturity, and how many steps each took part in since
the last report) for the radial graph.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from holomind.learning import (
    Corpus,
    Plugin,
    Trainer,
    WorkspacePublisher,
    resolve_config,
    standard_plugins,
)
from holomind.server.jobs import Job


class PauseGate(Plugin):
    """Holds the training loop after a step while paused; `resume` (or a stop) lets it go on."""

    def __init__(self, on_hold: Callable[[bool], None] = lambda held: None) -> None:
        self._open = threading.Event()
        self._open.set()
        self.on_hold = on_hold  # called with True when the loop stops at the gate, False after

    @property
    def paused(self) -> bool:
        """Whether the gate is closed (the loop stops at its next step)."""
        return not self._open.is_set()

    def pause(self) -> None:
        """Close the gate: the loop stops after the step it is in."""
        self._open.clear()

    def resume(self) -> None:
        """Open the gate."""
        self._open.set()

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Wait here while the gate is closed."""
        if self._open.is_set():
            return
        self.on_hold(True)
        self._open.wait()
        self.on_hold(False)


class CartridgeActivity(Plugin):
    """Publishes ``train/cartridges`` every ``every`` cartridge steps: the cartridges in memory."""

    def __init__(self, workspace: Any, every: int) -> None:
        self.workspace = workspace
        self.every = max(1, every)
        self._steps: dict[int, int] = {}

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Report each cached cartridge and the steps it took since the last report."""
        s, lib = trainer.state, trainer.library
        if s.stage != "cartridges" or lib is None:
            return
        if s.step % self.every and s.step != s.total:
            return
        cartridges = []
        for cart_id in lib.cached_ids():
            st = lib.get(cart_id).state
            cartridges.append(
                {
                    "id": cart_id,
                    "domain": st.domain,
                    "name": st.name,
                    "parent": st.parent,
                    "maturity": st.maturity,
                    "frozen": st.frozen,
                    "steps": st.steps,
                    "recent_steps": st.steps - self._steps.get(cart_id, st.steps),
                    "strength": float(lib.strengths[cart_id]),
                }
            )
            self._steps[cart_id] = st.steps
        self.workspace.write(
            "train/cartridges", {"step": s.step, "total": len(lib), "cartridges": cartridges}
        )


class TrainingJob(Job):
    """`holomind train DATA --library LIB` as a job; params are the data folder and settings."""

    kind = "train"  # routes.training.KIND

    def __init__(self, job_id: int, params: dict[str, Any], workspace: Any) -> None:
        super().__init__(job_id, params, workspace)
        self.gate = PauseGate(self._held)
        self.trainer: Trainer | None = None

    def run(self) -> dict[str, Any]:
        """Train until the steps are done or a stop comes; the library is saved either way."""
        import torch

        p = dict(self.params)
        data, library = Path(p.pop("data_path")), Path(p.pop("library_path"))
        p.pop("data", None)
        resume = bool(p.pop("resume", False))
        config = resolve_config(library, p, resume=resume)
        torch.set_num_threads(config.threads)
        corpus = Corpus.from_folder(data, config.seq_len, config.val_fraction)
        plugins = [
            *standard_plugins(config),
            WorkspacePublisher(self.workspace, config.log_every),
            CartridgeActivity(self.workspace, config.log_every),
            self.gate,
        ]
        self.trainer = Trainer(config, corpus, library, plugins, resume=resume)
        if self.stop_requested.is_set():
            self.trainer.request_stop()
        self.trainer.fit()
        return self.trainer.summary()

    def request_stop(self) -> None:
        """Finish the current step, save and end (what Ctrl-C does to `holomind train`)."""
        super().request_stop()
        if self.trainer is not None:
            self.trainer.request_stop()
        self.gate.resume()

    def pause(self) -> None:
        """Hold the loop after its current step."""
        if self.state == "running":
            self.set_state("pausing")
            self.gate.pause()

    def resume(self) -> None:
        """Let the loop go on."""
        if self.state in ("pausing", "paused"):
            self.gate.resume()
            self.set_state("running")

    def _held(self, held: bool) -> None:
        # The gate's own thread reports: only move between the pause states, never over a stop.
        if held and self.state == "pausing":
            self.set_state("paused")

    def progress(self) -> dict[str, Any]:
        """Stage, phase, step and loss of the running loop."""
        if self.trainer is None:
            return {}
        s = self.trainer.state
        return {"stage": s.stage, "phase": s.phase, "step": s.step, "total": s.total}
