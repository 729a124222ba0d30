"""The entry codec: signed lines read back exactly; anything not canonical is refused."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from holomind.errors import InvalidInputError, NotSerializableError
from holomind.ledger.entry import (
    ENTRY_CONTEXT,
    EntryFormatError,
    canonical,
    check_name,
    decode,
    now,
    sign,
    signed_message,
)
from holomind.ledger.merkle import leaf_hash

KEY = Ed25519PrivateKey.generate()
TIME = "2026-11-23T10:00:00.123456+00:00"

# Text that looks like the keys the codec splices on, to catch a splice in the wrong place.
tricky = st.text() | st.sampled_from(
    ['","sig":"', ',"time":"', '\\",\\"sig', '"}', "\n", "é\u2028"]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | tricky,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky, inner, max_size=3),
    max_leaves=8,
)


def mint_fields(memo: str, event: dict | None, seq: int = 7) -> dict:
    fields = {"seq": seq, "prev": "ab" * 32, "time": TIME, "kind": "mint"}
    fields |= {"to": "alice", "amount": 5, "memo": memo}
    if event is not None:
        fields["event"] = event
    return fields


@settings(max_examples=150, deadline=None)
@given(
    memo=st.text(max_size=200),
    event=st.none() | st.dictionaries(tricky, json_values, max_size=4),
)
def test_signed_lines_read_back_exactly(memo: str, event: dict | None) -> None:
    fields = mint_fields(memo, event)
    line, sig = sign(fields, KEY)
    entry = decode(line)
    assert entry.seq == 7 and entry.kind == "mint" and entry.time == TIME and entry.sig == sig
    assert entry.fields == {
        k: v for k, v in fields.items() if k not in ("seq", "prev", "time", "kind")
    }
    assert entry.hash == leaf_hash(line).hex()
    assert signed_message(line) == ENTRY_CONTEXT + canonical(fields)
    KEY.public_key().verify(bytes.fromhex(sig), signed_message(line))  # raises if wrong
    assert b"\n" not in line


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_are_refused_or_read_exactly(data: bytes) -> None:
    try:
        entry = decode(data)
    except EntryFormatError:
        return
    assert canonical(json.loads(data)) == data and entry.seq >= 1


def test_every_truncation_and_every_edit_of_a_line_is_refused() -> None:
    line, _ = sign(mint_fields("for the benchmark", {"rule": "x", "id": "x/1"}), KEY)
    for cut in range(len(line)):
        with pytest.raises(EntryFormatError):
            decode(line[:cut])
    original = decode(line)
    for at in range(len(line)):
        for xor in (0x01, 0x20, 0x80):
            edited = line[:at] + bytes([line[at] ^ xor]) + line[at + 1 :]
            try:
                entry = decode(edited)
            except EntryFormatError:
                continue
            # Still well-formed: then something signed changed, and the signature says so.
            assert entry != original
            with pytest.raises(InvalidSignature):
                KEY.public_key().verify(bytes.fromhex(entry.sig), signed_message(edited))


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda d: json.dumps(d, sort_keys=True).encode(), "canonical"),  # spaces
        (
            lambda d: json.dumps(dict(reversed(d.items())), separators=(",", ":")).encode(),
            "canonical",
        ),
        (lambda d: canonical({**d, "sig": d["sig"].upper()}), "malformed prev hash or signature"),
        (lambda d: canonical({**d, "seq": 0}), "bad seq"),
        (lambda d: canonical({**d, "seq": True}), "bad seq"),
        (lambda d: canonical({**d, "amount": 5.0}), "malformed mint fields"),
        (lambda d: canonical({**d, "amount": 0}), "malformed mint fields"),
        (lambda d: canonical({**d, "to": "Alice"}), "malformed mint fields"),
        (lambda d: canonical({**d, "to": "ledger"}), "malformed mint fields"),
        (lambda d: canonical({**d, "time": "yesterday"}), "malformed time"),
        (lambda d: canonical({**d, "time": "2026-11-23T10:00:00"}), "malformed time"),
        (lambda d: canonical({**d, "kind": "burn"}), "unknown kind 'burn'"),
        (lambda d: canonical({**d, "extra": 1}), "unexpected fields extra"),
        (lambda d: canonical({k: v for k, v in d.items() if k != "memo"}), "lacks memo"),
        (lambda d: canonical([d]), "not a JSON object"),
        (lambda d: canonical(d)[:-1] + b',"amount":6}', "canonical"),  # a duplicate key
        (lambda d: canonical(d).replace(b'"amount":5', b'"amount":NaN'), "canonical"),
        (lambda d: b"\xff" + canonical(d), "not a JSON line"),
    ],
)
def test_malformed_lines_say_what_is_wrong(edit, why: str) -> None:
    line, _ = sign(mint_fields("m", None), KEY)
    with pytest.raises(EntryFormatError, match=why):
        decode(edit(json.loads(line)))


def test_now_is_iso_utc_with_microseconds() -> None:
    before = datetime.now(UTC)
    stamps = [now() for _ in range(2000)]
    after = datetime.now(UTC)
    parsed = [datetime.fromisoformat(s) for s in stamps]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", s) for s in stamps)
    assert before - timedelta(milliseconds=1) <= parsed[0] <= parsed[-1] <= after
    assert parsed == sorted(parsed)


def test_values_that_cannot_be_stored_are_refused() -> None:
    with pytest.raises(NotSerializableError):
        canonical({"x": {1, 2}})
    with pytest.raises(NotSerializableError):
        canonical({"x": float("nan")})
    with pytest.raises(InvalidInputError, match="surrogates"):
        canonical({"x": "\ud800"})


@pytest.mark.parametrize("name", ["alice", "rl-agent.2", "a", "0_x", "a" * 64])
def test_account_names_that_are_allowed(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "Alice", "ledger", "-x", "a b", "../x", "a" * 65, "é"])
def test_account_names_that_are_refused(name: str) -> None:
    with pytest.raises(InvalidInputError, match="cannot name an account"):
        check_name(name)
