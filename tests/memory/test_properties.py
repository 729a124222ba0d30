"""Property tests: whatever is appended reads back exactly, in order, after reopening."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holomind.errors import CorruptFileError
from holomind.memory import PixelNetwork
from holomind.memory.codec import decode_payload, encode_payload

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
meta_dicts = st.dictionaries(
    st.text(min_size=1).filter(lambda k: k not in ("question", "answer", "model", "self")),
    json_values,
    max_size=4,
)
records = st.lists(
    st.tuples(st.text(), st.text(), st.none() | st.text(max_size=20), meta_dicts),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(records, min_size=1, max_size=3))
def test_everything_appended_reads_back_exactly(batches) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.png"
        expected = []
        for batch in batches:
            net = PixelNetwork(path, embedder="none")  # reopened between batches
            for question, answer, model, meta in batch:
                rec = net.append(question, answer, model=model, **meta)
                assert (rec.question, rec.answer, rec.model, rec.meta) == (
                    question,
                    answer,
                    model,
                    meta,
                )
                expected.append(rec)
        got = PixelNetwork(path, embedder="none").records()
        assert got == expected
        assert [r.id for r in got] == list(range(1, len(expected) + 1))
        assert subprocess.run(["pngcheck", "-q", str(path)]).returncode == 0


@settings(max_examples=200, deadline=None)
@given(fields=st.dictionaries(st.text(), json_values, max_size=6), vector=st.binary(max_size=800))
def test_payload_round_trip_and_truncation(fields, vector) -> None:
    blob = encode_payload(fields, vector)
    back = decode_payload(blob + bytes(7), "test")  # rows are zero-padded
    assert back.fields == fields and back.vector == vector
    for cut in (len(blob) - 1, len(blob) // 2, 15):
        with pytest.raises(CorruptFileError):
            decode_payload(blob[:cut], "test")
