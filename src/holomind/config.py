"""Settings: one object the rest of HoloMind reads.

Precedence, lowest to highest: built-in defaults, ``HOLOMIND_*`` environment
variables, then explicit overrides (the CLI passes its flags here).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holomind.errors import ConfigError

BACKENDS = ("embedded", "openai", "ollama")
LOG_WRITERS = ("process", "thread")  # who writes a simulation's activity log


def _default_home() -> Path:
    return Path("~/.holomind").expanduser()


@dataclass(frozen=True)
class Settings:
    """Where HoloMind keeps its files and how it reaches an LLM."""

    home: Path = field(
        default_factory=_default_home
    )  # HOLOMIND_HOME: every default file lives here
    backend: str = "embedded"  # HOLOMIND_BACKEND: embedded | openai | ollama
    url: str | None = None  # HOLOMIND_URL: server base URL for openai/ollama backends
    model: str | None = None  # HOLOMIND_MODEL: model name; None = backend default
    threads: int = 1  # HOLOMIND_THREADS: threads given to native libraries
    network: Path | None = None  # HOLOMIND_NETWORK: pixel network PNG; None = home/network.png
    library: Path | None = (
        None  # HOLOMIND_LIBRARY: cartridge library; None = home/cartridge_library
    )
    debug: bool = False  # HOLOMIND_DEBUG: show tracebacks for user errors
    log_writer: str = "process"  # HOLOMIND_LOG_WRITER: activity log written by a process | thread

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"unknown backend {self.backend!r}",
                hint=f"use one of: {', '.join(BACKENDS)}",
            )
        if self.threads < 1:
            raise ConfigError(f"threads must be at least 1, got {self.threads}")
        if self.log_writer not in LOG_WRITERS:
            raise ConfigError(
                f"unknown log writer {self.log_writer!r}",
                hint=f"set HOLOMIND_LOG_WRITER to one of: {', '.join(LOG_WRITERS)}",
            )

    @property
    def network_path(self) -> Path:
        """The pixel network used when none is named."""
        return self.network or self.home / "network.png"

    @property
    def library_path(self) -> Path:
        """The cartridge library used when none is named."""
        return self.library or self.home / "cartridge_library"

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from defaults, then ``HOLOMIND_*`` variables, then non-None overrides."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"HOLOMIND_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        for name in ("home", "network", "library"):
            if values.get(name) is not None:
                values[name] = Path(values[name]).expanduser()
        return cls(**values)


def _parse(name: str, raw: str) -> Any:
    if name == "threads":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(
                f"HOLOMIND_THREADS must be a whole number, got {raw!r}",
                hint="set it to e.g. 1 or 2",
            ) from None
    if name == "debug":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw
