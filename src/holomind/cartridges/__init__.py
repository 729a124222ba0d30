"""The cartridge brain: a frozen stem, LoRA cartridges, a Hebbian router, a workspace layer."""

from holomind.cartridges.binding import WorkspaceConfig, WorkspaceLayer
from holomind.cartridges.cartridge import Cartridge, CartridgeConfig, CartridgeState
from holomind.cartridges.library import Library
from holomind.cartridges.model import BrainOutput, CartridgeModel
from holomind.cartridges.router import Router, RouterConfig
from holomind.cartridges.stem import ByteTokenizer, Stem, StemConfig

__all__ = [
    "BrainOutput",
    "ByteTokenizer",
    "Cartridge",
    "CartridgeConfig",
    "CartridgeModel",
    "CartridgeState",
    "Library",
    "Router",
    "RouterConfig",
    "Stem",
    "StemConfig",
    "WorkspaceConfig",
    "WorkspaceLayer",
]
