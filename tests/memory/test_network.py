"""PixelNetwork through its public API: append, reopen, search, supersede, share."""

from __future__ import annotations

from pathlib import Path

import pytest

from holomind.errors import InvalidInputError, NotSerializableError
from holomind.memory import PixelNetwork


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


def test_keyword_search_and_context_budget(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "n.png", embedder="none")
    net.append("How much protein per day?", "About 0.8 g per kg of body weight.")
    net.append("What is pxOS?", "A GPU-native OS where pixels are primitives.")
    net.append("Favourite colour?", "Blue.")
    hits = net.search("protein intake per day", k=2)
    assert [h.record.id for h in hits] == [1]
    assert hits[0].via == "keyword"
    ctx = net.context("protein", budget_chars=1000, recent=1)
    assert ctx == (
        "Q: How much protein per day?\nA: About 0.8 g per kg of body weight.\n\n"
        "Q: Favourite colour?\nA: Blue."
    )
    assert len(net.context("protein", budget_chars=50)) <= 50


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
