"""Private keys on disk: private from the first byte, never overwritten, refused when exposed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.ledger.keys import KeyRing, public_hex, public_key, signature_ok


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_is_private_and_loads_back(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    key = ring.create("alice")
    assert mode(tmp_path / "keys") == 0o700
    assert mode(ring.path("alice")) == 0o600
    assert ring.path("alice").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    loaded = ring.load("alice")
    assert public_hex(loaded) == public_hex(key)
    assert signature_ok(public_key(public_hex(key)), loaded.sign(b"m").hex(), b"m")
    assert not signature_ok(public_key(public_hex(key)), loaded.sign(b"m").hex(), b"n")
    assert not signature_ok(public_key(public_hex(key)), "zz", b"m")
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["alice.key"]  # no temp files


def test_a_key_is_never_overwritten(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    ring.create("bob")
    before = ring.path("bob").read_bytes()
    with pytest.raises(InvalidInputError, match=r"bob\.key already exists"):
        ring.create("bob")
    assert ring.path("bob").read_bytes() == before


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    ring.create("carol")
    ring.path("carol").chmod(0o644)
    with pytest.raises(InvalidInputError, match="can be read by other users: chmod 600"):
        ring.load("carol")


def test_missing_and_damaged_keys_are_named(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path)
    with pytest.raises(MissingFileError, match=r"dave\.key is missing"):
        ring.load("dave")
    ring.path("dave").write_bytes(b"not a key")
    ring.path("dave").chmod(0o600)
    with pytest.raises(CorruptFileError, match="not an unencrypted Ed25519 private key"):
        ring.load("dave")
