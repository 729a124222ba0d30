"""Atomic replacement: the old file or the new one, never half, never a stray temp file."""

from __future__ import annotations

import os

import pytest

from holomind.files import atomic_write_bytes, atomic_write_text, replacing


def test_write_creates_folders_and_replaces(tmp_path):
    path = tmp_path / "a" / "b" / "f.bin"
    atomic_write_bytes(path, b"one")
    atomic_write_text(path, "twö")
    assert path.read_bytes() == "twö".encode()
    assert os.listdir(path.parent) == ["f.bin"]


def test_a_failing_block_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(path) as f:
        f.write(b"half of the new")
        raise RuntimeError("crash mid-write")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_new_files_honour_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o640
