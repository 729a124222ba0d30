"""HoloMind: a local, brain-inspired learning system.

A pixel-network hippocampus, a cartridge-brain neocortex, a global workspace
joining them, and the experiments around them (spiking network, primordial soup).
"""

__version__ = "0.1.0"
