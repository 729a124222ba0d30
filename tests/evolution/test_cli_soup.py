"""`holomind soup` end to end: cubff's reference logs reproduced exactly, resume, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from holomind.evolution import Soup
from holomind.evolution.soup import CHECKPOINT_NAME

DATA = Path(__file__).resolve().parent.parent / "data" / "cubff"
REFERENCE = ["--seed", "10248", "--epochs", "256", "--threads", "1"]


@pytest.fixture(scope="module")
def straight(holomind_module, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """cubff's bff_noheads reference run (257 epochs of 2**17 programs), done once."""
    out = tmp_path_factory.mktemp("straight")
    proc = holomind_module(
        "soup",
        "--lang",
        "bff_noheads",
        *REFERENCE,
        "--log",
        str(out / "log.csv"),
        "--checkpoint-dir",
        str(out / "ckpt"),
    )
    assert proc.returncode == 0, proc.stderr
    return out


def test_bff_noheads_reproduces_cubffs_log(straight: Path) -> None:
    expected = (DATA / "bff_noheads.txt").read_text()
    assert (straight / "log.csv").read_text() == expected


def test_bff_reproduces_cubffs_log(holomind, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "bff.csv"
    proc = holomind("soup", "--lang", "bff", *REFERENCE, "--log", str(log), "--top", "2")
    assert proc.returncode == 0, proc.stderr
    assert log.read_text() == (DATA / "bff.txt").read_text()
    assert "epoch     257" in proc.stdout


def test_resume_128_plus_128_equals_256_straight(holomind, tmp_path: Path, straight: Path) -> None:  # type: ignore[no-untyped-def]
    log, ckpt = tmp_path / "log.csv", tmp_path / "ckpt"
    common = ["--threads", "1", "--log", str(log), "--checkpoint-dir", str(ckpt)]
    first = holomind("soup", "--seed", "10248", "--epochs", "128", *common)
    assert first.returncode == 0, first.stderr
    assert Soup.load(ckpt).epoch == 129
    second = holomind("soup", "--resume", str(ckpt), "--epochs", "256", *common)
    assert second.returncode == 0, second.stderr
    assert log.read_text() == (DATA / "bff_noheads.txt").read_text()
    assert (ckpt / CHECKPOINT_NAME).read_bytes() == (
        straight / "ckpt" / CHECKPOINT_NAME
    ).read_bytes()


def test_small_run_with_selfrep_png_and_json(holomind, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log, png, plot = tmp_path / "log.csv", tmp_path / "soup.png", tmp_path / "curve.png"
    proc = holomind(
        "soup",
        *("--num", "256", "--epochs", "64", "--print-interval", "32", "--threads", "1"),
        *("--eval-selfrep", "--log", str(log), "--png", str(png), "--json", "--top", "3"),
        *("--plot", str(plot)),
    )
    assert proc.returncode == 0, proc.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == "epoch,brotli_size,soup_size,higher_entropy,number_selfreps"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "33", "65"]
    assert all(len(line.split(",")) == 5 for line in lines[1:])
    summary = json.loads(proc.stdout)
    assert summary["epochs_run"] == 65
    assert summary["last_row"]["epoch"] == 65
    assert len(summary["most_common"]) == 3
    with Image.open(png) as img:
        assert img.size == (64, 256)
    with Image.open(plot) as img:
        assert img.format == "PNG"
    assert summary["plot"] == str(plot)


def test_ga_mode(holomind, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "ga.csv"
    proc = holomind(
        "soup", "--mode", "ga", "--epochs", "4", "--num", "30", "--log", str(log), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["generations"] == 4
    rows = log.read_text().splitlines()
    assert rows[0] == "generation,max_fitness,avg_fitness,diversity,best"
    assert len(rows) == 5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lang", "cobol"], "cobol"),
        (["--num", "7", "--epochs", "0"], "even number"),
        (["--threads", "999", "--epochs", "0"], "exceeds numba"),
        (["--resume", "/nonexistent/dir"], "no soup checkpoint"),
        (["--epochs", "-1"], "--epochs"),
        (["--mutation-prob", "2"], "--mutation-prob"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(holomind, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    proc = holomind("soup", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_checkpoint_and_conflicting_resume(holomind, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ckpt = tmp_path / "ckpt"
    ok = holomind("soup", "--num", "64", "--epochs", "2", "--checkpoint-dir", str(ckpt))
    assert ok.returncode == 0, ok.stderr
    clash = holomind("soup", "--resume", str(ckpt), "--seed", "3", "--epochs", "4")
    assert clash.returncode == 2
    assert "differs from the checkpoint" in clash.stderr
    faster = holomind("soup", "--resume", str(ckpt), "--mutation-prob", "0.5", "--epochs", "4")
    assert faster.returncode == 2
    assert "--mutation-prob 0.5 differs from the checkpoint's 0.000244140625" in faster.stderr
    path = ckpt / CHECKPOINT_NAME
    damaged = path.read_bytes()[:-5]
    path.write_bytes(damaged)
    bad = holomind("soup", "--resume", str(ckpt), "--epochs", "4")
    assert bad.returncode == 2
    assert "not a usable soup checkpoint" in bad.stderr
    assert path.read_bytes() == damaged  # the damaged file is left as it was


def test_ctrl_c_saves_the_checkpoint_and_exits_130(tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    env = {**os.environ, "HOLOMIND_HOME": str(tmp_path / "home")}
    args = ["--num", "2048", "--epochs", "1000000", "--print-interval", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "holomind", "soup", *args, "--checkpoint-dir", str(ckpt)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first row: the run is under way
    assert first.startswith("epoch")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in out
    soup = Soup.load(ckpt)
    assert 1 <= soup.epoch < 1_000_000
