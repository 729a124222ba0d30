"""The global workspace: the bus every HoloMind module publishes to and reads from."""

from holomind.workspace.bus import GlobalWorkspace, Subscription

__all__ = ["GlobalWorkspace", "Subscription"]
