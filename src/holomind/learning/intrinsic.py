"""Pragnosia's intrinsic objectives (seed 004) as loss-term plugins on the training loop.

Four terms, each computed per *stream* (one context through one active
cartridge: ``BrainOutput.hidden`` / ``stream_log_probs``) so that a stream's term
reaches only its own cartridge's weights — local learning, as
``tests/learning/test_isolation.py`` proves. Only streams of cartridges this
experience trains (and not frozen) carry gradient; the others still count in
the values (disagreement needs every expert's prediction) as constants.

With ``h_t`` the top block's state at position ``t`` (after the final layer norm,
one stream), ``nll_t = -log p(x_{t+1})`` the stream's own next-byte loss and
``‖v‖²`` the mean square over the ``C`` channels (so the terms do not grow with
the model's width):

- **surprise**     ``mean_t  sg(nll_{t-1}) · ‖h_t − f(h_{t−1})‖²`` for t ≥ 1: the state's
  prediction error, weighted by how surprising the byte ``x_t`` was. ``f`` is the
  identity (the previous state predicts the next): a learnt ``f`` would be a
  predictor shared by every cartridge, which local learning forbids.
- **temporal**     ``mean_t  ‖h_t − sg(h_{t−1})‖² · I[same_context]``: neighbouring positions
  of one window are the same context (one document, routed once); positions of
  different windows are never compared.
- **disagreement** ``Var_e[p_e(·|x)] · I[high_uncertainty]``: the variance of the active
  cartridges' next-byte distributions (summed over the vocabulary), at the
  positions whose mixture entropy is above the batch's median. The mean is taken
  under stop-gradient: the value and each cartridge's gradient are exactly the
  variance's, and no cartridge's term reaches another cartridge.
- **compression**  ``mean_e (L_e − sg(L̄_e)) / Δt_e``: each learning cartridge's own loss
  now, against its running mean (``L̄_e ← 0.9 L̄_e + 0.1 L_e``) when it last learnt
  ``Δt_e`` steps ago — the rate at which its predictions improve (negative while
  they do).

The plugin's term is ``loop.iteration.losses[name]`` (its raw value: logged by the
progress line, TensorBoard and ``train/metrics``); its weight in the minimised sum,
``loop.iteration.weights[name]``, is the plugin's own (the seed's α, β, γ, δ = 0.3,
0.25, 0.25, 0.2) times the phase's intrinsic weight (``PhaseSchedule``).
"""

from __future__ import annotations

import abc
from typing import Any

import torch

from holomind.learning.loop import Plugin


def _msq(v: torch.Tensor) -> torch.Tensor:
    """Mean square over the last dimension (channels)."""
    return v.pow(2).mean(dim=-1)


def _masked_mean(values: torch.Tensor, learning: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` (N, …) over the streams that learn (``learning``: (N,) bool)."""
    rows = values[learning]
    return rows.mean() if rows.numel() else values.sum() * 0.0


def surprise_loss(h: torch.Tensor, nll: torch.Tensor, learning: torch.Tensor) -> torch.Tensor:
    """Surprise-weighted prediction error of stream states ``h`` (N, T, C).

    ``nll`` (N, T) is each position's next-byte loss (used as a constant weight);
    ``learning`` (N,) marks the streams that carry gradient and count.
    """
    err = _msq(h[:, 1:] - h[:, :-1])  # (N, T-1): f = identity
    return _masked_mean(nll[:, :-1].detach() * err, learning)


def temporal_loss(h: torch.Tensor, learning: torch.Tensor) -> torch.Tensor:
    """Temporal consistency of stream states ``h`` (N, T, C) within each window."""
    return _masked_mean(_msq(h[:, 1:] - h[:, :-1].detach()), learning)


def disagreement_loss(
    log_probs: torch.Tensor, mixture: torch.Tensor, learning: torch.Tensor
) -> torch.Tensor:
    """Variance across the k streams of each context, at its uncertain positions.

    ``log_probs`` (B, k, T, V) the streams' predictions, ``mixture`` (B, T, V) the
    model's; ``learning`` (B, k) marks the streams whose cartridges learn.
    """
    p = log_probs.exp()
    p = torch.where(learning[:, :, None, None], p, p.detach())
    var = (p - p.detach().mean(dim=1, keepdim=True)).pow(2).sum(dim=-1).mean(dim=1)  # (B, T)
    mix = mixture.detach()
    entropy = -(mix.exp() * mix).sum(dim=-1)  # (B, T)
    gate = entropy > entropy.median()
    if not bool(gate.any()) or not bool(learning.any()):
        return var.sum() * 0.0
    return var[gate].mean()


def compression_loss(
    losses: torch.Tensor, reference: torch.Tensor, elapsed: torch.Tensor
) -> torch.Tensor:
    """Mean compression progress of cartridges: (own loss − its reference) / steps elapsed."""
    return ((losses - reference.detach()) / elapsed).mean()


def _streams(loop: Any) -> tuple[Any, torch.Tensor, torch.Tensor]:
    """The step's output, each stream's own next-byte loss (B, k, T) and which streams learn."""
    out = loop.iteration.output
    targets = loop.iteration.batch[1]
    B, k, T, _ = out.stream_log_probs.shape
    nll = -out.stream_log_probs.gather(-1, targets[:, None, :, None].expand(B, k, T, 1))
    frozen = {c.state.id for c in out.cartridges if c.state.frozen}
    learns = loop.stage.trainable - frozen
    ids = out.route.ids
    learning = torch.tensor([[int(i) in learns for i in row] for row in ids.tolist()])
    return out, nll.squeeze(-1), learning.to(nll.device)


def _flat_streams(loop: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stream states (B·k, T, C), their own next-byte losses (B·k, T), which learn (B·k,)."""
    out, nll, learning = _streams(loop)
    B, k, T, C = out.hidden.shape
    return out.hidden.reshape(B * k, T, C), nll.reshape(B * k, T), learning.reshape(-1)


class IntrinsicTerm(Plugin, abc.ABC):
    """One intrinsic objective: added to the step's loss terms in the cartridge stage."""

    name = "intrinsic"
    default_weight = 1.0

    def __init__(self, weight: float | None = None) -> None:
        self.weight = self.default_weight if weight is None else weight

    @abc.abstractmethod
    def term(self, loop: Any) -> torch.Tensor:
        """The term's value for this step (with gradient to the learning cartridges)."""

    def after_forward(self, loop: Any) -> None:
        """Add the term, weighted by this plugin's weight and the phase's intrinsic weight."""
        if loop.state.stage != "cartridges" or loop.iteration.output.hidden is None:
            return
        it = loop.iteration
        it.losses[self.name] = self.term(loop)
        it.weights[self.name] = self.weight * loop.state.intrinsic_weight


class SurprisePrediction(IntrinsicTerm):
    """Surprise-weighted prediction error of each stream's states (the seed's α = 0.3)."""

    name = "surprise"
    default_weight = 0.3

    def term(self, loop: Any) -> torch.Tensor:
        """``surprise_loss`` over the step's streams."""
        return surprise_loss(*_flat_streams(loop))


class TemporalConsistency(IntrinsicTerm):
    """Each stream's state stays close to its previous position's (the seed's β = 0.25)."""

    name = "temporal"
    default_weight = 0.25

    def term(self, loop: Any) -> torch.Tensor:
        """``temporal_loss`` over the step's streams."""
        h, _, learning = _flat_streams(loop)
        return temporal_loss(h, learning)


class CrossCartridgeDisagreement(IntrinsicTerm):
    """The active cartridges' predictions disagree less where the model is unsure (γ = 0.25)."""

    name = "disagreement"
    default_weight = 0.25

    def term(self, loop: Any) -> torch.Tensor:
        """``disagreement_loss`` over the step's streams."""
        out, _, learning = _streams(loop)
        return disagreement_loss(out.stream_log_probs, out.log_probs, learning)


class CompressionProgress(IntrinsicTerm):
    """How fast each learning cartridge's own loss falls, per step (the seed's δ = 0.2)."""

    name = "compression"
    default_weight = 0.2
    decay = 0.9  # of each cartridge's running mean loss

    def __init__(self, weight: float | None = None) -> None:
        super().__init__(weight)
        self.reference: dict[int, float] = {}  # cartridge → running mean of its own loss
        self.last: dict[int, int] = {}  # cartridge → the step it last learnt in

    def term(self, loop: Any) -> torch.Tensor:
        """``compression_loss`` over the learning cartridges of this step; updates the means."""
        out, nll, learning = _streams(loop)
        step = loop.state.step
        ids = out.route.ids.to(nll.device)
        per_stream = nll.mean(dim=-1)  # (B, k)
        carts = sorted({int(i) for i in ids[learning].tolist()})
        if not carts:
            return per_stream.sum() * 0.0
        losses = torch.stack([per_stream[(ids == c) & learning].mean() for c in carts])
        now = losses.detach().tolist()
        reference = torch.tensor(
            [self.reference.get(c, v) for c, v in zip(carts, now, strict=True)]
        )
        elapsed = torch.tensor([float(step - self.last.get(c, step - 1)) for c in carts])
        value = compression_loss(losses, reference.to(losses), elapsed.to(losses))
        for c, v in zip(carts, now, strict=True):
            ref = self.reference.get(c, v)
            self.reference[c] = self.decay * ref + (1 - self.decay) * v
            self.last[c] = step
        return value

    def state_dict(self) -> dict[str, Any]:
        """Each cartridge's running mean loss and last step."""
        return {str(c): [self.reference[c], self.last[c]] for c in self.reference}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from the saved means."""
        self.reference = {int(c): float(v[0]) for c, v in state.items()}
        self.last = {int(c): int(v[1]) for c, v in state.items()}


def intrinsic_plugins() -> list[IntrinsicTerm]:
    """The four objectives with the seed's weights (α, β, γ, δ = 0.3, 0.25, 0.25, 0.2)."""
    return [
        SurprisePrediction(),
        TemporalConsistency(),
        CrossCartridgeDisagreement(),
        CompressionProgress(),
    ]
