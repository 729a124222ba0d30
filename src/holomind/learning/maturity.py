"""Maturity and freezing on the training loop: a cartridge whose loss has settled stops learning.

*Maturity* is measured from the stability of a cartridge's own loss over a
window of its last ``WINDOW`` steps (not one step): the median of the window's
newer half against the median of its older half,
``maturity = clip(1 − 10·|newer − older| / older, 0, 1)`` — 1 when the loss no
longer moves, 0.95 when it still moves by 0.5 % per half-window. Medians, not
means: one outlying step (a batch of unusual windows) moves neither, so no
single step can make a still-learning cartridge look settled and freeze it.
`MaturityTracking` keeps the window in each cartridge's meta.json (saved with
every commit, so a resumed run continues it exactly);
`MaturityFreezing` freezes a learning cartridge once its maturity passes the
phase's threshold (`PhaseSchedule`). A frozen cartridge still routes and
predicts, but nothing writes its files again: new data for its domain goes to
a child spawned from it (`CartridgeModel.assign`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from holomind.learning.loop import Plugin

WINDOW = 100  # steps of a cartridge's own loss that maturity is measured over


def maturity(losses: list[float], window: int = WINDOW) -> float:
    """How settled a loss series is (0..1), from its last ``window`` values; 0 until it has them."""
    if window < 2 or len(losses) < window:
        return 0.0
    recent = np.asarray(losses[-window:], dtype=np.float64)
    half = window // 2
    older, newer = np.median(recent[:half]), np.median(recent[-half:])
    return float(np.clip(1.0 - 10.0 * abs(newer - older) / max(older, 1e-12), 0.0, 1.0))


class MaturityTracking(Plugin):
    """Keeps each learning cartridge's recent own losses and its maturity (see the module)."""

    def __init__(self, window: int = WINDOW) -> None:
        self.window = window

    def after_update(self, loop: Any) -> None:
        """Append this step's own loss of every unfrozen cartridge it trained."""
        if loop.state.stage != "cartridges":
            return
        lib, trainable = loop.library, loop.stage.trainable
        for cart_id, loss in loop.iteration.output.cartridge_losses.items():
            st = lib.get(cart_id).state
            if cart_id not in trainable or st.frozen:
                continue
            st.steps += 1
            st.loss_window = [*st.loss_window, float(loss)][-self.window :]
            st.maturity = maturity(st.loss_window, self.window)
            lib.mark_dirty(cart_id)


class MaturityFreezing(Plugin):
    """Freezes learning cartridges whose loss has settled, once the phase allows freezing."""

    def __init__(self, min_steps: int = 200) -> None:
        self.min_steps = min_steps

    def after_update(self, loop: Any) -> None:
        """Freeze every cartridge this step trained whose maturity passed the phase's threshold."""
        s = loop.state
        if s.stage != "cartridges" or s.freeze_threshold is None:
            return
        for cart in loop.iteration.output.cartridges:
            st = cart.state
            if st.id not in loop.stage.trainable or st.frozen:
                continue
            if st.steps >= self.min_steps and st.maturity >= s.freeze_threshold:
                loop.library.freeze(st.id)
