"""The soup runner: rows, resume through checkpoints, hostile checkpoints, publishing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.evolution import Soup, SoupConfig
from holomind.evolution.soup import CHECKPOINT_NAME
from holomind.workspace import GlobalWorkspace

SMALL = SoupConfig(lang="bff", seed=5, num_programs=512)


def test_rows_follow_cubffs_schedule() -> None:
    soup = Soup.new(SMALL)
    rows = list(soup.run(20, print_interval=8))
    assert [r.epoch for r in rows] == [1, 9, 17]
    assert soup.epoch == 21  # epochs 0..20, as cubff's --max_epochs 20
    assert all(r.soup_size == 512 for r in rows)
    assert rows[0].csv().count(",") == 3
    assert soup.history == rows
    assert all(r.ops_per_interaction > 0 for r in rows)


def test_resume_through_a_checkpoint_equals_a_straight_run(tmp_path: Path) -> None:
    straight = Soup.new(SMALL)
    rows = [r.csv() for r in straight.run(40, print_interval=8)]

    first = Soup.new(SMALL)
    resumed_rows = [r.csv() for r in first.run(20, print_interval=8)]
    first.save(tmp_path / CHECKPOINT_NAME)
    second = Soup.load(tmp_path)  # a directory finds its soup.ckpt
    resumed_rows += [r.csv() for r in second.run(40, print_interval=8)]

    assert resumed_rows == rows
    assert np.array_equal(second.programs, straight.programs)
    assert (second.epoch, second.total_ops) == (straight.epoch, straight.total_ops)


def test_stop_ends_the_run_after_that_row() -> None:
    soup = Soup.new(SMALL)
    rows = list(soup.run(100, print_interval=4, stop=lambda r: r.epoch >= 9))
    assert [r.epoch for r in rows] == [1, 5, 9]
    assert soup.epoch == 9


def test_transition_is_detected_and_published() -> None:
    programs = np.tile(np.arange(64, dtype=np.uint8), (64, 1))
    soup = Soup(SoupConfig(num_programs=64, mutation_prob=0), programs)
    ws = GlobalWorkspace()
    try:
        rows = list(soup.run(0, eval_selfrep=True, workspace=ws))
        assert soup.transition_epoch == 1
        assert ws.read("soup/epoch") == 1
        assert ws.read("soup/higher_entropy") == rows[0].higher_entropy > 3.0
        assert ws.read("soup/diversity") == rows[0].diversity
        assert ws.read("soup/replicators") == rows[0].replicators == 0
        assert ws.read("avg_entropy") == rows[0].higher_entropy
        assert ws.read("diversity_index") == rows[0].diversity
    finally:
        ws.close()


def test_bad_configs_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="language"):
        SoupConfig(lang="brainfuck")
    with pytest.raises(InvalidInputError, match="even"):
        SoupConfig(num_programs=7)
    with pytest.raises(InvalidInputError):
        SoupConfig(seed=-1)


def _checkpoint(tmp_path: Path) -> tuple[Path, bytes]:
    soup = Soup.new(SoupConfig(num_programs=16))
    list(soup.run(3))
    path = tmp_path / CHECKPOINT_NAME
    soup.save(path)
    return path, path.read_bytes()


def test_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="no soup checkpoint"):
        Soup.load(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:100],  # truncated body
        lambda b: b[:20],  # truncated header
        lambda b: b[:-1] + bytes([b[-1] ^ 1]),  # one flipped bit in the soup
        lambda b: b"PNG" + b[3:],  # another file type
        lambda b: b.replace(b'"format": 1', b'"format": 9'),
        lambda b: b.replace(b'"lang": "bff_noheads"', b'"lang": "xxx_noheads"'),
        lambda b: b.replace(b'"transition_epoch": null', b'"transition_epoch": "ab"'),
    ],
)
def test_damaged_checkpoints_are_refused(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    path, data = _checkpoint(tmp_path)
    path.write_bytes(damage(data))
    with pytest.raises(CorruptFileError, match="not a usable soup checkpoint"):
        Soup.load(path)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(max_size=300))
def test_random_bytes_are_never_a_checkpoint(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "junk.ckpt"
    path.write_bytes(junk)
    with pytest.raises(CorruptFileError):
        Soup.load(path)
