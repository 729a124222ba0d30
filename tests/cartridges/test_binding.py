"""The workspace layer: the most salient cartridges win the slots; salience decides the output."""

from __future__ import annotations

import math

import torch

from holomind.cartridges import WorkspaceConfig, WorkspaceLayer

# Three cartridges, two positions, a vocabulary of three: each cartridge is sure of its own token.
PROBS = torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
LOG_PROBS = PROBS.log()[None, :, None, :].expand(1, 3, 2, 3)  # (B=1, k=3, T=2, V=3)


def layer(slots: int = 2) -> WorkspaceLayer:
    return WorkspaceLayer(WorkspaceConfig(slots=slots, route_weight=10.0), n_embd=2)


def test_the_most_salient_cartridges_win_and_are_mixed_by_salience() -> None:
    h = torch.zeros(1, 3, 2, 2)  # the learned salience reads nothing yet: route scores decide
    mix, weights = layer()(h, LOG_PROBS, torch.tensor([[0.9, 0.1, 0.5]]))
    assert weights[0, 1].tolist() == [0.0, 0.0]  # the least salient cartridge gets no share
    w0 = 1 / (1 + math.exp(-10 * (0.9 - 0.5)))  # softmax over the two winners' salience
    assert torch.allclose(weights[0, 0], torch.full((2,), w0))
    assert torch.allclose(weights[0, 2], torch.full((2,), 1 - w0))
    expected = (w0 * PROBS[0] + (1 - w0) * PROBS[2]).log()
    assert torch.allclose(mix[0], expected.expand(2, 3), atol=1e-6)


def test_one_slot_broadcasts_the_winner_alone() -> None:
    scores = torch.tensor([[0.2, 0.7, 0.6]])
    mix, weights = layer(slots=1)(torch.zeros(1, 3, 2, 2), LOG_PROBS, scores)
    assert weights[0, :, 0].tolist() == [0.0, 1.0, 0.0]
    assert torch.allclose(mix[0, 0], PROBS[1].log(), atol=1e-6)


def test_changing_salience_changes_the_winners_and_the_output() -> None:
    ws = layer()
    scores = torch.tensor([[0.9, 0.1, 0.5]])
    h = torch.zeros(1, 3, 2, 2)
    h[0, 1, 1, 0] = 1.0  # cartridge 1's hidden state at position 1 carries a feature
    before, _ = ws(h, LOG_PROBS, scores)
    with torch.no_grad():
        ws.salience.weight.copy_(torch.tensor([[8.0, 0.0]]))  # salience now reads that feature
    after, weights = ws(h, LOG_PROBS, scores)
    # position 0 is unchanged: the feature is absent there
    assert torch.equal(after[0, 0], before[0, 0])
    # position 1: cartridge 1's salience rises from 10 * 0.1 = 1 to 1 + 8 = 9, level with
    # cartridge 0's 9 and above cartridge 2's 5: 0 and 1 now win, 2 is dropped
    assert weights[0, 2, 1].item() == 0.0 and weights[0, 1, 1].item() > 0.0
    assert torch.allclose(weights[0, 0, 1], torch.tensor(0.5)) and torch.allclose(
        weights[0, 1, 1], torch.tensor(0.5)
    )
    assert torch.allclose(after[0, 1], (0.5 * PROBS[0] + 0.5 * PROBS[1]).log(), atol=1e-6)
    # the broadcast prediction moves toward cartridge 1's token, away from cartridge 2's
    assert after[0, 1, 1] > before[0, 1, 1] and after[0, 1, 2] < before[0, 1, 2]
