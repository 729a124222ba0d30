"""Simulation tests share the neuro tests' Brian2 cache, and give CLI homes the same one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.neuro.conftest import brian_cache  # noqa: F401 -- the session-wide fixture


@pytest.fixture
def sim_home(holomind_home: Path, brian_cache: Path) -> Path:  # noqa: F811
    """This test's HOLOMIND_HOME, its brian2/ folder the session's compiled-code cache."""
    (holomind_home / "brian2").symlink_to(brian_cache, target_is_directory=True)
    return holomind_home
