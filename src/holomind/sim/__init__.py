"""`holomind sim`: the spiking network, a soup and an LLM modulator as threads on one workspace.

`Simulation` is the Python API (step it, or `run` it as threads); `SimConfig`
says how; `parse_modulation` reads what anyone writes to ``modulation``.
"""

from holomind.sim.modulation import ACTIONS, Modulation, parse_modulation
from holomind.sim.simulation import KEYS, SimConfig, Simulation

__all__ = ["ACTIONS", "KEYS", "Modulation", "SimConfig", "Simulation", "parse_modulation"]
