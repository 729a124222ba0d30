"""Ranking helpers for the pixel network: BM25 keyword scoring and top-k selection."""

from __future__ import annotations

import math
import re
from collections import defaultdict

import numpy as np

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (any script)."""
    return _TOKEN.findall(text.casefold())


class KeywordIndex:
    """An inverted index scored with BM25: the fallback when no embedder is available."""

    k1 = 1.2
    b = 0.75

    def __init__(self) -> None:
        self._postings: dict[str, dict[int, int]] = defaultdict(dict)
        self._lengths: dict[int, int] = {}

    def add(self, doc: int, text: str) -> None:
        """Index document number ``doc``."""
        words = tokens(text)
        self._lengths[doc] = len(words)
        for w in words:
            post = self._postings[w]
            post[doc] = post.get(doc, 0) + 1

    def scores(self, query: str, n: int) -> np.ndarray:
        """BM25 score of each of the first ``n`` documents for ``query`` (0 = no match)."""
        out = np.zeros(n, dtype=np.float32)
        if not self._lengths:
            return out
        avg = sum(self._lengths.values()) / len(self._lengths)
        total = len(self._lengths)
        for w in set(tokens(query)):
            post = self._postings.get(w)
            if not post:
                continue
            idf = math.log(1 + (total - len(post) + 0.5) / (len(post) + 0.5))
            for doc, tf in post.items():
                if doc < n:
                    norm = self.k1 * (1 - self.b + self.b * self._lengths[doc] / avg)
                    out[doc] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


def top_k(scores: np.ndarray, allowed: np.ndarray, k: int) -> list[int]:
    """Indices of the ``k`` highest scores among ``allowed``, best first (ties: earlier first)."""
    idx = np.flatnonzero(allowed)
    if idx.size == 0:
        return []
    sub = scores[idx]
    if idx.size > k:
        part = np.argpartition(-sub, k - 1)[:k]
        idx, sub = idx[part], sub[part]
    order = np.lexsort((idx, -sub))
    return [int(i) for i in idx[order]]
