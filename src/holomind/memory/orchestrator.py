"""Several pixel networks used as one: route a query to the networks that know most about it."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from holomind.embed import Embedder, load_embedder
from holomind.errors import InvalidInputError
from holomind.memory.network import Hit, PixelNetwork


@dataclass(frozen=True)
class Route:
    """One network's relevance to a query: the score of its best matching record."""

    network: PixelNetwork
    score: float


class NetworkOrchestrator:
    """Route queries across specialised networks and merge what the best ones remember."""

    def __init__(
        self,
        paths: list[str | os.PathLike[str]] | list[PixelNetwork],
        *,
        embedder: str | Embedder | None = "auto",
    ) -> None:
        if not paths:
            raise InvalidInputError("an orchestrator needs at least one network")
        self.networks = [
            p if isinstance(p, PixelNetwork) else PixelNetwork(p, embedder=embedder) for p in paths
        ]
        opened = [n for n, p in zip(self.networks, paths, strict=True) if n is not p]
        if embedder == "auto" and opened:
            # Routing compares scores across networks, so the ones opened here share one
            # model: the one that made most of their stored vectors (others are re-embedded
            # on demand). Each on its own would keep its own model's incomparable scale.
            votes = sum((n.stored_models() for n in opened), Counter())
            prefer = votes.most_common(1)[0][0] if votes else None
            shared = load_embedder("auto", prefer=prefer)
            for net in opened:
                net.embedder = shared

    def _routed(self, query: str, k: int, top: int) -> list[tuple[PixelNetwork, list[Hit]]]:
        """The ``top`` networks with any match, by their best record's score, with ``k`` hits."""
        found = [(net, net.search(query, k)) for net in self.networks]
        found = [(net, hits) for net, hits in found if hits]
        found.sort(key=lambda nh: -nh[1][0].score)
        return found[:top]

    def route(self, query: str, top: int = 2) -> list[Route]:
        """The ``top`` networks whose content best matches ``query``, best first.

        A network's score is the similarity of its best record; networks with
        no match at all are left out.
        """
        return [Route(net, hits[0].score) for net, hits in self._routed(query, 1, top)]

    def search(self, query: str, k: int = 5, top: int = 2) -> list[tuple[PixelNetwork, Hit]]:
        """The ``k`` best records across the routed networks, with the network each came from."""
        # One search per network serves both the routing and the results.
        found = [(net, h) for net, hits in self._routed(query, k, top) for h in hits]
        found.sort(key=lambda nh: -nh[1].score)
        seen: set[str] = set()
        out = []
        for net, hit in found:
            if hit.record.hash not in seen:
                seen.add(hit.record.hash)
                out.append((net, hit))
        return out[:k]

    def stats(self) -> list[dict[str, Any]]:
        """`PixelNetwork.stats` of each network."""
        return [n.stats() for n in self.networks]
