"""What every command module shares: settings from the context, consoles, JSON output."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from holomind.config import Settings

if TYPE_CHECKING:
    from holomind.llm import Backend

console = Console()
err_console = Console(stderr=True)


def settings(ctx: typer.Context, **overrides: Any) -> Settings:
    """The root command's settings, with this command's non-None flags applied."""
    root: Settings = ctx.find_root().obj or Settings.load()
    if not any(v is not None for v in overrides.values()):
        return root
    return Settings.load(
        **{**{k: getattr(root, k) for k in root.__dataclass_fields__}, **overrides}
    )


def print_json(data: Any) -> None:
    """Print data as JSON on stdout, nothing else (for `--json` flags)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def open_llm(
    s: Settings, *, backend_flag: str | None, context: int | None, timeout: float
) -> Backend:
    """The chat backend the settings name (a --url without --backend: an OpenAI-style server)."""
    from holomind.llm import open_backend

    name = s.backend
    if backend_flag is None and s.url and name == "embedded":
        name = "openai"
    return open_backend(
        name,
        url=s.url,
        model=s.model,
        threads=s.threads,
        context_window=context,
        timeout=timeout,
    )
