"""Ledger benchmark: appends against raw Ed25519 signing, verify at 100k, proofs at 10^6.

1. Appends. Ours: `Ledger.transfer` inside `Ledger.batch()` (batches of 1,000: each
   entry is checked, signed, hash-chained, written with its own ``write`` and taken
   into the Merkle tree; one fsync and one signed tree head per batch, timed too and
   also reported apart). Anchor: raw
   Ed25519 signing (the same `cryptography` key) of exactly the bytes each entry's
   signature covers. The two
   run in turn, block by block, in one process. Also: single appends outside a batch
   (each with an fsync and a new signed tree head), against the same anchor.
2. Verify. `verify_ledger` on a ledger of 100,000 entries (every line's format, order,
   hash chain, signature and rules, then the Merkle root against the signed head),
   against raw Ed25519 verification of the same 100,000 signatures. Also the time to
   open the ledger (replay without re-checking signatures the head already covers).
3. Proofs. A Merkle tree of hashes only (`MerkleTree`, leaves = RFC 6962 hashes of
   synthetic 300-byte entries: no ledger, no signatures) at 10^3 .. 10^6 leaves:
   inclusion and consistency proof size, time to make and to check one (mean over
   random leaves), against the anchor of recomputing the root from every leaf.

    OMP_NUM_THREADS=1 .venv/bin/python bench/ledger.py            # full run, a few minutes
    OMP_NUM_THREADS=1 .venv/bin/python bench/ledger.py --quick    # smaller sizes, a smoke test

Results also go to bench/results/ledger.json (or --json PATH).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from holomind.ledger import Ledger, MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from holomind.ledger.entry import signed_message
from holomind.ledger.keys import KeyRing, public_key

BLOCK = 1000  # entries per batch, and per anchor block


def progress(done: int, total: int, start: float, what: str) -> None:
    """One overwritten line on stderr: how far, and the time left at this pace."""
    elapsed = time.perf_counter() - start
    eta = elapsed / done * (total - done) if done else float("nan")
    end = "\n" if done == total else ""
    print(f"\r  {what}: {done:,}/{total:,}  ETA {eta:5.0f} s", end=end, file=sys.stderr)


def fresh_ledger(folder: Path) -> Ledger:
    ledger = Ledger.open(folder, create=True)
    ledger.create_account("alice")
    ledger.create_account("bob")
    ledger.mint("alice", 10**15, "funds for the benchmark")
    return ledger


def bench_appends(folder: Path, total: int, singles: int) -> dict:
    ledger = fresh_ledger(folder)
    key = KeyRing(folder / "keys").load("alice")
    lines = ledger_lines(folder)
    appending = committing = anchor = 0.0
    start = time.perf_counter()
    for done in range(0, total, BLOCK):
        batch = ledger.batch()
        batch.__enter__()
        t = time.perf_counter()
        for i in range(BLOCK):
            ledger.transfer("alice", "bob", 1, f"payment {done + i}")
        appending += time.perf_counter() - t
        batch.__exit__(None, None, None)  # the fsync and the signed tree head
        committing += time.perf_counter() - t
        block = [signed_message(line) for line in lines()[-BLOCK:]]
        t = time.perf_counter()
        for message in block:  # the very bytes each entry's signature covers, same key
            key.sign(message)
        anchor += time.perf_counter() - t
        progress(done + BLOCK, total, start, "batched appends")
    committing -= appending
    single_ours = single_anchor = 0.0
    for i in range(singles):
        t = time.perf_counter()
        ledger.transfer("alice", "bob", 1, f"single {i}")
        single_ours += time.perf_counter() - t
        message = signed_message(lines()[-1])
        t = time.perf_counter()
        key.sign(message)
        single_anchor += time.perf_counter() - t
    ledger.close()
    return {
        "entries": total,
        "batch": BLOCK,
        "ours_per_s": round(total / (appending + committing)),
        "raw_sign_per_s": round(total / anchor),
        "ratio": round(anchor / (appending + committing), 3),
        "appends_alone_per_s": round(total / appending),
        "ratio_appends_alone": round(anchor / appending, 3),
        "commit_ms_per_batch": round(committing / (total / BLOCK) * 1e3, 2),
        "single_appends": singles,
        "single_ours_per_s": round(singles / single_ours, 1),
        "single_ratio": round(single_anchor / single_ours, 4),
    }


def ledger_lines(folder: Path):
    log = folder / "entries.jsonl"
    return lambda: log.read_bytes().splitlines()


def bench_verify(folder: Path, total: int) -> dict:
    ledger = fresh_ledger(folder)
    start = time.perf_counter()
    built = len(ledger)
    while built < total:
        with ledger.batch():
            for _ in range(min(BLOCK, total - built)):
                ledger.transfer("alice", "bob", 1, f"payment {built}")
                built += 1
        progress(built, total, start, "building the ledger")
    ledger.close()
    t = time.perf_counter()
    Ledger.open(folder).close()
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    report = Ledger.open(folder).verify()
    verify_s = time.perf_counter() - t
    assert report.ok and report.entries == total, report
    # Anchor: the same signatures checked with nothing else (keys looked up in a dict).
    lines = (folder / "entries.jsonl").read_bytes().splitlines()
    keys = {}
    jobs = []
    for line in lines:
        entry = json.loads(line)
        signer = entry.get("from", "ledger")
        if entry["kind"] in ("genesis",):
            keys["ledger"] = public_key(entry["key"])
        elif entry["kind"] == "account":
            keys[entry["name"]] = public_key(entry["key"])
        jobs.append((keys[signer], bytes.fromhex(entry["sig"]), signed_message(line)))
    t = time.perf_counter()
    for pub, sig, msg in jobs:
        pub.verify(sig, msg)
    raw_s = time.perf_counter() - t
    return {
        "entries": total,
        "verify_s": round(verify_s, 2),
        "raw_verify_s": round(raw_s, 2),
        "ratio": round(raw_s / verify_s, 3),
        "open_s": round(open_s, 2),
        "file_mb": round((folder / "entries.jsonl").stat().st_size / 1e6, 1),
    }


def bench_proofs(sizes: list[int], samples: int, rng: random.Random) -> dict:
    tree = MerkleTree()
    out = {}
    start = time.perf_counter()
    for target in sizes:
        for i in range(len(tree), target):
            tree.append(leaf_hash(b"%300d" % i))
            if i % 100_000 == 99_999:
                progress(i + 1, sizes[-1], start, "hashing leaves")
        root = tree.root()
        picks = [rng.randrange(target) for _ in range(samples)]
        t = time.perf_counter()
        proofs = [tree.inclusion_proof(i) for i in picks]
        make_s = (time.perf_counter() - t) / samples
        t = time.perf_counter()
        ok = all(
            verify_inclusion(tree.leaf(i), i, target, p, root)
            for i, p in zip(picks, proofs, strict=True)
        )
        check_s = (time.perf_counter() - t) / samples
        olds = [rng.randrange(1, target) for _ in range(samples)]
        t = time.perf_counter()
        cproofs = [tree.consistency_proof(m) for m in olds]
        cmake_s = (time.perf_counter() - t) / samples
        cok = all(
            verify_consistency(m, target, tree.root(m), root, p)
            for m, p in zip(olds, cproofs, strict=True)
        )
        t = time.perf_counter()
        recompute_root(tree, target)
        full_s = time.perf_counter() - t
        assert ok and cok
        lengths = [len(p) for p in proofs]
        out[target] = {
            "inclusion_hashes_max": max(lengths),
            "inclusion_hashes_mean": round(statistics.mean(lengths), 1),
            "inclusion_bytes_max": 32 * max(lengths),
            "log2_n": math.ceil(math.log2(target)),
            "inclusion_make_us": round(make_s * 1e6, 1),
            "inclusion_check_us": round(check_s * 1e6, 1),
            "consistency_hashes_max": max(len(p) for p in cproofs),
            "consistency_make_us": round(cmake_s * 1e6, 1),
            "root_from_all_leaves_s": round(full_s, 3),
        }
        print(f"  proofs at {target:,}: {out[target]}", file=sys.stderr)
    return out


def recompute_root(tree: MerkleTree, n: int) -> bytes:
    """The anchor: the RFC 6962 root from the leaf hashes alone, every node hashed again."""
    from holomind.ledger.merkle import node_hash

    level = [tree.leaf(i) for i in range(n)]
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])  # RFC 6962: a lone right node moves up unchanged
        level = nxt
    return level[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (under a minute)")
    parser.add_argument("--json", type=Path, default=Path("bench/results/ledger.json"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    appends, singles = (5_000, 50) if args.quick else (50_000, 300)
    verify_n = 10_000 if args.quick else 100_000
    sizes = [10**3, 10**4, 10**5] if args.quick else [10**3, 10**4, 10**5, 10**6]
    results: dict = {"quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        results["appends"] = bench_appends(Path(tmp) / "appends", appends, singles)
        results["verify"] = bench_verify(Path(tmp) / "verify", verify_n)
    results["proofs"] = bench_proofs(sizes, 1000, rng)
    a, v = results["appends"], results["verify"]
    print(
        f"appends in batches of {a['batch']:,}: {a['ours_per_s']:,}/s; raw Ed25519 signing of "
        f"the same entries: {a['raw_sign_per_s']:,}/s; ratio {a['ratio']} (goal >= 0.5)"
    )
    print(
        f"  of which appending {a['appends_alone_per_s']:,}/s (ratio {a['ratio_appends_alone']}), "
        f"and {a['commit_ms_per_batch']} ms per batch for its fsync and signed tree head"
    )
    print(
        f"appends, one at a time (fsync + signed head each): {a['single_ours_per_s']}/s; "
        f"ratio to raw signing {a['single_ratio']}"
    )
    print(
        f"verify {v['entries']:,} entries: {v['verify_s']} s; raw signature checks alone "
        f"{v['raw_verify_s']} s; ratio {v['ratio']}; open (replay) {v['open_s']} s"
    )
    for n, p in results["proofs"].items():
        print(
            f"proof at {n:,} leaves: {p['inclusion_hashes_max']} hashes "
            f"({p['inclusion_bytes_max']} bytes, ceil(log2 n) = {p['log2_n']}), "
            f"make {p['inclusion_make_us']} us, check {p['inclusion_check_us']} us; "
            f"consistency {p['consistency_hashes_max']} hashes, "
            f"make {p['consistency_make_us']} us; "
            f"root from all leaves {p['root_from_all_leaves_s']} s"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
