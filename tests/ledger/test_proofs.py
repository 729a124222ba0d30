"""Inclusion and consistency proofs from a real ledger: they verify, and fail once altered."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from holomind.errors import CorruptFileError, InvalidInputError
from holomind.ledger import Ledger, TreeHead, proof_from_dict
from holomind.ledger.keys import public_hex


def bent(hex_hash: str) -> str:
    """The same hash with its first digit changed."""
    return ("1" if hex_hash[0] == "0" else "0") + hex_hash[1:]


def grow(led: Ledger, n: int, memo: str = "m") -> None:
    with led.batch():
        for i in range(n):
            led.mint("bob", 1 + i, f"{memo}{i}")


def test_every_entry_has_a_proof_that_holds_and_fails_when_altered(ledger: Ledger) -> None:
    grow(ledger, 9)
    key = ledger.public_key
    stranger = public_hex(Ed25519PrivateKey.generate())
    for seq in range(1, len(ledger) + 1):
        proof = ledger.prove(seq)
        assert proof.leaf == ledger.entry(seq).hash and proof.head == ledger.head()
        assert proof.to_dict()["leaf_index"] == seq - 1
        assert len(proof.path) <= 4  # ceil(log2 13)
        assert proof.verify(key)
        again = proof_from_dict(json.loads(json.dumps(proof.to_dict())))
        assert again == proof and again.verify(key)
        head = proof.head
        altered = [
            dataclasses.replace(proof, leaf=bent(proof.leaf)),
            dataclasses.replace(proof, seq=seq % len(ledger) + 1),
            dataclasses.replace(proof, path=proof.path[:-1]),
            dataclasses.replace(proof, path=[*proof.path, proof.leaf]),
            dataclasses.replace(proof, head=dataclasses.replace(head, root=bent(head.root))),
            dataclasses.replace(proof, head=dataclasses.replace(head, size=head.size + 1)),
            dataclasses.replace(proof, head=dataclasses.replace(head, sig=bent(head.sig))),
            dataclasses.replace(proof, head=dataclasses.replace(head, time="2020")),
        ]
        altered += [
            dataclasses.replace(proof, path=[*proof.path[:i], bent(p), *proof.path[i + 1 :]])
            for i, p in enumerate(proof.path)
        ]
        assert not any(a.verify(key) for a in altered)
        assert not proof.verify(stranger)


def test_a_saved_tree_head_is_proved_a_prefix_of_the_grown_ledger(ledger: Ledger) -> None:
    grow(ledger, 2)
    old = ledger.head()
    grow(ledger, 11)
    key = ledger.public_key
    proof = ledger.prove_consistency(old.size)
    assert (proof.old_size, proof.old_root, proof.head) == (old.size, old.root, ledger.head())
    assert proof.verify(key) and proof.verify(key, old_head=old)
    again = proof_from_dict(json.loads(json.dumps(proof.to_dict())))
    assert again == proof and again.verify(key, old_head=old)
    altered = [
        dataclasses.replace(proof, old_root=bent(proof.old_root)),
        dataclasses.replace(proof, old_size=proof.old_size + 1),
        dataclasses.replace(proof, path=proof.path[1:]),
        dataclasses.replace(proof, head=dataclasses.replace(proof.head, root=bent(old.root))),
        *(
            dataclasses.replace(proof, path=[*proof.path[:i], bent(p), *proof.path[i + 1 :]])
            for i, p in enumerate(proof.path)
        ),
    ]
    assert not any(a.verify(key) for a in altered)
    assert not proof.verify(key, old_head=dataclasses.replace(old, sig=bent(old.sig)))
    assert not proof.verify(key, old_head=dataclasses.replace(old, ledger="0" * 32))
    assert not proof.verify(public_hex(Ed25519PrivateKey.generate()))


def test_a_forked_history_fails_the_consistency_proof(ledger: Ledger, tmp_path: Path) -> None:
    """Two copies of one ledger, signed by the same keys, that part ways after entry 6."""
    grow(ledger, 2)
    ledger.close()
    fork = tmp_path / "fork"
    shutil.copytree(ledger.path, fork)
    with Ledger.open(fork) as other:
        grow(other, 3, memo="the fork says ")
        forked_head = other.head()
    with Ledger.open(ledger.path) as led:
        grow(led, 5)
        assert led.id == TreeHead.from_bytes((fork / "head.json").read_bytes(), "fork").ledger
        proof = led.prove_consistency(forked_head.size)
        assert proof.verify(led.public_key)  # the path itself is sound …
        assert not proof.verify(led.public_key, old_head=forked_head)  # … but not for that head
        assert led.prove_consistency(6).verify(led.public_key, old_head=None)


def test_proofs_outside_the_ledger_are_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidInputError, match="there is no entry #5"):
        ledger.prove(5)
    with pytest.raises(InvalidInputError, match="cannot prove a tree of 0 entries"):
        ledger.prove_consistency(0)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"type": "inclusion"},
        {"type": "inclusion", "seq": "1", "leaf": "0" * 64, "path": [], "head": None},
        {"type": "inclusion", "seq": 1, "leaf": "0" * 63, "path": [], "head": {}},
        {"type": "consistency", "old_size": 1, "old_root": "0" * 64, "path": ["zz"], "head": {}},
        {"type": "other", "path": [], "head": {}},
    ],
)
def test_malformed_proofs_are_refused(data: object, ledger: Ledger) -> None:
    head = ledger.head().to_dict()
    if isinstance(data, dict) and data.get("head") == {}:
        data = {**data, "head": head}
    with pytest.raises(ValueError):
        proof_from_dict(data)


def test_a_tree_head_file_must_be_exact(ledger: Ledger) -> None:
    data = (ledger.path / "head.json").read_bytes()
    assert TreeHead.from_bytes(data, "h").to_bytes() == data
    for bad in (data.rstrip(b"\n"), data.replace(b",", b", ", 1), b"{}", b"\xff", b"[1]"):
        with pytest.raises(CorruptFileError, match=r"^h is not"):
            TreeHead.from_bytes(bad, "h")


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_are_refused_or_read_exactly_as_a_tree_head(data: bytes) -> None:
    try:
        head = TreeHead.from_bytes(data, "h")
    except CorruptFileError:
        return
    assert head.to_bytes() == data


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=70),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=9), inner),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(
    data=json_values
    | st.fixed_dictionaries(
        {
            "type": st.sampled_from(["inclusion", "consistency"]),
            "head": json_values,
            "path": json_values,
        }
    )
)
def test_random_json_is_refused_or_read_as_a_proof(data: object) -> None:
    try:
        proof = proof_from_dict(data)
    except ValueError:
        return
    assert proof_from_dict(proof.to_dict()) == proof
