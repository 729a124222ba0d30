"""Recall routing: the router learns what questions about the replayed memories look like.

A recall is a short context — ``Q: <question>\\nA:`` and then the answer as it
is generated — while training windows are full ``seq_len``-byte windows of the
replay text. Their stem embeddings differ enough that a short question was
routed to other domains' cartridges, away from the memory cartridge that had
learnt the answer (measured: 0 of 20 recalled, 19 of 20 with the route forced).
So after every step this plugin also counts a few recall contexts — each
replayed record's prompt and its prefixes up to the whole answer, as greedy
generation will present them — in the memory cartridge's routing statistics,
cycling through them in a fixed order (a resumed sleep adds the same ones).
"""

from __future__ import annotations

from typing import Any

import torch

from holomind.learning import Plugin, RouterStatistics


def recall_contexts(text: str, block: int) -> list[bytes]:
    """Every recall context of the records in ``text``: prompt, prompt + answer prefixes."""
    out: list[bytes] = []
    seen: set[bytes] = set()
    for chunk in text.split("\n\n"):
        if not chunk.startswith("Q: ") or "\nA:" not in chunk:
            continue
        raw = chunk.encode()
        start = raw.index(b"\nA:") + 3
        for end in range(start, len(raw) + 1):
            context = raw[max(0, end - block) : end]
            if context not in seen:
                seen.add(context)
                out.append(context)
    return out


class SparseStatistics(RouterStatistics):
    """`RouterStatistics` on every ``every``-th step only.

    A sleep replays a few kilobytes many times; counting every window made the memory
    domain outweigh the others in the router's shared covariance, which moved their
    routing (Python's held-out loss rose 1.5 % after a 400-step sleep, with or without
    recall routing; docs/cartridges.md). One step in ``every`` still gives the memory
    cartridge a well-estimated mean.
    """

    def __init__(self, every: int) -> None:
        self.every = max(1, every)

    def after_update(self, loop: Any) -> None:
        """Count this batch's windows on the chosen steps."""
        if loop.state.step % self.every == 0:
            super().after_update(loop)


class RecallRouting(Plugin):
    """Adds ``per_step`` recall contexts to the replay cartridge's routing statistics on every
    ``every``-th step (the steps `SparseStatistics` counts)."""

    def __init__(self, contexts: list[bytes], per_step: int = 8, every: int = 1) -> None:
        self.contexts = contexts
        self.per_step = per_step
        self.every = max(1, every)

    def after_update(self, loop: Any) -> None:
        """Count this step's share of recall contexts for the cartridge that owns the replay."""
        if loop.state.stage != "cartridges" or not self.contexts or self.per_step < 1:
            return
        if loop.state.step % self.every:
            return
        lib, model = loop.library, loop.model
        cart_id = loop.corpus.documents[0].cartridge
        n = len(self.contexts)
        first = loop.state.step // self.every * self.per_step
        picked = [self.contexts[(first + i) % n] for i in range(min(self.per_step, n))]
        embeddings = torch.cat(
            [model.embed(torch.tensor([list(c)], device=model.device)) for c in picked]
        )
        lib.add_statistics(cart_id, embeddings)
        lib.refresh_router()
