"""Helpers shared by the pixel-network tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def pngcheck() -> Callable[[Path], None]:
    """Assert that Debian's pngcheck accepts a file."""

    def check(path: Path) -> None:
        out = subprocess.run(["pngcheck", str(path)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr

    return check
