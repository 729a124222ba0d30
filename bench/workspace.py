"""Workspace write throughput with 0, 1 and 10 subscribers, ours against two anchors.

Anchors, re-implemented here:
  floor  a plain dict + lock that calls subscribers inline (the least any bus can do);
  seed   seed 002's design: a new thread per callback per write.

A write counts as done when every subscriber has received it, so the figure is
delivered writes per second. Each cell is the best of --repeats runs; the
machine is shared, so read the ratios.

    python bench/workspace.py [--repeats 3] [--json bench/results/workspace.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from holomind.workspace import GlobalWorkspace


class DictFloor:
    """A dict behind a lock; subscribers are called inline after the lock is released."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, object] = {}
        self._subs: dict[str, list[Callable]] = defaultdict(list)

    def subscribe(self, key: str, cb: Callable) -> None:
        self._subs[key].append(cb)

    def write(self, key: str, value: object) -> None:
        with self._lock:
            self._data[key] = value
            subs = self._subs.get(key)
        if subs:
            for cb in subs:
                cb(value)

    def close(self) -> None:
        pass


class SeedWorkspace:
    """Seed 002's GlobalWorkspace write path: bookkeeping, a debug log, a thread per callback."""

    def __init__(self) -> None:
        self._shared_memory: dict[str, object] = {}
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[Callable]] = defaultdict(list)
        self._event_conditions: dict[str, threading.Condition] = {}
        self._data_timestamps: dict[str, float] = {}
        self._data_versions: dict[str, int] = {}
        self._data_expirations: dict[str, float] = {}
        self._observers: set[Callable] = set()

    def subscribe(self, key: str, cb: Callable) -> None:
        with self._lock:
            self._subscribers[key].append(cb)

    def write(self, key: str, value: object) -> None:
        with self._lock:
            self._shared_memory[key] = value
            timestamp = time.time()
            self._data_timestamps[key] = timestamp
            self._data_versions[key] = self._data_versions.get(key, 0) + 1
            self._data_expirations.pop(key, None)
            logging.debug(f"Write: key={key}, value={value}, timestamp={timestamp}")
            for callback in self._subscribers.get(key, []):
                threading.Thread(target=callback, args=(value,), daemon=True).start()
            condition = self._event_conditions.get(key)
            if condition:
                with condition:
                    condition.notify_all()
            for observer in self._observers:
                threading.Thread(target=observer, args=(key, value), daemon=True).start()

    def close(self) -> None:
        pass


def delivered_writes_per_second(make: Callable, n_subs: int, n_writes: int) -> float:
    """Write n_writes values and wait until every subscriber has received every one."""
    bus = make()
    received = [0]
    done = threading.Event()
    expected = n_subs * n_writes
    lock = threading.Lock()

    def callback(_value: object) -> None:
        with lock:
            received[0] += 1
            if received[0] == expected:
                done.set()

    for _ in range(n_subs):
        bus.subscribe("k", callback)
    write = bus.write
    start = time.perf_counter()
    for i in range(n_writes):
        write("k", i)
    if n_subs:
        done.wait(600)
    elapsed = time.perf_counter() - start
    bus.close()
    return n_writes / elapsed


IMPLEMENTATIONS: dict[str, tuple[Callable, dict[int, int]]] = {
    # name: (factory, writes per run by subscriber count)
    "floor": (DictFloor, {0: 300_000, 1: 200_000, 10: 50_000}),
    "seed": (SeedWorkspace, {0: 200_000, 1: 5_000, 10: 1_000}),
    "ours": (GlobalWorkspace, {0: 300_000, 1: 100_000, 10: 20_000}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per cell; the best counts")
    parser.add_argument("--json", type=Path, default=Path("bench/results/workspace.json"))
    args = parser.parse_args()

    results: dict[int, dict[str, float]] = {}
    for n_subs in (0, 1, 10):
        best: dict[str, float] = {}
        for _ in range(args.repeats):  # interleaved, so noise hits every column alike
            for name, (factory, sizes) in IMPLEMENTATIONS.items():
                rate = delivered_writes_per_second(factory, n_subs, sizes[n_subs])
                best[name] = max(best.get(name, 0.0), rate)
        results[n_subs] = best

    print(
        f"{'subscribers':>11} {'floor/s':>12} {'seed/s':>12} {'ours/s':>12}"
        f" {'ours/floor':>11} {'ours/seed':>10}"
    )
    for n_subs, r in results.items():
        print(
            f"{n_subs:>11} {r['floor']:>12,.0f} {r['seed']:>12,.0f} {r['ours']:>12,.0f}"
            f" {r['ours'] / r['floor']:>11.2f} {r['ours'] / r['seed']:>10.1f}"
        )
    for label, ratio, goal in (
        ("0 subscribers, ours/floor", results[0]["ours"] / results[0]["floor"], 0.5),
        ("10 subscribers, ours/seed", results[10]["ours"] / results[10]["seed"], 20.0),
    ):
        verdict = "met" if ratio >= goal else "MISSED"
        print(f"goal: {label} >= {goal:g}: {ratio:.2f} ({verdict})")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({str(k): v for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
