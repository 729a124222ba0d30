"""The seed's GA variant: its fitness, selection with elitism, determinism."""

from __future__ import annotations

import math
import zlib

import pytest

from holomind.errors import InvalidInputError
from holomind.evolution import ga
from holomind.workspace import GlobalWorkspace


def test_fitness_is_the_seeds_high_order_entropy() -> None:
    program = "><+-.,[]" * 4
    expected = 3.0 - len(zlib.compress(program.encode())) / len(program)
    assert math.isclose(ga.fitness(program), expected)
    assert ga.shannon_entropy("++++") == 0.0
    assert ga.fitness("") == 0.0


def test_evolution_is_seeded_and_elitist() -> None:
    config = ga.GAConfig(population=60, length=40, seed=7)
    rows = list(ga.evolve(config, 15))
    assert [r.generation for r in rows] == list(range(15))
    best = [r.max_fitness for r in rows]
    assert best == sorted(best)  # the elite are never lost
    assert best[-1] > best[0]
    assert rows == list(ga.evolve(config, 15))
    assert all(set(r.best) <= set(ga.SYMBOLS) and len(r.best) == 40 for r in rows)


def test_evolution_publishes_to_the_workspace() -> None:
    ws = GlobalWorkspace()
    try:
        rows = list(ga.evolve(ga.GAConfig(population=10, length=10), 3, workspace=ws))
        assert ws.read("soup/epoch") == 2
        assert ws.read("soup/higher_entropy") == rows[-1].avg_fitness
        assert ws.read("soup/diversity") == rows[-1].diversity
    finally:
        ws.close()


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        ga.GAConfig(population=1)
    with pytest.raises(InvalidInputError):
        ga.GAConfig(mutation_rate=1.5)
