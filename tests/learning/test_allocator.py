"""The steady allocator is set once per process, unless the user or the ablation says not to."""

from __future__ import annotations

import os
import subprocess
import sys

CODE = "from holomind.learning.allocator import steady_allocator as s; print(s(), s())"


def run(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("HOLOMIND_ALLOCATOR",)}
    clean.pop("MALLOC_MMAP_THRESHOLD_", None)
    done = subprocess.run(
        [sys.executable, "-c", CODE], env={**clean, **env}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_set_on_glibc_and_left_alone_when_asked() -> None:
    assert run() == "True True"  # this machine runs glibc; the second call is the cached first
    assert run(HOLOMIND_ALLOCATOR="glibc") == "False False"
    assert run(MALLOC_MMAP_THRESHOLD_="65536") == "False False"
