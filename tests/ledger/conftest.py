"""Helpers shared by the ledger tests: a fresh ledger with two funded accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from holomind.ledger import Ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    """A new ledger with accounts alice (100 HMC) and bob (0): entries #1-#4."""
    led = Ledger.open(tmp_path / "ledger", create=True)
    with led.batch():
        led.create_account("alice")
        led.create_account("bob")
        led.mint("alice", 100, "start")
    yield led
    led.close()
