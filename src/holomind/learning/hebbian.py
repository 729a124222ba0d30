"""The router's local learning on the training loop: Hebbian routes and homeostasis (seed 004).

`HebbianRouting` runs after each cartridge step: the routes of this experience's
unfrozen cartridges learn from the step (``Δw_e = η · corr(φ(x), ΔL_e)``, see
`cartridges.hebbian`) and their strengths move toward their usage targets. Left
out of the plugin list, the routes stay neutral and the router scores by its
index alone; nothing else in the run changes (the bench `bench/hebbian.py`
compares the two in one run).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from holomind.learning.loop import Plugin


class HebbianRouting(Plugin):
    """Routes learn where their cartridge beat its rivals; strengths follow usage targets."""

    def __init__(self, *, routes: bool = True, homeostasis: bool = True) -> None:
        """Either rule can be switched off alone (the bench ablates each)."""
        self.routes = routes
        self.homeostasis = homeostasis

    def after_update(self, loop: Any) -> None:
        """Update the Hebbian weights and strengths of this step's learning cartridges."""
        if loop.state.stage != "cartridges":
            return
        out, lib = loop.iteration.output, loop.library
        learners = {
            cart.state.id
            for cart in out.cartridges
            if cart.state.id in loop.stage.trainable and not cart.state.frozen
        }
        router = lib.router
        if self.routes:
            router.hebbian_update(out.embeddings, out.route, out.stream_losses, learners)
        if not self.homeostasis:
            return
        # a batch's owners learn (a document's cartridge is never frozen: new data for a
        # frozen one goes to its child), so a starved route gains strength too
        owners = np.array([d.cartridge for d in loop.iteration.batch[2]])
        regulated = sorted(learners | set(owners.tolist()))
        router.homeostasis_update(out.route.ids[:, 0].numpy(), owners, regulated)
