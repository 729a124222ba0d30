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

from holomind.learning import Plugin


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


class RecallRouting(Plugin):
    """Adds ``per_step`` recall contexts per step to the replay cartridge's routing statistics."""

    def __init__(self, contexts: list[bytes], per_step: int = 8) -> None:
        self.contexts = contexts
        self.per_step = per_step

    def after_update(self, loop: Any) -> None:
        """Count this step's share of recall contexts for the cartridge that owns the replay."""
        if loop.state.stage != "cartridges" or not self.contexts or self.per_step < 1:
            return
        lib, model = loop.library, loop.model
        cart_id = loop.corpus.documents[0].cartridge
        n = len(self.contexts)
        first = (loop.state.step - 1) * self.per_step
        picked = [self.contexts[(first + i) % n] for i in range(min(self.per_step, n))]
        embeddings = torch.cat(
            [model.embed(torch.tensor([list(c)], device=model.device)) for c in picked]
        )
        lib.add_statistics(cart_id, embeddings)
        lib.refresh_router()
