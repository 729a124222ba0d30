"""Soup throughput: epochs/s and CPU-seconds per epoch, ours beside cubff's CPU build.

Two soups of 2**17 programs, run on --threads threads (2 by default):
  random       a fresh soup (seed 10248), the state every run starts in;
  replicators  every program a copy of a self-replicator, so each interaction is
               a full copy: by default the hand-written one in holomind.evolution.bff,
               or, with --replicator-soup CKPT, a real post-transition soup checkpoint.
Mutation, pairing and the step limit are cubff's. CPU-s/epoch is process CPU time
(all threads) per epoch.

The anchor is cubff's own CPU build measured on this kind of machine, as issue 5
gives it: 18.3 epochs/s wall on 2 threads for a random soup (0.106 CPU-s/epoch),
about 0.9 CPU-s/epoch when replicators dominate. cubff cannot be built and run
here side by side, so the anchor figures are quoted, not re-measured: the ratio
compares our run now with that measurement. Goal: >= 1.25x on both.

Also measured: logging's share of an epoch, i.e. the time of one log row (brotli,
entropy, diversity) spread over the --print-interval epochs it stands for.

    .venv/bin/python bench/soup.py [--threads 2] [--epochs 32] [--json bench/results/soup.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numba
import numpy as np
from rich.console import Console
from rich.table import Table

from holomind.evolution import Soup, SoupConfig, bff

ANCHOR_RANDOM_EPOCHS_PER_S = 18.3  # cubff CPU build, 2 threads, random soup
ANCHOR_RANDOM_CPU_S = 0.106  # CPU-s per epoch, random soup
ANCHOR_REPLICATOR_CPU_S = 0.9  # CPU-s per epoch, replicator-dominated soup


def time_epochs(soup: Soup, epochs: int) -> dict[str, float]:
    """Run ``epochs`` epochs; return wall and CPU seconds per epoch and instructions/s."""
    soup.step()  # warm-up: compiled code loaded, caches hot
    wall0, cpu0, ops0 = time.perf_counter(), time.process_time(), soup.total_ops
    for _ in range(epochs):
        soup.step()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    ops = soup.total_ops - ops0
    return {
        "epochs": epochs,
        "wall_s_per_epoch": wall / epochs,
        "epochs_per_s": epochs / wall,
        "cpu_s_per_epoch": cpu / epochs,
        "ops_per_interaction": ops / epochs / (soup.config.num_programs // 2),
        "mops_per_s": ops / wall / 1e6,
    }


def replicator_soup(num: int) -> Soup:
    """A soup where every program is the hand-written self-replicator."""
    programs = np.tile(np.frombuffer(bff.NOHEADS_REPLICATOR, dtype=np.uint8), (num, 1))
    return Soup(SoupConfig(seed=10248, num_programs=num), programs)


def logging_share(soup: Soup, print_interval: int, epoch_s: float, repeats: int = 3) -> dict:
    """Seconds for one log row and its share of the epochs the row stands for."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        soup.measure_row()
        best = min(best, time.perf_counter() - t0)
    per_epoch = best / print_interval
    return {
        "row_s": best,
        "per_epoch_s": per_epoch,
        "share_of_epoch": per_epoch / (epoch_s + per_epoch),
    }


def main() -> None:
    """Measure both soups and print the table beside the anchor."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=32, help="timed epochs on the random soup")
    ap.add_argument("--replicator-epochs", type=int, default=8)
    ap.add_argument("--num", type=int, default=1 << 17)
    ap.add_argument("--print-interval", type=int, default=64)
    ap.add_argument("--replicator-soup", type=Path, help="a post-transition soup checkpoint")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    numba.set_num_threads(args.threads)

    random_soup = Soup.new(SoupConfig(seed=10248, num_programs=args.num))
    random = time_epochs(random_soup, args.epochs)
    log = logging_share(random_soup, args.print_interval, random["wall_s_per_epoch"])
    if args.replicator_soup:
        rep_soup = Soup.load(args.replicator_soup)
        rep_label = f"replicators ({args.replicator_soup.name}, epoch {rep_soup.epoch})"
    else:
        rep_soup = replicator_soup(args.num)
        rep_label = "replicators (hand-written copier)"
    rep = time_epochs(rep_soup, args.replicator_epochs)

    results = {
        "threads": args.threads,
        "num_programs": args.num,
        "random": {
            **random,
            "anchor_epochs_per_s": ANCHOR_RANDOM_EPOCHS_PER_S,
            "anchor_cpu_s_per_epoch": ANCHOR_RANDOM_CPU_S,
            "throughput_ratio": random["epochs_per_s"] / ANCHOR_RANDOM_EPOCHS_PER_S,
            "cpu_ratio": ANCHOR_RANDOM_CPU_S / random["cpu_s_per_epoch"],
        },
        "replicators": {
            **rep,
            "soup": rep_label,
            "anchor_cpu_s_per_epoch": ANCHOR_REPLICATOR_CPU_S,
            "cpu_ratio": ANCHOR_REPLICATOR_CPU_S / rep["cpu_s_per_epoch"],
        },
        "logging": log,
    }

    table = Table(title=f"soup: {args.num} programs, {args.threads} threads (anchor: cubff CPU)")
    for col in ("soup", "epochs/s", "CPU-s/epoch", "ops/interaction", "anchor", "ratio"):
        table.add_column(col)
    r = results["random"]
    table.add_row(
        "random",
        f"{r['epochs_per_s']:.1f}",
        f"{r['cpu_s_per_epoch']:.4f}",
        f"{r['ops_per_interaction']:.1f}",
        f"{ANCHOR_RANDOM_EPOCHS_PER_S} epochs/s, {ANCHOR_RANDOM_CPU_S} CPU-s",
        f"{r['throughput_ratio']:.2f}x wall, {r['cpu_ratio']:.2f}x CPU",
    )
    p = results["replicators"]
    table.add_row(
        rep_label,
        f"{p['epochs_per_s']:.2f}",
        f"{p['cpu_s_per_epoch']:.4f}",
        f"{p['ops_per_interaction']:.1f}",
        f"~{ANCHOR_REPLICATOR_CPU_S} CPU-s",
        f"{p['cpu_ratio']:.2f}x CPU",
    )
    console = Console()
    console.print(table)
    console.print(
        f"logging: {log['row_s'] * 1000:.1f} ms per row every {args.print_interval} epochs = "
        f"{log['share_of_epoch'] * 100:.2f}% of an epoch (goal <= 5%)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
