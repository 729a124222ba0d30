"""Cartridge brain: constant memory, routing, swap latency and training speed, ours vs anchors.

Four measurements, each against its anchor in the same run:

  memory   peak RSS of a fresh process serving (and one training) on libraries of
           10 … 1,000,000 cartridges on disk; anchor: the seed's start-up that loads
           every cartridge (run where it fits in memory). Goal: CV <= 2 %, growth <= 5 %.
  routing  p50 latency of routing one context among 10^3 … 10^6 signatures, one
           after another and "cold" (each right after the anchor's scan, which
           flushes the CPU caches), and recall@4 against exact search; anchor:
           exact matmul + top-k over all signatures held in memory.
           Goal: <= 1 ms p50 at 10^6, recall@4 >= 0.95.
  swap     disk → active latency of a ~114 KB cartridge from the page cache; anchor:
           torch.load of the same tensors. Goal: <= 2 ms.
  train    training tokens/s of the cartridge model (stem frozen, k = 4 active)
           against a dense PyTorch transformer of the same active parameter count,
           all of it trained. Goal: >= 0.8x.

Libraries are synthetic (random stem and adapters at the seed's defaults; the
weights file of every cartridge is a hard link to one file, each has its own
folder and meta.json; signatures clustered by domain). They are built under
--workdir (kept and reused when given, else a temporary folder removed at exit).

    python bench/cartridges.py [--counts 10,1000,100000,1000000] [--workdir DIR]
        [--device cpu|cuda] [--targets mlp.c_fc,mlp.c_proj] [--json bench/results/cartridges.json]
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

# One BLAS thread, set before numpy loads: on a shared 2-core machine a second
# thread turns a 0.5 ms matrix-vector product into 15 ms of contention.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from holomind.cartridges import (  # noqa: E402
    Cartridge,
    CartridgeConfig,
    CartridgeModel,
    CartridgeState,
    Library,
    RouterConfig,
    Stem,
    StemConfig,
)
from holomind.cartridges.library import REGISTRY  # noqa: E402
from holomind.cartridges.router import ExactIndex, build_hierarchical_index  # noqa: E402
from holomind.learning.plugins import peak_rss_mb  # noqa: E402

PER_DOMAIN = 1000


def build_library(root: Path, count: int, config: CartridgeConfig, seed: int = 0) -> None:
    """A synthetic library of `count` cartridges in domains of up to PER_DOMAIN."""
    if (root / REGISTRY).is_file():
        return
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    stem = Stem(StemConfig())
    lib = Library.create(root, stem, config)
    lib.close()  # what follows writes the synthetic index and folders directly
    dim = stem.config.n_embd
    template = Cartridge(config, stem.config, CartridgeState(name="synthetic"))
    with torch.no_grad():
        for p in template.parameters():
            p.normal_(0, 0.02)
    template.save(root / "template", lib.stem_hash)
    n_domains = max(1, -(-count // PER_DOMAIN))
    centres = rng.standard_normal((n_domains, dim)).astype(np.float32)
    idx = root / "index"
    domains = np.repeat(np.arange(n_domains, dtype=np.int32), PER_DOMAIN)[:count]
    locals_ = np.tile(np.arange(PER_DOMAIN, dtype=np.int32), n_domains)[:count]
    with open(idx / "signatures.f32", "wb") as f:
        for lo in range(0, count, 65536):
            d = domains[lo : lo + 65536]
            sig = centres[d] + 0.5 * rng.standard_normal((len(d), dim)).astype(np.float32)
            sig /= np.linalg.norm(sig, axis=1, keepdims=True)
            f.write(sig.astype(np.float32).tobytes())
    domains.tofile(idx / "domains.i32")
    locals_.tofile(idx / "locals.i32")
    np.ones(count, dtype=np.float32).tofile(idx / "strengths.f32")
    sizes = np.bincount(domains, minlength=n_domains)
    for d in range(n_domains):
        folder = root / f"domain_{d:03d}"
        folder.mkdir()
        # a file takes at most ~65,000 hard links: one copy of the template per 50 domains
        source = root / "template" / f"copy_{d // 50}"
        if not source.is_dir():
            source.mkdir()
            for name in ("weights.safetensors", "meta.json"):
                shutil.copy(root / "template" / name, source / name)
        for i in range(int(sizes[d])):
            cart = folder / f"cart_{i:04d}"
            cart.mkdir()
            for name in ("weights.safetensors", "meta.json"):
                os.link(source / name, cart / name)
    registry = json.loads((root / REGISTRY).read_text())
    registry["count"] = count
    registry["routing_statistics"] = False  # synthetic signatures route by the cosine
    for name in ("counts.f64", "sums.f64", "moments.f64"):
        (idx / name).unlink()
    registry["domains"] = [
        {"id": d, "name": f"synthetic_{d}", "count": int(sizes[d])} for d in range(n_domains)
    ]
    (root / REGISTRY).write_text(json.dumps(registry))
    if count > RouterConfig().exact_limit:
        sig = np.memmap(idx / "signatures.f32", np.float32, "r", shape=(count, dim))
        build_hierarchical_index(idx / "hier", sig, domains)


def _suffix(config: CartridgeConfig) -> str:
    """Library folder suffix: none for the seed's cartridge shape (existing workdirs stay valid)."""
    default = CartridgeConfig()
    same = (config.rank, config.targets) == (default.rank, default.targets)
    return "" if same else "_" + "+".join(config.targets)


def queries(lib_root: Path, count: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Contexts near random cartridges' signatures (as held-out text of their domain)."""
    dim = StemConfig().n_embd
    sig = np.memmap(lib_root / "index" / "signatures.f32", np.float32, "r", shape=(count, dim))
    q = np.asarray(sig[np.sort(rng.integers(0, count, n))]) + 0.03 * rng.standard_normal((n, dim))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


# ---- children: one fresh process per library size and mode -----------------------------


def child(mode: str, root: Path, steps: int, device: str) -> dict:
    """Serve or train on a library for `steps` batches; report peak RSS."""
    torch.set_num_threads(1)
    if mode == "load_all":  # the anchor: every cartridge read at start-up, then serving
        lib = Library.open(root, cache_size=10**9, device=device)
        for i in range(len(lib)):
            lib.get(i)
    else:  # the cache is smaller than the smallest library: every size streams from disk
        lib = Library.open(root, cache_size=8, device=device, writable=mode == "train")
    model = CartridgeModel(lib)
    embeds = torch.from_numpy(np.load(root / "queries.npy"))
    start_rss = peak_rss_mb()
    for step in range(steps):
        x = torch.randint(0, 256, (4, 64), device=device)
        # route by the synthetic contexts (a random stem's embeddings carry no domain)
        route = lib.router.route(embeds[step * 4 : step * 4 + 4])
        if mode != "train":
            with torch.no_grad():
                model(x, route=route)
            continue
        out = model(x, x, route=route)
        out.train_loss.backward()
        for cart in out.cartridges:  # each cartridge's AdamW moments travel with it, as in training
            opt = cart.optimizer(1e-4)
            opt.step()
            opt.zero_grad(set_to_none=True)
            lib.mark_dirty(cart.state.id)
    if mode == "train":
        lib.flush()
    lib.close()
    return {"peak_rss_mb": peak_rss_mb(), "start_rss_mb": start_rss, "disk_loads": lib.loads}


def run_child(mode: str, root: Path, steps: int, device: str) -> dict:
    """Run one measurement in a fresh process (the contexts are made here, outside it)."""
    q = queries(
        root,
        int(json.loads((root / REGISTRY).read_text())["count"]),
        steps * 4,
        np.random.default_rng(1),
    )
    np.save(root / "queries.npy", q)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--lib",
            str(root),
            "--steps",
            str(steps),
            "--device",
            device,
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---- measurements ----------------------------------------------------------------------


def bench_memory(libs: dict[int, Path], steps: int, device: str) -> dict:
    rows = {}
    for count, root in libs.items():
        rows[count] = {
            "serve": run_child("serve", root, steps, device)["peak_rss_mb"],
            "train": run_child("train", root, steps, device)["peak_rss_mb"],
        }
        if count <= 1000:
            rows[count]["load_all"] = run_child("load_all", root, steps, device)["peak_rss_mb"]
        print(f"  memory {count:>9,}: {rows[count]}", flush=True)
    out = {"rows": rows}
    for mode in ("serve", "train"):
        values = [r[mode] for r in rows.values()]
        out[f"{mode}_cv_pct"] = 100 * statistics.pstdev(values) / statistics.mean(values)
        out[f"{mode}_growth_pct"] = 100 * (values[-1] - values[0]) / values[0]
    return out


def bench_routing(libs: dict[int, Path], probe: int, n: int = 300) -> dict:
    rows = {}
    rng = np.random.default_rng(2)
    for count, root in libs.items():
        if count < 1000:
            continue
        lib = Library.open(root, router_config=RouterConfig(probe_domains=probe))
        q = queries(root, count, n, rng)
        dim = q.shape[1]
        exact = ExactIndex(
            np.fromfile(root / "index" / "signatures.f32", np.float32).reshape(count, dim)
        )
        ours_t, cold_t, exact_t, recall = [], [], [], []
        for v in q:  # steady state: one routed context after another
            t = time.perf_counter()
            lib.router.route(torch.from_numpy(v[None]))
            ours_t.append(time.perf_counter() - t)
        for v in q:  # cold: each right after the anchor has streamed every signature
            t = time.perf_counter()
            _, e = exact.search(v[None], 4)
            exact_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            route = lib.router.route(torch.from_numpy(v[None]))
            cold_t.append(time.perf_counter() - t)
            recall.append(len(set(route.ids[0].tolist()) & set(e[0].tolist())) / 4)
        lib.close()
        rows[count] = {
            "mode": type(lib.router.index).__name__,
            "ours_p50_ms": 1000 * statistics.median(ours_t),
            "ours_cold_p50_ms": 1000 * statistics.median(cold_t),
            "exact_p50_ms": 1000 * statistics.median(exact_t),
            "recall_at_4": float(np.mean(recall)),
        }
        print(f"  routing {count:>9,}: {rows[count]}", flush=True)
        del exact
    return rows


def bench_swap(root: Path, n: int = 200) -> dict:
    lib = Library.open(root, cache_size=1)
    ids = list(range(min(n, len(lib))))
    for i in ids:  # warm the page cache
        lib.path_of(i).joinpath("weights.safetensors").read_bytes()
    ours = []
    for i in ids:
        t = time.perf_counter()
        lib.get(i)
        ours.append(time.perf_counter() - t)
    cart = lib.get(0)
    pt = root / "anchor.pt"
    torch.save({k: v.detach() for k, v in cart.state_dict().items()}, pt)
    anchor = []
    for _ in ids:
        t = time.perf_counter()
        torch.load(pt, weights_only=True)
        anchor.append(time.perf_counter() - t)
    lib.close()
    return {
        "ours_p50_ms": 1000 * statistics.median(ours),
        "torch_load_p50_ms": 1000 * statistics.median(anchor),
        "cartridge_kb": cart.num_bytes() / 1024,
    }


def bench_train(workdir: Path, device: str, steps: int, config: CartridgeConfig) -> dict:
    torch.manual_seed(0)
    root = workdir / f"train_lib{_suffix(config)}"
    if not (root / REGISTRY).is_file():
        lib = Library.create(root, Stem(StemConfig()), config)
        for d in range(8):
            lib.spawn(lib.domain_id(f"d{d}"), torch.randn(StemConfig().n_embd))
        lib.flush()
        lib.close()
    lib = Library.open(root, device=device, router_config=RouterConfig(active_k=4))
    model = CartridgeModel(lib)
    ws = torch.optim.AdamW(model.binding.parameters(), lr=1e-4)

    def ours_step(x: torch.Tensor) -> None:
        out = model(x, x)
        out.train_loss.backward()
        for cart in out.cartridges:
            opt = cart.optimizer(1e-4)
            opt.step()
            opt.zero_grad(set_to_none=True)
        ws.step()
        ws.zero_grad(set_to_none=True)

    stem_params = sum(p.numel() for p in lib.stem.parameters())
    active = stem_params + 4 * sum(p.numel() for p in lib.get(0).parameters())
    # The anchor is the stem's shape with every parameter trained: 4 active cartridges
    # add ~4 % to the stem, so its parameter count matches ours within that.
    dense = Stem(StemConfig()).to(device)
    dense_opt = torch.optim.AdamW(dense.parameters(), lr=1e-4)

    def dense_step(x: torch.Tensor) -> None:
        _, loss = dense(x, x)
        loss.backward()
        dense_opt.step()
        dense_opt.zero_grad(set_to_none=True)

    result = {"active_params": active, "dense_params": sum(p.numel() for p in dense.parameters())}
    for name, fn in (("ours", ours_step), ("dense", dense_step)):
        best = 0.0
        for _ in range(3):
            x = torch.randint(0, 256, (32, 64), device=device)
            fn(x)  # warm-up
            if device == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            for _ in range(steps):
                fn(x)
            if device == "cuda":
                torch.cuda.synchronize()
            best = max(best, steps * x.numel() / (time.perf_counter() - t))
        result[f"{name}_tokens_per_s"] = best
    result["ratio"] = result["ours_tokens_per_s"] / result["dense_tokens_per_s"]
    lib.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counts", default="10,1000,100000,1000000")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=60, help="batches per memory run")
    ap.add_argument("--train-steps", type=int, default=10)
    ap.add_argument("--parts", default="memory,routing,swap,train")
    ap.add_argument("--probe", type=int, default=RouterConfig().probe_domains)
    ap.add_argument(
        "--targets",
        default="mlp.c_proj",
        help="Linears the synthetic cartridges adapt: the seed's mlp.c_proj (114 KB), or "
        "`holomind train`'s default mlp.c_fc,mlp.c_proj (194 KB)",
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child")
    ap.add_argument("--lib", type=Path)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.lib, args.steps, args.device)))
        return
    torch.set_num_threads(1)
    cartridge = CartridgeConfig(targets=tuple(args.targets.split(",")))
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-cartridges-"))
    try:
        libs = {}
        for count in (int(c) for c in args.counts.split(",")):
            t = time.perf_counter()
            libs[count] = workdir / f"lib_{count}{_suffix(cartridge)}"
            build_library(libs[count], count, cartridge)
            print(f"  library of {count:,} ready ({time.perf_counter() - t:.0f} s)", flush=True)
        parts = args.parts.split(",")
        results = {
            "memory": bench_memory(libs, args.steps, args.device) if "memory" in parts else None,
            "routing": bench_routing(libs, args.probe) if "routing" in parts else None,
            "swap": bench_swap(libs[min(libs, key=lambda c: abs(c - 1000))])
            if "swap" in parts
            else None,
            "train": bench_train(workdir, args.device, args.train_steps, cartridge)
            if "train" in parts
            else None,
        }
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))


def report(r: dict) -> None:
    if m := r["memory"]:
        print("\nconstant memory (peak RSS, MB)")
        print(f"{'cartridges':>12} {'serve':>8} {'train':>8} {'load-all anchor':>16}")
        for count, row in m["rows"].items():
            anchor = f"{row['load_all']:.0f}" if "load_all" in row else "-"
            print(f"{count:>12,} {row['serve']:>8.0f} {row['train']:>8.0f} {anchor:>16}")
        for mode in ("serve", "train"):
            print(f"{mode}: CV {m[f'{mode}_cv_pct']:.2f} %, growth {m[f'{mode}_growth_pct']:.2f} %")
    if routing := r["routing"]:
        print("\nrouting (one context)")
        head = ("signatures", "mode", "ours p50 ms", "cold p50 ms", "exact p50 ms", "recall@4")
        print("{:>12} {:>18} {:>12} {:>12} {:>13} {:>9}".format(*head))
        for count, row in routing.items():
            print(
                f"{count:>12,} {row['mode']:>18} {row['ours_p50_ms']:>12.3f} "
                f"{row['ours_cold_p50_ms']:>12.3f} {row['exact_p50_ms']:>13.3f} "
                f"{row['recall_at_4']:>9.3f}"
            )
    if s := r["swap"]:
        print(
            f"\nswap disk→active ({s['cartridge_kb']:.0f} KB): ours p50 {s['ours_p50_ms']:.3f} ms, "
            f"torch.load p50 {s['torch_load_p50_ms']:.3f} ms"
        )
    if t := r["train"]:
        print(
            f"\ntraining: ours {t['ours_tokens_per_s']:,.0f} tok/s, "
            f"dense {t['dense_tokens_per_s']:,.0f} tok/s, ratio {t['ratio']:.2f}x "
            f"({t['active_params']:,} vs {t['dense_params']:,} params)"
        )


if __name__ == "__main__":
    main()
