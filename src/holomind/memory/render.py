"""Text → pixel rows: the human-readable half of the pixel network.

Lines are laid out in 8-px cells with the BMP-wide bitmap font of `glyphs`
(wide characters take two cells, missing ones a box with their code point), 16 px
per line, so what a person sees in the PNG is exactly the text a record holds.
The same text always gives the same pixels.
"""

from __future__ import annotations

import numpy as np

from holomind.errors import InvalidInputError
from holomind.memory.glyphs import CELL_WIDTH, LINE_HEIGHT, default_font, display_text

MIN_WIDTH = 64
MAX_WIDTH = 16384

__all__ = [
    "CELL_WIDTH",
    "LINE_HEIGHT",
    "render_lines",
    "render_text_to_rows",
    "rule",
    "wrap_lines",
]


def _wrap(line: str, cols: int) -> list[str]:
    """Break one line into pieces of at most ``cols`` cells, at the last space when there is one."""
    cells_of = default_font().cells_of
    out: list[str] = []
    piece: list[str] = []
    widths: list[int] = []
    used = 0
    space = -1  # index in `piece` of its last space
    for ch in line:
        w = cells_of(ch)
        if used + w > cols and piece:
            if ch == " ":  # break at this space, which is dropped
                out.append("".join(piece))
                piece, widths, used, space = [], [], 0, -1
                continue
            if space >= 0:  # break at the space, which is dropped
                out.append("".join(piece[:space]))
                piece, widths = piece[space + 1 :], widths[space + 1 :]
            else:
                out.append("".join(piece))
                piece, widths = [], []
            used = sum(widths)
            space = -1
        piece.append(ch)
        widths.append(w)
        used += w
        if ch == " ":
            space = len(piece) - 1
    out.append("".join(piece))
    return out


def wrap_lines(text: str, width: int) -> list[str]:
    """Split text into display lines that fit ``width`` px (``width // 8`` cells each)."""
    cols = max(2, width // CELL_WIDTH)  # room for one wide character at least
    lines: list[str] = []
    for raw in display_text(text).split("\n"):
        lines.extend(_wrap(raw.rstrip("\r"), cols))
    return lines


def render_lines(lines: list[str], width: int) -> np.ndarray:
    """Draw lines of text; returns a bool array (len(lines) * LINE_HEIGHT, width), True = ink."""
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise InvalidInputError(f"width must be between {MIN_WIDTH} and {MAX_WIDTH}, got {width}")
    font = default_font()
    if not lines:
        return np.zeros((LINE_HEIGHT, width), dtype=bool)
    return np.vstack([font.draw(line, width) for line in lines])


def rule(width: int, height: int = LINE_HEIGHT // 2, solid: bool = False) -> np.ndarray:
    """A horizontal rule across ``width`` px in a band ``height`` rows tall: records' separator."""
    ink = np.zeros((height, width), dtype=bool)
    ink[height // 2, :] = True if solid else (np.arange(width) % 4 < 2)
    return ink


def render_text_to_rows(text: str, width: int = 1024, max_lines: int = 20) -> np.ndarray:
    """Render text as monospaced rows: an RGBA uint8 array (H, width, 4), black on white.

    Long lines wrap at the image width; past ``max_lines`` lines the last line
    says how many were left out.
    """
    if max_lines < 1:
        raise InvalidInputError(f"max_lines must be at least 1, got {max_lines}")
    lines = wrap_lines(text, width)
    if len(lines) > max_lines:
        hidden = len(lines) - max_lines + 1
        lines = [*lines[: max_lines - 1], f"... ({hidden} more lines)"]
    ink = render_lines(lines, width)
    rgba = np.full((*ink.shape, 4), 255, dtype=np.uint8)
    rgba[ink, :3] = 0
    return rgba
