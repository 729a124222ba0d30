"""The intrinsic objectives against hand computations on tiny tensors, and on a real run."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from holomind.cartridges.cartridge import CartridgeState
from holomind.cartridges.model import BrainOutput
from holomind.cartridges.router import Route
from holomind.learning import (
    CompressionProgress,
    Corpus,
    Plugin,
    RunReport,
    TrainConfig,
    Trainer,
    intrinsic_plugins,
    standard_plugins,
)
from holomind.learning.intrinsic import (
    compression_loss,
    disagreement_loss,
    surprise_loss,
    temporal_loss,
)
from holomind.learning.texts import build_corpus
from tests.learning.test_stages import TINY as STAGES_TINY

F64 = torch.float64


def states() -> torch.Tensor:
    """Two streams of three positions, two channels; the second stream is all zeros."""
    h = torch.tensor([[[0.0, 0.0], [1.0, 2.0], [1.0, 0.0]], [[0.0] * 2] * 3], dtype=F64)
    return h.requires_grad_(True)


def test_surprise_weights_each_step_of_the_state_by_the_surprise_of_its_byte() -> None:
    h = states()
    nll = torch.tensor([[2.0, 0.5, 7.0], [1.0, 1.0, 1.0]], dtype=F64, requires_grad=True)
    loss = surprise_loss(h, nll, torch.tensor([True, False]))
    # t=1: nll_0 · mean((1,2)-(0,0))² = 2 · 2.5 = 5;  t=2: nll_1 · mean((0,-2)²) = 0.5 · 2 = 1
    assert loss.item() == 3.0
    loss.backward()
    # d/dh of mean_t w_{t-1}·mean_c(h_t - h_{t-1})²: (w/T')·(2/C)·(h_t - h_{t-1}) on h_t,
    # the same with a minus sign on h_{t-1}
    expected = torch.tensor([[-1.0, -2.0], [1.0 - 0.0, 2.0 + 0.5], [0.0, -0.5]], dtype=F64)
    assert torch.equal(h.grad[0], expected)
    assert torch.equal(h.grad[1], torch.zeros(3, 2, dtype=F64))  # not a learning stream
    assert nll.grad is None  # the surprise is a weight, never a target


def test_temporal_consistency_pulls_each_state_toward_the_previous_one_only() -> None:
    h = states()
    loss = temporal_loss(h, torch.tensor([True, False]))
    assert loss.item() == (2.5 + 2.0) / 2
    loss.backward()
    # h_{t-1} is under stop-gradient: h_0 gets nothing, h_t gets (2/C)(h_t - h_{t-1}) / 2
    assert torch.equal(h.grad[0], torch.tensor([[0.0, 0.0], [0.5, 1.0], [0.0, -1.0]], dtype=F64))


def test_disagreement_is_the_variance_across_cartridges_where_the_mixture_is_unsure() -> None:
    # one context, k=2 streams, T=2 positions, V=2 bytes
    p = torch.tensor([[[[0.9, 0.1], [0.9, 0.1]], [[0.9, 0.1], [0.5, 0.5]]]], dtype=F64)
    logp = p.log().requires_grad_(True)
    mixture = torch.tensor([[[0.9, 0.1], [0.7, 0.3]]], dtype=F64).log()
    loss = disagreement_loss(logp, mixture, torch.tensor([[True, False]]))
    # entropies 0.325 (t=0) and 0.611 (t=1); the median is 0.325, so only t=1 counts:
    # mean (0.7, 0.3); Var = mean_k Σ_v (p - mean)² = (0.04+0.04 + 0.04+0.04) / 2 = 0.08
    assert loss.item() == pytest.approx(0.08, abs=1e-15)
    loss.backward()
    # d/dp_0 = (2/k)(p_0 - mean) = (0.2, -0.2); through exp: p_0 · that = (0.18, -0.02)
    assert logp.grad[0, 0, 1].tolist() == pytest.approx([0.18, -0.02], abs=1e-15)
    assert logp.grad[0, 0, 0].tolist() == [0.0, 0.0]  # t=0 is not uncertain
    assert logp.grad[0, 1].abs().sum().item() == 0.0  # stream 1 does not learn
    # the stop-gradient on the mean leaves the variance's own gradient unchanged
    q = p.log().requires_grad_(True)
    pe = q.exp()
    (pe - pe.mean(dim=1, keepdim=True)).pow(2).sum(-1).mean(1)[0, 1].backward()
    assert torch.allclose(q.grad[0, 0], logp.grad[0, 0], atol=1e-15)


def test_compression_progress_is_the_loss_change_per_step() -> None:
    losses = torch.tensor([2.0, 1.0], requires_grad=True)
    value = compression_loss(losses, torch.tensor([2.5, 1.5]), torch.tensor([1.0, 2.0]))
    assert value.item() == (-0.5 / 1 + -0.5 / 2) / 2
    value.backward()
    assert losses.grad.tolist() == [0.5, 0.25]  # 1 / (n · Δt)


def _step(plugin: CompressionProgress, step: int, nll: list[float], frozen: int = -1) -> float:
    """One loop step of the plugin over a hand-made output: streams of cartridges 5, 7 and 9."""
    logp = torch.tensor([[[[-v, 0.0]] for v in nll]], requires_grad=True)  # (1, 3, 1, 2)
    carts = [SimpleNamespace(state=CartridgeState(id=i, frozen=i == frozen)) for i in (5, 7, 9)]
    out = BrainOutput(
        logp[:, 0], route=Route(torch.tensor([[5, 7, 9]]), torch.zeros(1, 3), []), cartridges=carts
    )
    out.hidden, out.stream_log_probs = torch.zeros(1, 3, 1, 4), logp
    loop = SimpleNamespace(
        state=SimpleNamespace(stage="cartridges", step=step, intrinsic_weight=0.5),
        stage=SimpleNamespace(trainable={5, 7}),  # 9 belongs to an earlier experience
        iteration=SimpleNamespace(
            output=out, batch=(None, torch.zeros(1, 1, dtype=torch.long)), losses={}, weights={}
        ),
    )
    plugin.after_forward(loop)
    assert loop.iteration.weights == {"compression": 0.2 * 0.5}
    return loop.iteration.losses["compression"].item()


def test_compression_plugin_keeps_a_running_mean_per_cartridge_and_resumes_exactly() -> None:
    plugin = CompressionProgress()
    assert _step(plugin, 0, [1.0, 2.0, 4.0]) == 0.0  # first sight: the reference is the loss
    assert plugin.state_dict() == {"5": [1.0, 0], "7": [2.0, 0]}
    copy = CompressionProgress()
    copy.load_state_dict(plugin.state_dict())
    # three steps later: ((0.5 - 1) / 3 + (2.5 - 2) / 3) / 2 = 0 ... and with 7 frozen, only 5
    assert _step(plugin, 3, [0.5, 2.5, 4.0]) == pytest.approx(0.0, abs=1e-7)
    assert _step(copy, 3, [0.5, 2.5, 4.0], frozen=7) == pytest.approx(-0.5 / 3, abs=1e-7)
    assert plugin.state_dict()["5"] == pytest.approx([0.9 * 1.0 + 0.1 * 0.5, 3])
    assert plugin.state_dict()["7"] == pytest.approx([0.9 * 2.0 + 0.1 * 2.5, 3])


TINY = {**STAGES_TINY, "stem_steps": 10, "steps": 20}


class Record(Plugin):
    """What each cartridge step minimised: phase, term names, weights."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, float]]] = []

    def before_update(self, loop: Any) -> None:
        if loop.state.stage == "cartridges":
            it = loop.iteration
            weights = {n: it.weights.get(n, 1.0) for n in it.losses}
            assert all(math.isfinite(float(t.detach())) for t in it.losses.values())
            self.seen.append((loop.state.phase, weights))


def test_the_pragnosia_preset_weighs_terms_by_phase_in_a_real_run(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    data = build_corpus(tmp_path / "data", size=3000)
    config = TrainConfig(**TINY, preset="pragnosia")
    names = [type(p).__name__ for p in standard_plugins(config)]
    assert "MaturityFreezing" in names and "SurprisePrediction" in names
    off = TrainConfig(**TINY, preset="pragnosia", intrinsic=False, freezing=False)
    assert [type(p).__name__ for p in standard_plugins(off)] == [
        "PhaseSchedule",
        "MaturityTracking",
        "HebbianRouting",
        "RouterStatistics",
        "Checkpoint",
    ]
    record = Record()
    corpus = Corpus.from_folder(data / "licences", 32, domain="licences")
    Trainer(config, corpus, tmp_path / "lib", [*standard_plugins(config), record]).fit()
    by_phase = {phase: weights for phase, weights in record.seen}
    assert [p for p, _ in record.seen] == ["representation"] * 6 + ["alignment"] * 10 + [
        "stabilization"
    ] * 4
    for phase, (intrinsic, task) in {
        "representation": (0.9, 0.1),
        "alignment": (0.5, 0.5),
        "stabilization": (0.2, 0.8),
    }.items():
        assert by_phase[phase] == {
            "task": task,
            "cartridges": task,
            **{p.name: p.weight * intrinsic for p in intrinsic_plugins()},
        }


class StopAt(Plugin):
    """Asks the run to stop (as Ctrl-C does) after a cartridge step."""

    def __init__(self, step: int) -> None:
        self.step = step

    def after_training_iteration(self, loop: Any) -> None:
        if loop.state.stage == "cartridges" and loop.state.step == self.step:
            loop.request_stop()


def _weights(lib: Path) -> dict[str, Any]:
    """Every tensor a library holds (cartridges, their moments, workspace, the run's) and the
    run state; torch's RNG state aside (a finished run no longer needs it)."""
    from safetensors.torch import load_file

    tensors = {}
    for path in sorted(lib.rglob("*.safetensors")):
        for key, t in load_file(str(path)).items():
            if key != "rng.torch":
                tensors[f"{path.relative_to(lib)}:{key}"] = t.numpy().tobytes()
    return {**tensors, "state": (lib / "run" / "state.json").read_text()}


def test_a_stopped_pragnosia_run_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    data = build_corpus(tmp_path / "data", size=3000)
    config = TrainConfig(**{**TINY, "checkpoint_every": 5}, preset="pragnosia")

    def corpus() -> Corpus:
        return Corpus.from_folder(data / "licences", 32, domain="licences")

    def plugins(*more: Plugin) -> list[Plugin]:  # with the final report, as the CLI has it
        return [*standard_plugins(config), RunReport(), *more]

    Trainer(config, corpus(), tmp_path / "whole", plugins()).fit()
    stopped = Trainer(config, corpus(), tmp_path / "cut", plugins(StopAt(9)))
    assert stopped.fit().stopped_early
    saved = json.loads((tmp_path / "cut" / "run" / "state.json").read_text())
    # each trained cartridge's running mean loss is saved with the run
    assert set(saved["plugins"]["CompressionProgress"]) == {str(i) for i in stopped.trained()}
    Trainer(config, corpus(), tmp_path / "cut", plugins(), resume=True).fit()
    assert _weights(tmp_path / "cut") == _weights(tmp_path / "whole")
