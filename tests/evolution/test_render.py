"""The soup picture: a real PNG, one row per program, coloured by instruction."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from holomind.evolution.render import byte_palette, save_soup_png


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


@pytest.mark.skipif(shutil.which("pngcheck") is None, reason="pngcheck not installed")
def test_png_passes_pngcheck(tmp_path: Path) -> None:
    soup = np.random.default_rng(0).integers(0, 256, size=(100, 64), dtype=np.uint8)
    path = save_soup_png(soup, tmp_path / "soup.png")
    assert subprocess.run(["pngcheck", str(path)], capture_output=True).returncode == 0


def test_wrong_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="programs"):
        save_soup_png(np.zeros((3, 10), dtype=np.uint8), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
