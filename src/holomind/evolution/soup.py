"""The primordial soup: a population of BFF programs that meet in pairs, epoch after epoch.

`Soup` holds the programs and the run's position (epoch, instruction counters) and
advances it exactly as cubff does; `Soup.run` logs a cubff-format row every
``print_interval`` epochs, publishes to a workspace, and `save`/`load` write and
read a checkpoint from which a resumed run is identical to an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.evolution import bff
from holomind.evolution.metrics import TRANSITION_ENTROPY, diversity, measure
from holomind.files import replacing

CSV_HEADER = "epoch,brotli_size,soup_size,higher_entropy"
CHECKPOINT_NAME = "soup.ckpt"
_MAGIC = b"HOLOMIND-SOUP\n"
_FORMAT = 1
_MAX_HEADER = 1 << 16
_CHUNKS = 256  # pair blocks handed to the threads; small enough to balance, big enough to be cheap


class Publisher(Protocol):
    """Anything with the workspace's ``write`` (the soup only publishes)."""

    def write(self, key: str, value: Any) -> Any: ...


@dataclass(frozen=True)
class SoupConfig:
    """What defines a run: the same config and seed give the same soup, byte for byte."""

    lang: str = "bff_noheads"  # bff_noheads (heads start at 0) or bff (heads from bytes 0, 1)
    seed: int = 0  # keys every random stream (initial soup, pairing, mutation)
    num_programs: int = 1 << 17  # programs of 64 bytes; must be even
    mutation_prob: int = bff.MUTATION_PROB  # per byte and interaction, out of 2**30
    step_limit: int = bff.STEP_LIMIT  # steps before an interaction is cut off

    def __post_init__(self) -> None:
        if self.lang not in bff.LANGUAGES:
            raise InvalidInputError(
                f"unknown language {self.lang!r}", hint=f"use one of: {', '.join(bff.LANGUAGES)}"
            )
        if self.num_programs < 2 or self.num_programs % 2:
            raise InvalidInputError(
                f"the soup needs an even number of programs (at least 2), got {self.num_programs}"
            )
        if not 0 <= self.seed < 1 << 64:
            raise InvalidInputError(f"seed must be in [0, 2**64), got {self.seed}")
        if not 0 <= self.mutation_prob <= bff.MUTATION_DENOMINATOR:
            raise InvalidInputError(
                f"mutation probability must be in [0, 2**30], got {self.mutation_prob}"
            )
        if self.step_limit < 1:
            raise InvalidInputError(f"step limit must be at least 1, got {self.step_limit}")

    @property
    def heads(self) -> bool:
        """Whether the heads start at the positions named by the tape's first two bytes."""
        return self.lang == "bff"


@dataclass(frozen=True)
class LogRow:
    """One row of the run log: cubff's four columns and what else was measured then."""

    epoch: int  # epochs run so far (cubff's numbering: the first row is epoch 1)
    brotli_size: int  # bytes of the whole soup under brotli (quality 2, window 2**24)
    soup_size: int  # programs
    higher_entropy: float  # byte entropy minus brotli bits per byte
    h0: float  # byte entropy, bits/byte
    ops_per_interaction: float  # instructions per pair since the previous row
    diversity: float  # fraction of distinct programs
    replicators: int | None = None  # programs scoring >= 5 on the self-replication test

    def csv(self) -> str:
        """The row as cubff writes it (with the replicator column when it was measured)."""
        row = f"{self.epoch},{self.brotli_size},{self.soup_size},{self.higher_entropy:f}"
        return row if self.replicators is None else f"{row},{self.replicators}"


@dataclass
class Soup:
    """A soup of programs and where its run stands."""

    config: SoupConfig
    programs: np.ndarray  # (num_programs, 64) uint8
    epoch: int = 0  # index of the next epoch to run
    total_ops: int = 0  # instructions executed since the start of the run
    ops_since_row: int = 0  # instructions since the last log row
    runs_since_row: int = 0  # interactions since the last log row
    transition_epoch: int | None = None  # first row with high-order entropy above 3.0
    history: list[LogRow] = field(default_factory=list)

    @classmethod
    def new(cls, config: SoupConfig) -> Soup:
        """A fresh soup of random programs, drawn as cubff draws them for this seed."""
        return cls(config, bff.init_soup(np.uint64(config.seed), config.num_programs))

    def _stream(self, key: int) -> np.uint64:
        return np.uint64(bff.stream_seed(np.uint64(self.config.seed), np.uint64(key)))

    def step(self) -> int:
        """Run one epoch (pairing, mutation, interaction) in place; return instructions run."""
        cfg = self.config
        order = bff.pairing(np.uint64(cfg.seed), self.epoch, cfg.num_programs)
        ops = int(
            bff.run_epoch(
                self.programs,
                order,
                self._stream(self.epoch),
                cfg.mutation_prob,
                cfg.heads,
                cfg.step_limit,
                _CHUNKS,
            )
        )
        self.epoch += 1
        self.total_ops += ops
        self.ops_since_row += ops
        self.runs_since_row += cfg.num_programs // 2
        return ops

    def selfrep_scores(self) -> np.ndarray:
        """cubff's self-replication score (0..64) of every program at the last epoch run."""
        cfg = self.config
        key = max(self.epoch - 1, 0)
        return bff.selfrep_scores(self.programs, self._stream(key), cfg.heads, cfg.step_limit)

    def measure_row(self, eval_selfrep: bool = False) -> LogRow:
        """Measure the soup now as a log row and reset the per-row counters."""
        m = measure(self.programs)
        replicators = None
        if eval_selfrep:
            replicators = int((self.selfrep_scores() >= bff.SELFREP_THRESHOLD).sum())
        row = LogRow(
            epoch=self.epoch,
            brotli_size=m.brotli_size,
            soup_size=self.config.num_programs,
            higher_entropy=m.higher_entropy,
            h0=m.h0,
            ops_per_interaction=self.ops_since_row / max(self.runs_since_row, 1),
            diversity=diversity(self.programs),
            replicators=replicators,
        )
        self.ops_since_row = 0
        self.runs_since_row = 0
        if self.transition_epoch is None and row.higher_entropy > TRANSITION_ENTROPY:
            self.transition_epoch = row.epoch
        self.history.append(row)
        return row

    def run(
        self,
        max_epoch: int,
        print_interval: int = 64,
        eval_selfrep: bool = False,
        workspace: Publisher | None = None,
        stop: Callable[[LogRow], bool] | None = None,
        on_epoch: Callable[[Soup], None] | None = None,
    ) -> Iterator[LogRow]:
        """Run epochs up to index ``max_epoch`` (cubff's ``--max_epochs``), yielding each row.

        A row is measured after every epoch whose index is a multiple of
        ``print_interval``; ``stop(row)`` returning True ends the run after that row.
        """
        if print_interval < 1:
            raise InvalidInputError(f"print interval must be at least 1, got {print_interval}")
        while self.epoch <= max_epoch:
            index = self.epoch
            self.step()
            if on_epoch is not None:
                on_epoch(self)
            if index % print_interval == 0:
                row = self.measure_row(eval_selfrep)
                if workspace is not None:
                    self.publish(workspace, row)
                yield row
                if stop is not None and stop(row):
                    return

    def publish(self, workspace: Publisher, row: LogRow) -> None:
        """Write this row's figures to the workspace keys documented in workspace-keys.md."""
        workspace.write("soup/epoch", row.epoch)
        workspace.write("soup/higher_entropy", row.higher_entropy)
        workspace.write("soup/diversity", row.diversity)
        # The same figures under seed 002's names, which the modulator and agents read.
        workspace.write("avg_entropy", row.higher_entropy)
        workspace.write("diversity_index", row.diversity)
        if row.replicators is not None:
            workspace.write("soup/replicators", row.replicators)

    def save(self, path: Path) -> None:
        """Write a checkpoint atomically: config, counters and the programs, with a checksum."""
        body = np.ascontiguousarray(self.programs).tobytes()
        header = {
            "format": _FORMAT,
            "config": asdict(self.config),
            "epoch": self.epoch,
            "total_ops": self.total_ops,
            "ops_since_row": self.ops_since_row,
            "runs_since_row": self.runs_since_row,
            "transition_epoch": self.transition_epoch,
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        head = json.dumps(header, sort_keys=True).encode()
        with replacing(Path(path)) as f:
            f.write(_MAGIC + struct.pack("<I", len(head)) + head)
            f.write(body)

    @classmethod
    def load(cls, path: Path) -> Soup:
        """Read a checkpoint written by `save`; a damaged or foreign file is a CorruptFileError."""
        path = Path(path)
        if path.is_dir():
            path = path / CHECKPOINT_NAME
        if not path.is_file():
            raise MissingFileError(
                f"no soup checkpoint at {path}",
                hint="pass the --checkpoint-dir of an earlier run (or its soup.ckpt)",
            )
        data = path.read_bytes()

        def corrupt(why: str) -> CorruptFileError:
            return CorruptFileError(
                f"{path} is not a usable soup checkpoint ({why})",
                hint="resume from a checkpoint written by `holomind soup --checkpoint-dir`",
            )

        if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
            raise corrupt("wrong file type")
        (size,) = struct.unpack_from("<I", data, len(_MAGIC))
        start = len(_MAGIC) + 4
        if size > _MAX_HEADER or start + size > len(data):
            raise corrupt("truncated header")
        try:
            header = json.loads(data[start : start + size])
            if header["format"] != _FORMAT:
                raise corrupt(f"format {header['format']!r}, expected {_FORMAT}")
            config = SoupConfig(**header["config"])
            counters = {
                k: int(header[k]) for k in ("epoch", "total_ops", "ops_since_row", "runs_since_row")
            }
            transition = header["transition_epoch"]
            digest = str(header["sha256"])
        except (ValueError, KeyError, TypeError, InvalidInputError) as exc:
            raise corrupt(f"bad header: {exc}") from exc
        body = data[start + size :]
        if len(body) != config.num_programs * bff.PROGRAM_SIZE:
            raise corrupt(f"{len(body)} soup bytes for {config.num_programs} programs")
        if hashlib.sha256(body).hexdigest() != digest:
            raise corrupt("checksum mismatch")
        if min(counters.values()) < 0:
            raise corrupt("negative counters")
        if transition is not None and not isinstance(transition, int):
            raise corrupt(f"transition epoch {transition!r} is not an integer")
        programs = np.frombuffer(body, dtype=np.uint8).reshape(-1, bff.PROGRAM_SIZE).copy()
        return cls(config, programs, transition_epoch=transition, **counters)
