"""Rendering: text becomes readable rows, in every script a record can hold."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from holomind.errors import InvalidInputError
from holomind.memory import PixelNetwork, render_text_to_rows
from holomind.memory.glyphs import Font, box, default_font
from holomind.memory.render import CELL_WIDTH, LINE_HEIGHT, wrap_lines

# Glyphs as GNU Unifont 15.0.01's unifont.hex draws them (SIL OFL 1.1): 16 rows each,
# one byte per row for 8-px glyphs, two for 16-px ones.
UNIFONT_HEX = {
    "A": "0000000018242442427E424242420000",
    "ü": "000024240000424242424242463A0000",
    "ß": "000000003844444858444242524C0000",
    "日": "00001FF0101010101010101010101FF01010101010101010101010101FF01010",
}


def hex_glyph(ch: str) -> np.ndarray:
    raw = np.frombuffer(bytes.fromhex(UNIFONT_HEX[ch]), dtype=np.uint8).reshape(16, -1)
    return np.unpackbits(raw, axis=1).astype(bool)


def ink(rows: np.ndarray) -> np.ndarray:
    return rows[..., 0] < 128


def test_known_string_renders_non_blank_rows() -> None:
    rows = render_text_to_rows("Q: What is pxOS?\nA: It's a pixel-based OS.", width=1024)
    assert rows.shape == (2 * LINE_HEIGHT, 1024, 4) and rows.dtype == np.uint8
    drawn = ink(rows)
    for line in range(2):
        assert drawn[line * LINE_HEIGHT : (line + 1) * LINE_HEIGHT].any()
    # Ink stays inside the text's cells: "A: It's a pixel-based OS." is 25 cells.
    assert not drawn[LINE_HEIGHT:, 25 * CELL_WIDTH :].any()
    assert (rows[..., 3] == 255).all()


def test_same_text_same_pixels_and_different_text_different_pixels() -> None:
    a = render_text_to_rows("hello world")
    assert np.array_equal(a, render_text_to_rows("hello world"))
    assert not np.array_equal(a, render_text_to_rows("hello worle"))


def test_wrapping_and_max_lines() -> None:
    cols = 200 // CELL_WIDTH
    rows = render_text_to_rows("x" * (cols * 5), width=200, max_lines=3)
    assert rows.shape == (3 * LINE_HEIGHT, 200, 4)
    assert wrap_lines("aaa bbb ccc", 7 * CELL_WIDTH) == ["aaa bbb", "ccc"]
    # A wide character takes two cells: four fit in eight.
    assert wrap_lines("日本語日本語", 8 * CELL_WIDTH) == ["日本語日", "本語"]
    with pytest.raises(InvalidInputError):
        render_text_to_rows("x", max_lines=0)
    with pytest.raises(InvalidInputError):
        render_text_to_rows("x", width=10)


def test_every_script_is_drawn_where_its_characters_are() -> None:
    # Latin with umlauts and ß (one cell each), CJK (two cells), an emoji the font lacks.
    drawn = ink(render_text_to_rows("Aüß日😀!"))
    cells = [drawn[:, i * CELL_WIDTH : (i + 1) * CELL_WIDTH] for i in range(8)]
    assert np.array_equal(cells[0], hex_glyph("A"))
    assert np.array_equal(cells[1], hex_glyph("ü"))
    assert np.array_equal(cells[2], hex_glyph("ß"))
    assert np.array_equal(np.hstack(cells[3:5]), hex_glyph("日"))  # double width
    emoji = np.hstack(cells[5:7])
    assert np.array_equal(emoji, box(0x1F600))  # a frame around 01 / F6 / 00
    assert emoji[0].all() and emoji[-1].all() and emoji[:, 0].all() and emoji[:, -1].all()
    assert not np.array_equal(box(0x1F600), box(0x1F601))
    assert cells[7].any()  # "!" after them, on the right cell
    assert not drawn[:, 8 * CELL_WIDTH :].any()


def test_combining_marks_sit_on_their_letter_and_unknown_code_points_are_boxes() -> None:
    assert np.array_equal(render_text_to_rows("u\u0308"), render_text_to_rows("ü"))
    private = ink(render_text_to_rows("\ue000"))  # private use: no glyph in the font
    assert np.array_equal(private[:, : 2 * CELL_WIDTH], box(0xE000))


def test_a_missing_glyph_file_draws_boxes_with_a_warning(tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning, match="unusable"):
        font = Font.load(tmp_path / "nope.glyphs")
    assert np.array_equal(font.draw("Ab", 64)[:, :32], np.hstack([box(0x41), box(0x62)]))
    assert default_font().cells_of("A") == 1 and font.cells_of("A") == 2


def test_network_image_shows_the_record_text(tmp_path: Path) -> None:
    path = tmp_path / "n.png"
    question = "Wie heißt das auf Japanisch? 日本語 😀"
    PixelNetwork(path, embedder="none").append(question, "Nihongo.")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no decompression-bomb warning
        image = np.asarray(Image.open(path).convert("L"))
    assert image.shape[1] == 1024
    expected = render_text_to_rows(f"Q: {question}")[..., 0]
    height = expected.shape[0]
    # The question line appears verbatim somewhere in the picture, umlauts, kanji and all.
    matches = [
        y for y in range(image.shape[0] - height) if np.array_equal(image[y : y + height], expected)
    ]
    assert len(matches) == 1
