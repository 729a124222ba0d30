"""The commit journal: staged files appear together, or not at all, whatever the crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from holomind.cartridges.journal import MANIFEST, STAGING, Journal
from holomind.errors import InvalidInputError


def folder_with(root: Path, files: dict[str, bytes]) -> Path:
    for rel, blob in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(blob)
    return root


def test_commit_makes_every_staged_file_visible_at_once(tmp_path: Path) -> None:
    root = folder_with(tmp_path / "lib", {"a.txt": b"old a", "sub/b.txt": b"old b"})
    journal = Journal(root)
    journal.lock()
    journal.write("a.txt", b"new a")
    journal.write("sub/b.txt", b"new b")
    journal.write("sub/deeper/c.txt", b"new c")
    assert (root / "a.txt").read_bytes() == b"old a"  # nothing visible before the commit
    assert not (root / "sub/deeper/c.txt").exists()
    journal.commit()
    assert (root / "a.txt").read_bytes() == b"new a"
    assert (root / "sub/b.txt").read_bytes() == b"new b"
    assert (root / "sub/deeper/c.txt").read_bytes() == b"new c"
    assert not (root / STAGING).exists()
    journal.unlock()


def test_a_crash_before_the_manifest_leaves_the_old_files(tmp_path: Path) -> None:
    root = folder_with(tmp_path / "lib", {"a.txt": b"old a"})
    dying = Journal(root)
    dying.lock()
    dying.write("a.txt", b"half-way")
    dying.write("b.txt", b"never committed")
    dying.unlock()  # the process dies here: no manifest was written
    survivor = Journal(root)
    survivor.lock()
    assert (root / "a.txt").read_bytes() == b"old a"
    assert not (root / "b.txt").exists() and not (root / STAGING).exists()
    survivor.unlock()


def test_a_crash_during_the_moves_is_finished_by_the_next_opener(tmp_path: Path) -> None:
    root = folder_with(tmp_path / "lib", {"a.txt": b"old a", "b.txt": b"old b"})
    staging = folder_with(root / STAGING, {"b.txt": b"new b"})
    # a.txt was already moved into place when the process died; b.txt was not
    (root / "a.txt").write_bytes(b"new a")
    (staging / MANIFEST).write_text(json.dumps({"paths": ["a.txt", "b.txt"]}))
    Journal(root).settle()  # a reader finishes the commit when no writer holds the lock
    assert (root / "a.txt").read_bytes() == b"new a"
    assert (root / "b.txt").read_bytes() == b"new b"
    assert not staging.exists()


def test_one_writer_at_a_time_and_readers_keep_out_of_its_staging(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    writer = Journal(root)
    writer.lock()
    writer.write("a.txt", b"staged")
    with pytest.raises(InvalidInputError, match="is being written by another process"):
        Journal(root).lock()
    Journal(root).settle()  # a reader while the writer works: its staged file stays
    assert (root / STAGING / "a.txt").read_bytes() == b"staged"
    writer.commit()
    assert (root / "a.txt").read_bytes() == b"staged"
    writer.unlock()
    with pytest.raises(RuntimeError, match="needs the folder's lock"):
        writer.write("a.txt", b"after unlock")
