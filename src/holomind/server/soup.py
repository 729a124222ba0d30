"""The primordial soup as a dashboard job: rows to the workspace, the soup itself on request.

The job runs `Soup.run` (which publishes ``soup/epoch``, ``soup/higher_entropy``,
``soup/diversity`` and, with ``eval_selfrep``, ``soup/replicators``) and keeps
the soup so the page can see it: its log rows, its picture, and the programs
that have copied themselves most.
"""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import numpy as np

from holomind.server.jobs import Job


class _Stopped(Exception):
    """Raised between epochs to end a soup run early."""


class SoupJob(Job):
    """`holomind soup` as a job; params are `SoupConfig` fields plus epochs and row interval."""

    kind = "soup"

    def __init__(self, job_id: int, params: dict[str, Any], workspace: Any) -> None:
        super().__init__(job_id, params, workspace)
        self.soup: Any = None

    def run(self) -> dict[str, Any]:
        """Run epochs until ``epochs`` or a stop; returns the last row and the transition epoch."""
        import numba

        from holomind.evolution import Soup, SoupConfig

        p = dict(self.params)
        epochs, interval = p.pop("epochs"), p.pop("print_interval")
        eval_selfrep, threads = p.pop("eval_selfrep"), p.pop("threads")
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        self.soup = Soup.new(SoupConfig(**p))

        def check(_: Any) -> None:
            if self.stop_requested.is_set():
                raise _Stopped

        try:
            for _ in self.soup.run(
                epochs, interval, eval_selfrep, workspace=self.workspace, on_epoch=check
            ):
                pass
        except _Stopped:
            pass
        last = self.soup.history[-1] if self.soup.history else None
        return {
            "epochs_run": self.soup.epoch,
            "transition_epoch": self.soup.transition_epoch,
            "last_row": dataclasses.asdict(last) if last else None,
        }

    def progress(self) -> dict[str, Any]:
        """Epochs run so far and the epoch the run stops at."""
        if self.soup is None:
            return {}
        return {"epoch": self.soup.epoch, "epochs": self.params["epochs"]}

    def rows(self) -> list[dict[str, Any]]:
        """Every log row so far (epoch, entropy, diversity, replicators, ...)."""
        if self.soup is None:
            return []
        return [dataclasses.asdict(r) for r in list(self.soup.history)]

    def programs(self, rows: int | None = None) -> np.ndarray | None:
        """A copy of the first ``rows`` programs (all when None), or None before the soup exists."""
        if self.soup is None:
            return None
        return self.soup.programs[:rows].copy()

    def picture(self, rows: int) -> bytes | None:
        """The first ``rows`` programs as a PNG, one pixel row per program."""
        from holomind.evolution.render import soup_image

        programs = self.programs(rows)
        if programs is None:
            return None
        buf = io.BytesIO()
        soup_image(programs).save(buf, format="PNG")
        return buf.getvalue()

    def most_common(self, top: int) -> list[dict[str, Any]]:
        """The ``top`` most frequent programs: text, hex and how many copies."""
        from holomind.evolution.metrics import most_common, render_program

        programs = self.programs()
        if programs is None:
            return []
        return [
            {"program": render_program(p), "hex": p.hex(), "count": c}
            for p, c in most_common(programs, top)
        ]
