"""The BFF kernels: SplitMix64, the interpreter (against a plain reference), pairing, selfrep."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holomind.evolution import bff

REPLICATOR = bff.NOHEADS_REPLICATOR


def reference_evaluate(tape: bytearray, heads: bool, limit: int) -> int:
    """cubff's interpreter loop written plainly: one step per byte, no shortcuts."""
    if heads:
        h0, h1, pos = tape[0] % 128, tape[1] % 128, 2
    else:
        h0 = h1 = pos = 0
    steps = skipped = 0
    while steps < limit:
        h0 &= 127
        h1 &= 127
        c = chr(tape[pos])
        if c == "<":
            h0 -= 1
        elif c == ">":
            h0 += 1
        elif c == "{":
            h1 -= 1
        elif c == "}":
            h1 += 1
        elif c == "+":
            tape[h0] = (tape[h0] + 1) % 256
        elif c == "-":
            tape[h0] = (tape[h0] - 1) % 256
        elif c == ".":
            tape[h1] = tape[h0]
        elif c == ",":
            tape[h0] = tape[h1]
        elif c == "[":
            if tape[h0] == 0:
                depth, pos = 1, pos + 1
                while pos < 128 and depth > 0:
                    depth += {"]": -1, "[": 1}.get(chr(tape[pos]), 0)
                    pos += 1
                pos -= 1
                if depth:
                    pos = 128
        elif c == "]":
            if tape[h0] != 0:
                depth, pos = 1, pos - 1
                while pos >= 0 and depth > 0:
                    depth += {"]": 1, "[": -1}.get(chr(tape[pos]), 0)
                    pos -= 1
                pos += 1
                if depth:
                    pos = -1
        else:
            skipped += 1
        steps += 1
        if pos < 0:
            break
        pos += 1
        if pos >= 128:
            break
    return steps - skipped


def test_splitmix64_matches_the_published_sequence() -> None:
    # The first two outputs of SplitMix64 seeded with 0 (Vigna's reference generator).
    assert int(bff.splitmix64(np.uint64(0))) == 0xE220A8397B1DCDAF
    assert int(bff.splitmix64(np.uint64(0x9E3779B97F4A7C15))) == 0x6E789E6AA1B965F4


def _tape(data: bytes) -> np.ndarray:
    return np.frombuffer(data.ljust(128, b"\x00"), dtype=np.uint8).copy()


def test_zero_tape_runs_no_instructions() -> None:
    tape = _tape(b"")
    assert bff.evaluate(tape, False, bff.STEP_LIMIT) == 0
    assert not tape.any()


def test_unmatched_close_halts_after_one_instruction() -> None:
    tape = _tape(b"]")
    assert bff.evaluate(tape, False, bff.STEP_LIMIT) == 1


def test_endless_loop_is_cut_at_the_step_limit() -> None:
    # '[' enters (its own byte is non-zero), ']' jumps back forever.
    assert bff.evaluate(_tape(b"[]"), False, bff.STEP_LIMIT) == bff.STEP_LIMIT
    assert bff.evaluate(_tape(b"[]"), False, 100) == 100
    # A loop that moves a head: the state repeats only after 128 trips round it.
    tape = _tape(b"+[>]")
    tape[1:] = np.where(tape[1:] == 0, 7, tape[1:])
    ref = bytearray(tape.tobytes())
    assert bff.evaluate(tape, False, 5000) == reference_evaluate(ref, False, 5000)
    assert tape.tobytes() == bytes(ref)


def test_bff_heads_start_at_the_first_two_bytes() -> None:
    tape = _tape(bytes([5, 10]) + b".")
    tape[5] = 99
    assert bff.evaluate(tape, True, bff.STEP_LIMIT) == 1
    assert tape[10] == 99


def test_replicator_copies_itself_into_the_other_half() -> None:
    tape = np.frombuffer(REPLICATOR + bytes(range(100, 164)), dtype=np.uint8).copy()
    ops = bff.evaluate(tape, False, bff.STEP_LIMIT)
    assert tape[:64].tobytes() == REPLICATOR
    assert tape[64:].tobytes() == REPLICATOR
    ref = bytearray(REPLICATOR + bytes(range(100, 164)))
    assert ops == reference_evaluate(ref, False, bff.STEP_LIMIT)


_BYTES = st.sampled_from([*b"<>{}+-.,[]", 0, 1, 2, 97, 255])


@settings(max_examples=300, deadline=None)
@given(
    tape=st.lists(_BYTES, min_size=128, max_size=128),
    heads=st.booleans(),
    limit=st.integers(1, 3000),
)
def test_kernel_matches_the_reference_interpreter(tape: list[int], heads: bool, limit: int) -> None:
    ours = np.array(tape, dtype=np.uint8)
    ref = bytearray(tape)
    assert bff.evaluate(ours, heads, limit) == reference_evaluate(ref, heads, limit)
    assert ours.tobytes() == bytes(ref)


def test_pairing_is_a_seeded_permutation() -> None:
    a = bff.pairing(np.uint64(3), 5, 1000)
    assert sorted(a.tolist()) == list(range(1000))
    assert np.array_equal(a, bff.pairing(np.uint64(3), 5, 1000))
    assert not np.array_equal(a, bff.pairing(np.uint64(3), 6, 1000))
    assert not np.array_equal(a, bff.pairing(np.uint64(4), 5, 1000))


def test_initial_soup_depends_only_on_the_seed() -> None:
    a = bff.init_soup(np.uint64(1), 64)
    assert a.shape == (64, 64)
    assert np.array_equal(a, bff.init_soup(np.uint64(1), 64))
    assert not np.array_equal(a, bff.init_soup(np.uint64(2), 64))


def test_epoch_without_mutation_is_one_interaction_per_pair() -> None:
    soup = np.zeros((4, 64), dtype=np.uint8)
    soup[0] = np.frombuffer(REPLICATOR, dtype=np.uint8)
    order = np.array([0, 1, 2, 3], dtype=np.uint32)
    ops = bff.run_epoch(soup, order, np.uint64(9), 0, False, bff.STEP_LIMIT, 2)
    assert soup[1].tobytes() == REPLICATOR  # the replicator overwrote its partner
    assert not soup[2:].any()
    assert ops == reference_evaluate(bytearray(REPLICATOR + bytes(64)), False, bff.STEP_LIMIT)


@pytest.mark.parametrize("prob, changed", [(0, False), (bff.MUTATION_DENOMINATOR, True)])
def test_mutation_probability_bounds(prob: int, changed: bool) -> None:
    soup = np.zeros((2, 64), dtype=np.uint8)
    order = np.array([0, 1], dtype=np.uint32)
    bff.run_epoch(soup, order, np.uint64(1), prob, False, 1, 1)
    assert bool(soup.any()) is changed


def test_selfrep_scores_separate_replicators_from_inert_programs() -> None:
    soup = np.zeros((4, 64), dtype=np.uint8)
    soup[0] = soup[2] = np.frombuffer(REPLICATOR, dtype=np.uint8)
    soup[1] = np.arange(64)
    scores = bff.selfrep_scores(soup, np.uint64(123), False, bff.STEP_LIMIT)
    assert scores.tolist() == [64, 0, 64, 0]
