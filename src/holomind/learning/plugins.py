"""Plugins on the training loop: phases, freezing, progress, TensorBoard, workspace, checkpoints."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from holomind.learning.trainer import Plugin, Trainer


@dataclass(frozen=True)
class Phase:
    """One developmental phase of the cartridge stage (Pragnosia's schedule)."""

    name: str
    fraction: float  # share of the cartridge steps
    lr_scale: float  # multiplier on the cartridge learning rate
    freeze_threshold: float | None  # maturity above which cartridges freeze; None = no freezing


PHASES = (
    Phase("representation", 0.3, 1.0, None),
    Phase("alignment", 0.5, 0.5, 0.95),
    Phase("stabilization", 0.2, 0.1, 0.90),
)


def rss_mb() -> float:
    """This process's resident memory in MB."""
    return psutil.Process().memory_info().rss / 1e6


class PhaseSchedule(Plugin):
    """Moves the cartridge stage through representation → alignment → stabilization."""

    def __init__(self, phases: tuple[Phase, ...] = PHASES) -> None:
        self.phases = phases
        self._current = -1

    def _phase_at(self, step: int, total: int) -> int:
        edge = 0.0
        for i, phase in enumerate(self.phases):
            edge += phase.fraction
            if step < edge * total:
                return i
        return len(self.phases) - 1

    def _enter(self, trainer: Trainer, index: int) -> None:
        self._current = index
        phase = self.phases[index]
        s = trainer.state
        s.phase, s.lr_scale, s.freeze_threshold = phase.name, phase.lr_scale, phase.freeze_threshold
        trainer.emit("before_phase")

    def before_cartridges(self, trainer: Trainer) -> None:
        """Cartridge steps begin in the first phase."""
        self._enter(trainer, 0)

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Switch phase when the step count crosses a boundary."""
        s = trainer.state
        if s.stage != "cartridges":
            return
        index = self._phase_at(s.step, s.total)
        if index != self._current:
            self._enter(trainer, index)


class MaturityFreezing(Plugin):
    """Freezes cartridges whose loss has settled, once the phase allows freezing."""

    def __init__(self, min_steps: int = 200) -> None:
        self.min_steps = min_steps

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Freeze every active cartridge whose maturity passed the phase's threshold."""
        s, lib, model = trainer.state, trainer.library, trainer.model
        if s.stage != "cartridges" or s.freeze_threshold is None or model is None or lib is None:
            return
        for cart_id in lib.cached_ids():
            cart = lib.get(cart_id)
            st = cart.state
            if not st.frozen and st.steps >= self.min_steps and st.maturity >= s.freeze_threshold:
                st.frozen = True
                cart.requires_grad_(False)
                lib.mark_dirty(cart_id)


class ProgressLine(Plugin):
    """Prints "Step 300 [phase] - Loss: … - Active: … - RSS: … MB" every few steps."""

    def __init__(self, every: int, write: Callable[[str], None] = print) -> None:
        self.every = max(1, every)
        self.write = write

    def before_phase(self, trainer: Trainer) -> None:
        """Announce a phase change."""
        self.write(f"Phase: entering {trainer.state.phase.upper()}")

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Print the progress line on every ``every``-th step and on the last one."""
        s = trainer.state
        if s.step % self.every and s.step != s.total:
            return
        lib = trainer.library
        frozen = sum(lib.get(i).state.frozen for i in lib.cached_ids()) if lib is not None else 0
        m = metrics(trainer)
        self.write(
            f"Step {s.step} [{s.phase}] - Loss: {s.loss:.4f} - Active: {s.active}/{m['cartridges']}"
            f" - Frozen: {frozen} - Tok/s: {m['tokens_per_s']:,.0f} - RSS: {m['rss_mb']:.0f} MB"
        )


def metrics(trainer: Trainer) -> dict[str, Any]:
    """The numbers a step reports (JSON-ready)."""
    s = trainer.state
    lib = trainer.library
    return {
        "stage": s.stage,
        "phase": s.phase,
        "step": s.step,
        "total": s.total,
        "loss": s.loss,
        "active": s.active,
        "cartridges": len(lib) if lib is not None else 0,
        "tokens_per_s": s.tokens / max(1e-9, time.perf_counter() - s.started),
        "rss_mb": rss_mb(),
    }


class TensorBoardLogger(Plugin):
    """Writes scalars to TensorBoard event files under ``log_dir``."""

    def __init__(self, log_dir: Path, every: int) -> None:
        self.log_dir = log_dir
        self.every = max(1, every)
        self.writer: Any = None

    def before_training(self, trainer: Trainer) -> None:
        """Open the event file."""
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(self.log_dir))

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Log loss, tokens/s, RSS and counts for this stage."""
        s = trainer.state
        if s.step % self.every and s.step != s.total:
            return
        m = metrics(trainer)
        for name in ("loss", "tokens_per_s", "rss_mb", "active", "cartridges"):
            self.writer.add_scalar(f"{s.stage}/{name}", m[name], s.step)
        self.writer.add_scalar(f"{s.stage}/lr_scale", s.lr_scale, s.step)

    def after_training(self, trainer: Trainer) -> None:
        """Log validation losses and close the file."""
        for name, value in trainer.state.val_after.items():
            self.writer.add_scalar(f"val/{name or 'all'}", value, trainer.state.step)
        self.writer.close()


class WorkspacePublisher(Plugin):
    """Publishes progress to the global workspace (keys in docs/workspace-keys.md)."""

    def __init__(self, workspace: Any, every: int) -> None:
        self.workspace = workspace
        self.every = max(1, every)

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Write ``train/metrics`` every few steps."""
        s = trainer.state
        if s.step % self.every == 0 or s.step == s.total:
            self.workspace.write("train/metrics", metrics(trainer))

    def on_spawn(self, trainer: Trainer, cart_id: int) -> None:
        """Write ``cartridges/spawned`` for each new cartridge."""
        lib = trainer.library
        assert lib is not None
        st = lib.get(cart_id).state
        self.workspace.write(
            "cartridges/spawned",
            {"id": cart_id, "domain": st.name, "parent": st.parent, "count": len(lib)},
        )

    def after_training(self, trainer: Trainer) -> None:
        """Write ``train/done`` with the run's summary."""
        self.workspace.write("train/done", trainer.summary())


class Checkpoint(Plugin):
    """Saves the library every ``every`` cartridge steps."""

    def __init__(self, every: int) -> None:
        self.every = every

    def after_training_iteration(self, trainer: Trainer) -> None:
        """Save on schedule."""
        s = trainer.state
        if self.every > 0 and s.stage == "cartridges" and s.step % self.every == 0:
            trainer.save()
