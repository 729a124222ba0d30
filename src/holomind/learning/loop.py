"""One training loop with named life-cycle events, and the plugins that hook them (as in Avalanche).

A run is a list of *stages* (each an experience the loop trains on: a stem, a
library's cartridges, …). The loop runs them one after another, step by step,
and calls every plugin at each named event::

    before_training
      before_stage            once per stage (not again when a run resumes inside it)
        on_spawn              a stage created a cartridge
        before_phase          a plugin (PhaseSchedule) entered a new phase
        before_training_iteration
          after_forward       ``loop.iteration.losses`` may gain named loss terms here
                              (and ``loop.iteration.weights`` their multipliers)
          before_update       gradients are computed, no optimiser has stepped
          after_update        optimisers have stepped (routing, maturity, signatures follow)
        after_training_iteration
      after_stage
    after_training            also after a stop (Ctrl-C); the run is saved just before

Stages say how to sample, predict, update and save; plugins do everything else
(phases, freezing, progress, metrics, checkpoints), so each can be switched off.
A plugin with state of its own returns it from ``state_dict`` and takes it back
in ``load_state_dict``: the loop saves it with every checkpoint, so a resumed
run continues exactly where the saved one was.
"""

from __future__ import annotations

import abc
import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch


class Plugin:
    """A set of hooks on the training loop; override the events you need."""

    def before_training(self, loop: Any) -> None:
        """Once, before anything is trained (also when a run resumes)."""

    def before_stage(self, loop: Any) -> None:
        """A stage has begun (for cartridges: its documents have cartridges)."""

    def on_spawn(self, loop: Any, cart_id: int) -> None:
        """A stage spawned cartridge ``cart_id``."""

    def before_phase(self, loop: Any) -> None:
        """The stage entered a new phase (``loop.state.phase``)."""

    def before_training_iteration(self, loop: Any) -> None:
        """A step is about to sample its batch."""

    def after_forward(self, loop: Any) -> None:
        """The step's forward pass is done; plugins may add to ``loop.iteration.losses``."""

    def before_update(self, loop: Any) -> None:
        """Gradients are computed; no optimiser has stepped yet."""

    def after_update(self, loop: Any) -> None:
        """The optimisers have stepped."""

    def after_training_iteration(self, loop: Any) -> None:
        """A step is complete (``loop.state.step`` counts it)."""

    def after_stage(self, loop: Any) -> None:
        """A stage has ended and been saved."""

    def after_training(self, loop: Any) -> None:
        """Once at the end, also after a stop; the run is saved just before."""

    def state_dict(self) -> dict[str, Any]:
        """The plugin's own state, JSON-ready (saved with every checkpoint)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back what ``state_dict`` returned (when a run resumes)."""


@dataclass
class TrainState:
    """What the loop is doing now; plugins read and write it. Saved with every checkpoint."""

    stage: str = ""  # the running stage's name ("stem", "cartridges")
    stage_index: int = 0  # position of the running stage in the run
    begun: bool = False  # whether the running stage's begin() has run
    done: bool = False  # every stage has ended
    phase: str = ""  # stem, representation, alignment, stabilization
    step: int = 0  # steps taken in this stage
    total: int = 0  # steps planned in this stage
    loss: float = math.nan  # this step's loss
    lr_scale: float = 1.0  # the phase's multiplier on the learning rate
    freeze_threshold: float | None = None  # maturity above which a cartridge freezes
    task_weight: float = 1.0  # the phase's weight on the stage's own loss terms
    intrinsic_weight: float = 1.0  # the phase's weight on intrinsic terms (learning.intrinsic)
    active: int = 0  # cartridges active this step
    tokens: int = 0  # tokens trained on since this process started the stage
    started: float = field(default_factory=time.perf_counter)  # for tokens/s; not saved
    stopped_early: bool = False  # a stop (Ctrl-C) ended the run before its last stage
    val_before: dict[str, float] = field(default_factory=dict)
    val_after: dict[str, float] = field(default_factory=dict)

    def saved(self) -> dict[str, Any]:
        """The fields a checkpoint keeps (all but the clock and the token count)."""
        skip = {"started", "tokens", "stopped_early"}
        return {k: v for k, v in vars(self).items() if k not in skip}


@dataclass
class Iteration:
    """One step in flight: what plugins may read (and add loss terms to)."""

    batch: Any = None  # what the stage sampled
    output: Any = None  # what its forward pass returned
    # Named loss terms; their sum is minimised. "task" is the model's own loss (the one
    # reported as the step's loss); plugins may add others (e.g. intrinsic objectives).
    losses: dict[str, torch.Tensor] = field(default_factory=dict)
    # Each term's multiplier in the minimised sum (1 when absent); the terms themselves stay
    # unweighted, so what is logged is the term's own value.
    weights: dict[str, float] = field(default_factory=dict)

    def total(self) -> torch.Tensor:
        """The weighted sum of the loss terms: what the step minimises."""
        return sum(self.weights.get(name, 1.0) * term for name, term in self.losses.items())


class Stage(abc.ABC):
    """One experience of a run: how to sample, predict, learn and save; the loop does the rest."""

    name = "stage"

    @abc.abstractmethod
    def steps(self, loop: Any) -> int:
        """How many steps this stage takes."""

    def begin(self, loop: Any) -> None:  # noqa: B027 (optional hook)
        """Set up before the first step (once per stage: not again after a resume)."""

    def resume(self, loop: Any, state: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:  # noqa: B027 (optional hook)
        """Rebuild after a restart from what ``state_dict`` saved (instead of begin)."""

    def batch(self, loop: Any) -> Any:
        """Sample this step's inputs (by default from the loop's own sampler)."""
        return loop.sample()

    @abc.abstractmethod
    def forward(self, loop: Any, batch: Any) -> tuple[Any, dict[str, torch.Tensor]]:
        """Predict; returns the output and the named loss terms to minimise."""

    def zero_grad(self, loop: Any) -> None:  # noqa: B027 (optional hook)
        """Clear the gradients of what learns in this stage."""

    def update(self, loop: Any) -> None:  # noqa: B027 (optional hook)
        """Step the optimisers."""

    def end(self, loop: Any) -> None:  # noqa: B027 (optional hook)
        """Finish the stage (it must be safe to run again after a crash during it)."""

    def state_dict(self, loop: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The stage's resumable state: a JSON-ready part and named tensors."""
        return {}, {}


class Loop(abc.ABC):
    """Runs stages step by step and calls plugins at each named event (see the module)."""

    def __init__(self, stages: list[Stage], plugins: list[Plugin]) -> None:
        self.stages = stages
        self.plugins = plugins
        self.state = TrainState()
        self.iteration = Iteration()
        self.stopping = False

    @property
    def stage(self) -> Stage:
        """The running stage."""
        return self.stages[self.state.stage_index]

    def emit(self, event: str, *args: Any) -> None:
        """Call one life-cycle event on every plugin, in order."""
        for plugin in self.plugins:
            getattr(plugin, event)(self, *args)

    def request_stop(self) -> None:
        """Finish the step in flight, save, and stop (what Ctrl-C does)."""
        self.stopping = True

    @abc.abstractmethod
    def checkpoint(self) -> None:
        """Save everything needed to continue exactly from here (see `Trainer`)."""

    def run(self) -> TrainState:
        """Run the remaining stages; returns the final state."""
        s = self.state
        self.emit("before_training")
        while s.stage_index < len(self.stages) and not self.stopping:
            stage = self.stage
            s.stage, s.total = stage.name, stage.steps(self)
            if not s.begun:
                s.step, s.loss = 0, math.nan
                stage.begin(self)
                s.begun = True
                self.emit("before_stage")
            s.started, s.tokens = time.perf_counter(), 0
            while s.step < s.total and not self.stopping:
                self._iteration(stage)
            if self.stopping:
                break
            stage.end(self)
            s.stage_index, s.begun = s.stage_index + 1, False
            s.done = s.stage_index == len(self.stages)
            self.checkpoint()
            self.emit("after_stage")
        s.stopped_early = self.stopping and not s.done
        if s.stopped_early:
            self.checkpoint()
        self.emit("after_training")
        return s

    def _iteration(self, stage: Stage) -> None:
        s = self.state
        it = self.iteration = Iteration()
        self.emit("before_training_iteration")
        it.batch = stage.batch(self)
        it.output, it.losses = stage.forward(self, it.batch)
        self.emit("after_forward")
        loss = it.total()
        stage.zero_grad(self)
        loss.backward()
        self.emit("before_update")
        stage.update(self)
        self.emit("after_update")
        s.step += 1
        s.loss = float(it.losses.get("task", loss).detach())
        self.emit("after_training_iteration")
