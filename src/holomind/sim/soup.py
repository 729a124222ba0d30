"""The primordial soup as a simulation component: epochs in, entropy and diversity out.

A small BFF soup (`holomind.evolution.Soup`) advanced a few epochs per step;
each step measures a log row and publishes it (``soup/*`` and the seed's
``avg_entropy`` and ``diversity_index``). Its state can be saved beside the
activity log and resumed with it.
"""

from __future__ import annotations

from pathlib import Path

from holomind.evolution import LogRow, Soup, SoupConfig
from holomind.workspace import GlobalWorkspace


class SoupNode:
    """A soup that publishes a row to the workspace every `row_epochs` epochs.

    Args:
        workspace: where rows are published.
        programs: soup size (even); small by default so it shares the CPU with the network.
        seed: the soup's random seed.
        row_epochs: epochs per step (one published row per step).
        resume_from: a soup checkpoint to continue from instead of a fresh soup.
    """

    def __init__(
        self,
        workspace: GlobalWorkspace,
        *,
        programs: int = 4096,
        seed: int = 0,
        row_epochs: int = 16,
        resume_from: Path | None = None,
    ) -> None:
        self.workspace = workspace
        self.row_epochs = max(1, row_epochs)
        if resume_from is not None and resume_from.is_file():
            self.soup = Soup.load(resume_from)
        else:
            self.soup = Soup.new(SoupConfig(seed=seed, num_programs=programs))
        self.last: LogRow | None = None

    def step(self) -> LogRow:
        """Run `row_epochs` epochs, measure a row and publish it."""
        for _ in range(self.row_epochs):
            self.soup.step()
        row = self.soup.measure_row()
        self.soup.publish(self.workspace, row)
        self.last = row
        return row

    def save(self, path: Path) -> None:
        """Write the soup's checkpoint (atomically) to `path`."""
        self.soup.save(path)
