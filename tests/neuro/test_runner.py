"""The Brian2 runner: chunked runs match one bare Brian2 run, stop, drive, checkpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from holomind.errors import CorruptFileError, InvalidInputError
from holomind.neuro import Sampling, SpikingNetwork, network_spec
from holomind.neuro.models import NetworkSpec
from holomind.neuro.runner import Chunk, build, namespace

CHUNKS = 10  # of 100 ms: one simulated second


def bare_brian2(spec: NetworkSpec, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """The same network run by Brian2 alone: one `run` call, a SpikeMonitor, nothing else."""
    import brian2

    neurons, synapses = build(spec, seed=0)
    monitor = brian2.SpikeMonitor(neurons, name="spikes")
    net = brian2.Network(neurons, *synapses, monitor)
    net.run(seconds * brian2.second, namespace=namespace(spec))
    return np.asarray(monitor.i_[:]).copy(), np.asarray(monitor.t_[:]).copy()


def ours(spec: NetworkSpec, cache: Path, target: str, how: str) -> tuple[np.ndarray, np.ndarray]:
    """Our runner's spikes over CHUNKS chunks, advanced one by one or by `run_chunks`."""
    net = SpikingNetwork(spec, cache_dir=cache, sampling=None, target=target)
    try:
        if how == "advance":
            chunks = [net.advance() for _ in range(CHUNKS)]
        else:
            chunks = []
            net.run_chunks(lambda chunk: chunks.append(chunk) or len(chunks) < CHUNKS)
    finally:
        net.close()
    assert [round(c.t_end, 6) for c in chunks] == [round(0.1 * (k + 1), 6) for k in range(CHUNKS)]
    return np.concatenate([c.spike_i for c in chunks]), np.concatenate([c.spike_t for c in chunks])


# The seed network compiles with Cython (the other tests share its compiled code);
# COBA runs on Brian2's numpy target, which needs no compile: the tests stay fast.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "target", "how", "low", "high"),
    [
        ("seed", "cython", "advance", 5.0, 15.0),
        ("seed", "cython", "run_chunks", 5.0, 15.0),
        ("coba", "numpy", "advance", 10.0, 30.0),
    ],
)
def test_chunked_runs_give_the_spikes_of_one_bare_brian2_run(
    name: str, target: str, how: str, low: float, high: float, brian_cache: Path
) -> None:
    spec = network_spec(name)
    our_i, our_t = ours(spec, brian_cache, target, how)
    bare_i, bare_t = bare_brian2(spec, CHUNKS * 0.1)
    rate = len(our_i) / spec.neurons / (CHUNKS * 0.1)
    assert low < rate < high, rate  # seed: the tuned asynchronous state; COBA: Brette et al.
    # Pausing at every chunk boundary changes nothing: the same spikes, in the same order.
    assert np.array_equal(our_i, bare_i)
    assert np.array_equal(our_t, bare_t)


@pytest.fixture(scope="module")
def seed_net(brian_cache: Path) -> Iterator[SpikingNetwork]:
    net = SpikingNetwork(
        network_spec("seed"), cache_dir=brian_cache, sampling=Sampling(("v",), 5, 2.0)
    )
    yield net
    net.close()


def test_a_chunk_reports_spikes_samples_and_populations(seed_net: SpikingNetwork) -> None:
    chunk = seed_net.advance()
    assert chunk.duration == pytest.approx(0.1)
    assert np.all(np.diff(chunk.spike_t) >= 0)
    assert np.all((chunk.spike_t >= chunk.t_start) & (chunk.spike_t < chunk.t_end))
    assert chunk.population_spikes == {"exc": len(chunk.spike_i)}
    assert chunk.samples["v"].shape == (50, 5)  # 100 ms every 2 ms, 5 neurons
    assert np.allclose(chunk.sample_t, chunk.t_start + np.arange(50) * 0.002)
    assert np.all((chunk.samples["v"] > -0.1) & (chunk.samples["v"] < -0.04))
    assert -0.065 < chunk.mean_v < -0.050
    # Monitors are emptied after each chunk: the next one holds only its own spikes.
    following = seed_net.advance()
    assert following.t_start == chunk.t_end
    assert np.all(following.spike_t >= chunk.t_end)


def test_the_drive_moves_within_its_bounds(seed_net: SpikingNetwork) -> None:
    before = np.asarray(seed_net.neurons.I_inj_[:]).copy()
    assert seed_net.shift_drive(100.0) == 100.0
    assert np.allclose(np.asarray(seed_net.neurons.I_inj_[:]) - before, 100e-12)
    assert seed_net.shift_drive(1e6) == seed_net.spec.drive.high_pa - 100.0
    assert seed_net.drive_pa == seed_net.spec.drive.high_pa
    seed_net.shift_drive(-seed_net.drive_pa)
    assert np.allclose(np.asarray(seed_net.neurons.I_inj_[:]), before)


def test_stop_cuts_the_chunk_in_progress(seed_net: SpikingNetwork) -> None:
    start = seed_net.t
    timer = threading.Timer(0.02, seed_net.stop)
    timer.start()
    cut = seed_net.advance()
    timer.join()
    # The stop arrived within the chunk (which takes far longer than 20 ms of wall time).
    assert start < cut.t_end < start + 0.1
    following = seed_net.advance()  # the next chunk ends on the 100 ms grid again
    assert following.t_start == cut.t_end
    assert round(following.t_end * 10, 6) == round(following.t_end * 10)
    # Samples stay on their 2 ms grid across the cut, one per grid point.
    for part in (cut, following):
        grid = np.arange(np.ceil(part.t_start / 0.002 - 1e-6), np.ceil(part.t_end / 0.002 - 1e-6))
        assert np.allclose(part.sample_t, grid * 0.002)
        assert part.samples["v"].shape == (len(grid), 5)


def test_run_chunks_hands_each_chunk_over_on_the_network_thread(seed_net: SpikingNetwork) -> None:
    start = seed_net.t
    seen: list[tuple[float, float, str]] = []

    def on_chunk(chunk: Chunk) -> bool:
        seen.append((chunk.t_start, chunk.t_end, threading.current_thread().name))
        return len(seen) < 3

    seed_net.run_chunks(on_chunk)
    assert [round(end - start, 6) for _, end, _ in seen] == [0.1, 0.2, 0.3]
    assert [begin for begin, _, _ in seen[1:]] == [end for _, end, _ in seen[:-1]]
    assert {name for _, _, name in seen} == {"brian2"}
    # The network waits where on_chunk said stop; `advance` goes on from there.
    assert seed_net.advance().t_start == seen[-1][1]


def test_what_on_chunk_raises_reaches_the_caller(seed_net: SpikingNetwork) -> None:
    def on_chunk(chunk: Chunk) -> bool:
        raise ValueError("bad chunk")

    with pytest.raises(ValueError, match="bad chunk"):
        seed_net.run_chunks(on_chunk)
    # The network is paused after that chunk and still usable.
    at = seed_net.t
    assert seed_net.advance().t_start == at


def test_stop_ends_run_chunks_with_the_part_simulated(seed_net: SpikingNetwork) -> None:
    start = seed_net.t
    seen: list[Chunk] = []
    timer = threading.Timer(0.3, seed_net.stop)
    timer.start()
    seed_net.run_chunks(lambda chunk: seen.append(chunk) or len(seen) < 500)
    timer.join()
    assert len(seen) < 500  # ended by the stop, not by on_chunk (50 simulated seconds)
    assert seen[0].t_start == start
    assert [c.t_start for c in seen[1:]] == [c.t_end for c in seen[:-1]]
    assert all(c.duration == pytest.approx(0.1) for c in seen[:-1])
    assert 0 < seen[-1].duration <= 0.1 + 1e-9
    following = seed_net.advance()  # back on the 100 ms grid
    assert following.t_start == seen[-1].t_end
    assert round(following.t_end * 10, 6) == round(following.t_end * 10)


@pytest.mark.slow
@pytest.mark.parametrize("apart", [True, False], ids=["connectivity-apart", "whole"])
def test_a_checkpoint_continues_coba_exactly(brian_cache: Path, apart: bool) -> None:
    spec = network_spec("coba")
    net = SpikingNetwork(spec, cache_dir=brian_cache, sampling=None, target="numpy")
    for _ in range(3):
        net.advance()
    net.shift_drive(40.0)
    blob, connectivity = net.checkpoint(), None
    if apart:  # as the activity log stores them: the connectivity once, states without it
        blob, connectivity = net.checkpoint(connectivity=False), net.connectivity()
        assert len(blob) < len(net.checkpoint()) / 5  # COBA's synapses have no state
    straight = [net.advance() for _ in range(2)]
    net.close()
    again = SpikingNetwork(
        spec,
        cache_dir=brian_cache,
        sampling=None,
        target="numpy",
        checkpoint=blob,
        connectivity=connectivity,
    )
    try:
        assert again.t == pytest.approx(0.3)
        assert again.drive_pa == 40.0
        resumed = [again.advance() for _ in range(2)]
    finally:
        again.close()
    for a, b in zip(straight, resumed, strict=True):
        assert np.array_equal(a.spike_i, b.spike_i)  # COBA has no noise: the same spikes
        assert np.allclose(a.spike_t, b.spike_t)
    assert again.total_spikes == net.total_spikes


def test_bad_checkpoints_are_refused(brian_cache: Path) -> None:
    spec = network_spec("cuba", 200)
    with pytest.raises(CorruptFileError, match="cannot be used"):
        SpikingNetwork(spec, cache_dir=brian_cache, target="numpy", checkpoint=b"PK\x03\x04junk")
    other = SpikingNetwork(network_spec("cuba", 100), cache_dir=brian_cache, target="numpy")
    blob, foreign = other.checkpoint(), other.connectivity()
    other.close()
    with pytest.raises(InvalidInputError, match="another network"):
        SpikingNetwork(spec, cache_dir=brian_cache, target="numpy", checkpoint=blob)
    net = SpikingNetwork(spec, cache_dir=brian_cache, target="numpy", seed=1)
    state = net.checkpoint(connectivity=False)
    net.close()
    with pytest.raises(CorruptFileError, match="no connectivity"):
        SpikingNetwork(spec, cache_dir=brian_cache, target="numpy", checkpoint=state)
    for wrong in (
        foreign,
        SpikingNetwork(spec, cache_dir=brian_cache, target="numpy").connectivity(),
    ):
        with pytest.raises(CorruptFileError, match="connectivity is of another network"):
            SpikingNetwork(
                spec, cache_dir=brian_cache, target="numpy", checkpoint=state, connectivity=wrong
            )


def test_an_unknown_sampled_variable_is_refused(brian_cache: Path) -> None:
    with pytest.raises(InvalidInputError, match="no variable 'u'"):
        SpikingNetwork(
            network_spec("cuba", 100),
            cache_dir=brian_cache,
            target="numpy",
            sampling=Sampling(("u",)),
        )


def test_importing_brian2_leaves_no_files_behind_a_killed_process(tmp_path: Path) -> None:
    # Brian2 writes a debug log (and a copy of the main script) to the temp folder on
    # import, and deletes them only at a normal exit.
    code = (
        "import os, signal; from holomind.neuro.runner import import_brian2; "
        "import_brian2(); os.kill(os.getpid(), signal.SIGKILL)"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert list(tmp_path.iterdir()) == []
