"""The seed's final report: figures computed from the run, resumable, printed as the seed does."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from holomind.learning import Loop, PhaseSchedule, Plugin, RunReport, Stage, format_report
from tests.learning.test_loop import Scalar


class Losses(Plugin):
    """Each step's (phase, loss), to compute the report's figures by hand."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, float]] = []

    def after_training_iteration(self, loop: Any) -> None:
        self.seen.append((loop.state.phase, loop.state.loss))


class Run(Loop):
    """A loop on the CPU without a library, whose checkpoints are no-ops."""

    def __init__(self, stage: Stage, plugins: list[Plugin]) -> None:
        super().__init__([stage], plugins)
        self.config = SimpleNamespace(device="cpu")
        self.library = None

    def checkpoint(self) -> None:
        pass


def test_phase_losses_and_completion_come_from_the_run() -> None:
    losses, report = Losses(), RunReport(window=3)
    Run(Scalar("cartridges", 3.0, 40), [PhaseSchedule(), report, losses]).run()
    r = report.result()
    # 40 steps: representation 12, alignment 20, stabilization 8 (the step that crosses a
    # boundary ran in the phase before it)
    values = [v for _, v in losses.seen]
    by = {
        "representation": values[:12],
        "alignment": values[12:32],
        "stabilization": values[32:],
    }
    assert [p["name"] for p in r["phases"]] == ["representation", "alignment", "stabilization"]
    for p in r["phases"]:
        seq = by[p["name"]]
        assert p["steps"] == len(seq) and p["completed"]
        assert p["loss_start"] == pytest.approx(sum(seq[:3]) / 3, rel=1e-12)
        assert p["loss_end"] == pytest.approx(sum(seq[-3:]) / 3, rel=1e-12)
        assert p["change"] < 0
    assert r["all_phases_completed"] and r["final_phase"] == "stabilization"
    assert r["progress"] == 1.0 and r["memory_samples"] == 40
    assert 0 <= r["memory_cv"] < 0.15


def test_a_short_phase_compares_its_halves() -> None:
    losses, report = Losses(), RunReport(window=10)
    Run(Scalar("cartridges", 3.0, 10), [PhaseSchedule(), report, losses]).run()
    seq = [v for _, v in losses.seen[3:8]]  # alignment: steps 4..8 (5 steps)
    align = report.result()["phases"][1]
    assert align["steps"] == 5
    assert align["loss_start"] == pytest.approx(sum(seq[:2]) / 2, rel=1e-12)
    assert align["loss_end"] == pytest.approx(sum(seq[-2:]) / 2, rel=1e-12)


def test_a_resumed_report_has_the_uninterrupted_ones_phase_figures() -> None:
    whole = RunReport(window=3)
    Run(Scalar("cartridges", 3.0, 30), [PhaseSchedule(), whole]).run()

    class StopAt(Plugin):
        def after_training_iteration(self, loop: Any) -> None:
            if loop.state.step == 14:
                loop.request_stop()

    first_stage, first, schedule = (
        Scalar("cartridges", 3.0, 30),
        RunReport(window=3),
        PhaseSchedule(),
    )
    stopped = Run(first_stage, [schedule, first, StopAt()])
    stopped.run()
    assert not first.result()["all_phases_completed"]
    again, schedule2 = RunReport(window=3), PhaseSchedule()
    again.load_state_dict(first.state_dict())
    schedule2.load_state_dict(schedule.state_dict())
    resumed = Run(first_stage, [schedule2, again])
    resumed.state = stopped.state
    resumed.stopping = False
    resumed.run()
    a, b = whole.result(), again.result()
    assert a["phases"] == b["phases"]
    assert b["memory_samples"] == 30 - 14  # memory is the resumed process's own


def test_the_seeds_summary_block() -> None:
    r = {
        "memory_mean_mb": 700.0,
        "memory_std_mb": 3.5,
        "memory_cv": 0.005,
        "memory_samples": 400,
        "frozen": 2,
        "cartridges": 6,
        "phases": [
            {"name": "representation", "steps": 120, "loss_start": 2.0, "loss_end": 1.5,
             "change": -0.25, "completed": True},
            {"name": "alignment", "steps": 200, "loss_start": 1.5, "loss_end": 1.6,
             "change": 1.6 / 1.5 - 1, "completed": False},
        ],
        "final_phase": "alignment",
        "progress": 0.8,
        "all_phases_completed": False,
    }  # fmt: skip
    text = format_report(r)
    lines = text.splitlines()
    assert lines[1] == "TRAINING SUMMARY - PHASED LOCAL LEARNING"
    assert "  Mean: 700.0 MB  Std: 3.50 MB" in lines
    assert "  Coefficient of variation: 0.50%" in lines
    assert "  Frozen cartridges: 2/6" in lines
    assert "  Final phase: ALIGNMENT" in lines and "  Overall progress: 80.0%" in lines
    assert "  ✗ Not all phases completed" in lines
    assert "  representation: Loss 2.000 → 1.500 (-25.0%)" in lines
    assert "  alignment: Loss 1.500 → 1.600 (+6.7%) (not completed)" in lines
    assert "  ✓ Constant memory: PASS" in lines
    assert "  ✓ Expert specialization: PASS" in lines
    assert "  ✗ Phase completion: FAIL" in lines
    assert "  ✗ Learning: FAIL (loss did not fall in every phase)" in lines
    nothing = format_report({**r, "memory_cv": math.nan, "frozen": 0, "phases": []})
    assert "  ✗ Constant memory: FAIL" in nothing.splitlines()
    assert "  ✗ Expert specialization: FAIL (no cartridge froze)" in nothing.splitlines()
