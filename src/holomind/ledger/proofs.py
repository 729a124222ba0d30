"""Signed tree heads and the inclusion and consistency proofs checked against them.

A signed tree head (RFC 6962 §3.5, in JSON) says "the first ``size`` entries of ledger
``ledger`` hash to ``root``", signed by the ledger's key. A proof plus a head is
self-contained: anyone holding the ledger's public key can check it without the log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from holomind.errors import CorruptFileError
from holomind.ledger.entry import HEAD_CONTEXT, canonical
from holomind.ledger.keys import public_key, signature_ok
from holomind.ledger.merkle import root_from_inclusion, verify_consistency

_HEX = re.compile(r"[0-9a-f]*")


@dataclass(frozen=True)
class TreeHead:
    """A signed statement of a ledger's size and Merkle root."""

    ledger: str  # the ledger's id (from its genesis entry)
    size: int  # entries covered
    root: str  # hex RFC 6962 root over entries 1..size
    time: str  # ISO 8601 UTC, when it was signed
    sig: str  # hex Ed25519 signature by the ledger key

    @classmethod
    def sign(
        cls, ledger: str, size: int, root: bytes, time: str, key: Ed25519PrivateKey
    ) -> TreeHead:
        """A head for ``size`` entries with ``root``, signed by the ledger's ``key``."""
        unsigned = {"ledger": ledger, "size": size, "root": root.hex(), "time": time}
        sig = key.sign(HEAD_CONTEXT + canonical(unsigned)).hex()
        return cls(**unsigned, sig=sig)

    def signed_by(self, ledger_key: str) -> bool:
        """Whether the ledger key (hex) signed this head."""
        unsigned = {"ledger": self.ledger, "size": self.size, "root": self.root, "time": self.time}
        return signature_ok(public_key(ledger_key), self.sig, HEAD_CONTEXT + canonical(unsigned))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "ledger": self.ledger,
            "size": self.size,
            "root": self.root,
            "time": self.time,
            "sig": self.sig,
        }

    def to_bytes(self) -> bytes:
        """The head as stored: canonical JSON and a newline."""
        return canonical(self.to_dict()) + b"\n"

    @classmethod
    def from_dict(cls, data: Any) -> TreeHead:
        """Read a head from its JSON fields; `ValueError` if any is missing or malformed."""
        if not isinstance(data, dict) or set(data) != {"ledger", "size", "root", "time", "sig"}:
            raise ValueError("a tree head has exactly ledger, size, root, time and sig")
        ok = (
            _hex(data["ledger"], 32)
            and type(data["size"]) is int
            and data["size"] >= 0
            and _hex(data["root"], 64)
            and isinstance(data["time"], str)
            and _hex(data["sig"], 128)
        )
        if not ok:
            raise ValueError("a tree head field is malformed")
        return cls(**data)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> TreeHead:
        """Read a stored head; `CorruptFileError` naming ``where`` unless exactly canonical."""
        try:
            head = cls.from_dict(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CorruptFileError(f"{where} is not a signed tree head ({exc})") from None
        if head.to_bytes() != data:
            raise CorruptFileError(f"{where} is not in canonical form (edited by hand?)")
        return head


@dataclass(frozen=True)
class InclusionProof:
    """Entry ``seq`` (leaf hash ``leaf``) is in the tree that ``head`` signs."""

    seq: int
    leaf: str  # hex RFC 6962 leaf hash of the entry's stored line
    path: list[str]  # hex audit path, leaf's sibling first
    head: TreeHead

    def verify(self, ledger_key: str) -> bool:
        """Whether the head is signed by ``ledger_key`` (hex) and the path leads to its root."""
        root = root_from_inclusion(
            _bytes(self.leaf), self.seq - 1, self.head.size, [_bytes(p) for p in self.path]
        )
        return root is not None and root.hex() == self.head.root and self.head.signed_by(ledger_key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``leaf_index`` is the RFC 6962 0-based index, seq - 1)."""
        return {
            "type": "inclusion",
            "seq": self.seq,
            "leaf_index": self.seq - 1,
            "leaf": self.leaf,
            "path": list(self.path),
            "head": self.head.to_dict(),
        }


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``old_size`` entries with ``old_root`` is a prefix of the tree ``head`` signs."""

    old_size: int
    old_root: str  # hex
    path: list[str]  # hex RFC 9162 consistency path
    head: TreeHead

    def verify(self, ledger_key: str, old_head: TreeHead | None = None) -> bool:
        """Whether the path joins ``old_root`` to the signed head; with ``old_head``, to it too.

        Pass the head you saved earlier as ``old_head``: then the proof shows the log
        you saw then is still the start of the log now.
        """
        if old_head is not None and (
            old_head.size != self.old_size
            or old_head.root != self.old_root
            or old_head.ledger != self.head.ledger
            or not old_head.signed_by(ledger_key)
        ):
            return False
        return self.head.signed_by(ledger_key) and verify_consistency(
            self.old_size,
            self.head.size,
            _bytes(self.old_root),
            _bytes(self.head.root),
            [_bytes(p) for p in self.path],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "type": "consistency",
            "old_size": self.old_size,
            "old_root": self.old_root,
            "path": list(self.path),
            "head": self.head.to_dict(),
        }


def proof_from_dict(data: Any) -> InclusionProof | ConsistencyProof:
    """Read a proof printed by ``to_dict``; `ValueError` if it is malformed."""
    if not isinstance(data, dict):
        raise ValueError("a proof is a JSON object")
    try:
        head = TreeHead.from_dict(data["head"])
        path = data["path"]
        if not isinstance(path, list) or not all(_hex(p, 64) for p in path):
            raise ValueError("a proof's path is a list of 64-digit hex hashes")
        if data["type"] == "inclusion" and type(data["seq"]) is int and _hex(data["leaf"], 64):
            return InclusionProof(data["seq"], data["leaf"], path, head)
        if (
            data["type"] == "consistency"
            and type(data["old_size"]) is int
            and _hex(data["old_root"], 64)
        ):
            return ConsistencyProof(data["old_size"], data["old_root"], path, head)
    except (KeyError, TypeError):
        pass
    raise ValueError("not an inclusion or consistency proof from `holomind ledger prove`")


def _hex(value: Any, digits: int) -> bool:
    return isinstance(value, str) and len(value) == digits and _HEX.fullmatch(value) is not None


def _bytes(hex_hash: str) -> bytes:
    return bytes.fromhex(hex_hash)
