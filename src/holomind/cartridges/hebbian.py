"""The router's local rules (seed 004): input-dependent Hebbian routes, homeostasis, winners.

Three pure functions on numpy arrays; `router.Router` applies them to its state.

- **Hebbian routes** — each cartridge ``e`` has a weight vector ``w_e`` over the
  input features ``φ(x)`` (the context's centred, unit-length stem embedding) and
  adds ``φ(x)·w_e`` to its route score. After a step,
  ``Δw_e = η · corr(φ(x), ΔL_e)``: the mean over the contexts ``e`` was active on
  of ``a_e(x) · ΔL_e(x) · φ(x)``, where ``ΔL_e(x)`` is how much lower ``e``'s own
  loss on ``x`` was than the mean of the active set's, and ``a_e(x)`` its share of
  the winner-take-most activation (post-synaptic activity: the winner learns its
  route the most). Inputs on which a cartridge predicts better than its rivals pull
  its route toward them; inputs on which it does worse push it away. Each update
  first decays ``w_e`` a little toward 0 and keeps ``‖w_e‖`` bounded.
- **Homeostasis** — each cartridge's *strength* ``s_e`` (its log adds to the route
  score) follows a usage target: ``log s_e += η_h · (target_e − usage_e)``, where
  ``usage_e`` is the share of the step's contexts whose first choice was ``e`` and
  ``target_e`` the share of them ``e``'s documents supplied. Over-used routes lose
  excitability, starved ones gain it; ``s_e`` is clipped, so none can monopolise.
- **Winner-take-most** — ``a_e = ReLU(u_e − β Σ_{e'≠e} a_{e'})`` over the chosen
  cartridges, where ``u_e`` is the route score above the threshold ``θ`` (the first
  runner-up's score): solved exactly, not iterated.
"""

from __future__ import annotations

import numpy as np


def winner_take_most(drive: np.ndarray, inhibition: float) -> np.ndarray:
    """Activations (B, k) of units with input ``drive`` (B, k) under uniform lateral inhibition.

    Solves ``a_e = max(0, u_e − β Σ_{e'≠e} a_{e'})`` exactly: on the set S of units
    left active, ``a_e = (u_e − β A) / (1 − β)`` with ``A = Σ_S u / (1 − β + β|S|)``;
    S is the largest prefix of the units sorted by drive whose activations are all
    positive. Needs ``0 ≤ β < 1``; the strongest positive unit always stays active.
    """
    if not 0.0 <= inhibition < 1.0:
        raise ValueError(f"inhibition must be in [0, 1), got {inhibition}")
    u = np.maximum(np.asarray(drive, dtype=np.float64), 0.0)  # (B, k)
    order = np.argsort(-u, axis=1, kind="stable")
    us = np.take_along_axis(u, order, axis=1)  # (B, k) strongest first
    size = np.arange(1, u.shape[1] + 1)  # |S| for each prefix
    total = np.cumsum(us, axis=1) / (1.0 - inhibition + inhibition * size)  # A per prefix
    # the prefix of size j is consistent when its weakest member stays positive
    consistent = us - inhibition * total > 0  # (B, k)
    j = np.where(consistent.any(axis=1), u.shape[1] - np.argmax(consistent[:, ::-1], axis=1), 0)
    a_total = np.where(j > 0, total[np.arange(len(u)), np.maximum(j, 1) - 1], 0.0)  # (B,)
    act = (us - inhibition * a_total[:, None]) / (1.0 - inhibition)
    act = np.where(np.arange(u.shape[1])[None, :] < j[:, None], act, 0.0)
    out = np.empty_like(act)
    np.put_along_axis(out, order, act, axis=1)
    return out


def hebbian_deltas(
    features: np.ndarray,
    ids: np.ndarray,
    losses: np.ndarray,
    activations: np.ndarray,
    lr: float,
) -> dict[int, np.ndarray]:
    """``Δw_e = η · mean over e's streams of share · ΔL · φ`` for each cartridge in ``ids``.

    ``features`` (B, C) are the contexts' φ(x); ``ids``, ``losses`` (own loss) and
    ``activations`` are (B, k): the chosen cartridges per context. ``ΔL`` is the
    active set's mean loss minus the cartridge's own (positive: it did better); the
    share is its activation over the context's total (0 when none is active).
    """
    phi = np.asarray(features, dtype=np.float64)
    loss = np.asarray(losses, dtype=np.float64)
    act = np.asarray(activations, dtype=np.float64)
    advantage = loss.mean(axis=1, keepdims=True) - loss  # (B, k)
    total = act.sum(axis=1, keepdims=True)
    share = np.divide(act, total, out=np.zeros_like(act), where=total > 0)  # (B, k)
    signal = share * advantage  # (B, k)
    out = {}
    for e in np.unique(ids):
        rows, cols = np.nonzero(ids == e)
        out[int(e)] = lr * (signal[rows, cols, None] * phi[rows]).mean(axis=0)  # (C,)
    return out


def usage_error(first: np.ndarray, owners: np.ndarray, ids: list[int]) -> np.ndarray:
    """``target_e − usage_e`` for each of ``ids``: share of contexts owned minus share won.

    ``first`` (B,) is each context's first-choice cartridge, ``owners`` (B,) the
    cartridge whose document the context came from.
    """
    first, owners = np.asarray(first), np.asarray(owners)
    return np.array([(owners == e).mean() - (first == e).mean() for e in ids])
