"""The simulation from Python: stepping, modulating, observing, threads, stop, resume."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from holomind.errors import InvalidInputError
from holomind.sim import KEYS, SimConfig, Simulation

CONFIG = SimConfig(network="seed", soup=True, soup_programs=256, checkpoint_s=3600)


@pytest.fixture(scope="module")
def run(brian_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulation]:
    db = tmp_path_factory.mktemp("simulation") / "run.db"
    with Simulation(CONFIG, db=db, cache_dir=brian_cache) as sim:
        yield sim


def mean_rate(sim: Simulation, steps: int) -> float:
    return sum(sim.step(soup=False)["rate_hz"] for _ in range(steps)) / steps


def test_a_step_publishes_every_key_but_modulation(run: Simulation) -> None:
    state = run.step()
    seen = run.observe()
    assert set(seen) == set(KEYS)
    assert [k for k, v in seen.items() if v is None] == ["modulation"]
    assert seen["neuro/state"] == state
    assert seen["avg_entropy"] == seen["soup/higher_entropy"]
    assert seen["diversity_index"] == seen["soup/diversity"]
    assert seen["soup/epoch"] == 16  # one row of 16 epochs per step
    assert 0 < seen["diversity_index"] <= 1


def test_increase_raises_the_rate_and_decrease_lowers_it(run: Simulation) -> None:
    run.step(soup=False)  # settle after the first step
    baseline = mean_rate(run, 3)
    run.modulate("increase", strength=4)  # +200 pA on every neuron
    raised = mean_rate(run, 3)
    run.modulate("decrease", strength=8)  # to 200 pA below the start
    lowered = mean_rate(run, 3)
    assert run.network.net.drive_pa == -200.0
    assert raised > baseline * 1.2
    assert lowered < baseline * 0.8
    run.modulate("increase", strength=4)  # back to the start for the tests after this
    run.step(soup=False)


def test_an_unknown_modulation_is_refused(run: Simulation) -> None:
    with pytest.raises(InvalidInputError, match="unknown modulation"):
        run.modulate("boost")


def test_threads_run_until_stopped_and_the_log_is_complete(run: Simulation) -> None:
    seen: list[dict[str, Any]] = []

    def progress(p: dict[str, Any]) -> None:
        seen.append(p)
        if len(seen) == 2:
            threading.Thread(target=run.stop).start()

    start = run.network.net.t
    summary = run.run(600.0, on_progress=progress, progress_s=0.2)
    assert summary["stopped_by"] == "signal"
    assert start < summary["t_s"] < start + 600
    assert seen[0]["end_s"] == pytest.approx(start + 600)
    assert run.log is not None and run.log.flush(timeout=10)
    conn = sqlite3.connect(run.log.path)
    try:
        chunks = conn.execute("SELECT t_start, t_end FROM chunks ORDER BY t_start").fetchall()
        checkpoint = conn.execute("SELECT time FROM checkpoint").fetchone()[0]
        last_spike = conn.execute("SELECT MAX(time) FROM spikes").fetchone()[0]
    finally:
        conn.close()
    # Chunks tile the simulated time with no gap, up to the stored state.
    assert chunks[0][0] == 0.0
    assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(chunks))
    assert chunks[-1][1] == pytest.approx(summary["t_s"]) == pytest.approx(checkpoint)
    assert last_spike < checkpoint


def test_a_closed_run_resumes_where_it_stopped(brian_cache: Path, tmp_path: Path) -> None:
    # Small and on Brian2's numpy target: resuming connects synapses from stored
    # arrays, code the Cython tests have not compiled.
    config = SimConfig(network="seed", neurons=200, soup_programs=256, target="numpy")
    with Simulation(config, db=tmp_path / "run.db", cache_dir=brian_cache) as first:
        first.step()
        first.modulate("decrease")
        first.step()
        t, drive = first.network.net.t, first.network.net.drive_pa
        total, epoch = first.network.net.total_spikes, first.soup.soup.epoch  # type: ignore[union-attr]
    with Simulation.resume(tmp_path / "run.db", config, cache_dir=brian_cache) as again:
        assert again.resumed_from == pytest.approx(t) == pytest.approx(0.2)
        assert again.network.net.drive_pa == drive == -50.0
        assert again.network.net.total_spikes == total
        assert again.soup is not None and again.soup.soup.epoch == epoch == 32
        state = again.step()
        assert state["t_s"] == pytest.approx(0.3)
        assert state["total_spikes"] == total + state["spikes"]
    summary = again.summary()
    assert summary["resumed_from_s"] == pytest.approx(0.2)
    assert summary["bio_seconds"] == pytest.approx(0.1)
    assert summary["db_tables"]["chunks"] == 3
