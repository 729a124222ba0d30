"""The spiking network on the workspace: reads `modulation`, runs a chunk, logs it, publishes.

One `step()` is one chunk of simulated time: apply the newest `modulation`
written since the last step (if any), advance the network, hand spikes and
samples to the activity log, and publish ``neural_activations``, ``neuro/spikes``
and ``neuro/state`` (see docs/workspace-keys.md). `run()` does the same chunk
after chunk on the network's own thread, with no hand-over between threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from holomind.neuro.log import ActivityLog
from holomind.neuro.runner import Chunk, SpikingNetwork, mean_rate, rates_by_neuron
from holomind.sim.modulation import SIGN, Modulation, parse_modulation
from holomind.workspace import GlobalWorkspace


class NetworkNode:
    """A `SpikingNetwork` wired to a workspace and (optionally) an activity log.

    Args:
        net: the network.
        workspace: where it publishes and reads `modulation`.
        log: the activity log (None: nothing is stored).
        raster_neurons: neurons whose spikes go to ``neuro/spikes`` (the live raster).
        activations: neurons whose rates go to ``neural_activations``.
    """

    def __init__(
        self,
        net: SpikingNetwork,
        workspace: GlobalWorkspace,
        *,
        log: ActivityLog | None = None,
        raster_neurons: int = 100,
        activations: int = 100,
    ) -> None:
        self.net = net
        self.workspace = workspace
        self.log = log
        self.raster_neurons = min(raster_neurons, net.spec.neurons)
        self.activations = min(activations, net.spec.neurons)
        self.start_t = net.t  # network time when this node started
        self.spikes = 0  # spikes simulated by this node
        self.modulations = 0  # modulations applied by this node
        self.last_modulation: dict[str, Any] | None = None
        self.checkpointed_t: float | None = None  # network time of the last stored state
        self._seen = 0  # version of `modulation` last applied
        if log is not None:  # once: the checkpoints leave it out
            log.store_connectivity(net.connectivity())

    def step(self) -> dict[str, Any]:
        """Simulate one chunk and return the ``neuro/state`` it published."""
        self._apply_newest()
        began = time.perf_counter()
        chunk = self.net.advance()
        return self._publish(chunk, time.perf_counter() - began)

    def run(self, go_on: Callable[[dict[str, Any]], bool]) -> None:
        """Step chunk after chunk while `go_on(state)` says so (or until a `stop()`).

        Each chunk is logged and published, and `go_on` called, on the network's
        thread while the network is paused at the chunk's end, as `step()` does
        between chunks.
        """
        self._apply_newest()
        resumed = time.perf_counter()

        def on_chunk(chunk: Chunk) -> bool:
            nonlocal resumed
            going = go_on(self._publish(chunk, time.perf_counter() - resumed))
            if going:
                self._apply_newest()
            resumed = time.perf_counter()
            return going

        self.net.run_chunks(on_chunk)

    def _publish(self, chunk: Chunk, wall: float) -> dict[str, Any]:
        """Log `chunk` (simulated in `wall` seconds) and publish it; returns ``neuro/state``."""
        self.spikes += len(chunk.spike_i)
        spec = self.net.spec
        rate = mean_rate(len(chunk.spike_i), spec.neurons, chunk.duration)
        if self.log is not None:
            with self.log.batch():  # one hand-over to the writer per chunk
                self.log.spikes(chunk.spike_t, chunk.spike_i)
                for var, values in chunk.samples.items():
                    self.log.samples(chunk.sample_t, chunk.sample_neurons, var, values)
                self.log.record(
                    "chunks",
                    chunk.t_start,
                    chunk.t_end,
                    len(chunk.spike_i),
                    rate,
                    chunk.mean_v,
                    self.net.drive_pa,
                    wall,
                )
        shown = chunk.spike_i < self.raster_neurons
        self.workspace.write("neural_activations", rates_by_neuron(chunk, self.activations))
        self.workspace.write(
            "neuro/spikes",
            {
                "t0_s": chunk.t_start,
                "t1_s": chunk.t_end,
                "neurons": self.raster_neurons,
                "i": chunk.spike_i[shown].tolist(),
                "t_ms": (chunk.spike_t[shown] * 1000).round(2).tolist(),
            },
        )
        state = {
            "network": spec.name,
            "neurons": spec.neurons,
            "t_s": round(chunk.t_end, 6),
            "chunk_s": round(chunk.duration, 6),
            "spikes": len(chunk.spike_i),
            "total_spikes": self.net.total_spikes,
            "rate_hz": round(rate, 4),
            "rates_hz": {
                pop.name: round(
                    mean_rate(chunk.population_spikes[pop.name], pop.size, chunk.duration), 4
                )
                for pop in spec.populations
            },
            "mean_v_mv": round(chunk.mean_v * 1000, 4),
            "drive_pa": self.net.drive_pa,
            "modulation": self.last_modulation,
            "wall_s": round(wall, 4),
        }
        self.workspace.write("neuro/state", state)
        return state

    def apply(self, mod: Modulation) -> float:
        """Move the drive as `mod` says; return the move in pA (0 at a bound or on maintain)."""
        step = self.net.spec.drive.step_pa * mod.strength * SIGN[mod.action]
        moved = self.net.shift_drive(step)
        self.modulations += 1
        self.last_modulation = {**mod.to_dict(), "t_s": self.net.t, "moved_pa": moved}
        if self.log is not None:
            self.log.record(
                "modulations",
                self.net.t,
                time.time(),
                mod.action,
                mod.strength,
                mod.source,
                self.net.drive_pa,
            )
        return moved

    def stop(self) -> None:
        """End the chunk in progress at the next time step (safe from any thread)."""
        self.net.stop()

    def checkpoint(self) -> None:
        """Store the network's state in the log (a commit point)."""
        if self.log is not None:
            self.log.checkpoint(self.net.t, self.net.checkpoint(connectivity=False))
            self.checkpointed_t = self.net.t

    @property
    def simulated(self) -> float:
        """Seconds simulated by this node."""
        return self.net.t - self.start_t

    def _apply_newest(self) -> None:
        mod = self._newest_modulation()
        if mod is not None:
            self.apply(mod)

    def _newest_modulation(self) -> Modulation | None:
        # Latest wins: the value read is the one whose version was seen before and after.
        ws = self.workspace
        while True:
            version = ws.version("modulation")
            if version <= self._seen:
                return None
            value = ws.read("modulation")
            if ws.version("modulation") == version:
                self._seen = version
                return parse_modulation(value)
