"""Every workspace key the product publishes is documented in docs/workspace-keys.md.

The key names are read from the source (a string literal as the first argument of a
``….write(`` or ``publish(`` call on a workspace), so a new key without a row fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRITE = re.compile(r"(?:workspace|ws|hub|bus)\.(?:write|publish)\(\s*\"([^\"]+)\"")
ROW = re.compile(r"^\| `([^`]+)` \|", re.M)


def published_keys() -> dict[str, str]:
    """Key -> the first source file that writes it."""
    keys: dict[str, str] = {}
    for path in sorted((ROOT / "src" / "holomind").rglob("*.py")):
        for key in WRITE.findall(path.read_text(encoding="utf-8")):
            keys.setdefault(key, str(path.relative_to(ROOT)))
    return keys


def test_the_scan_finds_the_keys_it_should() -> None:
    keys = published_keys()
    # one from each part, so a change in how keys are written cannot empty the check
    for key in ("bridge/turn", "train/metrics", "neuro/state", "modulation", "agents/rl"):
        assert key in keys


def test_every_published_key_has_a_row() -> None:
    documented = set(ROW.findall((ROOT / "docs" / "workspace-keys.md").read_text("utf-8")))
    missing = {k: v for k, v in published_keys().items() if k not in documented}
    assert missing == {}
