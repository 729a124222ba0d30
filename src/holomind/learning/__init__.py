"""Learning: one training loop with named life-cycle events, its stages, and the plugins on it."""

from holomind.learning.data import Corpus, Document
from holomind.learning.hebbian import HebbianRouting
from holomind.learning.loop import Iteration, Loop, Plugin, Stage, TrainState
from holomind.learning.maturity import MaturityFreezing, MaturityTracking
from holomind.learning.plugins import (
    Checkpoint,
    PhaseSchedule,
    ProgressLine,
    RouterStatistics,
    TensorBoardLogger,
    WorkspacePublisher,
    standard_plugins,
)
from holomind.learning.stages import CartridgeStage, StemStage
from holomind.learning.trainer import (
    TrainConfig,
    Trainer,
    library_settings,
    resolve_config,
    saved_run,
)

__all__ = [
    "CartridgeStage",
    "Checkpoint",
    "Corpus",
    "Document",
    "HebbianRouting",
    "Iteration",
    "Loop",
    "MaturityFreezing",
    "MaturityTracking",
    "PhaseSchedule",
    "Plugin",
    "ProgressLine",
    "RouterStatistics",
    "Stage",
    "StemStage",
    "TensorBoardLogger",
    "TrainConfig",
    "TrainState",
    "Trainer",
    "WorkspacePublisher",
    "library_settings",
    "resolve_config",
    "saved_run",
    "standard_plugins",
]
