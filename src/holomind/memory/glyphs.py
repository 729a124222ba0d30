"""The bitmap font the pixel network writes with: every character of Unicode's BMP.

Glyphs are 16 px tall and 8 or 16 px wide (a "cell" is 8 px: Latin takes one, CJK
and many other scripts two). They come from GNU Unifont 15.0.01, shipped in the
package as ``font/bmp16.glyphs`` (SIL OFL 1.1; see ``font/LICENSE.txt`` and
``tools/build_glyphs.py``). A character the font lacks (an emoji, an unassigned
code point) is drawn as a two-cell box holding its code point in hex, so nothing a
record holds is ever invisible or replaced by ``?``.
"""

from __future__ import annotations

import functools
import struct
import unicodedata
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CELL_WIDTH = 8  # px per cell; a character takes 1 or 2 cells
LINE_HEIGHT = 16  # px per line of text
FONT_FILE = Path(__file__).with_name("font") / "bmp16.glyphs"
TAB = "    "

# 3×5 hex digits for the boxes that stand for characters without a glyph.
_DIGITS = {
    "0": "111101101101111",
    "1": "010110010010111",
    "2": "111001111100111",
    "3": "111001111001111",
    "4": "101101111001001",
    "5": "111100111001111",
    "6": "111100111101111",
    "7": "111001001001001",
    "8": "111101111101111",
    "9": "111101111001111",
    "A": "111101111101101",
    "B": "110101110101110",
    "C": "111100100100111",
    "D": "110101101101110",
    "E": "111100111100111",
    "F": "111100111100100",
}


@functools.lru_cache(maxsize=4096)
def box(cp: int) -> np.ndarray:
    """The 16×16 stand-in for code point ``cp``: a frame around its hex digits, in two rows."""
    ink = np.zeros((LINE_HEIGHT, 2 * CELL_WIDTH), dtype=bool)
    ink[[0, -1], :] = True
    ink[:, [0, -1]] = True
    digits = f"{cp:04X}" if cp <= 0xFFFF else f"{cp:06X}"
    per_row = len(digits) // 2
    xs = (4, 9) if per_row == 2 else (2, 6, 10)
    for row, y in enumerate((2, 9)):
        for x, d in zip(xs, digits[row * per_row : (row + 1) * per_row], strict=True):
            ink[y : y + 5, x : x + 3] = np.array([c == "1" for c in _DIGITS[d]]).reshape(5, 3)
    ink.setflags(write=False)  # cached: shared by every caller
    return ink


@dataclass(frozen=True)
class Font:
    """Glyph cells for the BMP: which cells draw a code point, and how combining marks sit."""

    cells: np.ndarray  # (n, 16) uint8: one byte per pixel row of an 8-px cell, high bit left
    start: np.ndarray  # (65536,) int32: first cell of each code point's glyph
    width: np.ndarray  # (65536,) uint8: cells per glyph; 0 = no glyph (drawn as a box)
    marks: dict[int, int]  # combining mark -> x offset (px) from the pen; marks do not advance
    widths: list[int] = field(repr=False)  # `width` as a list: per-character lookups are fast
    starts: list[int] = field(repr=False)  # `start` as a list

    @classmethod
    def load(cls, path: Path = FONT_FILE) -> Font:
        """Read a glyph file made by tools/build_glyphs.py; an empty font if it is unusable."""
        try:
            data = zlib.decompress(path.read_bytes())
            if data[:5] != b"HMGL\x01":
                raise ValueError("not a glyph file")
            width = np.frombuffer(data, dtype=np.uint8, count=65536, offset=5)
            (n,) = struct.unpack_from(">I", data, 65541)
            marks = {cp: dx for cp, dx in struct.iter_unpack(">Hb", data[65545 : 65545 + 3 * n])}
            cells = np.frombuffer(data, dtype=np.uint8, offset=65545 + 3 * n).reshape(-1, 16)
            if cells.shape[0] != int(width.sum(dtype=np.int64)):
                raise ValueError("cell count does not match the widths")
        except (OSError, ValueError, zlib.error, struct.error) as exc:
            # Text still shows, as boxes with code points: a broken install must not stop
            # a network from being written.
            warnings.warn(
                f"glyph file {path} is unusable ({exc}); drawing every character as a box",
                RuntimeWarning,
                stacklevel=2,
            )
            width = np.zeros(65536, dtype=np.uint8)
            cells = np.zeros((0, 16), dtype=np.uint8)
            marks = {}
        start = (np.cumsum(width, dtype=np.int32) - width).astype(np.int32)
        return cls(cells, start, width, marks, width.tolist(), start.tolist())

    def cells_of(self, ch: str) -> int:
        """How many cells ``ch`` advances the pen: 0 for a combining mark, else 1 or 2."""
        cp = ord(ch)
        if cp in self.marks:
            return 0
        return (self.widths[cp] if cp <= 0xFFFF else 0) or 2

    def glyph(self, ch: str) -> np.ndarray:
        """The ink of ``ch`` alone: bool (16, 8) or (16, 16); a box when the font lacks it."""
        cp = ord(ch)
        w = int(self.width[cp]) if cp <= 0xFFFF else 0
        if not w:
            return box(cp)
        rows = self.cells[self.start[cp] : self.start[cp] + w]  # (w, 16)
        return np.unpackbits(np.ascontiguousarray(rows.T), axis=1).astype(bool)

    def draw(self, line: str, width: int) -> np.ndarray:
        """One line of text as ink, bool (16, width); anything past ``width`` is cut off."""
        widths, starts = self.widths, self.starts
        cells: list[int] = []
        boxes: list[tuple[int, int]] = []  # (first cell, code point) of characters without a glyph
        marks: list[tuple[int, str]] = []  # (x, mark)
        for ch in line:
            cp = ord(ch)
            if cp in self.marks:
                marks.append((len(cells) * CELL_WIDTH + self.marks[cp], ch))
                continue
            w = widths[cp] if cp <= 0xFFFF else 0
            if w:
                cells += range(starts[cp], starts[cp] + w)
            else:
                boxes.append((len(cells), cp))
                cells += (0, 0)
        rows = self.cells[cells] if cells and len(self.cells) else np.zeros((len(cells), 16), "u1")
        drawn = np.unpackbits(np.ascontiguousarray(rows.T), axis=1).astype(bool)  # (16, 8 * cells)
        for at, cp in boxes:
            drawn[:, at * CELL_WIDTH : (at + 2) * CELL_WIDTH] = box(cp)
        for x, ch in marks:  # a mark is drawn over the character before it
            glyph = self.glyph(ch)
            lo, hi = max(x, 0), min(x + glyph.shape[1], drawn.shape[1])
            if lo < hi:
                drawn[:, lo:hi] |= glyph[:, lo - x : hi - x]
        ink = np.zeros((LINE_HEIGHT, width), dtype=bool)
        n = min(width, drawn.shape[1])
        ink[:, :n] = drawn[:, :n]
        return ink


@functools.cache
def default_font() -> Font:
    """The font shipped with HoloMind, loaded once."""
    return Font.load()


def display_text(text: str) -> str:
    """Text as laid out: composed (NFC) so accents use their one-cell forms, tabs as spaces."""
    return unicodedata.normalize("NFC", text).replace("\t", TAB)
