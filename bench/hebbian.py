"""The Hebbian router (seed 004): routing accuracy and held-out loss with the term on and off.

One library, many small domains — each file its own domain, made from texts on
every Debian machine with Python (`holomind.learning.texts`: licences, standard-
library modules' code, pydoc pages) — so that there are many more cartridges
than ``active_k`` (4) and domains that look alike (GPL-2 / GPL-3 / LGPL-2.1, …).
The stem is trained once and its library (one cartridge per domain) copied; then
the cartridge stage runs from that copy twice in the same process and with the
same seed: with `standard_plugins` (``HebbianRouting`` on) and without
``HebbianRouting`` (the ablation). Measured on held-out windows of every domain:

  routing accuracy   the router's first choice is the domain's cartridge
  recall@k           the domain's cartridge is among the ``active_k`` chosen
  held-out loss      the model's mixture, nats/byte (mean over domains)

    OMP_NUM_THREADS=1 python bench/hebbian.py [--seeds 0,1] [--steps 600] [--quick]
        [--json bench/results/hebbian.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from holomind.cartridges import CartridgeModel, Library  # noqa: E402
from holomind.learning import (  # noqa: E402
    Corpus,
    HebbianRouting,
    TrainConfig,
    Trainer,
    standard_plugins,
)
from holomind.learning.texts import (  # noqa: E402
    ALL_LICENCES,
    MORE_PYDOC,
    MORE_SOURCES,
    domain_texts,
)

SHAPE = {"dim": 64, "stem_depth": 2, "n_head": 2, "adapter_rank": 4, "seq_len": 64}


def build_domains(root: Path, per_kind: int, size: int) -> Path:
    """``root/<kind>-<name>/<name>.txt``: ``per_kind`` licences, modules and pydoc pages."""
    selection = {
        "licences": ALL_LICENCES[:per_kind],
        "sources": MORE_SOURCES[:per_kind],
        "docs": MORE_PYDOC[:per_kind],
    }
    for kind, short in (("licences", "lic"), ("python", "py"), ("pydoc", "doc")):
        for name, text in domain_texts(kind, **selection):
            folder = root / f"{short}-{name}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.txt").write_text(text[:size])
    return root


@torch.no_grad()
def measure(lib_root: Path, corpus: Corpus, limit: int) -> dict:
    """Routing accuracy, recall@k and held-out loss per domain of the library at lib_root."""
    lib = Library.open(lib_root)
    model = CartridgeModel(lib).eval()
    names = lib.domain_names
    per: dict[str, dict] = {}
    for name, (x, y) in corpus.validation_windows(limit).items():
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        route = lib.router.route(model.embed(xt))
        doms = np.asarray(lib.domains)[route.ids.numpy()]  # (n, k) domains of the chosen
        own = np.array([[names[int(d)] == name for d in row] for row in doms])
        per[name] = {
            "windows": len(x),
            "accuracy": float(own[:, 0].mean()),
            "recall": float(own.any(axis=1).mean()),
            "loss": float(model(xt, yt).loss),
        }
    lib.close()
    return {
        "accuracy": float(np.mean([d["accuracy"] for d in per.values()])),
        "recall": float(np.mean([d["recall"] for d in per.values()])),
        "loss": float(np.mean([d["loss"] for d in per.values()])),
        "domains": per,
    }


# the arms: HebbianRouting as `holomind train` runs it, each of its two rules alone, none
ARMS = {
    "on": HebbianRouting(),
    "routes only": HebbianRouting(homeostasis=False),
    "homeostasis only": HebbianRouting(routes=False),
    "off": None,
}


def run_arm(base: Path, root: Path, corpus: Corpus, config: TrainConfig, arm: str) -> dict:
    """The cartridge stage from a copy of the base library with the arm's HebbianRouting."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(base, root)
    plugins = [
        ARMS[arm] if isinstance(p, HebbianRouting) else p
        for p in standard_plugins(config)
        if ARMS[arm] is not None or not isinstance(p, HebbianRouting)
    ]
    start = time.perf_counter()
    Trainer(config, corpus, root, plugins).fit()
    return {"seconds": time.perf_counter() - start}


def set_router(lib: Path, settings: list[str]) -> None:
    """Write RouterConfig settings into the library's registry (what later runs route by)."""
    registry = json.loads((lib / "registry.json").read_text())
    router = registry["model"]["router"]
    for item in settings:
        key, value = item.split("=", 1)
        if key not in router:
            raise SystemExit(f"--router {item}: no such RouterConfig setting ({', '.join(router)})")
        router[key] = type(router[key])(value)
    (lib / "registry.json").write_text(json.dumps(registry, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small version in about a minute")
    ap.add_argument("--per-kind", type=int, default=8, help="domains per kind (3 kinds)")
    ap.add_argument("--size", type=int, default=8000, help="bytes per domain")
    ap.add_argument("--stem-steps", type=int, default=400)
    ap.add_argument("--steps", type=int, default=600, help="cartridge steps per arm")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--limit", type=int, default=64, help="held-out windows per domain")
    ap.add_argument("--arms", default=",".join(ARMS), help=f"among {', '.join(ARMS)}")
    ap.add_argument(
        "--router",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a RouterConfig setting for the library (e.g. hebbian_lr=0.5); repeatable",
    )
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.quick:
        args.per_kind, args.size, args.stem_steps, args.steps = 6, 4000, 150, 150
        args.seeds = args.seeds.split(",")[0]
    seeds = [int(s) for s in args.seeds.split(",")]
    keep = args.workdir is not None
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-hebbian-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}, "seeds": []}
    try:
        data = build_domains(work / "data", args.per_kind, args.size)
        corpus = Corpus.from_folder(data, SHAPE["seq_len"])
        n = len({d.domain for d in corpus.documents})
        print(f"{n} domains, {corpus.num_tokens():,} training bytes; active_k 4", flush=True)
        common = {**SHAPE, "batch": args.batch, "lr": 3e-3, "checkpoint_every": 0}
        base = work / "base"
        shutil.rmtree(base, ignore_errors=True)
        start = time.perf_counter()
        stem = TrainConfig(stem_steps=args.stem_steps, steps=0, stem_lr=3e-3, **common)
        Trainer(stem, corpus, base).fit()
        print(f"stem + {n} cartridges spawned in {time.perf_counter() - start:.0f} s", flush=True)
        set_router(base, args.router)
        results["untrained_cartridges"] = measure(base, corpus, args.limit)
        for seed in seeds:
            config = TrainConfig(steps=args.steps, seed=seed, workspace_learns="always", **common)
            row: dict = {"seed": seed}
            for arm in args.arms.split(","):
                root = work / f"{arm.replace(' ', '_')}_seed{seed}"
                row[arm] = run_arm(base, root, Corpus.from_folder(data, 64), config, arm)
                row[arm].update(measure(root, corpus, args.limit))
                r = row[arm]
                print(
                    f"seed {seed} Hebbian {arm:16s}: routing accuracy {r['accuracy']:.3f}, "
                    f"recall@4 {r['recall']:.3f}, held-out loss {r['loss']:.4f} nats/byte "
                    f"({r['seconds']:.0f} s)",
                    flush=True,
                )
            results["seeds"].append(row)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    u = results["untrained_cartridges"]
    print(f"\nbefore the cartridge stage: accuracy {u['accuracy']:.3f}, loss {u['loss']:.4f}")
    arms = list(results["seeds"][0]) if results["seeds"] else []
    arms = [a for a in arms if a != "seed"]
    print(f"{'':18s}" + "".join(f"{a:>20s}" for a in arms))
    for key, what in (("accuracy", "routing accuracy"), ("recall", "recall@4"), ("loss", "loss")):
        cells = []
        for arm in arms:
            v = [r[arm][key] for r in results["seeds"]]
            sd = statistics.stdev(v) if len(v) > 1 else 0.0
            cells.append(f"{statistics.mean(v):.4f} ± {sd:.4f}")
        print(f"{what:18s}" + "".join(f"{c:>20s}" for c in cells))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
