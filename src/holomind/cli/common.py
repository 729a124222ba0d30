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


def shorten(text: str, n: int = 60) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis (for table cells)."""
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def print_json(data: Any) -> None:
    """Print data as JSON on stdout, nothing else (for `--json` flags)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def backend_name(s: Settings, flag: str | None) -> str:
    """The chat backend to open: the settings' one, but a URL alone means an OpenAI server."""
    if flag is None and s.url and s.backend == "embedded":
        return "openai"
    return s.backend


def open_llm(
    s: Settings, *, backend_flag: str | None, context: int | None, timeout: float
) -> Backend:
    """The chat backend the settings and the --backend flag name, opened."""
    from holomind.llm import open_backend

    return open_backend(
        backend_name(s, backend_flag),
        url=s.url,
        model=s.model,
        threads=s.threads,
        context_window=context,
        timeout=timeout,
    )
