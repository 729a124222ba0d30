"""Rendering: text becomes readable, non-blank monospaced rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from holomind.errors import InvalidInputError
from holomind.memory import PixelNetwork, render_text_to_rows
from holomind.memory.render import GLYPH_WIDTH, LINE_HEIGHT, printable


def test_known_string_renders_non_blank_rows() -> None:
    rows = render_text_to_rows("Q: What is pxOS?\nA: It's a pixel-based OS.", width=1024)
    assert rows.shape == (2 * LINE_HEIGHT, 1024, 4) and rows.dtype == np.uint8
    ink = rows[..., 0] < 128
    for line in range(2):
        band = ink[line * LINE_HEIGHT : (line + 1) * LINE_HEIGHT]
        assert band.any()
    # Ink stays inside the text's columns: "A: It's a pixel-based OS." is 25 cells.
    assert not ink[LINE_HEIGHT:, 25 * GLYPH_WIDTH :].any()
    assert (rows[..., 3] == 255).all()


def test_same_text_same_pixels_and_different_text_different_pixels() -> None:
    a = render_text_to_rows("hello world")
    assert np.array_equal(a, render_text_to_rows("hello world"))
    assert not np.array_equal(a, render_text_to_rows("hello worle"))


def test_wrapping_and_max_lines() -> None:
    cols = 200 // GLYPH_WIDTH
    rows = render_text_to_rows("x" * (cols * 5), width=200, max_lines=3)
    assert rows.shape == (3 * LINE_HEIGHT, 200, 4)
    with pytest.raises(InvalidInputError):
        render_text_to_rows("x", max_lines=0)
    with pytest.raises(InvalidInputError):
        render_text_to_rows("x", width=10)


def test_printable_keeps_ascii_and_approximates_the_rest() -> None:
    assert printable("café — “quoted” 日本") == 'cafe - "quoted" ??'


def test_network_image_shows_the_record_text(tmp_path: Path) -> None:
    path = tmp_path / "n.png"
    PixelNetwork(path, embedder="none").append("What is pxOS?", "A GPU-native OS.")
    image = np.asarray(Image.open(path).convert("L"))
    assert image.shape[1] == 1024
    expected = render_text_to_rows("Q: What is pxOS?")[..., 0]
    height = expected.shape[0]
    # The question line appears verbatim somewhere in the picture.
    matches = [
        y
        for y in range(image.shape[0] - height)
        if np.array_equal(
            image[y : y + height, : 40 * GLYPH_WIDTH], expected[:, : 40 * GLYPH_WIDTH]
        )
    ]
    assert len(matches) == 1
