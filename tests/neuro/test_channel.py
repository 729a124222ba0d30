"""Items down a real pipe as the log's writer process gets them: arrays out of band."""

from __future__ import annotations

import os
import pickle
import threading
from typing import Any

import numpy as np
import pytest

from holomind.neuro.channel import recv_item, send_item


def _through_a_pipe(items: list[Any]) -> list[Any]:
    """Send `items` down an os.pipe from a thread (they exceed its 64 KB) and read them back."""
    fd_in, fd_out = os.pipe()

    def write() -> None:
        try:
            for item in items:
                send_item(fd_out, item)
        finally:
            os.close(fd_out)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        got = [recv_item(fd_in) for _ in items]
        with pytest.raises(EOFError):
            recv_item(fd_in)  # the writer closed its end
    finally:
        os.close(fd_in)  # first: a writer blocked on a full pipe then fails instead of hanging
        writer.join()
    return got


def test_items_with_arrays_and_bytes_come_back_equal() -> None:
    rng = np.random.default_rng(0)
    t, ids = rng.random(20_000), rng.integers(0, 4000, 20_000, dtype=np.int32)
    samples = rng.random((100, 10))
    blob = rng.bytes(300_000)
    items = [
        ("batch", [("spikes", t, ids), ("samples", t[:100], np.arange(10), "v", samples)]),
        ("row", "chunks", (0.0, 0.1, 5, 50.0, -0.06, 0.0, 0.01)),
        ("checkpoint", 0.1, pickle.PickleBuffer(blob)),
        ("spikes", t[::2], ids[::2]),  # not contiguous: pickled in band
        ("flush",),
    ]
    batch, row, checkpoint, strided, flush = _through_a_pipe(items)
    (_, got_t, got_ids), (_, st, neurons, var, values) = batch[1]
    assert got_t.dtype == t.dtype and np.array_equal(got_t, t)
    assert got_ids.dtype == np.int32 and np.array_equal(got_ids, ids)
    assert var == "v" and np.array_equal(values, samples) and np.array_equal(neurons, np.arange(10))
    assert np.array_equal(st, t[:100])
    assert row == items[1]
    assert checkpoint[:2] == ("checkpoint", 0.1) and bytes(checkpoint[2]) == blob
    assert np.array_equal(strided[1], t[::2]) and np.array_equal(strided[2], ids[::2])
    assert flush == ("flush",)


def test_an_item_with_more_buffers_than_one_writev_takes() -> None:
    arrays = [np.full(3, k, dtype=np.int64) for k in range(2500)]  # over the 1,024 per call
    [got] = _through_a_pipe([("batch", arrays)])
    assert [int(a[0]) for a in got[1]] == list(range(2500))


def test_a_pipe_closed_inside_an_item_is_an_eof() -> None:
    fd_in, fd_out = os.pipe()
    try:
        os.write(fd_out, b"\x10\x00\x00")  # the start of a frame, then nothing
        os.close(fd_out)
        with pytest.raises(EOFError):
            recv_item(fd_in)
    finally:
        os.close(fd_in)
