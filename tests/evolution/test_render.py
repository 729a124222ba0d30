"""The soup picture: a real PNG, one row per program, coloured by instruction."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from holomind.evolution.render import byte_palette, save_curve_png, save_soup_png


def test_png_has_a_row_per_program_and_instruction_colours(tmp_path: Path) -> None:
    soup = np.zeros((3, 64), dtype=np.uint8)
    soup[1, :4] = np.frombuffer(b"[+<a", dtype=np.uint8)
    path = save_soup_png(soup, tmp_path / "soup.png")
    with Image.open(path) as img:
        assert img.format == "PNG"
        assert img.size == (64, 3)
        px = img.convert("RGB").load()
        assert px[0, 0] == (255, 0, 0)  # zero byte
        assert px[0, 1] == (0, 192, 0)  # loop
        assert px[1, 1] == (200, 0, 200)  # data op
        assert px[2, 1] == (0, 128, 220)  # head move
        assert px[3, 1] == tuple(byte_palette()[ord("a")])
    assert [p.name for p in tmp_path.iterdir()] == ["soup.png"]  # no temp file left


def test_png_passes_pngcheck(tmp_path: Path) -> None:
    soup = np.random.default_rng(0).integers(0, 256, size=(100, 64), dtype=np.uint8)
    path = save_soup_png(soup, tmp_path / "soup.png")
    assert subprocess.run(["pngcheck", str(path)], capture_output=True).returncode == 0


def test_wrong_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="programs"):
        save_soup_png(np.zeros((3, 10), dtype=np.uint8), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_curve_png_draws_the_line_and_the_threshold(tmp_path: Path) -> None:
    path = save_curve_png([1, 65, 129], [0.0, 1.5, 3.5], tmp_path / "c.png", "H", threshold=3.0)
    with Image.open(path) as img:
        assert img.size == (900, 420)
        colours = {c for _, c in img.convert("RGB").getcolors(maxcolors=100000)}
    assert (0, 70, 200) in colours  # the curve
    assert (200, 0, 0) in colours  # the dashed threshold
    with pytest.raises(ValueError, match="as many values"):
        save_curve_png([1, 2], [0.5], tmp_path / "bad.png", "H")
