"""HoloMind: a local, brain-inspired learning system.

A pixel-network hippocampus, a cartridge-brain neocortex, a global workspace
joining them, and the experiments around them (spiking network, primordial soup).
``from holomind import NeuralNetwork`` is seed 003's continual learner
(`holomind.learning.continual`); it is imported on first use, so the command
line starts without loading torch.
"""

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "NeuralNetwork":
        from holomind.learning.continual import NeuralNetwork

        return NeuralNetwork
    raise AttributeError(f"module 'holomind' has no attribute {name!r}")
