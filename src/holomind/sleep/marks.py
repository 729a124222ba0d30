"""How far a library has consolidated each pixel network: ``LIB/sleep.json``.

A network is known by the hash of its first record (so a moved or copied PNG
is still the same memory); for each, the file keeps the mark — records
``1..upto`` are consolidated — and a short history of sleeps. It is written only
in the commit that ends a sleep, together with the cartridges that sleep
trained (`Trainer.extra_files`), so the mark can never run ahead of the weights.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from holomind.errors import CorruptFileError
from holomind.memory import PixelNetwork

SLEEP_FILE = "sleep.json"
SLEEP_FORMAT = 1
HISTORY = 20  # sleeps remembered per network


def network_key(network: PixelNetwork) -> str:
    """A network's identity: its first record's content hash ("" for an empty network)."""
    first = network.get(1)
    return first.hash if first is not None else ""


def read_marks(root: Path) -> dict[str, Any]:
    """The library's sleep bookkeeping; an empty one when it has never slept."""
    path = root / SLEEP_FILE
    if not path.is_file():
        return {"format": SLEEP_FORMAT, "networks": {}}
    try:
        data = json.loads(path.read_text())
        if data.get("format") != SLEEP_FORMAT or not isinstance(data.get("networks"), dict):
            raise ValueError(f"unknown format {data.get('format')!r}")
        return data
    except (ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise CorruptFileError(
            f"{path} is not a sleep record ({exc})",
            hint=f"delete {path} to consolidate every record again",
        ) from None


def mark_of(marks: dict[str, Any], key: str) -> int:
    """The last record id consolidated from network ``key`` (0 when never)."""
    return int(marks["networks"].get(key, {}).get("upto", 0))


def with_sleep(marks: dict[str, Any], key: str, path: str, entry: dict[str, Any]) -> bytes:
    """The bookkeeping after one more finished sleep (``entry`` has its ``upto``), as bytes."""
    networks = dict(marks["networks"])
    known = dict(networks.get(key, {}))
    history = [*known.get("sleeps", []), entry][-HISTORY:]
    networks[key] = {"path": path, "upto": entry["upto"], "sleeps": history}
    return json.dumps({"format": SLEEP_FORMAT, "networks": networks}, indent=1).encode()
