"""Ledger entries on disk: one canonical JSON object per line, signed and hash-chained.

A stored line is the entry's canonical JSON (sorted keys, no spaces, UTF-8) with its
``sig``; the signature is over a context string plus the canonical JSON of every other
field, so it covers the entry's position (``seq``), its link to the entry before
(``prev``, that entry's RFC 6962 leaf hash) and its time. Decoding accepts only the
exact bytes encoding would produce, so any edit to a line shows.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from holomind.errors import InvalidInputError, NotSerializableError
from holomind.ledger.merkle import leaf_hash

UNIT = "HMC"  # HoloMind credits; amounts are whole numbers of them
FORMAT_VERSION = 1
LEDGER = "ledger"  # who signs genesis, accounts and mints: the ledger's own key
ZERO_HASH = "0" * 64  # the ``prev`` of the first entry
MAX_AMOUNT = 2**63 - 1  # fits a signed 64-bit integer everywhere an export may go
MAX_MEMO = 1000  # characters
MAX_EVENT = 16_384  # bytes of canonical JSON
ENTRY_CONTEXT = b"holomind-ledger-entry-v1\n"
HEAD_CONTEXT = b"holomind-ledger-head-v1\n"
KINDS = ("genesis", "account", "mint", "transfer")

NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_HEX32 = re.compile(r"[0-9a-f]{32}")

# Each kind's own fields beside seq, prev, time, kind and sig; "event" is optional on mints.
_FIELDS = {
    "genesis": {"ledger", "key", "unit", "version"},
    "account": {"name", "key"},
    "mint": {"to", "amount", "memo"},
    "transfer": {"from", "to", "amount", "memo"},
}
_COMMON = {"seq", "prev", "time", "kind", "sig"}
# Sorted keys put "sig" right before "time", and nothing nested after either.
_SIG_KEY = b',"sig":"'
_TIME_KEY = b',"time":"'


class EntryFormatError(ValueError):
    """A stored line is not a well-formed entry; the message says how (after ``entry #N: ``)."""


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical(obj: Any) -> bytes:
    """The one byte encoding of a JSON value: sorted keys, no spaces, UTF-8, no NaN."""
    try:
        return _ENCODER.encode(obj).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError("text with unpaired surrogates cannot go in the ledger") from None
    except (TypeError, ValueError) as exc:
        raise NotSerializableError(
            f"cannot store {type(obj).__name__} in the ledger: {exc}"
        ) from None


_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def now() -> str:
    """The current UTC time as the ledger writes it (ISO 8601, microseconds).

    The same as ``datetime.now(UTC).isoformat(timespec="microseconds")``, formatting
    the date and time only once a second: an append takes a few tens of microseconds.
    """
    global _second
    second, micro = divmod(time.time_ns() // 1000, 1_000_000)
    if _second[0] != second:
        _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    return f"{_second[1]}.{micro:06d}+00:00"


def sign(fields: dict[str, Any], key: Ed25519PrivateKey) -> tuple[bytes, str]:
    """The stored line (no newline) and hex signature of an entry whose ``fields`` lack ``sig``.

    The signature is over ENTRY_CONTEXT + the canonical JSON of ``fields``; ``sig`` then
    goes where sorted keys put it, just before the top-level ``time``.
    """
    body = canonical(fields)
    sig = key.sign(ENTRY_CONTEXT + body).hex()
    at = body.rfind(_TIME_KEY)
    return body[:at] + _SIG_KEY + sig.encode() + b'"' + body[at:], sig


def signed_message(line: bytes) -> bytes:
    """What the signer of a decoded line signed: the line without its ``sig`` field.

    In canonical JSON a quote inside a string is escaped, so ``,"sig":"`` occurs only
    as a key; nested objects (a mint's event) sort before it, so the last one is the
    entry's own.
    """
    at = line.rfind(_SIG_KEY)
    return ENTRY_CONTEXT + line[:at] + line[at + len(_SIG_KEY) + 129 :]


def check_name(name: str) -> str:
    """``name`` if it can name an account, else an `InvalidInputError` saying what can."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or name == LEDGER:
        raise InvalidInputError(
            f"{name!r} cannot name an account",
            hint="use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a "
            f"letter or digit, other than {LEDGER!r}",
        )
    return name


@dataclass(frozen=True)
class Entry:
    """One committed ledger entry, as read back from its stored line."""

    seq: int  # position in the log, 1-based; leaf seq - 1 of the Merkle tree
    kind: str  # genesis | account | mint | transfer
    time: str  # ISO 8601 UTC, when it was appended
    prev: str  # hex leaf hash of the entry before (ZERO_HASH for the first)
    sig: str  # hex Ed25519 signature by `signer`
    hash: str  # hex RFC 6962 leaf hash of the stored line
    fields: dict[str, Any]  # the kind's own fields: to, amount, memo, event, from, name, key, …

    @property
    def signer(self) -> str:
        """Who signed it: the sender for a transfer, the ledger's own key otherwise."""
        return self.fields["from"] if self.kind == "transfer" else LEDGER

    @property
    def amount(self) -> int:
        """Credits moved or created (0 for genesis and account entries)."""
        return self.fields.get("amount", 0)

    def to_dict(self) -> dict[str, Any]:
        """The entry as stored plus its ``hash`` (JSON-ready)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "time": self.time,
            **self.fields,
            "prev": self.prev,
            "hash": self.hash,
            "sig": self.sig,
        }


def decode(line: bytes) -> Entry:
    """Read one stored line (without its newline); `EntryFormatError` unless well-formed."""
    try:
        obj = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise EntryFormatError("not a JSON line") from None
    if not isinstance(obj, dict):
        raise EntryFormatError("not a JSON object")
    try:
        same = canonical(obj) == line
    except (NotSerializableError, InvalidInputError):
        same = False
    if not same:
        raise EntryFormatError("not in canonical form (edited by hand?)")
    _check_shape(obj)
    fields = {k: v for k, v in obj.items() if k not in _COMMON}
    return Entry(
        seq=obj["seq"],
        kind=obj["kind"],
        time=obj["time"],
        prev=obj["prev"],
        sig=obj["sig"],
        hash=leaf_hash(line).hex(),
        fields=fields,
    )


def _check_shape(obj: dict[str, Any]) -> None:
    kind = obj.get("kind")
    if kind not in _FIELDS:
        raise EntryFormatError(f"unknown kind {kind!r}")
    allowed = _COMMON | _FIELDS[kind] | ({"event"} if kind == "mint" else set())
    missing = (_COMMON | _FIELDS[kind]) - obj.keys()
    if missing:
        raise EntryFormatError(f"lacks {', '.join(sorted(missing))}")
    if obj.keys() - allowed:
        raise EntryFormatError(f"unexpected fields {', '.join(sorted(obj.keys() - allowed))}")
    if not _is_int(obj["seq"]) or obj["seq"] < 1:
        raise EntryFormatError("bad seq")
    if not _is_hex(obj["prev"], _HEX64) or not _is_hex(obj["sig"], _HEX128):
        raise EntryFormatError("malformed prev hash or signature")
    if not _is_time(obj["time"]):
        raise EntryFormatError("malformed time")
    if kind == "genesis":
        ok = (
            _is_hex(obj["ledger"], _HEX32)
            and _is_hex(obj["key"], _HEX64)
            and obj["unit"] == UNIT
            and obj["version"] == FORMAT_VERSION
            and _is_int(obj["version"])
        )
    elif kind == "account":
        ok = _is_name(obj["name"]) and _is_hex(obj["key"], _HEX64)
    else:
        ok = (
            _is_name(obj["to"])
            and (kind == "mint" or _is_name(obj["from"]))
            and _is_int(obj["amount"])
            and 1 <= obj["amount"] <= MAX_AMOUNT
            and isinstance(obj["memo"], str)
            and len(obj["memo"]) <= MAX_MEMO
            and (
                "event" not in obj
                or (isinstance(obj["event"], dict) and len(canonical(obj["event"])) <= MAX_EVENT)
            )
        )
    if not ok:
        raise EntryFormatError(f"malformed {kind} fields")


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_hex(v: Any, pattern: re.Pattern[str]) -> bool:
    return isinstance(v, str) and pattern.fullmatch(v) is not None


def _is_name(v: Any) -> bool:
    return isinstance(v, str) and NAME_RE.fullmatch(v) is not None and v != LEDGER


def _is_time(v: Any) -> bool:
    if not isinstance(v, str) or len(v) > 40:
        return False
    try:
        return datetime.fromisoformat(v).tzinfo is not None
    except ValueError:
        return False
