"""PixelNetwork through its public API: append, reopen, search, supersede, share."""

from __future__ import annotations

from pathlib import Path

import pytest

from holomind.errors import InvalidInputError, NotSerializableError
from holomind.memory import PixelNetwork
from holomind.memory.vectors import MAX_EMBED_ON_SEARCH
from tests.memory.embedders import CountingEmbedder


def test_append_reopen_reads_back_exactly(tmp_path: Path, pngcheck) -> None:
    path = tmp_path / "net.png"
    net = PixelNetwork(path, embedder="none")
    assert net.records() == []
    assert not path.exists()
    a = net.append("What is pxOS?", "A GPU-native OS.", model="smollm2", topic="os")
    b = net.append("Grüße? 日本", "ja\nnein\ttab")
    assert (a.id, b.id) == (1, 2)
    assert a.meta == {"topic": "os"} and a.model == "smollm2"
    again = PixelNetwork(path, embedder="none")
    assert again.records() == [a, b]
    assert again.get(2) == b and again.get(3) is None
    assert again.verify().ok
    pngcheck(path)


def test_supersede_keeps_history(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none")
    old = net.append("capital of France?", "Lyon")
    new = net.supersede(old.id, "Paris")
    assert new.supersedes == old.id and new.question == old.question
    reopened = PixelNetwork(tmp_path / "n.png", embedder="none")
    assert reopened.get(old.id).superseded_by == new.id
    assert [r.answer for r in reopened.records()] == ["Lyon", "Paris"]
    assert [r.answer for r in reopened.records(include_superseded=False)] == ["Paris"]
    assert [h.record.answer for h in reopened.search("capital France")] == ["Paris"]
    with pytest.raises(InvalidInputError, match="already replaced"):
        reopened.supersede(old.id, "Marseille")


def test_keyword_search_recent_and_records_after(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none")
    net.append("How much protein per day?", "About 0.8 g per kg of body weight.")
    net.append("What is pxOS?", "A GPU-native OS where pixels are primitives.")
    net.append("Favourite colour?", "Blue.")
    net.supersede(2, "A GPU-native operating system.")
    hits = net.search("protein intake per day", k=2)
    assert [h.record.id for h in hits] == [1]
    assert hits[0].via == "keyword"
    assert [r.id for r in net.recent(2)] == [3, 4]
    assert [r.id for r in net.records(after=1, limit=2)] == [2, 3]
    assert [r.id for r in net.records(after=1, include_superseded=False)] == [3, 4]
    assert [r.id for r in net.records(after=9)] == []
    assert len(net) == 4


def test_bad_metadata_is_refused(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none")
    with pytest.raises(NotSerializableError):
        net.append("q", "a", when=object())
    assert not (tmp_path / "n.png").exists()


def test_unwritable_place_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    net = PixelNetwork(blocker / "sub" / "n.png", embedder="none")
    with pytest.raises(InvalidInputError, match="cannot create"):
        net.append("q", "a")
    with pytest.raises(InvalidInputError, match="is a directory"):
        PixelNetwork(tmp_path)


def test_embeddings_are_stored_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "n.png"
    writer = CountingEmbedder()
    net = PixelNetwork(path, embedder=writer)
    net.append("How much protein per day?", "About 0.8 g per kg of body weight.")
    net.append("What is the capital of France?", "Paris.")
    net.append("How do plants make food?", "By photosynthesis, using sunlight.")
    assert writer.passages == 3
    reader = CountingEmbedder()
    hits = PixelNetwork(path, embedder=reader).search("which city is France's capital", k=1)
    assert (hits[0].record.answer, hits[0].via) == ("Paris.", "semantic")
    assert reader.passages == 0  # opening and searching re-embedded nothing


def test_records_without_vectors_are_embedded_on_demand_or_searched_by_keyword(
    tmp_path: Path,
) -> None:
    small = PixelNetwork(tmp_path / "small.png", embedder="none")
    small.append("What is the capital of France?", "Paris.")
    small.append("How do plants make food?", "By photosynthesis.")
    counting = CountingEmbedder()
    hits = PixelNetwork(small.path, embedder=counting).search("French capital city", k=1)
    assert (hits[0].record.answer, hits[0].via, counting.passages) == ("Paris.", "semantic", 2)

    big = PixelNetwork(tmp_path / "big.png", embedder="none")
    big.append_many([(f"question {i}", f"answer {i}") for i in range(MAX_EMBED_ON_SEARCH + 1)])
    counting = CountingEmbedder()
    with pytest.warns(RuntimeWarning, match="searching by keywords"):
        hits = PixelNetwork(big.path, embedder=counting).search("answer 7", k=1)
    assert (hits[0].record.answer, hits[0].via, counting.passages) == ("answer 7", "keyword", 0)
