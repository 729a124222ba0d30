"""`holomind.NeuralNetwork` (seed 003): a continual learner over tensors, one experience at a time.

Built from the cartridge brain's pieces, for vectors instead of text:

- **stem** — a frozen random-feature layer, ``relu(gain * z @ W / sqrt(D) + b)`` on
  inputs centred and scaled by the *first* experience's statistics; it is made
  before any later data exists and never changes, so nothing learnt later can
  be overwritten in it. (``features=0``: the scaled inputs themselves, for
  inputs that already are features.)
- **one cartridge per experience** — its classes' prototypes in stem space
  (per-class counts and sums: the signature) and its share of the second
  moments. Learning an experience adds its statistics and touches no earlier
  cartridge.
- **router** — the within-class covariance pooled over every cartridge (shrunk
  toward a scaled identity) scores each input against every cartridge's
  prototypes: the Gaussian discriminant. The cartridge whose classes score
  best answers, so ``predict`` needs no task label. Because the statistics are
  sums, the model after experiences 1…t equals the one a single pass over all
  of them would give: learning in sequence forgets nothing by construction.
- **exemplar memory** — at most ``memory_size`` stored inputs, balanced over the
  classes seen; each experience reports how well the network still recognises
  the remembered examples of every earlier experience (``retention``).

The run folder (every write one commit, see `cartridges.journal`)::

    run.json                  format, settings, experiences, the memory's random state,
                              SHA-256 of every tensor file
    stem.safetensors          W (D, F), b (F,), centre (D,), scale ()
    router.safetensors        second moments of all stem features (F, F), float64
    experiences/NNN.safetensors  classes (c,), counts (c,), feature sums (c, F) float64
    memory.safetensors        exemplar inputs (M, D) float32 and labels (M,) int64
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from holomind.cartridges.journal import Journal, read_verified
from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError

RUN = "run.json"
FORMAT = 1
GAIN = 3.0  # pre-activation scale of the stem; chosen on Split-Digits among 1, 2, 3, 5


@dataclass
class ContinualConfig:
    """A network's settings, fixed when its run folder is created."""

    input_dim: int  # features per input
    num_classes: int  # labels are 0 … num_classes - 1
    memory_size: int = 200  # exemplars kept, balanced over the classes seen
    features: int = 1024  # width of the random-feature stem (0: use the scaled inputs)
    shrinkage: float = 0.01  # covariance shrinkage toward a scaled identity (0 … 1)
    seed: int = 0  # the stem's and the memory's random seed

    def __post_init__(self) -> None:
        if self.input_dim < 1 or self.num_classes < 2 or self.features < 0:
            raise InvalidInputError(
                "input_dim must be at least 1, num_classes at least 2, features at least 0",
                hint="e.g. NeuralNetwork(path, input_dim=64, num_classes=10)",
            )
        if self.memory_size < 0 or not 0.0 <= self.shrinkage <= 1.0:
            raise InvalidInputError(
                "memory_size must be >= 0 and shrinkage within [0, 1]",
                hint="the defaults are 200 and 0.01",
            )


@dataclass
class ExperienceReport:
    """What learning one experience did."""

    experience: int  # its index, from 0
    classes: list[int]  # the labels it contained
    samples: int  # its number of inputs
    memory: int  # exemplars stored after it
    # accuracy on the stored exemplars of each experience learnt so far, by index
    retention: dict[int, float] = field(default_factory=dict)


def _as_tensor(data: Any, dtype: torch.dtype, what: str) -> torch.Tensor:
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(data)
    if not isinstance(data, torch.Tensor):
        raise InvalidInputError(
            f"{what} must be a torch tensor or numpy array, not {type(data).__name__}"
        )
    if data.dtype != dtype:
        raise InvalidInputError(
            f"{what} must be {str(dtype).removeprefix('torch.')}, "
            f"not {str(data.dtype).removeprefix('torch.')}",
            hint=f"convert it with .to(torch.{str(dtype).removeprefix('torch.')})",
        )
    return data.detach().cpu()


class NeuralNetwork:
    """A class-incremental learner: ``train`` an experience, ``predict`` without a task label."""

    def __init__(
        self,
        path: str | Path,
        input_dim: int,
        num_classes: int,
        *,
        memory_size: int = 200,
        features: int = 1024,
        shrinkage: float = 0.01,
        seed: int = 0,
    ) -> None:
        """A new network whose state lives in the run folder ``path`` (created empty)."""
        self.path = Path(path)
        self.config = ContinualConfig(
            input_dim, num_classes, memory_size, features, shrinkage, seed
        )
        if (self.path / RUN).exists():
            raise InvalidInputError(
                f"{self.path} already holds a run", hint="open it with NeuralNetwork.load(path)"
            )
        if self.path.is_dir() and any(self.path.iterdir()):
            raise InvalidInputError(
                f"{self.path} is not empty and is not a run", hint="choose a new folder"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        D = input_dim
        F = features or D
        gen = torch.Generator().manual_seed(seed)
        self._w = torch.randn(D, features, generator=gen, dtype=torch.float64)  # (D, F)
        self._b = torch.rand(features, generator=gen, dtype=torch.float64) * 2 - 1  # (F,)
        self._centre = torch.zeros(D, dtype=torch.float64)  # set by the first experience
        self._scale = torch.ones((), dtype=torch.float64)
        self._second = torch.zeros(F, F, dtype=torch.float64)  # sum of f f^T over all data
        self._experiences: list[dict[str, torch.Tensor]] = []
        self._memory_x = torch.zeros(0, D, dtype=torch.float32)
        self._memory_y = torch.zeros(0, dtype=torch.int64)
        self._rng = np.random.default_rng(seed)
        self._discriminant: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self._save()

    # ---- the public surface -------------------------------------------------------------------

    @property
    def experiences(self) -> int:
        """How many experiences the network has learnt."""
        return len(self._experiences)

    @property
    def classes(self) -> list[int]:
        """The labels seen so far, ascending."""
        return sorted({int(c) for e in self._experiences for c in e["classes"]})

    @property
    def memory(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The stored exemplars: inputs (M, input_dim) float32 and labels (M,) int64."""
        return self._memory_x, self._memory_y

    def train(self, data: tuple[Any, Any], preserve_state: bool = True) -> ExperienceReport:
        """Learn ``(X, y)`` as the next experience; with ``preserve_state`` commit it to disk.

        X is float32 (N, input_dim), y int64 (N,) with labels in 0 … num_classes - 1.
        """
        x, y = self._check(data)
        if not self._experiences:  # the stem takes its input scale from the first experience
            x64 = x.double()
            self._centre = x64.mean(dim=0)
            self._scale = ((x64 - self._centre) ** 2).mean().sqrt().clamp_min(1e-12)
        f = self._stem(x)  # (N, F)
        classes = torch.unique(y)  # (c,) ascending
        onehot = (y[:, None] == classes[None, :]).double()  # (N, c)
        self._experiences.append(
            {"classes": classes, "counts": onehot.sum(dim=0), "sums": onehot.T @ f}
        )
        self._second += f.T @ f
        self._discriminant = None
        self._remember(x, y)
        report = ExperienceReport(
            experience=len(self._experiences) - 1,
            classes=[int(c) for c in classes],
            samples=len(y),
            memory=len(self._memory_y),
            retention=self._retention(),
        )
        if preserve_state:
            self._save()
        return report

    def resume_training(
        self, data: tuple[Any, Any], preserve_state: bool = True
    ) -> ExperienceReport:
        """Learn the next experience on top of what was learnt (and preserved) before."""
        if not self._experiences:
            raise InvalidInputError(
                f"{self.path} has learnt nothing yet to resume from", hint="call train() first"
            )
        return self.train(data, preserve_state=preserve_state)

    @torch.no_grad()
    def predict_proba(self, x: Any) -> torch.Tensor:
        """Class probabilities (N, num_classes), float64; classes never seen get 0."""
        scores = self._scores(self._check_x(x))  # (N, seen)
        out = torch.zeros(scores.shape[0], self.config.num_classes, dtype=torch.float64)
        if scores.shape[1]:
            out[:, self.classes] = torch.softmax(scores, dim=1)
        return out

    @torch.no_grad()
    def predict(self, x: Any) -> Any:
        """The class of each input, int64 (N,) — a numpy array for numpy input, else a tensor."""
        xt = self._check_x(x)
        if not self._experiences:
            raise InvalidInputError(
                f"{self.path} has learnt nothing yet", hint="call train((X, y)) first"
            )
        seen = torch.tensor(self.classes)
        pred = seen[self._scores(xt).argmax(dim=1)]
        return pred.numpy() if isinstance(x, np.ndarray) else pred

    @classmethod
    def load(cls, path: str | Path) -> NeuralNetwork:
        """The network as last preserved in ``path``, bit for bit."""
        from safetensors import SafetensorError
        from safetensors.torch import load

        path = Path(path)
        Journal(path).settle()
        run_file = path / RUN
        if not run_file.is_file():
            raise MissingFileError(
                f"{path} is not a NeuralNetwork run (no {RUN})",
                hint="create one with NeuralNetwork(path, input_dim=..., num_classes=...)",
            )
        net = cls.__new__(cls)
        net.path = path
        try:
            run = json.loads(run_file.read_text())
            if run.get("format") != FORMAT:
                raise ValueError(f"unknown format {run.get('format')!r}")
            net.config = ContinualConfig(**run["config"])
            hint = "restore the run folder from a backup"
            tensors = {
                name: load(read_verified(path / name, sha, hint))
                for name, sha in run["files"].items()
            }
            stem, router, memory = (
                tensors["stem.safetensors"],
                tensors["router.safetensors"],
                tensors["memory.safetensors"],
            )
            net._w, net._b = stem["w"], stem["b"]
            net._centre, net._scale = stem["centre"], stem["scale"]
            net._second = router["second"]
            net._memory_x, net._memory_y = memory["x"], memory["y"]
            net._experiences = [
                tensors[f"experiences/{i:03d}.safetensors"] for i in range(run["experiences"])
            ]
            net._rng = np.random.default_rng()
            net._rng.bit_generator.state = run["rng"]
        except (ValueError, KeyError, TypeError, SafetensorError) as exc:
            raise CorruptFileError(
                f"{path} is not a readable NeuralNetwork run ({exc.__class__.__name__}: {exc})",
                hint="restore the folder from a backup",
            ) from None
        net._discriminant = None
        return net

    # ---- the pieces ---------------------------------------------------------------------------

    def _stem(self, x: torch.Tensor) -> torch.Tensor:
        """Random features (N, F), float64."""
        z = (x.double() - self._centre) / self._scale  # (N, D)
        if not self.config.features:
            return z
        pre = GAIN * z @ self._w / math.sqrt(self.config.input_dim) + self._b  # (N, F)
        return torch.relu(pre)

    def _router(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per seen class (ascending): discriminant weights (C, F) and biases (C,), and labels."""
        if self._discriminant is not None:
            return self._discriminant
        counts: dict[int, torch.Tensor] = {}
        sums: dict[int, torch.Tensor] = {}
        for e in self._experiences:  # a class may come back in a later experience
            for c, n, s in zip(e["classes"].tolist(), e["counts"], e["sums"], strict=True):
                counts[c] = counts.get(c, 0) + n
                sums[c] = sums.get(c, 0) + s
        labels = sorted(counts)
        n = torch.stack([counts[c] for c in labels])  # (C,)
        means = torch.stack([sums[c] for c in labels]) / n[:, None]  # (C, F)
        total = n.sum()
        within = (self._second - (means.T * n) @ means) / total  # (F, F) pooled covariance
        F = within.shape[0]
        lam = self.config.shrinkage
        within = (1 - lam) * within + lam * torch.trace(within) / F * torch.eye(
            F, dtype=torch.float64
        )
        weights = torch.linalg.solve(within, means.T).T  # (C, F): Σ⁻¹ μ_c
        biases = -0.5 * (weights * means).sum(dim=1)  # (C,) equal priors: test sets are balanced
        self._discriminant = (weights, biases, torch.tensor(labels))
        return self._discriminant

    def _scores(self, x: torch.Tensor) -> torch.Tensor:
        if not self._experiences:
            return torch.zeros(len(x), 0, dtype=torch.float64)
        weights, biases, _ = self._router()
        return self._stem(x) @ weights.T + biases  # (N, C)

    def _remember(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Keep a class-balanced random sample of everything seen, within memory_size."""
        xs = torch.cat([self._memory_x, x])
        ys = torch.cat([self._memory_y, y])
        quota = self.config.memory_size // max(1, len(self.classes))
        keep = []
        new = torch.arange(len(self._memory_y), len(ys))
        for c in self.classes:
            old_c = (self._memory_y == c).nonzero().flatten()
            new_c = new[y == c]
            new_c = new_c[torch.from_numpy(self._rng.permutation(len(new_c)))]
            keep.append(torch.cat([old_c, new_c])[:quota])
        order = torch.cat(keep) if keep else torch.zeros(0, dtype=torch.int64)
        self._memory_x, self._memory_y = xs[order], ys[order]

    def _retention(self) -> dict[int, float]:
        if not len(self._memory_y):
            return {}
        pred = self.predict(self._memory_x)
        out = {}
        for i, e in enumerate(self._experiences):
            mine = torch.isin(self._memory_y, e["classes"])
            if mine.any():
                out[i] = float((pred[mine] == self._memory_y[mine]).double().mean())
        return out

    def _check_x(self, x: Any) -> torch.Tensor:
        xt = _as_tensor(x, torch.float32, "X")
        if xt.ndim != 2 or xt.shape[1] != self.config.input_dim:
            raise InvalidInputError(
                f"X has shape {tuple(xt.shape)}; expected (N, {self.config.input_dim})",
                hint="one row of input_dim features per example",
            )
        if not torch.isfinite(xt).all():
            raise InvalidInputError("X holds NaN or infinite values", hint="clean the data first")
        return xt

    def _check(self, data: tuple[Any, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(data, tuple | list) or len(data) != 2:
            raise InvalidInputError("data must be a pair (X, y)", hint="net.train((X, y))")
        x = self._check_x(data[0])
        y = _as_tensor(data[1], torch.int64, "y")
        if y.ndim != 1 or len(y) != len(x) or not len(y):
            raise InvalidInputError(
                f"y has shape {tuple(y.shape)}; expected ({len(x)},) with at least one label",
                hint="one label per row of X",
            )
        if int(y.min()) < 0 or int(y.max()) >= self.config.num_classes:
            raise InvalidInputError(
                f"labels must lie in 0 … {self.config.num_classes - 1}; "
                f"got {int(y.min())} … {int(y.max())}",
                hint="raise num_classes when the network is created",
            )
        return x, y

    # ---- the run folder -----------------------------------------------------------------------

    def _save(self) -> None:
        """Commit the whole state as one (see the module's docstring)."""
        from safetensors.torch import save

        blobs = {
            "stem.safetensors": save(
                {"w": self._w, "b": self._b, "centre": self._centre, "scale": self._scale}
            ),
            "router.safetensors": save({"second": self._second}),
            "memory.safetensors": save({"x": self._memory_x, "y": self._memory_y}),
        }
        for i, e in enumerate(self._experiences):
            blobs[f"experiences/{i:03d}.safetensors"] = save(
                {k: v.contiguous() for k, v in e.items()}
            )
        run = {
            "format": FORMAT,
            "config": asdict(self.config),
            "experiences": len(self._experiences),
            "classes": [[int(c) for c in e["classes"]] for e in self._experiences],
            "rng": self._rng.bit_generator.state,
            "files": {name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()},
        }
        journal = Journal(self.path)
        journal.lock()
        try:
            for name, blob in blobs.items():
                journal.write(name, blob)
            journal.write(RUN, json.dumps(run, indent=1).encode())
            journal.commit()
        finally:
            journal.unlock()
