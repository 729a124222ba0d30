"""The simulation: spiking network, soup and LLM modulator on one global workspace.

Two ways to drive it. From Python, step by step (what a Gymnasium environment
or a notebook does)::

    with Simulation(SimConfig(network="seed", soup=False), db="run.db") as sim:
        state = sim.step()            # one chunk; returns the published neuro/state
        sim.modulate("increase")      # applied at the start of the next step
        state = sim.step()
        sim.observe()                 # every key the simulation publishes

Or as threads (what `holomind sim` does): `run(duration)` starts the network,
the soup and the modulator, each in its own thread, and returns when the
duration is simulated or `stop()` is called (from a signal handler, say);
every thread ends within about a second of that, the network's state and
every simulated row are in the activity log.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from holomind import __version__
from holomind.errors import InvalidInputError
from holomind.llm import Backend, model_name
from holomind.neuro.log import ActivityLog, count_rows
from holomind.neuro.models import network_spec
from holomind.neuro.runner import Sampling, SpikingNetwork, mean_rate
from holomind.sim.modulation import Modulation
from holomind.sim.modulator import Modulator
from holomind.sim.network import NetworkNode
from holomind.sim.soup import SoupNode
from holomind.workspace import GlobalWorkspace

# Every key the simulation publishes (docs/workspace-keys.md says who reads each).
KEYS = (
    "neuro/state",
    "neural_activations",
    "neuro/spikes",
    "modulation",
    "avg_entropy",
    "diversity_index",
    "soup/epoch",
    "soup/higher_entropy",
    "soup/diversity",
)
JOIN_S = 1.5  # how long stopping waits for each thread


@dataclass(frozen=True)
class SimConfig:
    """How a simulation runs; network, neurons, seed and sampling stay fixed in a stored run."""

    network: str = "seed"  # seed | coba | cuba
    neurons: int | None = None  # None: the network's standard size
    seed: int = 0  # connectivity, initial state, noise (and the soup's seed)
    sampling: Sampling = field(default_factory=Sampling)  # what the log samples
    chunk_ms: float = 100.0  # simulated time per step; modulation acts between chunks
    soup: bool = True  # run a primordial soup beside the network
    soup_programs: int = 4096  # soup size (even)
    soup_share: float = 0.25  # fraction of wall time the soup thread may compute
    band_hz: tuple[float, float] = (5.0, 15.0)  # the modulator's target firing-rate band
    llm_interval_s: float = 5.0  # least time between two modulator calls
    llm_context: bool = False  # the modulator's prompt also carries voltage, activations, soup
    checkpoint_s: float = 30.0  # wall seconds between stored network states
    raster_neurons: int = 100  # neurons shown in neuro/spikes
    target: str = "cython"  # Brian2 code target: cython | numpy

    def __post_init__(self) -> None:
        low, high = self.band_hz
        if not 0 <= low < high:
            raise InvalidInputError(
                f"the target band must be low < high, got {low}:{high}", hint="e.g. --band 5:15"
            )
        if not 0 < self.chunk_ms <= 10_000:
            raise InvalidInputError(f"--chunk-ms must be in (0, 10000], got {self.chunk_ms}")
        if not 0 < self.soup_share <= 1:
            raise InvalidInputError(f"soup share must be in (0, 1], got {self.soup_share}")
        if self.soup_programs < 2 or self.soup_programs % 2:
            raise InvalidInputError(
                f"the soup needs an even number of programs, got {self.soup_programs}"
            )


class Simulation:
    """A spiking network, optionally a soup and an LLM modulator, on one workspace.

    Args:
        config: how it runs.
        db: the activity log (None: nothing stored, no resume possible).
        backend: an open chat backend for the modulator (None: no modulator).
        workspace: the bus to publish on (default: a new one, closed with the simulation).
        cache_dir: Brian2's compiled-code cache (default HOLOMIND_HOME/brian2).
    """

    def __init__(
        self,
        config: SimConfig = SimConfig(),
        *,
        db: str | Path | None = None,
        backend: Backend | None = None,
        workspace: GlobalWorkspace | None = None,
        cache_dir: Path | None = None,
        _resume: tuple[ActivityLog, bytes, bytes | None] | None = None,
    ) -> None:
        self.config = config
        self.db = Path(db) if db is not None else None
        self._owns_workspace = workspace is None
        self.workspace = workspace if workspace is not None else GlobalWorkspace()
        self._stop = threading.Event()
        self.stopped_by: str | None = None
        self.stop_s: float | None = None  # from `stop()` to every thread ended, seconds
        self.threads_left: list[str] = []  # threads still running JOIN_S after the stop
        self._stop_asked: float | None = None
        self.resumed_from: float | None = None
        spec = network_spec(config.network, config.neurons)
        log: ActivityLog | None = None
        blob = connectivity = None
        try:
            if _resume is not None:
                log, blob, connectivity = _resume
            elif self.db is not None:
                log = ActivityLog.create(self.db, {"run": _identity(config, spec.neurons)})
            self.log = log
            net = SpikingNetwork(
                spec,
                seed=config.seed,
                chunk_ms=config.chunk_ms,
                sampling=config.sampling,
                cache_dir=cache_dir,
                target=config.target,
                checkpoint=blob,
                connectivity=connectivity,
            )
        except BaseException:
            if log is not None:
                log.close()
            if self._owns_workspace:
                self.workspace.close()
            raise
        if blob is not None:
            self.resumed_from = net.t
        self.network = NetworkNode(
            net,
            self.workspace,
            log=log,
            raster_neurons=config.raster_neurons,
        )
        self.soup: SoupNode | None = None
        if config.soup:
            self.soup = SoupNode(
                self.workspace,
                programs=config.soup_programs,
                seed=config.seed,
                resume_from=self._soup_path if blob is not None else None,
            )
        self.modulator: Modulator | None = None
        if backend is not None:
            self.modulator = Modulator(
                backend,
                self.workspace,
                log=log,
                band=config.band_hz,
                interval_s=config.llm_interval_s,
                context=config.llm_context,
            )
        # Called with each chunk's `neuro/state` in the network's thread, before the next
        # chunk starts: an agent that acts here lands its modulation on the next chunk.
        self.chunk_listeners: list[Callable[[dict[str, Any]], None]] = []
        self._started = time.perf_counter()
        self._closed = False

    @classmethod
    def resume(cls, db: str | Path, config: SimConfig | None = None, **kwargs: Any) -> Simulation:
        """Continue the run in `db`: its network, size, seed and sampling override `config`."""
        log, meta, blob, connectivity = ActivityLog.resume(db)
        try:
            run = meta.get("run", {})
            identity = {
                "network": run["network"],
                "neurons": int(run["neurons"]),
                "seed": int(run["seed"]),
                "sampling": Sampling(**{**run["sampling"], "variables": _tuple(run["sampling"])}),
            }
        except (KeyError, TypeError, ValueError, InvalidInputError) as exc:
            log.close()
            raise InvalidInputError(
                f"{db} does not say what network it ran ({exc})",
                hint="start a new run with another --db",
            ) from None
        merged = SimConfig(**{**asdict(config or SimConfig()), **identity})
        return cls(merged, db=db, _resume=(log, blob, connectivity), **kwargs)

    # -- stepping from Python ------------------------------------------------------

    def step(self, soup: bool = True) -> dict[str, Any]:
        """Simulate one chunk (and one soup row, if there is a soup); return ``neuro/state``."""
        state = self.network.step()
        if soup and self.soup is not None:
            self.soup.step()
        for listener in self.chunk_listeners:
            listener(state)
        return state

    def modulate(self, action: str, strength: float = 1.0, source: str = "agent") -> int:
        """Write a `modulation` for the next step; returns its workspace version."""
        mod = Modulation(action, strength, source)
        if mod.action not in ("increase", "decrease", "maintain"):
            raise InvalidInputError(
                f"unknown modulation {action!r}", hint="use increase, decrease or maintain"
            )
        return self.workspace.write("modulation", {**mod.to_dict(), "t_s": self.network.net.t})

    def observe(self) -> dict[str, Any]:
        """The current value of every key the simulation publishes (None where not yet written)."""
        return {key: self.workspace.read(key) for key in KEYS}

    # -- running as threads ----------------------------------------------------------

    def run(
        self,
        duration_s: float,
        *,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        progress_s: float = 1.0,
    ) -> dict[str, Any]:
        """Simulate `duration_s` more seconds with every component in its own thread.

        Returns the summary when the duration is reached or `stop()` was called.
        """
        if not duration_s > 0 or not math.isfinite(duration_s):
            raise InvalidInputError(f"--duration must be positive, got {duration_s}")
        self._stop.clear()
        self.stopped_by = None
        self._stop_asked = self.stop_s = None
        end = self.network.net.t + duration_s
        errors: list[BaseException] = []

        def guard(target: Callable[[], None]) -> Callable[[], None]:
            def body() -> None:
                try:
                    target()
                except BaseException as exc:
                    errors.append(exc)
                    self.stop("error")

            return body

        began = time.perf_counter()
        net_thread = threading.Thread(
            target=guard(lambda: self._network_loop(end)), name="sim-network"
        )
        others = []
        if self.soup is not None:
            others.append(threading.Thread(target=guard(self._soup_loop), name="sim-soup"))
        if self.modulator is not None:
            others.append(threading.Thread(target=guard(self._modulator_loop), name="sim-llm"))
        for t in (net_thread, *others):
            t.daemon = True
            t.start()
        while net_thread.is_alive():
            net_thread.join(progress_s)
            if on_progress is not None and not errors:
                on_progress(self.progress(end, time.perf_counter() - began))
        self.stopped_by = self.stopped_by or "duration"
        self._stop.set()
        for t in others:
            t.join(JOIN_S)
        self.threads_left = [t.name for t in others if t.is_alive()]
        if self._stop_asked is not None:
            self.stop_s = time.monotonic() - self._stop_asked
        if errors:
            raise errors[0]
        if self.log is not None:
            self.log.flush()
        return self.summary()

    def stop(self, why: str = "signal") -> None:
        """Ask every thread to finish now (safe from signal handlers and other threads)."""
        if self.stopped_by is None:
            self.stopped_by = why
            self._stop_asked = time.monotonic()
        self._stop.set()
        self.network.stop()

    def progress(self, end: float, elapsed_s: float) -> dict[str, Any]:
        """Where a `run` stands: network time, rates, and an ETA from the pace so far."""
        state = self.workspace.read("neuro/state") or {}
        t = self.network.net.t
        done = self.network.simulated
        left = max(end - t, 0.0)
        pace = elapsed_s / done if done > 0 else None
        return {
            "t_s": t,
            "end_s": end,
            "rate_hz": state.get("rate_hz"),
            "mean_v_mv": state.get("mean_v_mv"),
            "drive_pa": self.network.net.drive_pa,
            "eta_s": left * pace if pace is not None else None,
            "speed": done / elapsed_s if elapsed_s > 0 else None,
            "avg_entropy": self.workspace.read("avg_entropy"),
            "diversity_index": self.workspace.read("diversity_index"),
            "modulation": self.workspace.read("modulation"),
        }

    def _network_loop(self, end: float) -> None:
        node = self.network
        last_checkpoint = time.monotonic()

        def going() -> bool:
            # Whole chunks: a duration that is not a multiple of the chunk rounds up.
            return not self._stop.is_set() and node.net.t < end - node.net.spec.dt_ms / 2000

        def after_chunk(state: dict[str, Any]) -> bool:
            nonlocal last_checkpoint
            for listener in self.chunk_listeners:
                listener(state)
            if time.monotonic() - last_checkpoint >= self.config.checkpoint_s:
                node.checkpoint()
                last_checkpoint = time.monotonic()
            return going()

        try:
            if going():
                node.run(after_chunk)
        finally:
            node.checkpoint()

    def _soup_loop(self) -> None:
        assert self.soup is not None
        share = self.config.soup_share
        while not self._stop.is_set():
            began = time.perf_counter()
            self.soup.step()
            busy = time.perf_counter() - began
            # Leave the rest of the CPU to the network (the soup's kernel holds the GIL).
            self._stop.wait(busy * (1 - share) / share)

    def _modulator_loop(self) -> None:
        assert self.modulator is not None
        seen = self.workspace.version("neuro/state")
        while not self._stop.is_set():
            try:
                self.workspace.wait_for("neuro/state", timeout=0.25, after_version=seen)
            except TimeoutError:
                continue
            seen = self.workspace.version("neuro/state")
            if self.modulator.ready():
                self.modulator.decide(stop=self._stop)

    # -- the end -----------------------------------------------------------------------

    @property
    def _soup_path(self) -> Path:
        assert self.db is not None
        return self.db.with_name(self.db.name + ".soup")

    def summary(self) -> dict[str, Any]:
        """What this simulation did, JSON-ready (`holomind sim --json` prints it)."""
        node = self.network
        spec = node.net.spec
        out: dict[str, Any] = {
            "network": spec.name,
            "neurons": spec.neurons,
            "bio_seconds": round(node.simulated, 6),
            "t_s": round(node.net.t, 6),
            "spikes": node.spikes,
            "mean_rate_hz": round(mean_rate(node.spikes, spec.neurons, node.simulated), 4),
            "drive_pa": node.net.drive_pa,
            "modulations": node.modulations,
            "wall_seconds": round(time.perf_counter() - self._started, 3),
            "stopped_by": self.stopped_by,
            "stop_s": None if self.stop_s is None else round(self.stop_s, 3),
            "threads_left": self.threads_left,
            "resumed_from_s": self.resumed_from,
            "db": str(self.db) if self.db is not None else None,
        }
        if self.modulator is not None:
            m = self.modulator
            out["llm"] = {
                "model": model_name(m.backend),
                "decisions": m.decisions,
                "agree_with_rule": m.agreed,
                "structured_output": m.structured,
            }
        if self.soup is not None and self.soup.last is not None:
            row = self.soup.last
            out["soup"] = {
                "epoch": row.epoch,
                "avg_entropy": row.higher_entropy,
                "diversity_index": row.diversity,
            }
        if self.db is not None and self._closed:
            tables = count_rows(self.db)
            out["db_rows"] = sum(tables.values())
            out["db_tables"] = tables
        return out

    def close(self) -> None:
        """Store the soup, commit the log, close the workspace if this simulation made it."""
        if self._closed:
            return
        self._closed = True
        try:
            if self.log is not None and self.network.checkpointed_t != self.network.net.t:
                self.network.checkpoint()  # stepped from Python since the last stored state
            if self.soup is not None and self.db is not None:
                self.soup.save(self._soup_path)
            if self.log is not None:
                self.log.close()
        finally:
            self.network.net.close()
            if self._owns_workspace:
                self.workspace.close()

    def __enter__(self) -> Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _identity(config: SimConfig, neurons: int) -> dict[str, Any]:
    return {
        "network": config.network,
        "neurons": neurons,
        "seed": config.seed,
        "sampling": asdict(config.sampling),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "holomind": __version__,
    }


def _tuple(sampling: dict[str, Any]) -> tuple[str, ...] | None:
    variables = sampling.get("variables")
    return None if variables is None else tuple(variables)
