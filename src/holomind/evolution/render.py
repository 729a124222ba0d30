"""A picture of the soup: one row of pixels per program, each byte coloured by what it does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from holomind.evolution.bff import PROGRAM_SIZE
from holomind.files import replacing


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
    return _save_png(soup_image(programs), path)


def _save_png(img: Image.Image, path: Path) -> Path:
    path = Path(path)
    with replacing(path) as f:
        img.save(f, format="PNG")
    return path


def curve_image(
    epochs: list[int], values: list[float], title: str, threshold: float | None = None
) -> Image.Image:
    """A line chart of ``values`` over ``epochs`` with labelled axes (and a dashed threshold)."""
    if not epochs or len(epochs) != len(values):
        raise ValueError("a curve needs as many values as epochs, at least one")
    width, height, left, right, top, bottom = 900, 420, 70, 20, 40, 50
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    x0, x1 = min(epochs), max(epochs)
    lows = [*values, 0.0] + ([threshold] if threshold is not None else [])
    y0, y1 = min(lows), max(lows) * 1.05 or 1.0
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def xy(x: float, y: float) -> tuple[float, float]:
        return (
            left + (x - x0) / (x1 - x0) * (width - left - right),
            height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom),
        )

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for i in range(6):
        ex, vy = x0 + (x1 - x0) * i / 5, y0 + (y1 - y0) * i / 5
        px, _ = xy(ex, y0)
        _, py = xy(x0, vy)
        draw.line([px, height - bottom, px, height - bottom + 5], fill="black")
        draw.text((px - 15, height - bottom + 8), f"{ex:.0f}", fill="black")
        draw.line([left - 5, py, left, py], fill="black")
        draw.text((5, py - 6), f"{round(vy, 2) + 0.0:.2f}", fill="black")
    if threshold is not None and y0 <= threshold <= y1:
        _, ty = xy(x0, threshold)
        for sx in range(left, width - right, 12):
            draw.line([sx, ty, min(sx + 6, width - right), ty], fill=(200, 0, 0))
    draw.line([xy(x, y) for x, y in zip(epochs, values, strict=True)], fill=(0, 70, 200), width=2)
    draw.text((left, 12), title, fill="black")
    draw.text((width // 2 - 20, height - 20), "epoch", fill="black")
    return img


def save_curve_png(
    epochs: list[int], values: list[float], path: Path, title: str, threshold: float | None = None
) -> Path:
    """Write the line chart of `curve_image` to ``path`` as a PNG, atomically."""
    return _save_png(curve_image(epochs, values, title, threshold), path)
