"""Settings: defaults, HOLOMIND_* variables, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from holomind.config import Settings
from holomind.errors import ConfigError


def test_defaults_without_environment():
    s = Settings.load(environ={})
    assert s.home == Path("~/.holomind").expanduser()
    assert s.backend == "embedded"
    assert s.threads == 1
    assert s.network_path == s.home / "network.png"
    assert s.library_path == s.home / "cartridge_library"
    assert s.log_writer == "process"


def test_environment_then_overrides():
    env = {"HOLOMIND_HOME": "/tmp/x", "HOLOMIND_BACKEND": "openai", "HOLOMIND_DEBUG": "yes"}
    s = Settings.load(environ=env)
    assert (s.home, s.backend, s.debug) == (Path("/tmp/x"), "openai", True)
    s = Settings.load(environ=env, backend="ollama", url=None)
    assert s.backend == "ollama"
    assert s.url is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HOLOMIND_BACKEND": "x"}, "unknown backend 'x'"),
        ({"HOLOMIND_THREADS": "two"}, "HOLOMIND_THREADS must be a whole number"),
        ({"HOLOMIND_THREADS": "0"}, "threads must be at least 1"),
        ({"HOLOMIND_LOG_WRITER": "fork"}, "unknown log writer 'fork'"),
    ],
)
def test_bad_values_are_config_errors(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.load(environ=env)
