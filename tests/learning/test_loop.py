"""The loop: stages and named events in order, plugins' loss terms minimised, stops saved."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from holomind.learning import Loop, Plugin, Stage


class Scalar(Stage):
    """Learns one number toward ``target`` by SGD on (w - target)^2."""

    def __init__(self, name: str, target: float, steps: int) -> None:
        self.name, self.target, self.n = name, target, steps
        self.w = torch.zeros((), requires_grad=True)
        self.opt = torch.optim.SGD([self.w], lr=0.1)

    def steps(self, loop: Any) -> int:
        return self.n

    def batch(self, loop: Any) -> None:
        return None

    def forward(self, loop: Any, batch: Any) -> tuple[Any, dict[str, torch.Tensor]]:
        return self.w, {"task": (self.w - self.target) ** 2}

    def zero_grad(self, loop: Any) -> None:
        self.opt.zero_grad()

    def update(self, loop: Any) -> None:
        self.opt.step()


class Recorder(Plugin):
    """Records events; optionally adds a penalty term; optionally asks the loop to stop."""

    def __init__(
        self, penalty: float = 0.0, stop_at: int | None = None, weight: float | None = None
    ) -> None:
        self.seen: list[str] = []
        self.penalty, self.stop_at, self.weight = penalty, stop_at, weight

    def before_training(self, loop: Any) -> None:
        self.seen.append("before_training")

    def before_stage(self, loop: Any) -> None:
        self.seen.append(f"before_stage:{loop.state.stage}")

    def before_training_iteration(self, loop: Any) -> None:
        self.seen.append("iteration")

    def after_forward(self, loop: Any) -> None:
        self.seen.append("after_forward")
        if self.penalty:
            loop.iteration.losses["penalty"] = self.penalty * loop.iteration.output**2
        if self.weight is not None:
            loop.iteration.weights["penalty"] = self.weight

    def before_update(self, loop: Any) -> None:
        self.seen.append("before_update")

    def after_update(self, loop: Any) -> None:
        self.seen.append("after_update")

    def after_training_iteration(self, loop: Any) -> None:
        self.seen.append(f"step:{loop.state.step}")
        if loop.state.step == self.stop_at:
            loop.request_stop()

    def after_stage(self, loop: Any) -> None:
        self.seen.append(f"after_stage:{loop.stages[loop.state.stage_index - 1].name}")

    def after_training(self, loop: Any) -> None:
        self.seen.append("after_training")


class Saving(Loop):
    """A loop that counts its checkpoints instead of writing them."""

    def __init__(self, stages: list[Stage], plugins: list[Plugin]) -> None:
        super().__init__(stages, plugins)
        self.saved: list[tuple[int, int, bool]] = []

    def checkpoint(self) -> None:
        s = self.state
        self.saved.append((s.stage_index, s.step, s.done))


def test_stages_run_in_order_with_every_event_in_order() -> None:
    rec = Recorder()
    loop = Saving([Scalar("a", 1.0, 2), Scalar("b", 2.0, 1)], [rec])
    state = loop.run()
    step = ["iteration", "after_forward", "before_update", "after_update"]
    assert rec.seen == [
        "before_training",
        "before_stage:a",
        *step,
        "step:1",
        *step,
        "step:2",
        "after_stage:a",
        "before_stage:b",
        *step,
        "step:1",
        "after_stage:b",
        "after_training",
    ]
    assert loop.saved == [(1, 2, False), (2, 1, True)]  # each stage's end is saved
    assert state.done and not state.stopped_early
    assert state.loss == 4.0  # the "task" term of b's one step, measured before its update


def test_a_plugins_loss_term_is_minimised_with_the_stages() -> None:
    stage = Scalar("a", 3.0, 200)
    Saving([stage], [Recorder(penalty=1.0)]).run()
    # minimum of (w - 3)^2 + w^2 is w = 1.5, not the task's own 3
    assert stage.w.item() == pytest.approx(1.5, abs=1e-4)


def test_a_terms_weight_scales_it_in_the_sum_but_not_in_the_reported_loss() -> None:
    stage = Scalar("a", 3.0, 300)
    state = Saving([stage], [Recorder(penalty=1.0, weight=3.0)]).run()
    # minimum of (w - 3)^2 + 3 w^2 is w = 3/4; the step's loss is the task's alone
    assert stage.w.item() == pytest.approx(0.75, abs=1e-4)
    assert state.loss == pytest.approx((0.75 - 3.0) ** 2, abs=1e-3)


def test_a_stop_finishes_the_step_saves_and_skips_the_rest() -> None:
    rec = Recorder(stop_at=3)
    stage = Scalar("a", 1.0, 10)
    loop = Saving([stage, Scalar("b", 1.0, 5)], [rec])
    state = loop.run()
    assert state.stopped_early and not state.done
    assert (state.stage_index, state.step) == (0, 3)
    assert loop.saved == [(0, 3, False)]
    assert rec.seen[-2:] == ["step:3", "after_training"]
    assert "before_stage:b" not in rec.seen
