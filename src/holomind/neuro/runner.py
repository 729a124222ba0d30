"""The runner: builds a `NetworkSpec` in Brian2 (runtime mode) and advances it chunk by chunk.

`SpikingNetwork.advance()` runs one chunk and returns what happened in it (every
spike, the sampled variables, the population rates, the mean voltage); between
chunks a caller may move the drive (`shift_drive`), which is how modulation acts.
`run_chunks(on_chunk)` does the same for chunk after chunk without handing each
one to the caller's thread: `on_chunk` is called on the network's own thread.
`stop()` may be called from any thread: the chunk in progress ends at the next
time step and reports what was simulated up to there. `checkpoint()` returns the
whole state (membrane and synaptic variables, connectivity, time, drive)
as bytes, and `SpikingNetwork(..., checkpoint=blob)` continues from it. The
connectivity never changes once built, so a caller that stores states often may
store `connectivity()` once, take `checkpoint(connectivity=False)` after that, and
continue with both (`checkpoint=..., connectivity=...`).

Brian2 compiles each piece of generated code with Cython once and caches it
under `cache_dir` (HOLOMIND_HOME/brian2 by default); the first build of a
network takes tens of seconds, later ones load the compiled modules.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import queue
import signal
import sys
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from holomind.errors import CorruptFileError, InvalidInputError
from holomind.neuro.models import NetworkSpec

if TYPE_CHECKING:
    import brian2

CHECKPOINT_FORMAT = 1
TARGETS = ("cython", "numpy")
_TIME_VARIABLES = ("lastspike", "lastupdate")  # instants, stored relative to the checkpoint
_HORIZON_S = 1e7  # the one long Brian2 run; chunks pause inside it
_configure_lock = threading.Lock()
_configured: dict[str, Any] = {}


@dataclass(frozen=True)
class Sampling:
    """Which state variables the activity log samples, of which neurons, how often."""

    variables: tuple[str, ...] | None = ("v",)  # None: every variable in the spec's `record`
    neurons: int = 10  # the first this many neurons (spikes are always kept for all)
    every_ms: float = 1.0  # sampling period

    def __post_init__(self) -> None:
        if self.neurons < 0:
            raise InvalidInputError(f"cannot sample {self.neurons} neurons", hint="use 0 or more")
        if self.every_ms <= 0:
            raise InvalidInputError(
                f"sampling period must be positive, got {self.every_ms} ms",
                hint="e.g. --sample-every 1.0",
            )


class _Closing(Exception):
    """Raised inside Brian2's run loop to end the network's thread."""


@dataclass(frozen=True)
class _Failed:
    """What `run_chunks` hears when its `on_chunk` raised (the network itself is fine)."""

    error: BaseException


_DONE = "done"  # `run_chunks` is over: `on_chunk` said stop, or `stop()` ended the run


@dataclass
class Chunk:
    """What one `advance` simulated: times in seconds, voltages in volts (SI, as Brian2)."""

    t_start: float  # network time at the start of the chunk, s
    t_end: float  # network time at its end (earlier than asked if stopped), s
    spike_i: np.ndarray  # (n_spikes,) int32 neuron index
    spike_t: np.ndarray  # (n_spikes,) float64 time, s
    sample_t: np.ndarray  # (n_samples,) float64 time, s
    samples: dict[str, np.ndarray] = field(default_factory=dict)  # var -> (n_samples, n_neurons)
    sample_neurons: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    population_spikes: dict[str, int] = field(default_factory=dict)
    mean_v: float = float("nan")  # mean membrane potential at the end, V

    @property
    def duration(self) -> float:
        """Simulated seconds."""
        return self.t_end - self.t_start


def import_brian2() -> Any:
    """Import Brian2 and undo what its import does to the process; returns the module.

    On import Brian2 installs an excepthook and (on the main thread) a Ctrl-C
    handler: HoloMind reports errors itself and turns SIGINT into a clean stop,
    so both are put back. It also opens a debug log and copies the main script
    into the temp folder, deleted at exit only when the process ends normally (a
    killed `holomind serve` left two files behind each time): HoloMind closes and
    deletes them at once, and keeps Brian2's log to the console.
    """
    if "brian2" in sys.modules:
        return sys.modules["brian2"]
    hook = sys.excepthook
    main = threading.current_thread() is threading.main_thread()
    interrupt = signal.getsignal(signal.SIGINT) if main else None
    import brian2
    from brian2.utils.logger import BrianLogger

    sys.excepthook = hook
    if main and interrupt is not None:
        signal.signal(signal.SIGINT, interrupt)
    brian2.prefs.logging.file_log = False
    brian2.prefs.logging.save_script = False
    if BrianLogger.file_handler is not None:
        logging.getLogger("brian2").removeHandler(BrianLogger.file_handler)
        BrianLogger.file_handler.close()
        BrianLogger.file_handler = None
    for path in (BrianLogger.tmp_log, BrianLogger.tmp_script):
        if path is not None:
            with contextlib.suppress(OSError):
                os.remove(path)
    BrianLogger.tmp_log = BrianLogger.tmp_script = None
    return brian2


def configure_brian(cache_dir: Path, target: str = "cython") -> None:
    """Set Brian2's process-wide preferences: code target, compiled-code cache, no log files."""
    if target not in TARGETS:
        raise InvalidInputError(
            f"unknown code target {target!r}", hint=f"use one of: {', '.join(TARGETS)}"
        )
    with _configure_lock:
        wanted = {"cache_dir": str(cache_dir), "target": target}
        if _configured == wanted:
            return
        brian2 = import_brian2()
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        brian2.prefs.codegen.target = target
        brian2.prefs.codegen.runtime.cython.cache_dir = str(cache_dir)
        brian2.prefs.logging.std_redirection = False
        logging.getLogger("brian2").setLevel(logging.ERROR)
        _configured.clear()
        _configured.update(wanted)


def namespace(spec: NetworkSpec) -> dict[str, Any]:
    """The spec's parameters as Brian2 quantities."""
    import brian2

    out: dict[str, Any] = {}
    for key, (value, unit) in spec.params.items():
        out[key] = value if unit == "1" else value * getattr(brian2, unit)
    return out


def build(
    spec: NetworkSpec, *, seed: int, connect: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
) -> tuple[brian2.NeuronGroup, list[brian2.Synapses]]:
    """The spec as Brian2 objects (neurons, then one Synapses per projection), seeded.

    `connect` maps projection names to stored (i, j) connectivity; the others are
    drawn at random with the projection's probability. Names are fixed ("neurons",
    the projections' names) so identical specs share compiled code.
    """
    import brian2

    brian2.seed(seed)
    ns = namespace(spec)
    # One clock for every object: Brian2 runs a single-clock network on its fast path
    # (with several clocks it works out which are due in Python at every time step).
    clock = brian2.Clock(dt=spec.dt_ms * brian2.ms, name="clock")
    neurons = brian2.NeuronGroup(
        spec.neurons,
        spec.equations,
        threshold=spec.threshold,
        reset=spec.reset,
        refractory=spec.refractory,
        method=spec.method,
        namespace=ns,
        clock=clock,
        name="neurons",
    )
    for var, expr in spec.init.items():
        setattr(neurons, var, expr)
    synapses = []
    for proj in spec.projections:
        src, tgt = spec.population(proj.source), spec.population(proj.target)
        syn = brian2.Synapses(
            neurons[src.start : src.stop],
            neurons[tgt.start : tgt.stop],
            model=proj.model,
            on_pre=proj.on_pre,
            on_post=proj.on_post or None,
            namespace=ns,
            clock=clock,
            name=proj.name,
        )
        if connect is not None and proj.name in connect:
            i, j = connect[proj.name]
            syn.connect(i=i, j=j)
        else:
            syn.connect(p=proj.p)
        for var, expr in proj.init.items():
            setattr(syn, var, expr)
        synapses.append(syn)
    return neurons, synapses


class SpikingNetwork:
    """A spec built in Brian2, advanced chunk by chunk, with a drive modulation can move.

    Brian2 spends 0.08-0.1 s setting up each ``run`` call (a full garbage
    collection, the code objects; measured on COBA and the seed network), about
    twice what a 100 ms chunk takes to simulate. So the
    network runs one long ``run`` on its own thread; a network operation on the
    network's clock samples the chosen variables and, at every chunk boundary,
    hands the chunk over and waits there until `advance` is called again: between
    chunks the simulation is paused, and the caller may move the drive, take a
    checkpoint or read state. `run_chunks` instead calls its `on_chunk` at each
    boundary on the network's thread, and carries on without a hand-over while
    `on_chunk` returns True (the pause is then `on_chunk`'s own time). Use it from
    one thread; only `stop` may come from another (a signal handler, say).

    Args:
        spec: the network.
        seed: random seed for connectivity, initial values and noise.
        chunk_ms: simulated milliseconds per `advance`.
        sampling: what `advance` samples besides spikes (None: nothing).
        cache_dir: Brian2's compiled-code cache (HOLOMIND_HOME/brian2 by default).
        target: "cython" (compiled, the default) or "numpy" (no compiler needed, slower).
        checkpoint: bytes from `checkpoint()` to continue from.
        connectivity: bytes from `connectivity()`, for a checkpoint taken without it.
    """

    def __init__(
        self,
        spec: NetworkSpec,
        *,
        seed: int = 0,
        chunk_ms: float = 100.0,
        sampling: Sampling | None = Sampling(),
        cache_dir: Path | None = None,
        target: str = "cython",
        checkpoint: bytes | None = None,
        connectivity: bytes | None = None,
    ) -> None:
        if not spec.dt_ms <= chunk_ms <= _HORIZON_S * 1000:
            raise InvalidInputError(
                f"a chunk must be at least one time step ({spec.dt_ms} ms), got {chunk_ms} ms"
            )
        if cache_dir is None:
            from holomind.config import Settings

            cache_dir = Settings.load().home / "brian2"
        configure_brian(cache_dir, target)
        import brian2

        self.spec = spec
        self.seed = seed
        self.chunk_ms = chunk_ms
        self.sampling = sampling
        self.drive_pa = 0.0  # offset of the drive from its starting value
        self._t0 = 0.0  # network time when this process's Brian2 clock read 0
        stored = None
        if checkpoint is not None:
            stored = _read_checkpoint(checkpoint, spec, connectivity)
        connect = stored["connect"] if stored else None
        self.neurons, self.synapses = build(spec, seed=seed, connect=connect)
        self._ns = namespace(spec)
        self._spikes = brian2.SpikeMonitor(self.neurons, name="spikes")
        objects: list[Any] = [self.neurons, *self.synapses, self._spikes]
        self.sample_neurons = np.zeros(0, np.int32)
        # Per sampled variable: Brian2's own value array (updated in place) and a view of
        # the sampled neurons' values in it (the first few, so one contiguous run).
        self._sampled: dict[str, tuple[np.ndarray, memoryview]] = {}
        if sampling is not None and sampling.neurons > 0:
            variables = list(sampling.variables or spec.record)
            unknown = [v for v in variables if v not in self.neurons.variables]
            if unknown:
                raise InvalidInputError(
                    f"network {spec.name!r} has no variable {unknown[0]!r} to sample",
                    hint=f"choose from: {', '.join(spec.record)}",
                )
            self.sample_neurons = np.arange(min(sampling.neurons, spec.neurons), dtype=np.int32)
            for var in variables:
                values = self.neurons.variables[var].get_value()
                self._sampled[var] = (values, memoryview(values)[: len(self.sample_neurons)])
        steps = max(1, round(chunk_ms / spec.dt_ms))
        self._chunk_steps = steps
        self._sample_steps = max(1, round(sampling.every_ms / spec.dt_ms)) if sampling else 1
        self._sample_t: list[int] = []  # time steps sampled in the chunk in progress
        self._step = 0  # the time step `_tick` is called for (counted: cheaper than reading it)
        self._next = 0  # the next time step at which `_tick` has work to do
        self._sample_rows: dict[str, list[bytes]] = {v: [] for v in self._sampled}
        self._sample_views = [
            (self._sample_rows[v], view) for v, (_, view) in self._sampled.items()
        ]
        # Called at the start of every time step on the network's own clock (a second
        # clock would cost more than the call): samples, and pauses at chunk boundaries.
        boundary = brian2.NetworkOperation(
            self._tick, clock=self.neurons.clock, when="start", name="chunks"
        )
        self._timestep = self.neurons.clock.variables["timestep"].get_value()
        # What a checkpoint stores, worked out once: the connectivity is fixed once built,
        # and reading it through Brian2's views is most of a first checkpoint's time.
        self._fingerprint = spec.fingerprint()
        self._state_names = {obj.name: _own_state(obj) for obj in (self.neurons, *self.synapses)}
        self._connectivity: dict[str, np.ndarray] = {}
        for syn in self.synapses:
            self._connectivity[f"{syn.name}/_i"] = np.asarray(syn.i[:], dtype=np.int32)
            self._connectivity[f"{syn.name}/_j"] = np.asarray(syn.j[:], dtype=np.int32)
        self._v = self.neurons.variables["v"].get_value()  # Brian2's own array, updated in place
        self._net = brian2.Network(*objects, boundary)
        if stored is not None:
            self._restore(stored)
        self.total_spikes = 0 if stored is None else int(stored["meta"]["total_spikes"])
        # To the network's thread: "go" (one chunk for `advance`), "close", or the
        # `on_chunk` of `run_chunks`; back: a chunk, _DONE, _Failed or Brian2's error.
        self._go: queue.SimpleQueue[str | Callable[[Chunk], bool]] = queue.SimpleQueue()
        self._out: queue.SimpleQueue[Chunk | str | _Failed | BaseException] = queue.SimpleQueue()
        self._on_chunk: Callable[[Chunk], bool] | None = None
        self._thread: threading.Thread | None = None
        self._chunk_start = 0  # Brian2 time step where the chunk in progress began
        self._in_chunk = False
        self._closed = False
        # Generates and compiles every code object now, not inside the first chunk.
        self._net.run(0 * brian2.second, namespace=self._ns)

    # -- running ---------------------------------------------------------------

    @property
    def t(self) -> float:
        """Network time, seconds (continues across checkpoints)."""
        return self._t0 + self._brian_t()

    def _brian_t(self) -> float:
        # After a stopped run Brian2 leaves a clock's VariableView in Network.t_.
        return float(np.asarray(self._net.t_))

    def advance(self) -> Chunk:
        """Simulate one chunk (shorter if `stop()` cut it) and return what happened in it."""
        out = self._order("go")
        assert isinstance(out, Chunk)
        return out

    def run_chunks(self, on_chunk: Callable[[Chunk], bool]) -> None:
        """Simulate chunk after chunk, calling `on_chunk(chunk)` on the network's thread.

        `on_chunk` runs at each chunk boundary while the network is paused there, as
        a caller does between two `advance` calls (it may move the drive or take a
        checkpoint); the run goes on while it returns True. A `stop()` ends the
        chunk in progress, which `on_chunk` gets too. What `on_chunk` raises is
        raised here, and the network stays usable.
        """
        out = self._order(on_chunk)
        if isinstance(out, _Failed):
            raise out.error

    def _order(self, order: str | Callable[[Chunk], bool]) -> Chunk | str | _Failed:
        """Send the network's thread `order` (starting it if needed) and wait for its answer."""
        if self._closed:
            raise InvalidInputError("the network is closed")
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._serve, name="brian2", daemon=True)
            self._thread.start()
        self._in_chunk = True
        self._go.put(order)
        out = self._out.get()
        self._in_chunk = False
        if isinstance(out, BaseException):
            self._closed = True
            raise out
        return out

    def stop(self) -> None:
        """End the chunk in progress at the next time step (safe from any thread)."""
        if self._in_chunk:
            self._net.stop()

    def close(self) -> None:
        """End the Brian2 thread; the network cannot advance after this."""
        if self._closed:
            return
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            self._go.put("close")
            self._thread.join(5)

    def shift_drive(self, delta_pa: float) -> float:
        """Move the drive by `delta_pa` (clipped to the spec's bounds); return the move made."""
        import brian2

        d = self.spec.drive
        new = min(max(self.drive_pa + delta_pa, d.low_pa), d.high_pa)
        moved = new - self.drive_pa
        if moved:
            var = getattr(self.neurons, d.variable)
            setattr(self.neurons, d.variable, var + moved * brian2.pA)
            self.drive_pa = new
        return moved

    def _serve(self) -> None:
        """The Brian2 thread: one long run, paused at every chunk boundary."""
        import brian2

        try:
            self._wait_for_order()
        except _Closing:
            return
        self._chunk_start = self._step = self._next = int(self._timestep[0])
        try:
            self._net.run(_HORIZON_S * brian2.second, namespace=self._ns)
        except _Closing:
            return
        except BaseException as exc:
            self._out.put(exc)
            return
        # Stopped inside a chunk: hand over the part that was simulated.
        self._hand_over(self._collect(), last=True)

    def _hand_over(self, chunk: Chunk, *, last: bool = False) -> bool:
        """Give `chunk` to `on_chunk` or to `advance`; True when the run goes straight on."""
        if self._on_chunk is None:
            self._out.put(chunk)
            return False
        try:
            if self._on_chunk(chunk) and not last:
                return True
            self._out.put(_DONE)
        except BaseException as exc:  # raised by run_chunks in the caller's thread
            self._out.put(_Failed(exc))
        return False

    def _wait_for_order(self) -> None:
        order = self._go.get()
        if order == "close":
            raise _Closing
        self._on_chunk = None if isinstance(order, str) else order

    def _tick(self) -> None:
        """Network operation at the start of each time step (Brian2 thread).

        It runs 10,000 times per simulated second, so the steps with nothing to do
        (most of them) cost one counter and one comparison; `_serve` sets the
        counter from Brian2's clock when a run starts.
        """
        step = self._step
        self._step = step + 1
        if step < self._next:
            return
        if step % self._chunk_steps == 0 and step > self._chunk_start:
            # A chunk boundary: hand the chunk over, then (unless `on_chunk` said go
            # on) wait for the next order.
            going_on = self._hand_over(self._collect())
            if not going_on:
                self._wait_for_order()
        if self._sample_views and step % self._sample_steps == 0:
            # Bytes copied in C: with Brian2's steps leaving the caches cold, a numpy
            # index and two calls made a sample cost ~6 us here, this ~2 us (COBA).
            self._sample_t.append(step)
            for rows, view in self._sample_views:
                rows.append(view.tobytes())
        nxt = (step // self._chunk_steps + 1) * self._chunk_steps
        if self._sample_views:
            nxt = min(nxt, (step // self._sample_steps + 1) * self._sample_steps)
        self._next = nxt

    def _collect(self) -> Chunk:
        """The chunk that ends now; empties the spike monitor (Brian2 thread, network paused).

        Brian2 has just swept the network's arrays through the cache, so every call
        here runs cold (measured: a small numpy call takes 0.05–0.2 ms here, against
        ~0.005 ms warm): the arrays are read directly, not through Brian2's views,
        and the populations are counted from one `bincount`.
        """
        dt = self.spec.dt_ms / 1000
        start = self._t0 + self._chunk_start * dt
        self._chunk_start = int(self._timestep[0])
        monitor = self._spikes.variables
        i = np.array(monitor["i"].get_value(), dtype=np.int32)  # copies: the monitor is reused
        t = monitor["t"].get_value() + self._t0
        _clear_spike_monitor(self._spikes)
        self.total_spikes += len(i)
        per_neuron = np.bincount(i, minlength=self.spec.neurons)
        chunk = Chunk(
            t_start=start,
            t_end=self.t,
            spike_i=i,
            spike_t=t,
            sample_t=np.asarray(self._sample_t, dtype=np.float64) * dt + self._t0,
            sample_neurons=self.sample_neurons,
            population_spikes={
                pop.name: int(per_neuron[pop.start : pop.stop].sum())
                for pop in self.spec.populations
            },
            mean_v=float(self._v.mean()),
        )
        n = len(self.sample_neurons)
        for var, rows in self._sample_rows.items():
            values = np.frombuffer(bytearray().join(rows), dtype=self._sampled[var][0].dtype)
            chunk.samples[var] = values.reshape(len(rows), n)
            rows.clear()
        self._sample_t.clear()
        return chunk

    # -- checkpoints -------------------------------------------------------------

    def checkpoint(self, *, connectivity: bool = True) -> bytes:
        """The whole state as bytes (an .npz without pickles): continue with `checkpoint=`.

        With `connectivity=False` it leaves out the connectivity, most of its bytes on
        a network without plastic synapses (2.5 of COBA's 2.7 MB): continue from it
        with `connectivity=` the bytes of `connectivity()` as well.
        """
        now = self._brian_t()
        arrays: dict[str, np.ndarray] = dict(self._connectivity) if connectivity else {}
        for obj in (self.neurons, *self.synapses):
            states = obj.get_states(self._state_names[obj.name], units=False)
            for var, value in states.items():
                value = np.asarray(value)
                if var in _TIME_VARIABLES:
                    value = value - now
                arrays[f"{obj.name}/{var}"] = value
        meta = {
            "format": CHECKPOINT_FORMAT,
            "spec": self.spec.name,
            "fingerprint": self._fingerprint,
            "neurons": self.spec.neurons,
            "seed": self.seed,
            "t": self.t,
            "drive_pa": self.drive_pa,
            "total_spikes": self.total_spikes,
        }
        return _npz(arrays, meta)

    def connectivity(self) -> bytes:
        """The connectivity as bytes (an .npz): what `checkpoint(connectivity=False)` leaves out."""
        meta = {"format": CHECKPOINT_FORMAT, "fingerprint": self._fingerprint, "seed": self.seed}
        return _npz(dict(self._connectivity), meta)

    def _restore(self, stored: dict[str, Any]) -> None:
        import brian2

        meta, arrays = stored["meta"], stored["arrays"]
        for obj in (self.neurons, *self.synapses):
            prefix = obj.name + "/"
            values = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            values = {k: v for k, v in values.items() if not k.startswith("_")}
            try:
                obj.set_states(values, units=False)
            except (KeyError, ValueError, TypeError) as exc:
                raise _corrupt(f"state of {obj.name} does not fit: {exc}") from None
        # A fresh random stream keyed by seed and time: restoring Brian2's own generator
        # state into the compiled code crashes it, and the noise needs no exact replay.
        brian2.seed((self.seed * 1_000_003 + round(float(meta["t"]) * 1e4)) % 2**32)
        self._t0 = float(meta["t"])
        self.drive_pa = float(meta["drive_pa"])


def _own_state(obj: Any) -> list[str]:
    """The variables `get_states` returns by default that `obj` owns and may be set.

    A synapse also sees its neurons' variables (``v_post``, say); reading those goes
    through an index per synapse, most of a checkpoint's time, for values the
    neurons' own state already holds.
    """
    from brian2.core.variables import AuxiliaryVariable, Subexpression

    return [
        name
        for name, var in obj.variables.items()
        if not name.startswith("_")
        and not isinstance(var, Subexpression | AuxiliaryVariable)
        and not getattr(var, "read_only", False)
        and var.owner.name == obj.name
    ]


def _clear_spike_monitor(mon: Any) -> None:
    # Brian2 monitors only grow; emptying them after each chunk keeps memory flat.
    mon.resize(0)
    mon.variables["N"].set_value(0)


def _corrupt(why: str) -> CorruptFileError:
    return CorruptFileError(
        f"the stored network state cannot be used ({why})",
        hint="start a new run with another --db, or resume with the network it was made with",
    )


def _npz(arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> bytes:
    """`arrays` and `meta` (as JSON) in one .npz, as bytes."""
    arrays = {**arrays, "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _read_npz(blob: bytes) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """What `_npz` wrote: the arrays and the meta (CorruptFileError if unreadable)."""
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(arrays.pop("meta").tobytes())
    except (ValueError, OSError, KeyError, EOFError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise _corrupt(f"unreadable: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        raise _corrupt("unknown format")
    return arrays, meta


def _read_checkpoint(
    blob: bytes, spec: NetworkSpec, connectivity: bytes | None = None
) -> dict[str, Any]:
    """Parse and check checkpoint bytes (and the connectivity's, if apart) against `spec`.

    Anything off is a CorruptFileError; a checkpoint of another network is an
    InvalidInputError.
    """
    arrays, meta = _read_npz(blob)
    if meta.get("fingerprint") != spec.fingerprint():
        raise InvalidInputError(
            f"the stored run is of another network ({meta.get('spec')}, "
            f"{meta.get('neurons')} neurons)",
            hint="leave out --network/--neurons when resuming, or use another --db",
        )
    needed = ("t", "drive_pa", "total_spikes")
    if any(k not in meta for k in needed):
        raise _corrupt("missing fields")
    if connectivity is not None:
        fixed, fixed_meta = _read_npz(connectivity)
        if (fixed_meta.get("fingerprint"), fixed_meta.get("seed")) != (
            spec.fingerprint(),
            meta.get("seed"),
        ):
            raise _corrupt("its connectivity is of another network")
        arrays = {**fixed, **arrays}
    connect = {}
    for proj in spec.projections:
        i, j = arrays.get(f"{proj.name}/_i"), arrays.get(f"{proj.name}/_j")
        if i is None or j is None or i.shape != j.shape or i.ndim != 1:
            raise _corrupt(f"no connectivity for {proj.name}")
        src, tgt = spec.population(proj.source), spec.population(proj.target)
        if len(i) and (i.min() < 0 or i.max() >= src.size or j.min() < 0 or j.max() >= tgt.size):
            raise _corrupt(f"connectivity of {proj.name} out of range")
        connect[proj.name] = (i, j)
    return {"meta": meta, "arrays": arrays, "connect": connect}


def mean_rate(spikes: int, neurons: int, seconds: float) -> float:
    """Spikes per neuron per second (0 for an empty interval)."""
    return spikes / neurons / seconds if seconds > 0 and neurons > 0 else 0.0


def rates_by_neuron(chunk: Chunk, n: int) -> list[float]:
    """The firing rate of each of the first `n` neurons over the chunk, Hz."""
    if chunk.duration <= 0 or n == 0:
        return [0.0] * n
    counts = np.bincount(chunk.spike_i[chunk.spike_i < n], minlength=n)
    return (counts / chunk.duration).round(3).tolist()
