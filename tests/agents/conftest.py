"""Agent tests share the neuro tests' Brian2 cache (each network compiles once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from holomind.agents import EnvConfig, ModulationEnv
from tests.neuro.conftest import brian_cache  # noqa: F401 -- the session-wide fixture


@pytest.fixture
def env(brian_cache: Path) -> ModulationEnv:  # noqa: F811
    """The default training environment (seed network, 200 neurons, 25 ms chunks)."""
    made = ModulationEnv(EnvConfig(), cache_dir=brian_cache)
    yield made
    made.close()
