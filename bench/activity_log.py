"""Activity log throughput: `ActivityLog` against raw `sqlite3.executemany` of the same rows.

The rows are what a simulated minute of the seed network produces, scaled by
--seconds: spikes (1,000 neurons at ~9 Hz) and samples (v and g_syn of 10
neurons every ms), handed over in 100 ms chunks as numpy arrays, the way the
network hands them over. Ours: `ActivityLog.create`, `spikes`/`samples` per
chunk, `close()` (the writer thread turns the arrays into rows, commits in
batches). The anchor: one connection with the same schema and pragmas (WAL,
synchronous=NORMAL), the rows already built as Python tuples, one
`executemany` per table, one commit. Interleaved, best of --repeats; goal: ours
>= 0.8x the anchor's rows/s.

    OMP_NUM_THREADS=1 .venv/bin/python bench/activity_log.py [--seconds 60] [--json PATH]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from holomind.neuro.log import SCHEMA, ActivityLog, connect

CHUNK_S = 0.1


def make_chunks(seconds: float, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Per-chunk arrays: spike times and ids, sample times, two sampled variables."""
    rng = np.random.default_rng(seed)
    chunks = []
    for k in range(round(seconds / CHUNK_S)):
        t0 = k * CHUNK_S
        n = rng.poisson(1000 * 9 * CHUNK_S)
        spike_t = np.sort(rng.uniform(t0, t0 + CHUNK_S, n))
        spike_i = rng.integers(0, 1000, n).astype(np.int32)
        sample_t = t0 + np.arange(100) / 1000
        chunks.append(
            {
                "spike_t": spike_t,
                "spike_i": spike_i,
                "sample_t": sample_t,
                "v": rng.normal(-0.058, 0.004, (100, 10)),
                "g_syn": rng.exponential(1e-9, (100, 10)),
            }
        )
    return chunks


def run_ours(path: Path, chunks: list[dict[str, np.ndarray]]) -> float:
    neurons = np.arange(10)
    began = time.perf_counter()
    log = ActivityLog.create(path, {})
    for c in chunks:
        log.spikes(c["spike_t"], c["spike_i"])
        log.samples(c["sample_t"], neurons, "v", c["v"])
        log.samples(c["sample_t"], neurons, "g_syn", c["g_syn"])
    log.close()
    return time.perf_counter() - began


def tuples(chunks: list[dict[str, np.ndarray]]) -> tuple[list[tuple], list[tuple]]:
    """The same rows as Python tuples (built before the anchor's clock starts)."""
    spikes, samples = [], []
    for c in chunks:
        spikes.extend(zip(c["spike_t"].tolist(), c["spike_i"].tolist(), strict=True))
        for var in ("v", "g_syn"):
            for k, t in enumerate(c["sample_t"].tolist()):
                samples.extend((t, m, var, float(c[var][k, m])) for m in range(10))
    return spikes, samples


def run_raw(path: Path, spikes: list[tuple], samples: list[tuple]) -> float:
    began = time.perf_counter()
    conn = connect(path)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO spikes VALUES (?, ?)", spikes)
    conn.executemany("INSERT INTO neural_activity VALUES (?, ?, ?, ?)", samples)
    conn.commit()
    conn.close()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="simulated seconds of rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("bench/results/activity_log.json"))
    args = parser.parse_args()
    chunks = make_chunks(args.seconds)
    spikes, samples = tuples(chunks)
    rows = len(spikes) + len(samples)
    ours, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in itertools.count():
            if k == args.repeats:
                break
            raw.append(run_raw(Path(tmp) / f"raw{k}.db", spikes, samples))
            ours.append(run_ours(Path(tmp) / f"ours{k}.db", chunks))
    best_ours, best_raw = min(ours), min(raw)
    ratio = best_raw / best_ours
    print(f"{rows:,} rows ({len(spikes):,} spikes, {len(samples):,} samples)")
    print(f"raw executemany: {rows / best_raw:,.0f} rows/s (best of {args.repeats})")
    print(f"ActivityLog:     {rows / best_ours:,.0f} rows/s (best of {args.repeats})")
    print(f"ours / raw: {ratio:.2f}x (goal >= 0.8x)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"rows": rows, "raw_s": raw, "ours_s": ours, "ratio": ratio}, indent=2)
    )


if __name__ == "__main__":
    main()
