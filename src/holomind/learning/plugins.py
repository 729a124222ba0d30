"""Plugins on the training loop: learning rules, phases, freezing, progress, metrics, checkpoints.

Each is switched on by being in the trainer's plugin list (`standard_plugins`
is what `holomind train` uses) and off by being left out — which is also how a
benchmark ablates one. The learning rules that follow a cartridge step
(`MaturityTracking` and `MaturityFreezing` in `learning.maturity`,
`HebbianRouting` in `learning.hebbian`, `RouterStatistics`) touch only the
cartridges this experience trains.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import torch

from holomind.learning.hebbian import HebbianRouting
from holomind.learning.loop import Plugin
from holomind.learning.maturity import MaturityFreezing, MaturityTracking


@dataclass(frozen=True)
class Phase:
    """One developmental phase of the cartridge stage (Pragnosia's schedule)."""

    name: str
    fraction: float  # share of the cartridge steps
    lr_scale: float  # multiplier on the cartridge learning rate
    freeze_threshold: float | None  # maturity above which cartridges freeze; None = no freezing
    intrinsic: float = 1.0  # weight on the intrinsic terms (when their plugins are on)
    task: float = 1.0  # weight on the stage's own loss terms


# Our tuned defaults: the seed's fractions and learning rates, the task at full weight in
# every phase (measured: bench/pragnosia.py, docs/cartridges.md "Local learning").
PHASES = (
    Phase("representation", 0.3, 1.0, None),
    Phase("alignment", 0.5, 0.5, 0.95),
    Phase("stabilization", 0.2, 0.1, 0.90),
)

# Seed 004's table exactly: intrinsic:task 0.9:0.1, 0.5:0.5, 0.2:0.8; expert learning rates
# 0.01 / 0.005 / 0.001 (lr 1e-2 times the scale); freezing off / 0.95 / 0.90.
PRAGNOSIA_PHASES = (
    Phase("representation", 0.3, 1.0, None, intrinsic=0.9, task=0.1),
    Phase("alignment", 0.5, 0.5, 0.95, intrinsic=0.5, task=0.5),
    Phase("stabilization", 0.2, 0.1, 0.90, intrinsic=0.2, task=0.8),
)


@dataclass(frozen=True)
class Preset:
    """A named set of phases and parts (`holomind train --preset NAME`)."""

    phases: tuple[Phase, ...]
    intrinsic: bool  # the intrinsic objectives (learning.intrinsic) are on
    freezing: bool  # MaturityFreezing is on


PRESETS = {
    "holomind": Preset(PHASES, intrinsic=False, freezing=False),
    "pragnosia": Preset(PRAGNOSIA_PHASES, intrinsic=True, freezing=True),
}


def rss_mb() -> float:
    """This process's resident memory in MB."""
    return psutil.Process().memory_info().rss / 1e6


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (VmHWM: unlike ru_maxrss, not
    inherited from the parent across fork + exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _learning(loop: Any) -> bool:
    """Whether the loop is in a cartridge stage (the rules below apply there only)."""
    return loop.state.stage == "cartridges"


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

    def _enter(self, loop: Any, index: int) -> None:
        self._current = index
        phase = self.phases[index]
        s = loop.state
        s.phase, s.lr_scale, s.freeze_threshold = phase.name, phase.lr_scale, phase.freeze_threshold
        s.task_weight, s.intrinsic_weight = phase.task, phase.intrinsic
        loop.emit("before_phase")

    def before_stage(self, loop: Any) -> None:
        """Cartridge steps begin in the first phase."""
        if _learning(loop):
            self._enter(loop, 0)

    def after_forward(self, loop: Any) -> None:
        """Weigh the stage's own loss terms (those no plugin weighed) by the phase's task weight."""
        if not _learning(loop) or loop.state.task_weight == 1.0:
            return
        it = loop.iteration
        for name in it.losses:
            it.weights.setdefault(name, loop.state.task_weight)

    def after_training_iteration(self, loop: Any) -> None:
        """Switch phase when the step count crosses a boundary."""
        s = loop.state
        if not _learning(loop):
            return
        index = self._phase_at(s.step, s.total)
        if index != self._current:
            self._enter(loop, index)

    def state_dict(self) -> dict[str, Any]:
        """The phase the stage is in."""
        return {"current": self._current}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue in the saved phase."""
        self._current = state.get("current", -1)


class RouterStatistics(Plugin):
    """Adds each batch's windows to their owners' routing statistics; the router follows."""

    def after_update(self, loop: Any) -> None:
        """Count this batch's windows for the cartridges whose documents they came from."""
        if not _learning(loop):
            return
        lib, out = loop.library, loop.iteration.output
        owners = np.array([d.cartridge for d in loop.iteration.batch[2]])
        for cart_id in np.unique(owners):
            lib.add_statistics(int(cart_id), out.embeddings[torch.from_numpy(owners == cart_id)])
        lib.refresh_router()


class Checkpoint(Plugin):
    """Commits the run every ``every`` steps (stage ends and stops are always committed)."""

    def __init__(self, every: int) -> None:
        self.every = every

    def after_training_iteration(self, loop: Any) -> None:
        """Commit on schedule."""
        s = loop.state
        if self.every > 0 and s.step % self.every == 0 and s.step < s.total:
            loop.checkpoint()


def standard_plugins(config: Any) -> list[Plugin]:
    """What `holomind train` uses: the learning rules, the preset's phases and parts, checkpoints.

    The default preset ("holomind") leaves out `MaturityFreezing`: measured, it froze a
    new domain's cartridge half-way through its experience and cost a third of its gain
    (docs/continual.md); and the intrinsic objectives, which did not lower held-out loss
    (bench/pragnosia.py). ``config.intrinsic`` / ``config.freezing`` (None: the preset's
    choice) switch either on or off.
    """
    from holomind.learning.intrinsic import intrinsic_plugins

    preset = PRESETS[config.preset]
    plugins: list[Plugin] = [
        PhaseSchedule(preset.phases),
        MaturityTracking(),
        HebbianRouting(),
        RouterStatistics(),
    ]
    if preset.freezing if config.freezing is None else config.freezing:
        plugins.append(MaturityFreezing())
    if preset.intrinsic if config.intrinsic is None else config.intrinsic:
        plugins.extend(intrinsic_plugins())
    plugins.append(Checkpoint(config.checkpoint_every))
    return plugins


class ProgressLine(Plugin):
    """Prints "Step 300/1000 [phase] - Loss: … - RSS: … MB - ETA: …" every few steps."""

    def __init__(self, every: int, write: Callable[[str], None] = print) -> None:
        self.every = max(1, every)
        self.write = write

    def before_phase(self, loop: Any) -> None:
        """Announce a phase change with the seed's banner."""
        rule = "=" * 80
        self.write(
            f"\n{rule}\nPHASE TRANSITION: Entering {loop.state.phase.upper()} phase\n{rule}\n"
        )

    def after_training_iteration(self, loop: Any) -> None:
        """Print the progress line on every ``every``-th step and on the last one."""
        s = loop.state
        if s.step % self.every and s.step != s.total:
            return
        lib = loop.library
        frozen = sum(lib.get(i).state.frozen for i in lib.cached_ids()) if lib is not None else 0
        m = metrics(loop)
        lr = f" - LR: {loop.config.lr * s.lr_scale:.4f}" if _learning(loop) else ""
        extra = "".join(f" - {k}: {v:.4f}" for k, v in m["losses"].items() if k not in _OWN)
        self.write(
            f"Step {s.step} [{s.phase}] - Loss: {s.loss:.4f}{lr} - Active: {s.active}/"
            f"{m['cartridges']} - Frozen: {frozen}{extra} - Tok/s: {m['tokens_per_s']:,.0f}"
            f" - RSS: {m['rss_mb']:.0f} MB - ETA: {_duration(m['eta_s'])}"
        )


_OWN = ("task", "cartridges")  # the stages' own loss terms (the line's Loss is the task's)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def metrics(loop: Any) -> dict[str, Any]:
    """The numbers a step reports (JSON-ready)."""
    s = loop.state
    lib = loop.library
    elapsed = max(1e-9, time.perf_counter() - s.started)
    batch = loop.config.batch * loop.config.seq_len
    steps_done = max(1, s.tokens // max(1, batch))  # steps taken since this process started
    return {
        "stage": s.stage,
        "phase": s.phase,
        "step": s.step,
        "total": s.total,
        "loss": s.loss,
        "active": s.active,
        "cartridges": len(lib) if lib is not None else 0,
        "tokens_per_s": s.tokens / elapsed,
        "eta_s": (s.total - s.step) * elapsed / steps_done,
        "rss_mb": rss_mb(),
        # this step's loss terms, unweighted (the stage's own and the intrinsic objectives)
        "losses": {k: float(v.detach()) for k, v in loop.iteration.losses.items()},
    }


class TensorBoardLogger(Plugin):
    """Writes scalars to TensorBoard event files under ``log_dir``."""

    def __init__(self, log_dir: Path, every: int) -> None:
        self.log_dir = log_dir
        self.every = max(1, every)
        self.writer: Any = None

    def before_training(self, loop: Any) -> None:
        """Open the event file (a resumed run drops what the killed one logged after its save)."""
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(self.log_dir), purge_step=loop.state.step or None)

    def after_training_iteration(self, loop: Any) -> None:
        """Log loss, every named loss term, tokens/s, RSS and counts for this stage."""
        s = loop.state
        if s.step % self.every and s.step != s.total:
            return
        m = metrics(loop)
        for name in ("loss", "tokens_per_s", "rss_mb", "active", "cartridges"):
            self.writer.add_scalar(f"{s.stage}/{name}", m[name], s.step)
        for name, value in loop.iteration.losses.items():
            self.writer.add_scalar(f"{s.stage}/loss_{name}", float(value.detach()), s.step)
        self.writer.add_scalar(f"{s.stage}/lr_scale", s.lr_scale, s.step)

    def after_training(self, loop: Any) -> None:
        """Log validation losses and close the file."""
        for name, value in loop.state.val_after.items():
            self.writer.add_scalar(f"val/{name or 'all'}", value, loop.state.step)
        self.writer.close()


class WorkspacePublisher(Plugin):
    """Publishes progress to the global workspace (keys in docs/workspace-keys.md)."""

    def __init__(self, workspace: Any, every: int) -> None:
        self.workspace = workspace
        self.every = max(1, every)

    def after_training_iteration(self, loop: Any) -> None:
        """Write ``train/metrics`` every few steps."""
        s = loop.state
        if s.step % self.every == 0 or s.step == s.total:
            self.workspace.write("train/metrics", metrics(loop))

    def on_spawn(self, loop: Any, cart_id: int) -> None:
        """Write ``cartridges/spawned`` for each new cartridge."""
        lib = loop.library
        st = lib.get(cart_id).state
        self.workspace.write(
            "cartridges/spawned",
            {"id": cart_id, "domain": st.name, "parent": st.parent, "count": len(lib)},
        )

    def after_training(self, loop: Any) -> None:
        """Write ``train/done`` with the run's summary."""
        self.workspace.write("train/done", loop.summary())
