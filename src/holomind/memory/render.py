"""Text → pixel rows: the human-readable half of the pixel network.

Text is drawn with Pillow's built-in 6×11 bitmap font, which ships inside
Pillow itself, so every machine that can open the network can also write it,
and the same text always gives the same pixels.
"""

from __future__ import annotations

import functools
import textwrap
import unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from holomind.errors import InvalidInputError

GLYPH_WIDTH = 6  # px per character cell of Pillow's built-in font
LINE_HEIGHT = 12  # 11 px glyph + 1 px leading
MIN_WIDTH = 64
MAX_WIDTH = 16384


@functools.cache
def _font() -> ImageFont.ImageFont:
    return ImageFont.load_default_imagefont()


# Common typographic characters that have a plain ASCII look-alike.
_ASCII_LOOKALIKE = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "…": "...",
        "•": "*",
        "\u00a0": " ",
    }
)


def printable(text: str) -> str:
    """The text as the bitmap font can draw it: accents stripped, other symbols as '?'."""
    out = []
    for ch in text.translate(_ASCII_LOOKALIKE):
        if " " <= ch <= "~":
            out.append(ch)
            continue
        if ch == "\t":
            out.append("    ")
            continue
        base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
        out.append(base if base and all(" " <= c <= "~" for c in base) else "?")
    return "".join(out)


def wrap_lines(text: str, width: int) -> list[str]:
    """Split text into display lines of at most ``width // GLYPH_WIDTH`` characters."""
    cols = max(1, width // GLYPH_WIDTH)
    lines: list[str] = []
    for raw in text.split("\n"):
        clean = printable(raw.rstrip("\r"))
        wrapped = textwrap.wrap(
            clean, cols, replace_whitespace=False, drop_whitespace=False, break_on_hyphens=False
        )
        lines.extend(wrapped or [""])
    return lines


def render_lines(lines: list[str], width: int) -> np.ndarray:
    """Draw lines of text; returns a bool array (len(lines) * LINE_HEIGHT, width), True = ink."""
    if not MIN_WIDTH <= width <= MAX_WIDTH:
        raise InvalidInputError(f"width must be between {MIN_WIDTH} and {MAX_WIDTH}, got {width}")
    height = max(1, len(lines)) * LINE_HEIGHT
    canvas = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(canvas)
    font = _font()
    for i, line in enumerate(lines):
        if line:
            draw.text((0, i * LINE_HEIGHT), line, font=font, fill=0)
    return np.asarray(canvas) < 128


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
