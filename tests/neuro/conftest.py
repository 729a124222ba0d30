"""Brian2 for the tests: one compiled-code cache per test session, so each network compiles once."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def brian_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's Brian2 cache (tests/sim shares it: the same folder under the base temp)."""
    path = tmp_path_factory.getbasetemp() / "brian2-cache"
    path.mkdir(exist_ok=True)
    return path
