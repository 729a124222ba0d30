"""Learning: the training loop with named life-cycle events, and the plugins that hook it."""

from holomind.learning.data import Corpus, Document
from holomind.learning.plugins import (
    Checkpoint,
    MaturityFreezing,
    PhaseSchedule,
    ProgressLine,
    TensorBoardLogger,
    WorkspacePublisher,
)
from holomind.learning.trainer import Plugin, TrainConfig, Trainer, TrainState

__all__ = [
    "Checkpoint",
    "Corpus",
    "Document",
    "MaturityFreezing",
    "PhaseSchedule",
    "Plugin",
    "ProgressLine",
    "TensorBoardLogger",
    "TrainConfig",
    "TrainState",
    "Trainer",
    "WorkspacePublisher",
]
