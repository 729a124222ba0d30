"""Seed 004's final training report, computed from the run: a plugin that measures, a formatter.

`RunReport` listens to the cartridge stage of any run on the loop (`holomind
train`, a sleep): the process's memory at every step (RSS on CPU, allocated
device memory on CUDA — the seed's "constant-VRAM" check), each phase's task
loss at its start and end (means over its first and last ``window`` steps, or
halves of a shorter phase), the
phases completed, and at the end how many of the library's cartridges are
frozen. ``RunReport.result()`` is a JSON-ready dict; `format_report` prints it as
the seed does::

    TRAINING SUMMARY - PHASED LOCAL LEARNING
    MEMORY (constant-memory training): Coefficient of variation: 0.41%
    EXPERT DYNAMICS: Frozen cartridges: 2/6
    PHASE PROGRESSION: ✓ All phases completed
    RELATIVE IMPROVEMENT: representation: Loss 2.412 → 1.953 (-19.0%) …

The phases' record is saved with the run, so a resumed run reports all of it;
memory is measured over the steps of this process (a resumed one: since it started).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from holomind.learning.loop import Plugin
from holomind.learning.plugins import rss_mb

CV_BOUND = 0.15  # the seed's bound on the coefficient of variation for "constant memory"


def memory_mb(device: str) -> float:
    """The memory a step uses: allocated device memory on CUDA, else this process's RSS (MB)."""
    if device.startswith("cuda"):
        return torch.cuda.memory_allocated() / 1e6
    return rss_mb()


class RunReport(Plugin):
    """Measures what the final report shows, during the cartridge stage."""

    def __init__(self, window: int = 10) -> None:
        self.window = max(1, window)
        self.memory = [0, 0.0, 0.0]  # Welford: count, mean, sum of squared deviations (MB)
        self.phases: list[dict[str, Any]] = []  # per phase entered: losses at its start, end
        self.completed: list[str] = []
        self.progress = 0.0  # share of the cartridge steps done
        self.frozen = 0
        self.cartridges = 0

    def before_phase(self, loop: Any) -> None:
        """Close the running phase (its last step included) and open the new one."""
        if loop.state.stage != "cartridges":
            return
        self._record(loop)
        self._close()
        self.phases.append(
            {"name": loop.state.phase, "first": loop.state.step, "head": [], "tail": []}
        )

    def _close(self) -> None:
        if self.phases and self.phases[-1]["name"] not in self.completed:
            self.completed.append(self.phases[-1]["name"])

    def after_training_iteration(self, loop: Any) -> None:
        """Record this step's memory and task loss."""
        self._record(loop)

    def _record(self, loop: Any) -> None:
        s = loop.state
        if s.stage != "cartridges" or not self.phases:
            return
        phase = self.phases[-1]
        if s.step <= phase.get("last", phase["first"]):
            return  # recorded already, or the step that opened this phase (the last one's)
        n, mean, m2 = self.memory
        value = memory_mb(loop.config.device)
        n += 1
        delta = value - mean
        mean += delta / n
        m2 += delta * (value - mean)
        self.memory = [n, mean, m2]
        if len(phase["head"]) < self.window:
            phase["head"].append(s.loss)
        phase["tail"] = [*phase["tail"], s.loss][-self.window :]
        phase["last"] = s.step
        self.progress = s.step / max(1, s.total)

    def after_stage(self, loop: Any) -> None:
        """The cartridge stage ended: its last phase is complete."""
        if loop.stages[loop.state.stage_index - 1].name == "cartridges":
            self._close()

    def after_training(self, loop: Any) -> None:
        """Count the library's frozen cartridges."""
        lib = loop.library
        if lib is not None:
            self.cartridges = len(lib)
            self.frozen = sum(lib.get(i).state.frozen for i in range(len(lib)))

    def result(self) -> dict[str, Any]:
        """The report's figures (JSON-ready); NaN where the run gave nothing to measure."""
        n, mean, m2 = self.memory
        std = math.sqrt(m2 / (n - 1)) if n > 1 else math.nan
        phases = []
        for p in self.phases:
            start, end = self._ends(p)
            phases.append(
                {
                    "name": p["name"],
                    "steps": p.get("last", p["first"]) - p["first"],
                    "loss_start": start,
                    "loss_end": end,
                    "change": (end - start) / start if start else math.nan,
                    "completed": p["name"] in self.completed,
                }
            )
        return {
            "memory_mean_mb": mean if n else math.nan,
            "memory_std_mb": std,
            "memory_cv": std / mean if n > 1 and mean else math.nan,
            "memory_samples": n,
            "frozen": self.frozen,
            "cartridges": self.cartridges,
            "phases": phases,
            "final_phase": phases[-1]["name"] if phases else "",
            "progress": self.progress,
            "all_phases_completed": bool(phases) and all(p["completed"] for p in phases),
        }

    def _ends(self, phase: dict[str, Any]) -> tuple[float, float]:
        """Mean task loss over a phase's first and last m steps, m = min(window, steps // 2)."""
        n = phase.get("last", phase["first"]) - phase["first"]
        if n == 0:
            return math.nan, math.nan
        head, tail = phase["head"], phase["tail"]
        if n < 2 * self.window:  # the phase is short: head and tail together hold all of it
            losses = head + tail[len(tail) - (n - len(head)) :] if n > len(head) else head[:n]
            head = tail = losses
        m = min(self.window, max(1, n // 2))
        return sum(head[:m]) / m, sum(tail[-m:]) / m

    def state_dict(self) -> dict[str, Any]:
        """The phases' losses so far. Memory is this process's own and is not saved: it
        differs between processes, and a resumed run's files must equal an uninterrupted
        run's byte for byte."""
        return {"phases": self.phases, "completed": self.completed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue the phases' record where the saved run was."""
        self.phases = list(state.get("phases", []))
        self.completed = list(state.get("completed", []))


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def format_report(r: dict[str, Any]) -> str:
    """The seed's "TRAINING SUMMARY - PHASED LOCAL LEARNING" block for a `RunReport.result()`."""
    rule = "=" * 80
    cv = r["memory_cv"]
    constant = not math.isnan(cv) and cv <= CV_BOUND
    learning = [p for p in r["phases"] if not math.isnan(p["change"])]
    falls = bool(learning) and all(p["change"] < 0 for p in learning)
    lines = [
        rule,
        "TRAINING SUMMARY - PHASED LOCAL LEARNING",
        rule,
        f"MEMORY (Constant-Memory Training, {r['memory_samples']} steps):",
        f"  Mean: {r['memory_mean_mb']:.1f} MB  Std: {r['memory_std_mb']:.2f} MB",
        f"  Coefficient of variation: {100 * cv:.2f}%",
        f"  {_mark(constant)} {'Low' if constant else 'High'} variance "
        f"(the seed's bound: {100 * CV_BOUND:.0f}%)",
        "",
        "EXPERT DYNAMICS:",
        f"  Frozen cartridges: {r['frozen']}/{r['cartridges']}",
        "",
        "PHASE PROGRESSION:",
        f"  Final phase: {r['final_phase'].upper() or '-'}",
        f"  Overall progress: {100 * r['progress']:.1f}%",
        f"  {_mark(r['all_phases_completed'])} "
        + ("All phases completed" if r["all_phases_completed"] else "Not all phases completed"),
        "",
        "RELATIVE IMPROVEMENT (mean task loss of each phase's first → last steps):",
    ]
    for p in r["phases"]:
        lines.append(
            f"  {p['name']}: Loss {p['loss_start']:.3f} → {p['loss_end']:.3f} "
            f"({100 * p['change']:+.1f}%){'' if p['completed'] else ' (not completed)'}"
        )
    lines += [
        "",
        "SUCCESS METRICS (Local Learning System):",
        f"  {_mark(constant)} Constant memory: {'PASS' if constant else 'FAIL'}",
        f"  {_mark(r['frozen'] > 0)} Expert specialization: "
        f"{'PASS' if r['frozen'] > 0 else 'FAIL (no cartridge froze)'}",
        f"  {_mark(r['all_phases_completed'])} Phase completion: "
        f"{'PASS' if r['all_phases_completed'] else 'FAIL'}",
        f"  {_mark(falls)} Learning: "
        + (
            "PASS (loss fell in every phase)"
            if falls
            else "FAIL (loss did not fall in every phase)"
        ),
        rule,
    ]
    return "\n".join(lines)
