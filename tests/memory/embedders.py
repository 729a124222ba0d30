"""A real bundled embedder that counts its work, for tests that must show what was embedded."""

from __future__ import annotations

import numpy as np

from holomind.embed import load_embedder


class CountingEmbedder:
    """A bundled model (e5 unless named), counting how many passages it is asked to embed."""

    def __init__(self, name: str = "e5") -> None:
        self.inner = load_embedder(name)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.passages = 0

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)
