"""The private Ed25519 keys of a ledger and its accounts, kept in files only their owner can read.

Each key is a PKCS#8 PEM file ``<ledger>/keys/<name>.key`` (the ledger's own key is
``ledger.key``), mode 0600 in a 0700 folder. A key file is written once, atomically,
and never overwritten; a key file that other users can read is refused, as ssh does.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.files import replacing


def public_hex(key: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key of ``key``, as hex (how entries name keys)."""
    return key.public_key().public_bytes_raw().hex()


def public_key(hex_key: str) -> Ed25519PublicKey:
    """The public key named by 64 hex digits."""
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key))


def signature_ok(key: Ed25519PublicKey, sig_hex: str, message: bytes) -> bool:
    """Whether ``sig_hex`` is ``key``'s Ed25519 signature of ``message``."""
    try:
        key.verify(bytes.fromhex(sig_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


class KeyRing:
    """The folder of private keys beside a ledger."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        """Where ``name``'s private key lives (whether or not it exists)."""
        return self.folder / f"{name}.key"

    def exists(self, name: str) -> bool:
        """Whether a key file for ``name`` is present."""
        return self.path(name).exists()

    def create(self, name: str) -> Ed25519PrivateKey:
        """Make a new key for ``name`` and store it (0600); refuses to replace an existing one."""
        path = self.path(name)
        if path.exists():
            raise InvalidInputError(
                f"{path} already exists", hint="a key is never overwritten; move it away first"
            )
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with replacing(path, mode=0o600) as f:
            f.write(pem)
        return key

    def load(self, name: str) -> Ed25519PrivateKey:
        """``name``'s private key; refused if missing, readable by others, or not an Ed25519 key."""
        path = self.path(name)
        try:
            with open(path, "rb") as f:
                mode = os.fstat(f.fileno()).st_mode
                data = f.read()
        except FileNotFoundError:
            raise MissingFileError(
                f"the private key {path} is missing",
                hint="restore it from your backup of the keys folder; without it "
                f"{name!r} cannot sign (see docs/ledger.md)",
            ) from None
        if stat.S_IMODE(mode) & 0o077:
            raise InvalidInputError(
                f"the private key {path} can be read by other users", hint=f"chmod 600 {path}"
            )
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, Ed25519PrivateKey):
            raise CorruptFileError(f"{path} is not an unencrypted Ed25519 private key")
        return key
