"""Pragnosia's local-learning parts, measured: intrinsic objectives, the seed's phases, freezing.

Every variant in the same run, on the text domains of bench/continual.py
(`holomind.learning.texts`): one stem trained on the licences (shared by every
variant, bit for bit), then two experiences — the licences' cartridges, then
Python code (a domain the stem never saw) — trained with each variant's plugins.
Reported per variant: held-out loss (nats/byte, mean over 128 windows per domain)
of the whole library on each domain after both experiences, seconds per
cartridge step, and seed 004's final report figures of the Python experience
(memory CV, frozen n/N, loss change per phase).

Variants (all else equal: same stem, data, seed, steps):

  holomind                 our defaults (`--preset holomind`: no intrinsic terms, no freezing)
  holomind+intrinsic       our phases plus the four intrinsic terms (`--intrinsic`)
  pragnosia                seed 004's table, intrinsic terms, freezing (`--preset pragnosia`)
  pragnosia-no-intrinsic   the seed's table and freezing without the intrinsic terms
  pragnosia-no-freezing    the seed's table and intrinsic terms without freezing
  holomind+<term>          (with --per-term) our phases plus one intrinsic term

    OMP_NUM_THREADS=1 python bench/pragnosia.py [--quick] [--per-term] [--seeds 0]
        [--dim 64] [--stem-steps 500] [--steps 300] [--variants holomind,pragnosia,…]
        [--json bench/results/pragnosia.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from continual import library_losses, windows  # noqa: E402

from holomind.learning import (  # noqa: E402
    Corpus,
    IntrinsicTerm,
    Plugin,
    RunReport,
    TrainConfig,
    Trainer,
    intrinsic_plugins,
    standard_plugins,
)
from holomind.learning.texts import ALL_LICENCES, MORE_PYDOC, MORE_SOURCES, build_corpus  # noqa: E402

VARIANTS = {
    "holomind": {},
    "holomind+intrinsic": {"intrinsic": True},
    "pragnosia": {"preset": "pragnosia"},
    "pragnosia-no-intrinsic": {"preset": "pragnosia", "intrinsic": False},
    "pragnosia-no-freezing": {"preset": "pragnosia", "freezing": False},
}


class StopAfterStem(Plugin):
    """Stops the run once the stem stage has ended and been committed."""

    def after_stage(self, loop: Any) -> None:
        if loop.stages[loop.state.stage_index - 1].name == "stem":
            loop.request_stop()


class Clock(Plugin):
    """Wall time of the cartridge steps."""

    def __init__(self) -> None:
        self.seconds, self.steps = 0.0, 0

    def before_training_iteration(self, loop: Any) -> None:
        self.t0 = time.perf_counter()

    def after_training_iteration(self, loop: Any) -> None:
        if loop.state.stage == "cartridges":
            self.seconds += time.perf_counter() - self.t0
            self.steps += 1


def plugins_for(config: TrainConfig, only: str | None) -> list[Plugin]:
    """The variant's plugins; ``only`` keeps a single intrinsic term."""
    plugins = standard_plugins(config)
    if only is not None:
        plugins = [p for p in plugins if not isinstance(p, IntrinsicTerm) or p.name == only]
    return plugins


def run_variant(
    name: str, options: dict, base: Path, folders: dict[str, Path], args: argparse.Namespace
) -> dict:
    """Both experiences of one variant, from a copy of the stem; its figures."""
    lib = args.workdir / f"seed{args.seed}" / name
    shutil.rmtree(lib, ignore_errors=True)
    shutil.copytree(base, lib)
    only = options.get("only")
    config = replace(args.config, **{k: v for k, v in options.items() if k != "only"})
    clock, result = Clock(), {"options": options}
    for i, domain in enumerate(("licences", "python")):
        corpus = Corpus.from_folder(folders[domain], config.seq_len, domain=domain)
        report = RunReport()
        plugins = [*plugins_for(config, only), report, clock]
        # the licences continue the base's run (its stem stage ended; cartridges not begun)
        Trainer(config, corpus, lib, plugins, resume=i == 0).fit()
        result[f"report_{domain}"] = report.result()
    result["held_out"] = library_losses(lib, args.held)
    result["s_per_step"] = clock.seconds / max(1, clock.steps)
    print(
        f"  {name:26s} "
        + "  ".join(f"{d} {v:.4f}" for d, v in result["held_out"].items())
        + f"  ({result['s_per_step'] * 1000:.0f} ms/step)",
        flush=True,
    )
    return result


def bench(args: argparse.Namespace) -> dict:
    root = args.workdir / f"seed{args.seed}"
    shutil.rmtree(root, ignore_errors=True)
    build_corpus(
        root / "data",
        size=args.size,
        licences=ALL_LICENCES,
        sources=MORE_SOURCES,
        docs=MORE_PYDOC,
    )
    folders = {d: root / "data" / d for d in ("licences", "pydoc", "python")}
    args.held = windows(folders, args.config.seq_len)
    base = root / "base"
    t0 = time.perf_counter()
    licences = Corpus.from_folder(folders["licences"], args.config.seq_len, domain="licences")
    Trainer(args.config, licences, base, [StopAfterStem()]).fit()
    print(f"  stem: {args.config.stem_steps} steps in {time.perf_counter() - t0:.0f} s", flush=True)
    variants = dict(VARIANTS)
    if args.per_term:
        for term in intrinsic_plugins():
            variants[f"holomind+{term.name}"] = {"intrinsic": True, "only": term.name}
    if args.variants:
        variants = {name: variants[name] for name in args.variants.split(",")}
    return {
        name: run_variant(name, options, base, folders, args) for name, options in variants.items()
    }


def summarise(results: list[dict]) -> dict:
    """Per variant: mean held-out loss over the seeds, and its ratio to our defaults'."""
    out = {}
    for name in results[0]:
        held = {
            d: sum(r[name]["held_out"][d] for r in results) / len(results)
            for d in ("licences", "python")
        }
        out[name] = {**held, "mean": (held["licences"] + held["python"]) / 2}
        out[name]["s_per_step"] = sum(r[name]["s_per_step"] for r in results) / len(results)
    ref = out["holomind"]
    for v in out.values():
        v["vs_holomind"] = v["mean"] / ref["mean"]
        v["time_vs_holomind"] = v["s_per_step"] / ref["s_per_step"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small version (a few minutes)")
    ap.add_argument("--per-term", action="store_true", help="also each intrinsic term alone")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--variants", help="comma-separated names (default: all); holomind first")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--stem-steps", type=int, default=500)
    ap.add_argument("--steps", type=int, default=300, help="cartridge steps per experience")
    ap.add_argument("--size", type=int, default=20_000, help="bytes per file")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.quick:
        args.dim, args.stem_steps, args.steps, args.size = 64, 150, 60, 6_000
    keep = args.workdir is not None
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-pragnosia-"))
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "seeds": []}
    try:
        for seed in [int(s) for s in args.seeds.split(",")]:
            args.seed = seed
            args.config = TrainConfig(
                dim=args.dim, stem_steps=args.stem_steps, steps=args.steps, seed=seed,
                checkpoint_every=0,
            )  # fmt: skip
            print(f"seed {seed}: held-out loss after licences → python (nats/byte)", flush=True)
            results["seeds"].append(bench(args))
    finally:
        if not keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    results["summary"] = summarise(results["seeds"])
    print("\nvariant                     licences  python    mean   ÷ holomind  time ÷ holomind")
    for name, v in results["summary"].items():
        print(
            f"{name:26s}  {v['licences']:.4f}   {v['python']:.4f}  {v['mean']:.4f}"
            f"   {v['vs_holomind']:.4f}      {v['time_vs_holomind']:.2f}"
        )
    for name, r in results["seeds"][0].items():
        rep = r["report_python"]
        phases = ", ".join(f"{p['name']} {100 * p['change']:+.1f}%" for p in rep["phases"])
        print(
            f"  report [{name}, python]: memory CV {100 * rep['memory_cv']:.2f}%, frozen "
            f"{rep['frozen']}/{rep['cartridges']}, {phases}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
