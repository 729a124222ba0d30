"""Our numpy MiniLM against sentence-transformers' own vectors, and its edges."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from holomind.embed import MiniLMEmbedder, load_embedder
from holomind.embed.minilm import MAX_TOKENS, load_model

REFERENCE = Path(__file__).parents[1] / "data" / "minilm_reference.json"


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    emb = load_embedder("minilm")
    assert isinstance(emb, MiniLMEmbedder)
    return emb


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))


def test_reference_covers_unicode_empty_and_truncated_text(reference: dict) -> None:
    texts, tokens = reference["texts"], reference["tokens_untruncated"]
    assert len(texts) == len(reference["vectors"]) == len(tokens) == 10
    assert "" in texts and any(not t.isascii() for t in texts)
    assert max(tokens) > MAX_TOKENS  # one text is cut at 256 word pieces


def test_queries_match_sentence_transformers(minilm: MiniLMEmbedder, reference: dict) -> None:
    ref = np.asarray(reference["vectors"], dtype=np.float32)
    ours = np.stack([minilm.embed_query(t) for t in reference["texts"]])
    cosines = (ours * ref).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines


def test_padded_passage_batches_match_sentence_transformers(
    minilm: MiniLMEmbedder, reference: dict
) -> None:
    # Mixed lengths in one call: short texts share a padded batch, the long one runs alone.
    ref = np.asarray(reference["vectors"], dtype=np.float32)
    ours = minilm.embed_passages(reference["texts"])
    assert ours.shape == (10, 384) and ours.dtype == np.float32
    cosines = (ours * ref).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert minilm.embed_passages([]).shape == (0, 384)


def test_text_past_256_word_pieces_is_ignored(minilm: MiniLMEmbedder, reference: dict) -> None:
    long = reference["texts"][-1]
    a = minilm.embed_passages([long])[0]
    b = minilm.embed_passages([long + " and a different ending about volcanoes"])[0]
    assert np.array_equal(a, b)


def test_related_text_scores_higher(minilm: MiniLMEmbedder) -> None:
    q = minilm.embed_query("how much protein should I eat")
    p = minilm.embed_passages(["Adults need about 0.8 g of protein per kg.", "Paris is in France."])
    assert float(p[0] @ q) > float(p[1] @ q) + 0.3


def test_queries_are_cached_and_safe_across_threads(minilm: MiniLMEmbedder) -> None:
    texts = [f"thread question {i}" for i in range(8)]
    expected = [minilm.embed_passages([t])[0] for t in texts]
    got: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        got[i] = minilm.embed_query(texts[i % 8])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, vec in got.items():
        assert np.allclose(vec, expected[i % 8], atol=1e-5)
        assert vec is minilm.embed_query(texts[i % 8])  # one cached object per text
        assert not vec.flags.writeable


def test_weights_are_loaded_once_per_process(minilm: MiniLMEmbedder) -> None:
    assert MiniLMEmbedder()._model is minilm._model


def test_damaged_model_files_raise_a_clear_error(minilm: MiniLMEmbedder, tmp_path: Path) -> None:
    source = minilm._model.model_dir
    model = tmp_path / "model"
    shutil.copytree(source, model, ignore=shutil.ignore_patterns("model.safetensors"))
    (model / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00not json")
    with pytest.raises(RuntimeError, match="damaged"):
        load_model(model)
    (model / "model.safetensors").unlink()
    with pytest.raises(OSError):
        load_model(model)
    shutil.copy(source / "model.safetensors", model / "model.safetensors")
    (model / "config.json").write_text('{"model_type": "t5"}')
    with pytest.raises(RuntimeError, match="GELU BERT"):
        load_model(model)
