"""The root command: version, help, exit codes, settings precedence."""

from __future__ import annotations

import json

from holomind import __version__


def test_version(holomind):
    r = holomind("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"holomind {__version__}"


def test_no_arguments_prints_help(holomind):
    r = holomind()
    assert r.returncode == 0
    assert "Usage: holomind" in r.stdout


def test_unknown_command_exits_2(holomind):
    r = holomind("no-such-command")
    assert r.returncode == 2
    assert "No such command" in r.stderr


def test_unknown_flag_exits_2(holomind):
    r = holomind("config", "--no-such-flag")
    assert r.returncode == 2
    assert "No such option" in r.stderr


def test_user_error_is_one_line_without_traceback(holomind):
    r = holomind("config", env={"HOLOMIND_BACKEND": "telepathy"})
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "error: unknown backend 'telepathy': use one of: embedded, openai, ollama"
    ]
    assert "Traceback" not in r.stderr


def test_debug_shows_traceback(holomind):
    r = holomind("--debug", "config", env={"HOLOMIND_BACKEND": "telepathy"})
    assert r.returncode == 2
    assert "Traceback" in r.stderr
    assert "ConfigError" in r.stderr


def test_settings_precedence_env_then_flag(holomind, tmp_path):
    r = holomind("config", "--json", env={"HOLOMIND_THREADS": "2", "HOLOMIND_MODEL": "m1"})
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["threads"] == 2
    assert data["model"] == "m1"
    r = holomind("--home", str(tmp_path / "h"), "config", "--json")
    data = json.loads(r.stdout)
    assert data["home"] == str(tmp_path / "h")
    assert data["network_path"] == str(tmp_path / "h" / "network.png")
