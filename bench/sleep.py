"""Sleep: does consolidation put what the pixel network holds into the cartridges? (issue 11)

One run, all on this machine, nothing downloaded:

1. A library is trained with `holomind train` on two domains every Debian machine
   has (licences and Python code, `holomind.learning.texts`).
2. Twenty invented facts (`holomind.sleep.facts`: invented subjects and key
   words no text contains) are taught with `holomind memory add`.
3. The cartridge model alone — no LLM, no retrieval — is asked each question by
   greedy generation from ``Q: <question>\\nA:``; a hit is the key word in the
   answer. Every domain's held-out loss is measured too.
4. `holomind sleep NETWORK --library LIB`, then the same questions and losses.
   Goal: hits ≥ 80 % after, 0 % before; no other domain's loss rises > 1 %.
5. Ablation in the same run: the same sleep on a copy of the same library with
   recall routing off (`recall_per_step=0`).
6. Micro-sleep: the critical path of simulated chat turns (the pixel network's
   search and append, what a turn does besides the LLM) with `MicroSleep`
   consolidating in the idle gaps between turns, against the same turns without.
   Goal: ≤ 1 ms added per turn.

    OMP_NUM_THREADS=1 python bench/sleep.py [--quick] [--workdir DIR]
        [--json bench/results/sleep.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import torch  # noqa: E402

from holomind.learning.texts import build_corpus  # noqa: E402
from holomind.memory import PixelNetwork  # noqa: E402
from holomind.sleep import MicroSleep, sleep  # noqa: E402
from holomind.sleep.facts import Fact, invented_facts  # noqa: E402
from holomind.sleep.measure import held_out_losses, recall_answers, recalled  # noqa: E402

# The library's shape: LoRA on attention and MLP of both blocks. With the default shape
# (MLP of the top block only) a sleep reached 5-6 of 20 (docs/cartridges.md, "Sleep").
SHAPE = [
    "--dim", "64", "--stem-depth", "2", "--heads", "2", "--adapted", "2",
    "--targets", "attn.c_attn,attn.c_proj,mlp.c_fc,mlp.c_proj",
]  # fmt: skip


def holomind(*args: str) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess; fails loudly."""
    done = subprocess.run(
        [sys.executable, "-m", "holomind", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"holomind {' '.join(args)} failed: {done.stderr.strip()}")
    return done


def recall(lib: Path, facts: list[Fact]) -> dict:
    """Greedy answers of the cartridge model alone; hit = the key word in the answer."""
    answers = recall_answers(lib, facts)
    hits = recalled(facts, answers)
    return {"hit_rate": sum(hits) / len(facts), "answers": answers, "hits": hits}


def consolidation(args: argparse.Namespace, root: Path) -> dict:
    """Parts 1-5."""
    data = build_corpus(root / "data", size=args.size, domains=("licences", "python"))
    lib = root / "lib"
    t = time.perf_counter()
    holomind(
        "train", str(data), "--library", str(lib), *SHAPE, "--stem-steps", str(args.stem_steps),
        "--steps", str(args.train_steps), "--lr", "3e-3", "--log-every", "1000",
    )  # fmt: skip
    train_s = time.perf_counter() - t
    facts = invented_facts(args.facts)
    net = root / "net.png"
    for f in facts:
        holomind("memory", "add", str(net), "-q", f.question, "-a", f.answer, "--embedder", "none")
    ablation = root / "lib-no-recall-routing"
    shutil.copytree(lib, ablation)
    before = recall(lib, facts)
    loss_before = held_out_losses(lib, data)
    print(f"trained in {train_s:.0f} s; before sleep: {before['hit_rate']:.0%} recalled")
    t = time.perf_counter()
    steps = ["--steps", str(args.steps)] if args.steps else []  # default: the CLI's
    slept = holomind("sleep", str(net), "--library", str(lib), *steps, "--json")
    sleep_s = time.perf_counter() - t
    result = json.loads(slept.stdout)
    args.steps = result["steps"]
    after = recall(lib, facts)
    loss_after = held_out_losses(lib, data)
    rise = {d: loss_after[d] / loss_before[d] - 1 for d in loss_before}
    print(f"slept {args.steps} steps in {sleep_s:.0f} s; after: {after['hit_rate']:.0%} recalled")
    for f, a, hit in zip(facts, after["answers"], after["hits"], strict=True):
        print(f"  {'✓' if hit else '✗'} {f.question} → {a.splitlines()[0] if a else ''!r}")
    for d in loss_before:
        print(f"  {d}: held-out {loss_before[d]:.4f} → {loss_after[d]:.4f} ({rise[d]:+.2%})")
    r = result["report"]
    phases = ", ".join(
        f"{p['name']} {p['loss_start']:.3f} → {p['loss_end']:.3f}" for p in r["phases"]
    )
    print(f"  run report: loss by phase {phases}; memory CV {r['memory_cv']:.2%}")
    torch.set_num_threads(1)
    t = time.perf_counter()
    sleep(net, ablation, steps=args.steps, recall_per_step=0)
    ablation_s = time.perf_counter() - t
    without = recall(ablation, facts)
    without["held_out"] = held_out_losses(ablation, data)
    without["held_out_rise"] = {d: without["held_out"][d] / loss_before[d] - 1 for d in loss_before}
    print(
        f"ablation, recall routing off: {without['hit_rate']:.0%} recalled ({ablation_s:.0f} s); "
        + ", ".join(f"{d} {r:+.2%}" for d, r in without["held_out_rise"].items())
    )
    goal = before["hit_rate"] == 0 and after["hit_rate"] >= 0.8 and max(rise.values()) <= 0.01
    print(f"goal (0 % before, >= 80 % after, every domain's loss rise <= 1 %): {goal}")
    return {
        "facts": len(facts),
        "steps": args.steps,
        "train_s": train_s,
        "sleep_s": sleep_s,
        "before": before,
        "after": after,
        "held_out_before": loss_before,
        "held_out_after": loss_after,
        "held_out_rise": rise,
        "sleep_result": result,
        "no_recall_routing": without,
        "goal_met": goal,
    }


def micro_sleep(args: argparse.Namespace, root: Path) -> dict:
    """Part 6: the per-turn critical path with and without micro-sleep in the idle gaps."""
    facts = invented_facts(args.turns * 2, seed=11)
    timings: dict[str, list[float]] = {}
    hooks: list[float] = []
    counts = {}
    for arm in ("without", "with"):
        net_path = root / f"turns-{arm}.png"
        net = PixelNetwork(net_path, embedder="none")
        net.append_many([(f.question, f.answer) for f in facts[: args.turns]])
        micro = None
        if arm == "with":
            micro = MicroSleep(net_path, root / "lib", idle_s=args.idle, steps=100).start()
        spent = []
        for f in facts[args.turns :]:
            t0 = time.perf_counter()
            if micro is not None:
                micro.busy()
            t1 = time.perf_counter()
            net.search(f.question, k=3)
            net.append(f.question, f.answer)
            t2 = time.perf_counter()
            if micro is not None:
                micro.idle()
                hooks.append((t1 - t0) + (time.perf_counter() - t2))
            spent.append(t2 - t0)
            time.sleep(args.gap)  # the user reads and types
        if micro is not None:
            micro.close()
            counts = {"sleeps_started": micro.sleeps, "sleeps_finished": micro.finished}
        timings[arm] = spent
    med = {arm: statistics.median(v) * 1e3 for arm, v in timings.items()}
    mean = {arm: statistics.fmean(v) * 1e3 for arm, v in timings.items()}
    added = med["with"] - med["without"]
    print(
        f"micro-sleep: turn critical path median {med['without']:.2f} ms without, "
        f"{med['with']:.2f} ms with ({added:+.2f} ms, ratio {med['with'] / med['without']:.2f}); "
        f"mean {mean['without']:.2f} / {mean['with']:.2f} ms; hooks "
        f"{statistics.median(hooks) * 1e6:.0f} µs; {counts}"
    )
    return {
        "turns": args.turns,
        "gap_s": args.gap,
        "idle_s": args.idle,
        "median_ms": med,
        "mean_ms": mean,
        "added_ms": added,
        "ratio": med["with"] / med["without"],
        "hooks_us_median": statistics.median(hooks) * 1e6,
        **counts,
        "goal_met": added <= 1.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small version (fewer facts, steps)")
    ap.add_argument("--facts", type=int, default=20)
    ap.add_argument("--size", type=int, default=12_000, help="bytes per training file")
    ap.add_argument("--stem-steps", type=int, default=400)
    ap.add_argument("--train-steps", type=int, default=300)
    ap.add_argument("--steps", type=int, help="sleep steps [holomind sleep's default]")
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--gap", type=float, default=4.0, help="idle seconds between turns")
    ap.add_argument("--idle", type=float, default=0.5, help="idle seconds before micro-sleep")
    ap.add_argument("--parts", default="consolidation,micro")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.quick:
        args.facts, args.turns, args.gap = 8, 8, 3.0
    root = args.workdir or Path(tempfile.mkdtemp(prefix="bench-sleep-"))
    root.mkdir(parents=True, exist_ok=True)
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}}
    parts = args.parts.split(",")
    if "consolidation" in parts:
        results["consolidation"] = consolidation(args, root)
    if "micro" in parts:
        if not (root / "lib").exists():
            raise SystemExit("the micro part needs the consolidation part's library first")
        results["micro"] = micro_sleep(args, root)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
