"""The seed's own evolutionary loop (``--mode ga``): selection over 8-symbol BF strings.

Seed 002 describes a soup of random programs over ``><+-.,[]`` whose fitness is
their "high-order entropy": Shannon entropy of the symbols (bits/symbol) minus the
zlib-compressed length divided by the program length, as its sketch computes it.
Each generation keeps the best few unchanged (elitism), fills the rest with children
of tournament-selected parents (one-point crossover at the seed's rate 0.7, then
per-symbol mutation at 0.01), and reports fitness and diversity. Nothing is executed:
this variant selects on the strings' statistics, which is the seed's design.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from holomind.errors import InvalidInputError
from holomind.evolution.soup import Publisher

SYMBOLS = "><+-.,[]"


@dataclass(frozen=True)
class GAConfig:
    """The seed's parameters (its class constants), with a seed for the random draws."""

    population: int = 1000  # SOUP_SIZE
    length: int = 100  # PROGRAM_LENGTH
    mutation_rate: float = 0.01  # MUTATION_RATE, per symbol
    crossover_rate: float = 0.7  # CROSSOVER_RATE, per child
    tournament: int = 3  # parents are the fittest of this many random picks
    elite: int = 2  # best programs copied unchanged into the next generation
    seed: int = 0

    def __post_init__(self) -> None:
        if self.population < 2 or self.length < 1:
            raise InvalidInputError("the GA needs at least 2 programs of at least 1 symbol")
        if not (0 <= self.mutation_rate <= 1 and 0 <= self.crossover_rate <= 1):
            raise InvalidInputError("mutation and crossover rates must be in [0, 1]")
        if not 1 <= self.tournament <= self.population or not 0 <= self.elite < self.population:
            raise InvalidInputError(
                "tournament must be in [1, population], elite in [0, population)"
            )


@dataclass(frozen=True)
class GARow:
    """One generation's statistics."""

    generation: int
    max_fitness: float
    avg_fitness: float
    diversity: float  # fraction of distinct programs
    best: str

    def csv(self) -> str:
        """The row in the GA log's CSV format."""
        return (
            f"{self.generation},{self.max_fitness:f},{self.avg_fitness:f},"
            f"{self.diversity:f},{self.best}"
        )


CSV_HEADER = "generation,max_fitness,avg_fitness,diversity,best"


def shannon_entropy(program: str) -> float:
    """Shannon entropy of the program's symbols, in bits per symbol."""
    if not program:
        return 0.0
    total = len(program)
    return -sum(
        (n / total) * math.log2(n / total) for n in (program.count(c) for c in set(program))
    )


def fitness(program: str) -> float:
    """The seed's high-order entropy: Shannon entropy minus zlib bytes per symbol."""
    if not program:
        return 0.0
    return shannon_entropy(program) - len(zlib.compress(program.encode())) / len(program)


def evolve(
    config: GAConfig, generations: int, workspace: Publisher | None = None
) -> Iterator[GARow]:
    """Run ``generations`` generations of the seed's loop, yielding each one's statistics."""
    rng = np.random.default_rng(config.seed)
    n, length = config.population, config.length
    pop = rng.integers(0, len(SYMBOLS), size=(n, length), dtype=np.uint8)
    alphabet = np.frombuffer(SYMBOLS.encode(), dtype=np.uint8)
    for generation in range(generations):
        texts = [alphabet[p].tobytes().decode() for p in pop]
        scores = np.array([fitness(t) for t in texts])
        best = int(np.argmax(scores))
        row = GARow(
            generation=generation,
            max_fitness=float(scores[best]),
            avg_fitness=float(scores.mean()),
            diversity=len(set(texts)) / n,
            best=texts[best],
        )
        if workspace is not None:
            workspace.write("soup/epoch", generation)
            workspace.write("soup/higher_entropy", row.avg_fitness)
            workspace.write("soup/diversity", row.diversity)
        yield row
        pop = _next_generation(pop, scores, config, rng)


def _next_generation(
    pop: np.ndarray, scores: np.ndarray, config: GAConfig, rng: np.random.Generator
) -> np.ndarray:
    n, length = pop.shape
    children = n - config.elite
    elite = pop[np.argsort(-scores, kind="stable")[: config.elite]]
    picks = rng.integers(0, n, size=(2, children, config.tournament))
    winners = np.take_along_axis(picks, np.argmax(scores[picks], axis=2)[..., None], axis=2)
    mothers, fathers = pop[winners[0, :, 0]], pop[winners[1, :, 0]]
    cut = np.where(
        rng.random(children) < config.crossover_rate,
        rng.integers(1, max(length, 2), children),
        length,
    )
    take_mother = np.arange(length)[None, :] < cut[:, None]
    kids = np.where(take_mother, mothers, fathers)
    mutate = rng.random(kids.shape) < config.mutation_rate
    kids[mutate] = rng.integers(0, len(SYMBOLS), size=int(mutate.sum()), dtype=np.uint8)
    return np.concatenate([elite, kids])
