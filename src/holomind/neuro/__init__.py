"""The spiking network: models as data (`models`), the Brian2 runner, the SQLite activity log."""

from holomind.neuro.models import NETWORKS, NetworkSpec, network_spec
from holomind.neuro.runner import Chunk, Sampling, SpikingNetwork

__all__ = ["NETWORKS", "Chunk", "NetworkSpec", "Sampling", "SpikingNetwork", "network_spec"]
