"""`holomind train`: the real command in a subprocess, Ctrl-C included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from holomind.learning.texts import build_corpus

TINY = ["--dim", "32", "--stem-depth", "2", "--heads", "2", "--rank", "2", "--batch", "8"]


def test_train_prints_progress_and_writes_library_and_tensorboard(holomind, tmp_path: Path) -> None:
    data = build_corpus(tmp_path / "data", size=4000)
    lib = tmp_path / "lib"
    done = holomind(
        "train",
        str(data),
        "--library",
        str(lib),
        "--stem-steps",
        "40",
        "--steps",
        "30",
        "--log-every",
        "10",
        *TINY,
    )
    assert done.returncode == 0, done.stderr
    assert "Step 40 [stem] - Loss: " in done.stdout
    assert "Step 30 [stabilization] - Loss: " in done.stdout
    assert " - Active: " in done.stdout and " MB" in done.stdout
    assert (lib / "registry.json").is_file() and (lib / "stem" / "stem.safetensors").is_file()
    assert list((lib / "logs").glob("events.out.tfevents.*"))
    # a second run reuses the frozen stem and the cartridges: nothing is spawned again
    again = holomind("train", str(data), "--library", str(lib), "--steps", "5", "--json", *TINY)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["cartridges"] == json.loads((lib / "registry.json").read_text())["count"]
    assert summary["step"] == 5 and not summary["stopped_early"]


def test_config_file_and_flags(holomind, tmp_path: Path) -> None:
    data = build_corpus(tmp_path / "data", size=3000)
    cfg = tmp_path / "train.toml"
    cfg.write_text("stem_steps = 5\nsteps = 3\ndim = 32\nn_head = 2\nstem_depth = 2\nbatch = 4\n")
    args = ("train", str(data), "--library", str(tmp_path / "lib"), "--config", str(cfg))
    done = holomind(*args, "--adapted-layers-is-not-a-flag")
    assert done.returncode == 2 and "No such option" in done.stderr
    assert not (tmp_path / "lib").exists()
    done = holomind(*args, "--rank", "2", "--json")
    assert done.returncode == 0, done.stderr
    config = json.loads(done.stdout)["config"]
    assert (config["dim"], config["steps"], config["adapter_rank"]) == (32, 3, 2)


def test_bad_inputs_give_one_line_and_exit_2(holomind, tmp_path: Path) -> None:
    missing = holomind("train", str(tmp_path / "nowhere"), "--library", str(tmp_path / "lib"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"error: data folder {tmp_path / 'nowhere'} does not exist: check the path"
    ]
    (tmp_path / "empty").mkdir()
    empty = holomind("train", str(tmp_path / "empty"), "--library", str(tmp_path / "lib"))
    assert empty.returncode == 2 and "no usable *.txt files" in empty.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    data = build_corpus(tmp_path / "data", size=2000)
    broken = holomind("train", str(data), "--config", str(bad))
    assert broken.returncode == 2 and "is not valid json" in broken.stderr
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"wings": 2}')
    odd = holomind("train", str(data), "--config", str(unknown))
    assert odd.returncode == 2 and "unknown settings ['wings']" in odd.stderr
    assert not (tmp_path / "lib").exists()


def test_ctrl_c_saves_and_stops_cleanly(holomind_home: Path, tmp_path: Path) -> None:
    data = build_corpus(tmp_path / "data", size=4000)
    lib = tmp_path / "lib"
    env = {**os.environ, "HOLOMIND_HOME": str(holomind_home), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "holomind",
            "train",
            str(data),
            "--library",
            str(lib),
            "--stem-steps",
            "20",
            "--steps",
            "100000",
            "--log-every",
            "5",
            *TINY,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if "[representation]" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Stopped by Ctrl-C at step" in out and f"--library {lib} --resume" in out
    assert "Traceback" not in err
    registry = json.loads((lib / "registry.json").read_text())
    assert registry["count"] >= 3
    listed = subprocess.run(
        [sys.executable, "-m", "holomind", "cartridges", "list", "--library", str(lib), "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    steps = [c["steps"] for c in json.loads(listed.stdout)]
    assert len(steps) == registry["count"] and max(steps) > 0
