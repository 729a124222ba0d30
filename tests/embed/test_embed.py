"""The bundled embedder: real e5 vectors, offline, and the keyword fallback switch."""

from __future__ import annotations

import numpy as np
import pytest

from holomind.embed import E5Embedder, Embedder, load_embedder
from holomind.errors import ConfigError


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    emb = load_embedder("e5")
    assert isinstance(emb, E5Embedder)
    return emb


def test_vectors_are_unit_length_and_sized(e5: E5Embedder) -> None:
    q = e5.embed_query("how much protein per day")
    p = e5.embed_passages(["Adults need about 0.8 g of protein per kg.", "Paris is in France."])
    assert q.shape == (384,) and p.shape == (2, 384)
    assert q.dtype == np.float32 and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-3)
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-3
    assert isinstance(e5, Embedder)
    assert e5.embed_passages([]).shape == (0, 384)


def test_related_text_scores_higher(e5: E5Embedder) -> None:
    q = e5.embed_query("how much protein should I eat")
    p = e5.embed_passages(["Adults need about 0.8 g of protein per kg.", "Paris is in France."])
    scores = p @ q
    assert scores[0] > scores[1]


def test_repeated_query_is_served_from_memory(e5: E5Embedder) -> None:
    a = e5.embed_query("repeat me")
    assert e5.embed_query("repeat me") is a
    assert not a.flags.writeable


def test_choices() -> None:
    assert load_embedder("none") is None
    assert load_embedder("auto") is load_embedder("e5")
    with pytest.raises(ConfigError, match="unknown embedder"):
        load_embedder("bert")
