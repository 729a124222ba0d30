"""The hippocampus: a pixel network that remembers every exchange in readable PNG pages.

from holomind.memory import PixelNetwork
net = PixelNetwork("memory.png")
net.append("What is pxOS?", "A GPU-native OS where pixels are primitives.")
net.search("pixel operating system")
"""

from holomind.memory.maintenance import Verification
from holomind.memory.network import PixelNetwork
from holomind.memory.orchestrator import NetworkOrchestrator
from holomind.memory.pngfile import TailWarning
from holomind.memory.records import Hit, Record, content_hash
from holomind.memory.render import render_text_to_rows

__all__ = [
    "Hit",
    "NetworkOrchestrator",
    "PixelNetwork",
    "Record",
    "TailWarning",
    "Verification",
    "content_hash",
    "render_text_to_rows",
]
