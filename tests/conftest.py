"""Shared test set-up: an isolated HOLOMIND_HOME, few threads, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Native libraries get one thread each: this machine has two cores.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


@pytest.fixture(autouse=True)
def holomind_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own HOLOMIND_HOME so no test touches ~/.holomind."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOLOMIND_HOME", str(home))
    return home


CliRunner = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def holomind(holomind_home: Path) -> CliRunner:
    """Run the real `holomind` command in a subprocess; returns the completed process."""
    return _cli_runner(holomind_home)


@pytest.fixture(scope="module")
def holomind_module(tmp_path_factory: pytest.TempPathFactory) -> CliRunner:
    """`holomind`, for module-scoped fixtures: one isolated HOLOMIND_HOME per test module."""
    return _cli_runner(tmp_path_factory.mktemp("module_home"))


def _cli_runner(holomind_home: Path) -> CliRunner:
    def run(
        *args: str,
        input: str | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 600,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess:
        full_env = {**os.environ, "HOLOMIND_HOME": str(holomind_home), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "holomind", *args],
            input=input,
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            cwd=cwd,
        )

    return run
