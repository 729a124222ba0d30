"""How a soup is measured: byte entropy, brotli size, high-order entropy, diversity, top programs.

The numbers match cubff's log: brotli at quality 2 with a 2**24 window in generic
mode over the whole soup, and high-order entropy = Shannon entropy of the byte
histogram (bits/byte) minus brotli bits per byte, rounded through a C float as
cubff stores it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import brotli
import numpy as np

from holomind.evolution.bff import INSTRUCTIONS, byte_counts, program_hashes

TRANSITION_ENTROPY = 3.0  # the authors' cut-off: above it the soup has "transitioned"
BROTLI_QUALITY = 2
BROTLI_WINDOW = 24


def shannon_entropy(data: np.ndarray) -> float:
    """Shannon entropy of the byte histogram of ``data``, in bits per byte."""
    counts = byte_counts(np.ascontiguousarray(data, dtype=np.uint8))
    total = int(counts.sum())
    if total == 0:
        return 0.0
    h = 0.0
    # Summed in byte order, one term at a time, as cubff does: the last bit matters.
    for c in counts.tolist():
        if c:
            frac = c * 1.0 / total
            h -= frac * math.log2(frac)
    return h


def brotli_size(data: np.ndarray) -> int:
    """Bytes of ``data`` compressed as cubff compresses a soup."""
    return len(
        brotli.compress(
            memoryview(np.ascontiguousarray(data)).cast("B"),
            mode=brotli.MODE_GENERIC,
            quality=BROTLI_QUALITY,
            lgwin=BROTLI_WINDOW,
        )
    )


def higher_entropy(h0: float, compressed: int, size: int) -> float:
    """High-order entropy from byte entropy and compressed size, rounded to a C float."""
    return float(np.float32(h0 - compressed * 8.0 / size))


@dataclass(frozen=True)
class SoupMetrics:
    """One log row's measurements of a soup."""

    brotli_size: int
    h0: float  # byte entropy, bits/byte
    higher_entropy: float


def measure(soup: np.ndarray) -> SoupMetrics:
    """Brotli size, byte entropy and high-order entropy of a soup."""
    compressed = brotli_size(soup)
    h0 = shannon_entropy(soup)
    return SoupMetrics(compressed, h0, higher_entropy(h0, compressed, soup.size))


def diversity(soup: np.ndarray) -> float:
    """Fraction of programs that are distinct (1.0 when random, tiny when one program rules)."""
    hashes = np.sort(program_hashes(soup))  # sort-based: numpy's unique is far slower here
    return (1 + int(np.count_nonzero(hashes[1:] != hashes[:-1]))) / soup.shape[0]


def most_common(soup: np.ndarray, top: int = 10) -> list[tuple[bytes, int]]:
    """The ``top`` most frequent programs with their counts, most frequent first."""
    hashes = program_hashes(soup)
    _, first, counts = np.unique(hashes, return_index=True, return_counts=True)
    # Ties broken by first appearance so the answer does not depend on hash order.
    best = np.lexsort((first, -counts))[:top]
    return [(soup[first[i]].tobytes(), int(counts[i])) for i in best]


def render_program(program: bytes) -> str:
    """A program as text: instructions as themselves, zero as ␀, anything else as a dot."""
    return "".join(chr(b) if chr(b) in INSTRUCTIONS else ("␀" if b == 0 else "·") for b in program)
