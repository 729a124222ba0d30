"""The RFC 6962 Merkle tree: published test vectors, proofs that verify, and proofs that fail."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holomind.ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# The RFC 6962 test vectors of Google's certificate-transparency project, as kept in
# transparency-dev/merkle testonly/constants.go (Apache-2.0): eight leaves, the root
# after each, two audit paths and three consistency proofs.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
PATHS = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def tree_of(leaves: list[bytes]) -> MerkleTree:
    tree = MerkleTree()
    for data in leaves:
        tree.append(leaf_hash(data))
    return tree


def mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 §2.1's MTH, written straight from its definition (the reference)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def test_roots_match_the_published_vectors() -> None:
    tree = tree_of(LEAVES)
    assert tree.root(0) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert [tree.root(n).hex() for n in range(1, 9)] == ROOTS
    assert len(tree) == 8


def test_proofs_match_the_published_vectors() -> None:
    tree = tree_of(LEAVES)
    for (index, size), path in PATHS.items():
        assert hexes(tree.inclusion_proof(index, size)) == path
    for (old, new), path in CONSISTENCY.items():
        assert hexes(tree.consistency_proof(old, new)) == path
    assert tree.consistency_proof(1, 1) == []


def test_every_proof_in_small_trees_verifies_and_every_alteration_fails() -> None:
    tree = tree_of([b"leaf %d" % i for i in range(17)])
    for size in range(1, 18):
        root = tree.root(size)
        for index in range(size):
            leaf, path = tree.leaf(index), tree.inclusion_proof(index, size)
            assert verify_inclusion(leaf, index, size, path, root)
            assert not verify_inclusion(tree.leaf((index + 1) % 17), index, size, path, root)
            assert not verify_inclusion(leaf, index, size, path, tree.root(size - 1))
            assert not verify_inclusion(leaf, index, size, [*path, root], root)
            if size > 1:
                assert not verify_inclusion(leaf, (index + 1) % size, size, path, root)
            for i in range(len(path)):
                bent = [*path]
                bent[i] = bytes([bent[i][0] ^ 1]) + bent[i][1:]
                assert not verify_inclusion(leaf, index, size, bent, root)
                assert not verify_inclusion(leaf, index, size, path[:i] + path[i + 1 :], root)
        for old in range(0, size + 1):
            proof = tree.consistency_proof(old, size)
            assert verify_consistency(old, size, tree.root(old), root, proof)
            if 0 < old < size:
                other = tree.root(old - 1) if old > 1 else tree.leaf(1)
                assert not verify_consistency(old, size, other, root, proof)
                assert not verify_consistency(old, size, tree.root(old), tree.root(old), proof)
                assert not verify_consistency(old, size, tree.root(old), root, proof[:-1])
                for i in range(len(proof)):
                    bent = [*proof]
                    bent[i] = bytes([bent[i][0] ^ 0x80]) + bent[i][1:]
                    assert not verify_consistency(old, size, tree.root(old), root, bent)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 600), data=st.data())
def test_roots_and_proofs_agree_with_the_rfc_definition(n: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(b"%d" % i) for i in range(n)]
    tree = MerkleTree()
    for h in leaves:
        tree.append(h)
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    assert tree.root(size) == mth(leaves[:size])
    path = tree.inclusion_proof(index, size)
    assert len(path) <= (size - 1).bit_length()  # O(log n)
    assert root_from_inclusion(leaves[index], index, size, path) == mth(leaves[:size])
    proof = tree.consistency_proof(old, size)
    assert verify_consistency(old, size, mth(leaves[:old]), mth(leaves[:size]), proof)


def test_bad_arguments_are_refused() -> None:
    tree = tree_of(LEAVES[:3])
    with pytest.raises(ValueError, match="32 bytes"):
        tree.append(b"short")
    with pytest.raises(ValueError, match="not in a tree of 3"):
        tree.inclusion_proof(3)
    with pytest.raises(ValueError, match="has 3 leaves, not 4"):
        tree.root(4)
    with pytest.raises(ValueError, match="cannot prove size 3 against size 2"):
        tree.consistency_proof(3, 2)
    assert root_from_inclusion(tree.leaf(0), 0, 3, [b"x"]) is None
    assert not verify_consistency(2, 1, tree.root(2), tree.root(1), [])
    assert not verify_consistency(0, 3, tree.root(1), tree.root(3), [])
    assert not verify_consistency(2, 3, tree.root(2), tree.root(3), [])
