"""Continual learning: ours against the standard baselines, every strategy in the same run.

Three measurements (issue 10):

  digits  Split-Digits, class-incremental: scikit-learn's bundled load_digits (pixels / 16),
          a stratified 70/30 split, five experiences of two classes in a seeded random
          order, no task label at test. Ours is `holomind.NeuralNetwork`; the anchors are
          Naive fine-tuning, EWC, LwF, Replay-200 and Joint training of an MLP of the same
          size (64-1024-1024-10, 1.13 M parameters; ours stores 1.12 M numbers), written
          here in plain PyTorch, the same epochs per experience. Prints the accuracy
          matrix, ACC, BWT and FWT (Lopez-Paz & Ranzato 2017) over the seeds, and
          ablations of ours. Goal: ACC >= 0.95 and BWT >= -0.01 with at most 200
          exemplars; ours beats Replay-200.
  text    licences -> Python docs -> Python code (`holomind.learning.texts`): one library,
          `holomind train` once per domain, the stem trained on the licences only. After
          each experience, every domain's held-out loss (nats/byte), against Naive
          sequential fine-tuning of the whole stem and Joint training of a stem on all
          three. Goal: no earlier domain's loss rises more than 1 %. And on Python code,
          which the stem never saw: the frozen stem alone vs stem + cartridges vs
          fine-tuning the whole stem for the same steps. Goals: >= 40 % below the stem,
          >= 75 % of fine-tuning's loss reduction.
  memory  peak RSS (VmHWM) of each `holomind train` process as experiences accumulate
          (more single-module pydoc domains after the three). Goal: CV <= 2 %.

    OMP_NUM_THREADS=1 python bench/continual.py [--quick] [--parts digits,text]
        [--seeds 0,1,2] [--text-seeds 0] [--workdir DIR] [--json bench/results/continual.json]

`--quick` runs a smaller version of everything in a few minutes.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from holomind import NeuralNetwork  # noqa: E402
from holomind.cartridges import CartridgeModel, Library, Stem  # noqa: E402
from holomind.cartridges.router import ExactIndex  # noqa: E402
from holomind.learning import Corpus, TrainConfig  # noqa: E402
from holomind.learning.texts import (  # noqa: E402
    ALL_LICENCES,
    MORE_PYDOC,
    MORE_SOURCES,
    build_corpus,
)

STRATEGIES = ("naive", "ewc", "lwf", "replay", "joint", "ours")
# training fixes glibc's mmap threshold (holomind.learning.allocator); the ablation leaves
# glibc's own, which grows as large blocks are freed, so tensors reuse a fragmented heap
GLIBC = {"HOLOMIND_ALLOCATOR": "glibc"}


class Progress:
    """Counts units of work done and prints a line with the elapsed time and an ETA."""

    def __init__(self, total: float) -> None:
        self.total, self.done, self.start = total, 0.0, time.perf_counter()

    def step(self, units: float, what: str) -> None:
        self.done += units
        elapsed = time.perf_counter() - self.start
        eta = elapsed / max(self.done, 1e-9) * (self.total - self.done)
        print(f"  [{elapsed / 60:5.1f} min, ETA {eta / 60:5.1f} min] {what}", flush=True)


# ---- Split-Digits -------------------------------------------------------------------------


def split_digits(seed: int) -> tuple[list, list, tuple[np.ndarray, np.ndarray]]:
    """Five experiences (X, y) for training and for testing, and the whole test set."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(
        x, y.astype(np.int64), test_size=0.3, stratify=y, random_state=0
    )
    order = np.random.default_rng(seed).permutation(10)
    groups = [order[2 * i : 2 * i + 2] for i in range(5)]
    train = [(xtr[np.isin(ytr, g)], ytr[np.isin(ytr, g)]) for g in groups]
    test = [(xte[np.isin(yte, g)], yte[np.isin(yte, g)]) for g in groups]
    return train, test, (xte, yte)


def mlp(hidden: int) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(64, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, 10),
    )


def accuracy(predict: Callable[[np.ndarray], np.ndarray], test: list) -> list[float]:
    return [float((predict(x) == y).mean()) for x, y in test]


def torch_predict(model: torch.nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    def predict(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(x)).argmax(dim=1).numpy()

    return predict


def fit(
    model: torch.nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    args: argparse.Namespace,
    gen: torch.Generator,
    extra: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    replay: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """``args.epochs`` epochs of Adam on (x, y), optionally with a penalty or replayed batches."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(args.epochs):
        perm = torch.randperm(len(xt), generator=gen)
        for lo in range(0, len(xt), 32):
            idx = perm[lo : lo + 32]
            xb, yb = xt[idx], yt[idx]
            if replay is not None and len(replay[1]):
                pick = torch.randint(0, len(replay[1]), (32,), generator=gen)
                xb = torch.cat([xb, torch.from_numpy(replay[0])[pick]])
                yb = torch.cat([yb, torch.from_numpy(replay[1])[pick]])
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            if extra is not None:
                loss = loss + extra(xb, logits)
            opt.zero_grad()
            loss.backward()
            opt.step()


def fisher(model: torch.nn.Module, x: np.ndarray, y: np.ndarray) -> list[torch.Tensor]:
    """Diagonal empirical Fisher information, one sample at a time."""
    out = [torch.zeros_like(p) for p in model.parameters()]
    for xi, yi in zip(torch.from_numpy(x), torch.from_numpy(y), strict=True):
        model.zero_grad()
        F.cross_entropy(model(xi[None]), yi[None]).backward()
        for acc, p in zip(out, model.parameters(), strict=True):
            acc += p.grad.detach() ** 2 / len(x)
    return out


def ewc_penalty(
    model: torch.nn.Module,
    anchors: list[torch.Tensor],
    importance: list[torch.Tensor],
    lam: float,
    xb: torch.Tensor,
    logits: torch.Tensor,
) -> torch.Tensor:
    """EWC: lam / 2 * sum F (theta - theta*)^2 over every parameter."""
    terms = zip(model.parameters(), anchors, importance, strict=True)
    return lam / 2 * sum((f * (p - a) ** 2).sum() for p, a, f in terms)


def lwf_penalty(
    teacher: torch.nn.Module, old_classes: list[int], xb: torch.Tensor, logits: torch.Tensor
) -> torch.Tensor:
    """LwF: distillation (T = 2) of the previous model's outputs on the old classes."""
    with torch.no_grad():
        target = F.softmax(teacher(xb)[:, old_classes] / 2.0, dim=1)
    student = F.log_softmax(logits[:, old_classes] / 2.0, dim=1)
    return F.kl_div(student, target, reduction="batchmean") * 4.0


def run_baseline(name: str, train: list, test: list, seed: int, args: argparse.Namespace) -> dict:
    """Accuracy matrix R[i][j] (after experience i, on experience j) and the init accuracies."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = mlp(args.hidden)
    init = accuracy(torch_predict(model), test)
    if name == "joint":
        x = np.concatenate([e[0] for e in train])
        y = np.concatenate([e[1] for e in train])
        fit(model, x, y, args, gen)
        return {"R": [accuracy(torch_predict(model), test)], "init": init}
    rows = []
    anchors: list[torch.Tensor] = []
    importance: list[torch.Tensor] = []
    old: torch.nn.Module | None = None
    seen: list[int] = []
    memory = (np.zeros((0, 64), np.float32), np.zeros(0, np.int64))
    rng = np.random.default_rng(seed)
    for x, y in train:
        extra = None
        if name == "ewc" and anchors:
            extra = partial(ewc_penalty, model, anchors, importance, args.ewc_lambda)
        if name == "lwf" and old is not None:
            extra = partial(lwf_penalty, old, list(seen))
        fit(model, x, y, args, gen, extra, memory if name == "replay" else None)
        seen = sorted({*seen, *np.unique(y).tolist()})
        if name == "ewc":
            new = fisher(model, x, y)
            importance = (
                [a + b for a, b in zip(importance, new, strict=True)] if importance else new
            )
            anchors = [p.detach().clone() for p in model.parameters()]
        if name == "lwf":
            old = copy.deepcopy(model).eval()
        if name == "replay":  # class-balanced random memory of at most 200
            xs, ys = np.concatenate([memory[0], x]), np.concatenate([memory[1], y])
            quota = args.memory // len(seen)
            keep = []
            for c in seen:
                idx = np.flatnonzero(ys == c)
                keep.append(idx if len(idx) <= quota else rng.choice(idx, quota, replace=False))
            memory = (xs[np.concatenate(keep)], ys[np.concatenate(keep)])
        rows.append(accuracy(torch_predict(model), test))
    return {"R": rows, "init": init}


def run_ours(train: list, test: list, seed: int, args: argparse.Namespace, **options) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="nn-", dir=args.workdir))
    net = NeuralNetwork(folder, 64, 10, memory_size=args.memory, seed=seed, **options)
    rows = []
    for i, (x, y) in enumerate(train):
        (net.train if i == 0 else net.resume_training)((x, y))
        rows.append(accuracy(net.predict, test))
    shutil.rmtree(folder)
    # before any experience ours predicts nothing: its "random init" accuracy is 0
    return {"R": rows, "init": [0.0] * len(test), "memory": len(net.memory[1])}


def metrics(result: dict) -> dict:
    R, b = np.array(result["R"]), np.array(result["init"])
    T = R.shape[1]
    out = {"acc": float(R[-1].mean())}
    if len(R) == T:  # not Joint: one row per experience
        out["bwt"] = float(np.mean([R[-1, j] - R[j, j] for j in range(T - 1)]))
        out["fwt"] = float(np.mean([R[j - 1, j] - b[j] for j in range(1, T)]))
    return out


def bench_digits(args: argparse.Namespace) -> dict:
    variants = {s: {} for s in STRATEGIES}
    variants["ours, no random features (features=0)"] = {"features": 0}
    variants["ours, no covariance (shrinkage=1: nearest class mean)"] = {"shrinkage": 1.0}
    progress = Progress(len(args.seeds) * len(variants))
    runs: dict[str, list] = {name: [] for name in variants}
    for seed in args.seeds:
        train, test, _ = split_digits(seed)
        for name, options in variants.items():
            t = time.perf_counter()
            if name.startswith("ours"):
                result = run_ours(train, test, seed, args, **options)
            else:
                result = run_baseline(name, train, test, seed, args)
            result.update(metrics(result), seconds=time.perf_counter() - t)
            runs[name].append(result)
            progress.step(1, f"digits seed {seed} {name}: ACC {result['acc']:.3f}")
    summary = {}
    for name, rs in runs.items():
        row = {"runs": rs}
        for key in ("acc", "bwt", "fwt"):
            values = [r[key] for r in rs if key in r]
            if values:
                row[key] = statistics.mean(values)
                row[f"{key}_sd"] = statistics.pstdev(values)
        row["R_mean"] = np.mean([r["R"] for r in rs], axis=0).tolist()
        summary[name] = row
    return summary


def report_digits(d: dict) -> None:
    print("\nSplit-Digits, class-incremental (mean ± sd over seeds)")
    print(f"{'strategy':<55} {'ACC':>14} {'BWT':>15} {'FWT':>15} {'ours/it':>8}")
    ours = d["ours"]["acc"]
    for name, row in d.items():
        cells = [
            f"{row[k]:.3f} ± {row[f'{k}_sd']:.3f}" if k in row else "-"
            for k in ("acc", "bwt", "fwt")
        ]
        print(f"{name:<55} {cells[0]:>14} {cells[1]:>15} {cells[2]:>15} {ours / row['acc']:>7.2f}x")
    for name in ("ours", "replay", "naive"):
        print(f"\naccuracy matrix, {name} (row: after experience i; column: experience j)")
        for r in d[name]["R_mean"]:
            print("   " + " ".join(f"{v:.3f}" for v in r))
    ok = ours >= 0.95 and d["ours"]["bwt"] >= -0.01 and ours > d["replay"]["acc"]
    print(f"\ngoal ACC >= 0.95, BWT >= -0.01, beats Replay-200: {'met' if ok else 'MISSED'}")


# ---- text domains in sequence -------------------------------------------------------------


def text_setup(args: argparse.Namespace, root: Path) -> dict[str, Path]:
    """One folder per domain (and per extra single-module domain for the memory part)."""
    size = 6_000 if args.quick else 40_000
    build_corpus(
        root / "data",
        size=size,
        licences=ALL_LICENCES,
        sources=MORE_SOURCES,
        docs=MORE_PYDOC,
    )
    folders = {d: root / "data" / d for d in ("licences", "pydoc", "python")}
    for i, module in enumerate(MORE_PYDOC[: args.extra]):
        extra = root / "extra" / f"extra_{i:02d}"
        extra.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / "data" / "pydoc" / f"{module}.txt", extra / f"{module}.txt")
        folders[f"extra_{i:02d}"] = extra
    return folders


def windows(folders: dict[str, Path], seq_len: int) -> dict[str, tuple[torch.Tensor, ...]]:
    out = {}
    for name in ("licences", "pydoc", "python"):
        corpus = Corpus.from_folder(folders[name], seq_len, domain=name)
        x, y = corpus.validation_windows(limit=128)[name]
        out[name] = (torch.from_numpy(x), torch.from_numpy(y))
    return out


@torch.no_grad()
def stem_losses(stem: Stem, held: dict) -> dict[str, float]:
    stem.eval()
    return {name: float(stem(x, y)[1]) for name, (x, y) in held.items()}


@torch.no_grad()
def library_losses(lib_root: Path, held: dict, cosine: bool = False) -> dict[str, float]:
    """The library's held-out losses (``cosine``: routed by the cosine to the signatures)."""
    lib = Library.open(lib_root)
    if cosine:
        lib.router.index = ExactIndex(lib.signatures)
    model = CartridgeModel(lib).eval()
    out = {name: float(model(x, y).loss) for name, (x, y) in held.items()}
    lib.close()
    return out


def holomind_train(
    folder: Path, domain: str, lib: Path, flags: list[str], echo: bool, env: dict | None = None
) -> float:
    """`holomind train` in a fresh process (``env`` added); returns its peak RSS (VmHWM) in MB."""
    code = (
        "import atexit, sys; from holomind.learning.plugins import peak_rss_mb;"
        "atexit.register(lambda: print(f'PEAK_RSS_MB {peak_rss_mb():.1f}', file=sys.stderr));"
        "from holomind.cli.main import main; main(sys.argv[1:])"
    )
    cmd = [sys.executable, "-c", code, "train", str(folder), "--library", str(lib)]
    proc = subprocess.Popen(
        [*cmd, "--domain", domain, *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert proc.stdout is not None and proc.stderr is not None
    for line in proc.stdout:
        if echo and line.startswith(("Step", "Phase", "  ")):
            print(f"      {line.rstrip()}", flush=True)
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise RuntimeError(f"holomind train failed: {err}")
    return float(next(ln.split()[1] for ln in err.splitlines() if ln.startswith("PEAK_RSS_MB")))


def fine_tune(
    stem: Stem, corpus: Corpus, steps: int, lr: float, seed: int, progress: Progress, what: str
) -> Stem:
    """The whole stem trained on a corpus (AdamW, cosine decay, clipped), a copy."""
    model = copy.deepcopy(stem).requires_grad_(True).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    rng = np.random.default_rng(seed)
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + np.cos(np.pi * step / steps))
        x, y, _ = corpus.sample(rng, 32)
        _, loss = model(torch.from_numpy(x), torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (step + 1) % 100 == 0 or step + 1 == steps:
            progress.step((step % 100) + 1, f"{what}: step {step + 1} of {steps}")
    return model.eval()


def bench_text(args: argparse.Namespace, seed: int) -> dict:
    root = args.workdir / f"text_seed{seed}"
    shutil.rmtree(root, ignore_errors=True)
    folders = text_setup(args, root)
    c = TrainConfig()
    if args.quick:
        c = TrainConfig(dim=64, stem_depth=2, n_head=2, adapter_rank=8)
    S, N, X = args.stem_steps, args.steps, args.extra_steps
    flags = [
        *("--dim", str(c.dim), "--stem-depth", str(c.stem_depth), "--heads", str(c.n_head)),
        *("--rank", str(c.adapter_rank), "--seed", str(seed), "--log-every", "100"),
    ]
    held = windows(folders, c.seq_len)
    lib = root / "library"
    domains = ("licences", "pydoc", "python")
    # ours, its ablation, extra experiences, naive, fine-tuning, joint
    total = S + 3 * N + 2 * N + 2 * args.extra * X + 2 * N + N + (S + 3 * N)
    progress = Progress(total)
    ours: list[dict] = []
    rss: list[float] = []
    always = root / "always.toml"  # the ablation: the workspace layer learns in every experience
    always.write_text('workspace_learns = "always"\n')
    ablation: list[dict] = []
    for i, name in enumerate(domains):
        steps = ["--stem-steps", str(S), "--steps", str(N)] if i == 0 else ["--steps", str(N)]
        rss.append(holomind_train(folders[name], name, lib, [*flags, *steps], True))
        ours.append(library_losses(lib, held))
        progress.step((S if i == 0 else 0) + N, f"ours after {name}: {ours[-1]}")
        if i == 0:
            shutil.copytree(lib, root / "ablation")
            ablation.append(ours[-1])
        else:
            ablate = [*flags, "--steps", str(N), "--config", str(always)]
            holomind_train(folders[name], name, root / "ablation", ablate, False)
            ablation.append(library_losses(root / "ablation", held))
            progress.step(N, f"ours, workspace learns always, after {name}: {ablation[-1]}")
    cosine = library_losses(lib, held, cosine=True)
    stem = Stem.load(lib / "stem")
    alone = stem_losses(stem, held)  # the frozen stem, trained on the licences only
    shutil.copytree(lib, root / "glibc")
    glibc: list[float] = []  # the same experiences with glibc's own mmap threshold
    for i in range(args.extra):
        name = f"extra_{i:02d}"
        rss.append(holomind_train(folders[name], name, lib, [*flags, "--steps", str(X)], False))
        progress.step(X, f"ours after {name}: peak RSS {rss[-1]:.0f} MB")
        more = ["--steps", str(X)]
        glibc.append(
            holomind_train(folders[name], name, root / "glibc", [*flags, *more], False, GLIBC)
        )
        progress.step(X, f"ours after {name}, glibc's threshold: peak RSS {glibc[-1]:.0f} MB")
    corpora = {d: Corpus.from_folder(folders[d], c.seq_len, domain=d) for d in domains}
    naive = [alone]
    tuned = stem
    for name in domains[1:]:
        tuned = fine_tune(tuned, corpora[name], N, c.stem_lr, seed, progress, f"naive on {name}")
        naive.append(stem_losses(tuned, held))
    ft_python = stem_losses(
        fine_tune(stem, corpora["python"], N, c.stem_lr, seed, progress, "fine-tune on python"),
        held,
    )
    everything = Corpus([d for cor in corpora.values() for d in cor.documents], c.seq_len)
    torch.manual_seed(seed)
    fresh = Stem(c.stem_config())
    joint = stem_losses(
        fine_tune(fresh, everything, S + 3 * N, c.stem_lr, seed, progress, "joint"), held
    )
    size = (lib / "domain_002" / "cart_0000" / "weights.safetensors").stat().st_size
    return {
        "config": {"stem_steps": S, "steps": N, "extra_steps": X, "dim": c.dim},
        "domains": list(domains),
        "ours": ours,
        "ours_workspace_always": ablation,
        "ours_cosine_routing": cosine,
        "naive": naive,
        "joint": joint,
        "stem_alone": alone,
        "fine_tune_python": ft_python,
        "peak_rss_mb": rss,
        "peak_rss_mb_glibc": glibc,
        "cartridge_kb": size / 1024,
    }


def text_metrics(t: dict) -> dict:
    domains = t["domains"]
    rise = {}
    for method in ("ours", "ours_workspace_always", "naive"):
        worst = -np.inf
        for j, name in enumerate(domains[:-1]):
            learnt = t[method][j][name]
            for later in t[method][j + 1 :]:
                worst = max(worst, (later[name] - learnt) / learnt)
        rise[method] = 100 * worst
    stem, ours, ft = (
        t["stem_alone"]["python"],
        t["ours"][-1]["python"],
        t["fine_tune_python"]["python"],
    )
    extra = t["peak_rss_mb"][1:]
    same, glibc = t["peak_rss_mb"][3:], t["peak_rss_mb_glibc"]  # the like-sized experiences
    return {
        "max_rise_pct": rise,
        "python_below_stem_pct": 100 * (stem - ours) / stem,
        "python_share_of_fine_tuning_gain_pct": 100 * (stem - ours) / (stem - ft),
        "rss_cv_pct": 100 * statistics.pstdev(extra) / statistics.mean(extra),
        "rss_cv_extra_pct": 100 * statistics.pstdev(same) / statistics.mean(same),
        "rss_cv_glibc_pct": 100 * statistics.pstdev(glibc) / statistics.mean(glibc),
    }


def report_text(t: dict) -> None:
    domains = t["domains"]
    print(f"\ntext domains in sequence (held-out nats/byte; {t['config']})")
    print(f"{'after':<12} {'method':<8} " + " ".join(f"{d:>9}" for d in domains))
    for i, name in enumerate(domains):
        for method in ("ours", "naive"):
            row = t[method][i]
            print(f"{name:<12} {method:<8} " + " ".join(f"{row[d]:>9.4f}" for d in domains))
    for i, name in enumerate(domains):
        row = t["ours_workspace_always"][i]
        print(f"{name:<12} {'ablation':<8} " + " ".join(f"{row[d]:>9.4f}" for d in domains))
    row = t["ours_cosine_routing"]
    print(f"{'python':<12} {'cosine':<8} " + " ".join(f"{row[d]:>9.4f}" for d in domains))
    print(f"{'joint':<21} " + " ".join(f"{t['joint'][d]:>9.4f}" for d in domains))
    print(
        "(ablation: the workspace layer learns in every experience; cosine: the final library "
        "routed by the cosine to its signatures instead of its routing statistics)"
    )
    m = t["metrics"]
    rise = m["max_rise_pct"]
    print(
        f"largest rise of an earlier domain's loss: ours {rise['ours']:+.2f} %, ablation "
        f"{rise['ours_workspace_always']:+.2f} %, naive {rise['naive']:+.2f} % "
        "(goal: ours <= 1 %)"
    )
    print(
        f"python (never seen by the stem): stem alone {t['stem_alone']['python']:.4f}, "
        f"stem + cartridges {t['ours'][-1]['python']:.4f}, whole stem fine-tuned "
        f"{t['fine_tune_python']['python']:.4f}: {m['python_below_stem_pct']:.1f} % below "
        f"the stem (goal >= 40), {m['python_share_of_fine_tuning_gain_pct']:.1f} % of "
        f"fine-tuning's gain (goal >= 75); cartridge {t['cartridge_kb']:.0f} KB "
        "(the seed's ~100 KB)"
    )
    rss = ", ".join(f"{v:.0f}" for v in t["peak_rss_mb"])
    glibc = ", ".join(f"{v:.0f}" for v in t["peak_rss_mb_glibc"])
    print(
        f"peak RSS per `holomind train` (MB): {rss}; CV over the cartridge-only "
        f"experiences {m['rss_cv_pct']:.2f} %, over the {len(t['peak_rss_mb_glibc'])} "
        f"like-sized ones {m['rss_cv_extra_pct']:.2f} % (goal <= 2 %)\n"
        f"the same like-sized experiences with {GLIBC} (glibc's own mmap threshold): "
        f"{glibc}; CV {m['rss_cv_glibc_pct']:.2f} %"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small version of everything")
    ap.add_argument("--parts", default="digits,text")
    ap.add_argument("--seeds", default="0,1,2", help="digits seeds")
    ap.add_argument("--text-seeds", default="0")
    ap.add_argument("--epochs", type=int, default=20, help="epochs per experience (baselines)")
    ap.add_argument("--hidden", type=int, default=1024, help="baselines' MLP width")
    ap.add_argument("--memory", type=int, default=200, help="exemplar budget")
    ap.add_argument("--ewc-lambda", type=float, default=1000.0)
    ap.add_argument("--stem-steps", type=int, default=500)
    ap.add_argument("--steps", type=int, default=400, help="steps per text experience")
    ap.add_argument("--extra", type=int, default=8, help="extra experiences for memory")
    ap.add_argument("--extra-steps", type=int, default=40)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    args.seeds = [int(s) for s in args.seeds.split(",")]
    text_seeds = [int(s) for s in args.text_seeds.split(",")]
    if args.quick:
        args.seeds, args.epochs = args.seeds[:1], 5
        args.stem_steps, args.steps, args.extra, args.extra_steps = 100, 60, 3, 10
    keep = args.workdir is not None
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-continual-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    results: dict = {"args": {k: str(v) for k, v in vars(args).items()}}
    try:
        if "digits" in parts:
            results["digits"] = bench_digits(args)
            report_digits(results["digits"])
        if "text" in parts:
            results["text"] = []
            for seed in text_seeds:
                t = bench_text(args, seed)
                t["metrics"] = text_metrics(t)
                results["text"].append(t)
                report_text(t)
    finally:
        if not keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
