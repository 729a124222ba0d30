"""`holomind.sleep.sleep`: incremental replay into a library; the network is never written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from holomind.memory import PixelNetwork
from holomind.sleep import SLEEP_FILE, read_marks, sleep
from tests.sleep.conftest import snapshot


def _domain_folders(lib: Path) -> dict[str, dict[str, bytes]]:
    domains = json.loads((lib / "registry.json").read_text())["domains"]
    return {d["name"]: snapshot(lib / f"domain_{d['id']:03d}") for d in domains}


def test_sleep_is_incremental_and_leaves_the_rest_alone(
    library: Path, make_network: Callable[..., Path]
) -> None:
    net_path = make_network(4)
    png = snapshot(net_path)
    before = _domain_folders(library)
    lines: list[str] = []
    first = sleep(net_path, library, steps=6, settings={"log_every": 3}, write=lines.append)
    assert (first.after, first.upto, first.new, first.rehearsed) == (0, 4, 4, 0)
    assert first.finished and not first.resumed and first.step == 6
    assert lines[-1].startswith("Sleep: Step 6 [stabilization] - Loss: ") and "ETA: " in lines[-1]
    assert snapshot(net_path) == png  # the PNG is read, never written
    after = _domain_folders(library)
    assert after["licences"] == before["licences"] and after["python"] == before["python"]
    assert "memory" in after and "memory" not in before
    marks = read_marks(library)
    (entry,) = marks["networks"].values()
    assert entry["upto"] == 4 and [s["new"] for s in entry["sleeps"]] == [4]

    again = sleep(net_path, library, steps=6)
    assert again.nothing_new and again.step == 0 and read_marks(library) == marks

    PixelNetwork(net_path, embedder="none").append("What is new?", "Kalomi.")
    third = sleep(net_path, library, steps=6)
    assert (third.after, third.upto, third.new, third.rehearsed) == (4, 5, 1, 4)
    entry = read_marks(library)["networks"][next(iter(marks["networks"]))]
    assert entry["upto"] == 5 and [s["new"] for s in entry["sleeps"]] == [4, 1]
    assert len(json.loads((library / "registry.json").read_text())["domains"]) == 3
    assert (library / SLEEP_FILE).is_file()


def test_two_networks_keep_their_own_marks(
    library: Path, make_network: Callable[..., Path], tmp_path: Path
) -> None:
    a = make_network(3, "a.png")
    b = tmp_path / "b.png"
    PixelNetwork(b, embedder="none").append_many([("Who is Bob?", "Zelnyx."), ("Why?", "Ka.")])
    sleep(a, library, steps=3)
    sleep(b, library, steps=3)
    marks = read_marks(library)["networks"]
    assert sorted(m["upto"] for m in marks.values()) == [2, 3]
    assert sorted(Path(m["path"]).name for m in marks.values()) == ["a.png", "b.png"]
