"""Spiking network: our simulation's overhead over bare Brian2, scaling, and COBA/CUBA rates.

Ours is `holomind.sim.Simulation` as `holomind sim --no-llm --no-soup` runs it: the
network in 100 ms chunks on its own thread, paused at each boundary, every spike
and the default samples (v of 10 neurons every ms) written to the
SQLite activity log by its writer thread, `neural_activations`, `neuro/spikes` and
`neuro/state` published after every chunk, a checkpoint at the end; the ablation
"no log" is the same without the activity log. The anchor is
bare Brian2 with the same equations, parameters, seed and code target (Cython
runtime): one `Network.run` call with a SpikeMonitor. Both are timed from the
start of the run to its end (building and compiling excluded), interleaved,
`--repeats` times each; the ratio is of the best runs (the machine is shared:
the best run is the least disturbed; the medians are in the JSON).

    OMP_NUM_THREADS=1 .venv/bin/python bench/snn.py [--quick] [--json bench/results/snn.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from holomind.neuro import network_spec
from holomind.neuro.runner import build, configure_brian, namespace
from holomind.sim import SimConfig, Simulation


def bare(name: str, neurons: int | None, seconds: float, cache: Path) -> tuple[float, float]:
    """Wall seconds and mean rate (Hz) of one bare Brian2 run of the network."""
    import brian2

    configure_brian(cache)
    spec = network_spec(name, neurons)
    group, synapses = build(spec, seed=0)
    monitor = brian2.SpikeMonitor(group, name="spikes")
    net = brian2.Network(group, *synapses, monitor)
    net.run(0 * brian2.second, namespace=namespace(spec))  # compile, as ours does at build
    began = time.perf_counter()
    net.run(seconds * brian2.second, namespace=namespace(spec))
    wall = time.perf_counter() - began
    return wall, monitor.num_spikes / spec.neurons / seconds


def ours(
    name: str, neurons: int | None, seconds: float, cache: Path, log: bool = True
) -> tuple[float, float]:
    """Wall seconds and mean rate (Hz) of the same network run by `Simulation.run`."""
    with tempfile.TemporaryDirectory() as tmp:
        config = SimConfig(network=name, neurons=neurons, soup=False, checkpoint_s=3600)
        db = Path(tmp) / "run.db" if log else None
        with Simulation(config, db=db, cache_dir=cache) as sim:
            began = time.perf_counter()
            summary = sim.run(seconds, progress_s=3600)
            wall = time.perf_counter() - began
    return wall, summary["mean_rate_hz"]


def ours_without_log(
    name: str, neurons: int | None, seconds: float, cache: Path
) -> tuple[float, float]:
    """The ablation: the same, with no activity log (publishing only)."""
    return ours(name, neurons, seconds, cache, log=False)


def compare(
    name: str, neurons: int | None, seconds: float, repeats: int, cache: Path
) -> dict[str, Any]:
    """Interleaved runs of all three; medians, the ratios, the rates."""
    runs = (("bare", bare), ("ours", ours), ("no_log", ours_without_log))
    walls: dict[str, list[float]] = {label: [] for label, _ in runs}
    rates: dict[str, list[float]] = {label: [] for label, _ in runs}
    for _ in range(repeats):
        for label, fn in runs:
            wall, rate = fn(name, neurons, seconds, cache)
            walls[label].append(wall)
            rates[label].append(rate)
    b, o, n = min(walls["bare"]), min(walls["ours"]), min(walls["no_log"])
    return {
        "network": name,
        "neurons": network_spec(name, neurons).neurons,
        "bio_seconds": seconds,
        "bare_wall_s": b,
        "ours_wall_s": o,
        "overhead": o / b - 1,
        "no_log_wall_s": n,
        "overhead_without_log": n / b - 1,
        "bare_rate_hz": statistics.median(rates["bare"]),
        "ours_rate_hz": statistics.median(rates["ours"]),
        "median_overhead": statistics.median(walls["ours"]) / statistics.median(walls["bare"]) - 1,
        "walls": walls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, scaling to 4,000")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=Path("bench/results/snn.json"))
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "holomind-bench-brian2"
    )
    args = parser.parse_args()
    # Long enough that the end of a run (storing the network's state, the last commit:
    # 50-100 ms, paid once) weighs little against simulating.
    seconds = 2.0 if args.quick else 10.0
    console = Console()
    results: dict[str, Any] = {"overhead": [], "scaling": [], "rates": []}

    console.print("[bold]Overhead[/]: ours (log + workspace) vs bare Brian2, same run")
    for name in ("seed", "coba"):
        row = compare(name, None, seconds, args.repeats, args.cache)
        results["overhead"].append(row)
        console.print(
            f"  {name}: bare {row['bare_wall_s']:.2f} s, ours {row['ours_wall_s']:.2f} s "
            f"for {seconds} s simulated: overhead {row['overhead']:+.1%} "
            f"(without the log {row['overhead_without_log']:+.1%})"
        )

    console.print("[bold]Scaling[/]: wall seconds per simulated second")
    sizes = (1000, 4000) if args.quick else (1000, 4000, 10000)
    for name in ("seed", "coba"):
        for n in sizes:
            row = compare(name, n, 0.5 if args.quick else 2.0, 2, args.cache)
            results["scaling"].append(row)
            console.print(
                f"  {name} {n:>6,}: bare {row['bare_wall_s'] / row['bio_seconds']:.2f}, "
                f"ours {row['ours_wall_s'] / row['bio_seconds']:.2f} (overhead "
                f"{row['overhead']:+.1%})"
            )

    console.print("[bold]Rates[/]: COBA and CUBA, ours vs bare Brian2")
    coba = next(r for r in results["overhead"] if r["network"] == "coba")
    results["rates"].append(coba)
    results["rates"].append(compare("cuba", None, seconds, 2, args.cache))

    table = Table(title="Spiking network: ours vs bare Brian2 (same run)")
    for col in (
        "network",
        "neurons",
        "sim.",
        "bare",
        "ours",
        "overhead",
        "no log",
        "Hz bare",
        "ours",
    ):
        table.add_column(col, justify="right")
    seen = set()
    for row in [*results["overhead"], *results["scaling"], *results["rates"]]:
        key = (row["network"], row["neurons"], row["bio_seconds"])
        if key in seen:
            continue
        seen.add(key)
        table.add_row(
            row["network"],
            f"{row['neurons']:,}",
            f"{row['bio_seconds']:g} s",
            f"{row['bare_wall_s']:.2f} s",
            f"{row['ours_wall_s']:.2f} s",
            f"{row['overhead']:+.1%}",
            f"{row['overhead_without_log']:+.1%}",
            f"{row['bare_rate_hz']:.2f}",
            f"{row['ours_rate_hz']:.2f}",
        )
    console.print(table)
    worst = max(r["overhead"] for r in results["overhead"])
    console.print(f"goal: overhead <= 10 % on seed and COBA; worst {worst:+.1%}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"argv": sys.argv[1:], **results}, indent=2))


if __name__ == "__main__":
    main()
