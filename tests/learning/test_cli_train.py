"""`holomind train`: the real command in a subprocess, Ctrl-C included."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def test_pragnosia_preset_prints_the_seeds_banners_and_final_report(
    holomind, tmp_path: Path
) -> None:
    data = build_corpus(tmp_path / "data", size=3000)
    lib = str(tmp_path / "lib")
    args = ("--stem-steps", "10", "--steps", "20", "--log-every", "5", *TINY)
    done = holomind("train", str(data), "--library", lib, "--preset", "pragnosia", *args)
    assert done.returncode == 0, done.stderr
    rule = "=" * 80
    for phase in ("REPRESENTATION", "ALIGNMENT", "STABILIZATION"):
        assert f"{rule}\nPHASE TRANSITION: Entering {phase} phase\n{rule}\n" in done.stdout
    # the progress line shows the phase's learning rate and each intrinsic term
    assert "Step 5 [representation] - Loss: " in done.stdout
    assert " - LR: 0.0100 - " in done.stdout and " - LR: 0.0010 - " in done.stdout
    assert " - surprise: " in done.stdout and " - compression: " in done.stdout
    report = done.stdout[done.stdout.index("TRAINING SUMMARY - PHASED LOCAL LEARNING") :]
    count = json.loads((tmp_path / "lib" / "registry.json").read_text())["count"]
    assert "Coefficient of variation: " in report and f"Frozen cartridges: 0/{count}" in report
    assert "Final phase: STABILIZATION" in report and "✓ All phases completed" in report
    for phase in ("representation", "alignment", "stabilization"):
        assert f"\n  {phase}: Loss " in report
    # switched off: no intrinsic term is computed; the report is in the JSON summary
    off = holomind("train", str(data), "--library", lib, "--steps", "4", "--no-intrinsic", "--json")
    assert off.returncode == 0, off.stderr
    summary = json.loads(off.stdout)
    assert summary["config"]["intrinsic"] is False and summary["config"]["preset"] == "holomind"
    assert [p["name"] for p in summary["report"]["phases"]] == [
        "representation",
        "alignment",
        "stabilization",
    ]
    assert summary["report"]["all_phases_completed"] and summary["report"]["cartridges"] == count
    bad = holomind("train", str(data), "--library", lib, "--preset", "brainy")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: unknown preset 'brainy': use one of holomind, pragnosia"
    ]


def _train(home: Path, data: Path, lib: Path, *args: str) -> subprocess.Popen:
    """`holomind train` started in the background, its output unbuffered."""
    env = {**os.environ, "HOLOMIND_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "holomind", "train", str(data), "--library", str(lib), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _signal_at(proc: subprocess.Popen, marker: str, sig: int, unless: str = "\0") -> str:
    """Send ``sig`` once a progress line starts with ``marker`` (and lacks ``unless``)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if (line.startswith(marker) and unless not in line) or time.monotonic() > deadline:
            proc.send_signal(sig)
            return line
    err = proc.stderr.read() if proc.stderr else ""
    raise AssertionError(f"the run ended before {marker!r}: {err}")


def test_ctrl_c_in_the_stem_stage_keeps_no_half_stem_and_resumes(
    holomind, holomind_home: Path, tmp_path: Path
) -> None:
    data = build_corpus(tmp_path / "data", size=4000)
    lib = tmp_path / "lib"
    args = ("--stem-steps", "150", "--steps", "20", "--log-every", "5", *TINY)
    proc = _train(holomind_home, data, lib, *args)
    _signal_at(proc, "Step 5 [stem]", signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Stopped by Ctrl-C at step" in out and f"--library {lib} --resume" in out
    assert "Traceback" not in err
    # the half-trained stem is not a library: only the run's state holds it
    assert not (lib / "registry.json").exists() and not (lib / "stem").exists()
    run = json.loads((lib / "run" / "state.json").read_text())
    assert run["state"]["stage"] == "stem" and 5 <= run["state"]["step"] < 150
    again = holomind("train", str(data), "--library", str(lib), *args)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        f"error: {lib} holds an unfinished run (stage stem, step {run['state']['step']} of 150):"
        f" continue it with --resume, or delete {lib / 'run'} to train anew from what is saved"
    ]
    done = holomind("train", str(data), "--library", str(lib), "--resume", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["stage"], summary["step"]) == ("cartridges", 20)
    assert not summary["stopped_early"]
    listed = holomind("cartridges", "list", "--library", str(lib), "--json")
    steps = [c["steps"] for c in json.loads(listed.stdout)]
    assert len(steps) == 3 and min(steps) > 0


def _library_digest(lib: Path) -> str:
    """SHA-256 over every file of a library and its run state (but spawn times and logs)."""
    h = hashlib.sha256()
    for path in sorted(p for p in lib.rglob("*") if p.is_file()):
        rel = path.relative_to(lib)
        if rel.parts[0] == "logs" or path.name == ".lock":
            continue
        blob = path.read_bytes()
        if path.name == "meta.json":
            meta = json.loads(blob)
            meta.pop("created")
            blob = json.dumps(meta, sort_keys=True).encode()
        h.update(str(rel).encode() + b"\0" + blob)
    return h.hexdigest()


@pytest.mark.slow
def test_sigkill_at_random_steps_then_resume_ends_bit_identical(
    holomind, holomind_home: Path, tmp_path: Path
) -> None:
    data = build_corpus(tmp_path / "data", size=3000)
    args = ("--stem-steps", "30", "--steps", "40", "--log-every", "1", "--checkpoint-every", "7")
    whole = holomind("train", str(data), "--library", str(tmp_path / "whole"), *args, *TINY)
    assert whole.returncode == 0, whole.stderr
    rng = random.Random(10)  # fixed, so a failure can be replayed
    in_stem, in_cartridges = rng.randint(1, 29), rng.randint(1, 39)
    lib = tmp_path / "killed"
    proc = _train(holomind_home, data, lib, *args, *TINY)
    _signal_at(proc, f"Step {in_stem} [stem]", signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert not (lib / "registry.json").exists()  # killed in the stem stage: no stem yet
    proc = _train(holomind_home, data, lib, "--resume")
    _signal_at(proc, f"Step {in_cartridges} [", signal.SIGKILL, unless="[stem]")
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    done = holomind("train", str(data), "--library", str(lib), "--resume")
    assert done.returncode == 0, done.stderr
    assert _library_digest(lib) == _library_digest(tmp_path / "whole"), (in_stem, in_cartridges)
