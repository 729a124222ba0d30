"""The router's local rules (seed 004) against hand computations on tiny arrays."""

from __future__ import annotations

import numpy as np
import pytest

from holomind.cartridges.hebbian import hebbian_deltas, usage_error, winner_take_most


def test_winner_take_most_lets_the_strong_one_silence_a_weak_rival() -> None:
    # u = (3, 1, 0.5), β = 0.5: alone, the winner settles at 3 and inhibits the others by 1.5
    assert winner_take_most(np.array([[3.0, 1.0, 0.5]]), 0.5).tolist() == [[3.0, 0.0, 0.0]]


def test_winner_take_most_solves_the_fixed_point_exactly() -> None:
    # u = (1.8, 2, 0), β = 0.5: S = {0, 1}, A = 3.8 / 1.5, a = (u − βA) / (1 − β)
    a = winner_take_most(np.array([[1.8, 2.0, 0.0]]), 0.5)[0]
    total = 3.8 / 1.5
    assert a == pytest.approx([(1.8 - total / 2) / 0.5, (2.0 - total / 2) / 0.5, 0.0])
    # each is its own drive less β times the others' activity
    assert a[0] == pytest.approx(1.8 - 0.5 * a[1]) and a[1] == pytest.approx(2.0 - 0.5 * a[0])
    assert winner_take_most(np.array([[1.8, 2.0, -1.0]]), 0.0).tolist() == [[1.8, 2.0, 0.0]]
    assert winner_take_most(np.zeros((1, 3)), 0.5).tolist() == [[0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="inhibition"):
        winner_take_most(np.ones((1, 2)), 1.0)


def test_hebbian_deltas_are_eta_times_share_times_advantage_times_features() -> None:
    phi = np.array([[1.0, 0.0], [0.0, 1.0]])  # two contexts
    ids = np.array([[0, 1], [1, 2]])  # their chosen cartridges
    losses = np.array([[1.0, 3.0], [2.0, 2.5]])  # own losses: advantages (1, −1), (.25, −.25)
    act = np.array([[3.0, 1.0], [1.0, 1.0]])  # shares (.75, .25), (.5, .5)
    d = hebbian_deltas(phi, ids, losses, act, lr=0.1)
    assert sorted(d) == [0, 1, 2]
    assert d[0].tolist() == pytest.approx([0.075, 0.0])  # 0.1 · 0.75 · 1 · φ₀
    assert d[1].tolist() == pytest.approx([-0.0125, 0.00625])  # mean of −.25·φ₀ and .125·φ₁
    assert d[2].tolist() == pytest.approx([0.0, -0.0125])  # 0.1 · 0.5 · −0.25 · φ₁


def test_usage_error_is_target_share_minus_first_choice_share() -> None:
    err = usage_error(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), [0, 1, 2, 3])
    assert err.tolist() == [-0.25, 0.25, 0.0, 0.0]
