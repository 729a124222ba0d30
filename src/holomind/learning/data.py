"""Training text: every ``*.txt`` under a folder, split into train and validation bytes.

A file's domain is the first sub-folder it sits in (``DATA/licences/gpl.txt`` →
``licences``), or the one name given for all of them; files directly in the
folder otherwise have no named domain and are assigned one by domain detection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from holomind.errors import InvalidInputError, MissingFileError


@dataclass
class Document:
    """One text file's bytes, split into a training head and a validation tail."""

    path: Path
    domain: str | None  # sub-folder name, or None for a file at the top level
    train: list[int]
    val: list[int]
    cartridge: int = -1  # the cartridge domain detection gave it


def _document(
    path: Path, domain: str | None, raw: bytes, block_size: int, val_fraction: float
) -> Document | None:
    """A text's training and validation bytes, or None when it is too short for either."""
    seg = 8 * (block_size + 1)
    # Every k-th segment is held out, so validation text is spread over the whole file
    # (a held-out tail would be a different kind of text: indexes, appendices).
    k = max(2, round(1 / max(val_fraction, 1e-9)))
    parts = [list(raw[i : i + seg]) for i in range(0, len(raw), seg)]
    held = {i for i in range(len(parts)) if i % k == k - 1} or {len(parts) - 1}
    train = [b for i, p in enumerate(parts) if i not in held for b in p]
    val = [b for i, p in enumerate(parts) if i in held for b in p]
    if len(train) < block_size + 1 or len(val) < block_size + 1:
        return None
    return Document(path, domain, train, val)


class Corpus:
    """All documents of a data folder, with batch sampling and validation windows."""

    def __init__(self, documents: list[Document], block_size: int) -> None:
        self.documents = documents
        self.block_size = block_size

    @classmethod
    def from_folder(
        cls, root: Path, block_size: int, val_fraction: float = 0.1, domain: str | None = None
    ) -> Corpus:
        """Read ``*.txt`` under root; files too short for one training window are skipped.

        ``domain`` names the domain of every file (sub-folders then do not).
        """
        if not root.is_dir():
            raise MissingFileError(f"data folder {root} does not exist", hint="check the path")
        docs = []
        for path in sorted(root.rglob("*.txt")):
            rel = path.relative_to(root)
            named = domain or (rel.parts[0] if len(rel.parts) > 1 else None)
            doc = _document(path, named, path.read_bytes(), block_size, val_fraction)
            if doc is not None:
                docs.append(doc)
        if not docs:
            raise InvalidInputError(
                f"no usable *.txt files in {root}",
                hint=f"add UTF-8 text files of at least {9 * (block_size + 1)} bytes",
            )
        return cls(docs, block_size)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[tuple[str, str]],
        block_size: int,
        domain: str,
        val_fraction: float = 0.1,
    ) -> Corpus:
        """Named texts held in memory (e.g. replayed records), all of one domain.

        Texts too short for one training and one validation window are skipped.
        """
        docs = [
            doc
            for name, text in texts
            if (doc := _document(Path(name), domain, text.encode(), block_size, val_fraction))
        ]
        if not docs:
            raise InvalidInputError(
                "none of the texts is long enough to train on",
                hint=f"give texts of at least {9 * (block_size + 1)} bytes",
            )
        return cls(docs, block_size)

    def fingerprint(self) -> str:
        """SHA-256 over every document's domain and bytes: a resumed run checks its data with it."""
        h = hashlib.sha256()
        for d in self.documents:
            h.update(f"{d.path.name}\0{d.domain}\0{len(d.train)}\0{len(d.val)}\0".encode())
            h.update(bytes(d.train))
            h.update(bytes(d.val))
        return h.hexdigest()

    def num_tokens(self) -> int:
        """Training bytes in the corpus."""
        return sum(len(d.train) for d in self.documents)

    def sample(
        self, rng: np.random.Generator, batch: int
    ) -> tuple[np.ndarray, np.ndarray, list[Document]]:
        """Random windows (inputs, next-byte targets), domains drawn uniformly, then documents."""
        by_domain: dict[str | None, list[Document]] = {}
        for d in self.documents:
            by_domain.setdefault(d.domain, []).append(d)
        groups = list(by_domain.values())
        T = self.block_size
        x = np.zeros((batch, T), dtype=np.int64)
        y = np.zeros((batch, T), dtype=np.int64)
        picked = []
        for b in range(batch):
            group = groups[rng.integers(len(groups))]
            sizes = np.array([len(d.train) for d in group], dtype=np.float64)
            doc = group[rng.choice(len(group), p=sizes / sizes.sum())]
            start = int(rng.integers(0, len(doc.train) - T))
            window = doc.train[start : start + T + 1]
            x[b], y[b] = window[:-1], window[1:]
            picked.append(doc)
        return x, y, picked

    def validation_windows(self, limit: int = 64) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per domain, up to ``limit`` non-overlapping validation windows (inputs, targets)."""
        T = self.block_size
        out: dict[str, tuple[list, list]] = {}
        for d in self.documents:
            xs, ys = out.setdefault(d.domain or "", ([], []))
            for start in range(0, len(d.val) - T, T):
                xs.append(d.val[start : start + T])
                ys.append(d.val[start + 1 : start + T + 1])
        result = {}
        for name, (xs, ys) in out.items():
            if xs:  # spread the windows over all of the domain's documents
                pick = np.unique(np.linspace(0, len(xs) - 1, min(limit, len(xs))).astype(int))
                result[name] = (np.array(xs)[pick], np.array(ys)[pick])
        return result
