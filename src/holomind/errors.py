"""The typed errors a user can meet.

Every error a user can cause or fix derives from `HoloMindError`. Its message is
one line that says what is wrong and what to do; the CLI prints exactly that line
and exits with status 2 (``--debug`` adds the traceback).
"""

from __future__ import annotations


class HoloMindError(Exception):
    """Base class: one line saying what is wrong, and the fix."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}: {hint}" if hint else message)


class ConfigError(HoloMindError):
    """A setting, flag or environment variable has a value that cannot work."""


class InvalidInputError(HoloMindError, ValueError):
    """An argument is out of range or malformed."""


class MissingFileError(HoloMindError, FileNotFoundError):
    """A file or directory the user named does not exist."""


class CorruptFileError(HoloMindError):
    """A file exists but is not what it should be: truncated, tampered, hostile, wrong format."""


class NotSerializableError(HoloMindError, TypeError):
    """A value cannot be stored because it is not JSON-serialisable."""


class WorkspaceClosedError(HoloMindError, RuntimeError):
    """The global workspace was used after close()."""


class BackendError(HoloMindError):
    """An LLM backend failed in a way the user can fix."""


class ServerUnavailableError(BackendError):
    """No server answers at the configured URL."""


class ModelNotFoundError(BackendError):
    """The requested model is not loaded or not known to the backend."""


class ContextOverflowError(BackendError):
    """The prompt is longer than the model's context window."""


class BackendTimeoutError(BackendError, TimeoutError):
    """The backend did not answer in time."""


class StemMismatchError(HoloMindError):
    """A cartridge was made on a different stem than the one it is loaded onto."""


class BusyError(HoloMindError):
    """The thing asked for is already being done (a job of the same kind is running)."""
