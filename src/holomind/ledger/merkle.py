"""An append-only Merkle tree as in RFC 6962 / RFC 9162: roots, inclusion and consistency proofs.

Leaves hash as SHA-256(0x00 || data) and interior nodes as SHA-256(0x01 || left || right);
a tree of n leaves splits at the largest power of two below n. The tree keeps every
complete (perfect, aligned) subtree's hash, level by level in flat bytearrays, so an
append costs O(1) hashes amortised and a root or proof for any size up to the current
one costs O(log n) lookups. 10^6 leaves take about 64 MB.
"""

from __future__ import annotations

import hashlib

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # the root of a tree with no leaves


def leaf_hash(data: bytes) -> bytes:
    """The RFC 6962 hash of one leaf's data."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 6962 hash of an interior node from its children's hashes."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """The hashes of an append-only log's Merkle tree; leaves are added, never changed."""

    def __init__(self) -> None:
        # _levels[k] holds the hashes of the complete subtrees of 2**k leaves, left to right.
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        """Add a leaf by its hash (see `leaf_hash`); completes whatever subtrees it closes."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, got {len(leaf)}")
        self._levels[0] += leaf
        index, level = self._size, 0
        self._size += 1
        while index & 1:  # a right child: its parent is now complete
            below = self._levels[level]
            parent = node_hash(below[-2 * HASH_SIZE : -HASH_SIZE], below[-HASH_SIZE:])
            level += 1
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += parent
            index >>= 1

    def leaf(self, index: int) -> bytes:
        """The hash of leaf ``index`` (0-based)."""
        self._check_size(index + 1)
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def root(self, size: int | None = None) -> bytes:
        """The tree head hash over the first ``size`` leaves (default: all of them)."""
        size = len(self) if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path for leaf ``index`` in the tree of the first ``size`` leaves."""
        size = len(self) if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
        return self._path(index, 0, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The hashes proving the tree of ``old_size`` leaves is a prefix of ``new_size``'s."""
        new_size = len(self) if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"cannot prove size {old_size} against size {new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    # -- internals: ranges are [start, end) of leaf indices

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= len(self):
            raise ValueError(f"the tree has {len(self)} leaves, not {size}")

    def _subtree(self, start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0:  # a complete subtree: its hash is stored
            level = n.bit_length() - 1
            at = (start >> level) * HASH_SIZE
            return bytes(self._levels[level][at : at + HASH_SIZE])
        k = _split(n)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if index < start + k:
            return [*self._path(index, start, start + k), self._subtree(start + k, end)]
        return [*self._path(index, start + k, end), self._subtree(start, start + k)]

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self._subtree(start, end)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self._subtree(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._subtree(start, start + k)]


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes]) -> bytes | None:
    """The root an inclusion proof implies (RFC 9162 §2.1.3.2), or None if it is malformed."""
    if not 0 <= index < size or any(len(p) != HASH_SIZE for p in proof):
        return None
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``size`` leaves."""
    return root_from_inclusion(leaf, index, size, proof) == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``old_root`` is a prefix of the tree ``new_root``.

    RFC 9162 §2.1.4.2; equal sizes need an empty proof and equal roots, and every tree
    extends the empty one.
    """
    if not 0 <= old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
