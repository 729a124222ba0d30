"""A picture of the soup: one row of pixels per program, each byte coloured by what it does."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from holomind.evolution.bff import PROGRAM_SIZE


def byte_palette() -> np.ndarray:
    """RGB for every byte value: loops green, data ops magenta, head moves blue, zero red."""
    shade = (192 + np.arange(256) // 4).astype(np.uint8)
    palette = np.stack([shade, shade, shade], axis=1)  # data bytes: light grey ramp
    palette[0] = (255, 0, 0)
    for chars, rgb in (("[]", (0, 192, 0)), ("+-.,", (200, 0, 200)), ("<>{}", (0, 128, 220))):
        for c in chars:
            palette[ord(c)] = rgb
    return palette


def soup_image(programs: np.ndarray) -> Image.Image:
    """The soup as an RGB image, 64 pixels wide and one row per program."""
    if programs.ndim != 2 or programs.shape[1] != PROGRAM_SIZE:
        raise ValueError(f"expected (n, {PROGRAM_SIZE}) programs, got shape {programs.shape}")
    return Image.fromarray(byte_palette()[programs], mode="RGB")


def save_soup_png(programs: np.ndarray, path: Path) -> Path:
    """Write the soup's picture to ``path`` as a PNG, atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        soup_image(programs).save(tmp, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
