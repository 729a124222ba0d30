"""`holomind sleep`: the real command on networks made by `holomind memory add`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.sleep.conftest import snapshot


def _add(holomind, net: Path, *pairs: tuple[str, str]) -> None:
    for question, answer in pairs:
        done = holomind(
            "memory", "add", str(net), "-q", question, "-a", answer, "--embedder", "none"
        )
        assert done.returncode == 0, done.stderr


def test_bad_inputs_give_one_line_exit_2_and_change_nothing(
    holomind, library: Path, make_network: Callable[..., Path], tmp_path: Path
) -> None:
    net = make_network(2)
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    empty = tmp_path / "empty.png"
    exported = holomind("memory", "export", str(net), str(empty), "--grep", "no such words")
    assert exported.returncode == 0, exported.stderr
    before = snapshot(library), snapshot(net), snapshot(empty), snapshot(text)
    cases = [
        (net, tmp_path / "nolib", f"error: {tmp_path / 'nolib'} is not a cartridge library: "
         "make one with `holomind train DATA --library LIB`"),
        (tmp_path / "none.png", library,
         f"error: {tmp_path / 'none.png'} does not exist: name a pixel network PNG"),
        (text, library, f"error: {text} is not a PNG file: name a pixel network .png"),
        (empty, library, f"error: {empty} holds no records: there is nothing to consolidate: "
         "teach it first with `holomind memory add` or `holomind chat`"),
    ]  # fmt: skip
    for network, lib, line in cases:
        done = holomind("sleep", str(network), "--library", str(lib))
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines() == [line]
    assert (snapshot(library), snapshot(net), snapshot(empty), snapshot(text)) == before
    assert not (tmp_path / "nolib").exists()


def test_sleep_prints_progress_and_report_then_nothing_new(
    holomind, library: Path, tmp_path: Path
) -> None:
    net = tmp_path / "net.png"
    _add(holomind, net, ("Who invented the Trerugor?", "Wimlosku."), ("Why?", "Kalomi."))
    done = holomind(
        "sleep", str(net), "--library", str(library), "--steps", "6", "--log-every", "3"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [ln.split(" - ")[0] for ln in lines if ln.startswith("Sleep: Step")] == [
        "Sleep: Step 3 [alignment]",
        "Sleep: Step 6 [stabilization]",
    ]
    assert all(" - ETA: " in ln for ln in lines if ln.startswith("Sleep: Step"))
    assert "Replayed 2 new records ×4, 0 rehearsed ×1" in lines
    assert any(ln.startswith("  memory: replay held-out loss ") for ln in lines)
    assert "TRAINING SUMMARY - PHASED LOCAL LEARNING" in lines
    assert any(ln.startswith("  Coefficient of variation: ") for ln in lines)
    assert lines[-1] == f"Done: records 1–2 consolidated into {library}"
    again = holomind("sleep", str(net), "--library", str(library), "--json")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["nothing_new"] and result["upto"] == 2 and result["step"] == 0


def _sleep(home: Path, net: Path, lib: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "HOLOMIND_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "holomind", "sleep", str(net), "--library", str(lib), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _signal_at(proc: subprocess.Popen, marker: str, sig: int) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(marker):
            proc.send_signal(sig)
            return
    raise AssertionError(f"the sleep ended before {marker!r}")


def _memory_cartridge(lib: Path) -> bytes:
    domains = json.loads((lib / "registry.json").read_text())["domains"]
    (memory,) = [d["id"] for d in domains if d["name"] == "memory"]
    folder = lib / f"domain_{memory:03d}" / "cart_0000"
    return (folder / "weights.safetensors").read_bytes() + (
        folder / "optimizer.safetensors"
    ).read_bytes()


def test_sigkill_and_ctrl_c_lose_nothing_and_the_next_sleep_continues_exactly(
    holomind, holomind_home: Path, library: Path, make_network: Callable[..., Path], tmp_path: Path
) -> None:
    import shutil

    net = make_network(3)
    whole = Path(shutil.copytree(library, tmp_path / "whole"))
    args = ("--steps", "16", "--log-every", "1", "--checkpoint-every", "4")
    done = holomind("sleep", str(net), "--library", str(whole), *args)
    assert done.returncode == 0, done.stderr

    proc = _sleep(holomind_home, net, library, *args)
    _signal_at(proc, "Sleep: Step 6 [", signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (library / "sleep.json").exists()  # the mark moves only with the last commit
    proc = _sleep(holomind_home, net, library, *args)
    _signal_at(proc, "Sleep: Step 10 [", signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"Continue with: holomind sleep {net} --library {library}" in out
    assert "Continued an interrupted sleep (3 new records ×4, 0 rehearsed ×1)" in out
    assert not (library / "sleep.json").exists()
    resumed = holomind("sleep", str(net), "--library", str(library), *args)
    assert resumed.returncode == 0, resumed.stderr
    assert "Continued an interrupted sleep" in resumed.stdout
    assert _memory_cartridge(library) == _memory_cartridge(whole)
    marks = json.loads((library / "sleep.json").read_text())["networks"]
    assert [m["upto"] for m in marks.values()] == [3]
