"""Learning: one training loop with named life-cycle events, its stages, and the plugins on it."""

from holomind.learning.data import Corpus, Document
from holomind.learning.hebbian import HebbianRouting
from holomind.learning.intrinsic import (
    CompressionProgress,
    CrossCartridgeDisagreement,
    IntrinsicTerm,
    SurprisePrediction,
    TemporalConsistency,
    intrinsic_plugins,
)
from holomind.learning.loop import Iteration, Loop, Plugin, Stage, TrainState
from holomind.learning.maturity import MaturityFreezing, MaturityTracking
from holomind.learning.plugins import (
    Checkpoint,
    Phase,
    PhaseSchedule,
    Preset,
    ProgressLine,
    RouterStatistics,
    TensorBoardLogger,
    WorkspacePublisher,
    standard_plugins,
)
from holomind.learning.report import RunReport, format_report
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
    "CompressionProgress",
    "Corpus",
    "CrossCartridgeDisagreement",
    "Document",
    "HebbianRouting",
    "IntrinsicTerm",
    "Iteration",
    "Loop",
    "MaturityFreezing",
    "MaturityTracking",
    "Phase",
    "PhaseSchedule",
    "Plugin",
    "Preset",
    "ProgressLine",
    "RouterStatistics",
    "RunReport",
    "Stage",
    "StemStage",
    "SurprisePrediction",
    "TemporalConsistency",
    "TensorBoardLogger",
    "TrainConfig",
    "TrainState",
    "Trainer",
    "WorkspacePublisher",
    "format_report",
    "intrinsic_plugins",
    "library_settings",
    "resolve_config",
    "saved_run",
    "standard_plugins",
]
