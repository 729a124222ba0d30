"""Activity log throughput: `ActivityLog` against raw `sqlite3.executemany` of the same rows.

The rows are what a simulated minute of the seed network produces, scaled by
--seconds: spikes (1,000 neurons at ~9 Hz) and samples (v and g_syn of 10
neurons every ms), handed over in 100 ms chunks as numpy arrays, the way the
network hands them over. Ours: `ActivityLog.create`, `spikes`/`samples` per
chunk, `close()` (the writer process, started by `create`, turns the arrays into
rows and inserts them in multi-row INSERTs, commits in batches); the same with
the writer on a thread of this process (HOLOMIND_LOG_WRITER=thread). The anchor:
one connection with the same schema and pragmas (WAL, synchronous=NORMAL), the
rows already built as Python tuples, one `executemany` per table, one commit.
Interleaved, best of --repeats; goal: ours >= 0.8x the anchor's rows/s. Also
printed: the CPU seconds the calling process spent, which is what logging takes
from a simulation running in that process.

    OMP_NUM_THREADS=1 .venv/bin/python bench/activity_log.py [--seconds 60] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from holomind.config import LOG_WRITERS
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


def run_ours(path: Path, chunks: list[dict[str, np.ndarray]], writer: str) -> tuple[float, float]:
    """Wall and calling-process CPU seconds to log `chunks` with `writer`, from create to close."""
    neurons = np.arange(10)
    cpu, began = time.process_time(), time.perf_counter()
    log = ActivityLog.create(path, {}, writer=writer)
    for c in chunks:
        log.spikes(c["spike_t"], c["spike_i"])
        log.samples(c["sample_t"], neurons, "v", c["v"])
        log.samples(c["sample_t"], neurons, "g_syn", c["g_syn"])
    log.close()
    return time.perf_counter() - began, time.process_time() - cpu


def tuples(chunks: list[dict[str, np.ndarray]]) -> tuple[list[tuple], list[tuple]]:
    """The same rows as Python tuples (built before the anchor's clock starts)."""
    spikes, samples = [], []
    for c in chunks:
        spikes.extend(zip(c["spike_t"].tolist(), c["spike_i"].tolist(), strict=True))
        for var in ("v", "g_syn"):
            for k, t in enumerate(c["sample_t"].tolist()):
                samples.extend((t, m, var, float(c[var][k, m])) for m in range(10))
    return spikes, samples


def run_raw(path: Path, spikes: list[tuple], samples: list[tuple]) -> tuple[float, float]:
    cpu, began = time.process_time(), time.perf_counter()
    conn = connect(path)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO spikes VALUES (?, ?)", spikes)
    conn.executemany("INSERT INTO neural_activity VALUES (?, ?, ?, ?)", samples)
    conn.commit()
    conn.close()
    return time.perf_counter() - began, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="simulated seconds of rows")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("bench/results/activity_log.json"))
    args = parser.parse_args()
    chunks = make_chunks(args.seconds)
    spikes, samples = tuples(chunks)
    rows = len(spikes) + len(samples)
    runs: dict[str, list[tuple[float, float]]] = {"raw": [], "process": [], "thread": []}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeats):
            runs["raw"].append(run_raw(Path(tmp) / f"raw{k}.db", spikes, samples))
            for writer in LOG_WRITERS:
                runs[writer].append(run_ours(Path(tmp) / f"{writer}{k}.db", chunks, writer))
    best = {label: min(r[0] for r in results) for label, results in runs.items()}
    cpu = {label: min(r[1] for r in results) for label, results in runs.items()}
    print(
        f"{rows:,} rows ({len(spikes):,} spikes, {len(samples):,} samples), best of {args.repeats}"
    )
    names = {"raw": "raw executemany", "process": "ActivityLog", "thread": "  thread writer"}
    for label, name in names.items():
        print(
            f"{name:17s} {rows / best[label]:>11,.0f} rows/s  {best['raw'] / best[label]:.2f}x raw"
            f"  calling process CPU {cpu[label]:.2f} s"
        )
    ratio = best["raw"] / best["process"]
    print(f"ours / raw: {ratio:.2f}x (goal >= 0.8x)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "rows": rows,
                "raw_s": [r[0] for r in runs["raw"]],
                "ours_s": [r[0] for r in runs["process"]],
                "thread_s": [r[0] for r in runs["thread"]],
                "cpu_s": cpu,
                "ratio": ratio,
                "thread_ratio": best["raw"] / best["thread"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
