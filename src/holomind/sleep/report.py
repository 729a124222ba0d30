"""The figures a sleep reports at its end, each computed from the run (seed 004's final report).

- **Constant memory**: the process's resident memory sampled after every step;
  its coefficient of variation (standard deviation / mean) and growth from the
  first to the last sample. A flat RSS means replay does not accumulate state.
- **Loss improvement**: the mean training loss of the first and the last tenth
  of the steps this process ran, and the relative improvement between them;
  with the held-out loss of the replay text before and after.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from holomind.learning.loop import Plugin
from holomind.learning.plugins import rss_mb


class RunReport(Plugin):
    """Samples RSS and loss after every step of this process; `figures` sums them up."""

    def __init__(self) -> None:
        self.rss: list[float] = []
        self.losses: list[float] = []
        self.val_before: dict[str, float] = {}
        self.val_after: dict[str, float] = {}

    def after_training_iteration(self, loop: Any) -> None:
        """One sample per step."""
        self.rss.append(rss_mb())
        self.losses.append(loop.state.loss)

    def after_training(self, loop: Any) -> None:
        """Keep the held-out losses of the run."""
        self.val_before = dict(loop.state.val_before)
        self.val_after = dict(loop.state.val_after)

    def figures(self) -> dict[str, Any]:
        """JSON-ready figures (NaN where this process ran no step)."""
        rss = np.array(self.rss)
        loss = np.array([x for x in self.losses if math.isfinite(x)])
        tenth = max(1, len(loss) // 10)
        first = float(loss[:tenth].mean()) if len(loss) else math.nan
        last = float(loss[-tenth:].mean()) if len(loss) else math.nan
        return {
            "steps_run": len(self.rss),
            "rss_mean_mb": float(rss.mean()) if len(rss) else math.nan,
            "rss_cv": float(rss.std() / rss.mean()) if len(rss) else math.nan,
            "rss_growth": float(rss[-1] / rss[0] - 1) if len(rss) else math.nan,
            "loss_first": first,
            "loss_last": last,
            "loss_improvement": (first - last) / first if len(loss) and first else math.nan,
            "val_improvement": {
                name: (before - self.val_after[name]) / before
                for name, before in self.val_before.items()
                if name in self.val_after and before
            },
        }
