"""The learning loop: pixel-network memory + LLM answer + append, as `PixelBridge`.

from holomind.bridge import PixelBridge
bridge = PixelBridge("memory.png")          # embedded model by default
bridge.append_interaction("What is pxOS?", "A GPU-native OS where pixels compute.")
bridge.ask("Explain pxOS")                  # answers from the memory, then remembers
"""

from holomind.bridge.loop import LMStudioPixelBridge, PixelBridge, Turn
from holomind.bridge.prompt import Prompt, build_prompt, quote_memory

__all__ = ["LMStudioPixelBridge", "PixelBridge", "Prompt", "Turn", "build_prompt", "quote_memory"]
