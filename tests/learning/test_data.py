"""Corpora: a folder of files or texts in memory, split the same way into training and held-out."""

from __future__ import annotations

from pathlib import Path

import pytest

from holomind.errors import InvalidInputError
from holomind.learning import Corpus


def test_texts_in_memory_split_like_files(tmp_path: Path) -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(3000))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "one.txt").write_text(text)
    from_file = Corpus.from_folder(tmp_path, 16, domain="memory")
    in_memory = Corpus.from_texts([("one.txt", text), ("short", "too short")], 16, "memory")
    assert len(in_memory.documents) == 1  # the short text is skipped
    a, b = from_file.documents[0], in_memory.documents[0]
    assert (a.domain, b.domain) == ("memory", "memory")
    assert (a.train, a.val) == (b.train, b.val)
    assert len(b.train) + len(b.val) == 3000
    assert in_memory.fingerprint() == from_file.fingerprint()
    with pytest.raises(InvalidInputError, match="none of the texts is long enough"):
        Corpus.from_texts([("a", "tiny")], 16, "memory")
