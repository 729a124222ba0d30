"""What every command module shares: settings, consoles, JSON output, the chat model's flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from holomind.config import Settings

if TYPE_CHECKING:
    from holomind.llm import Backend

console = Console()
err_console = Console(stderr=True)

# The flags that choose the chat model and shape its prompt: `chat` and `memory context`
# take the same ones, so the context command shows the prompt chat would send.
BACKEND = typer.Option(
    None,
    "--backend",
    help="embedded | openai | ollama \\[env: HOLOMIND_BACKEND; --url alone means openai].",
)
URL = typer.Option(
    None,
    "--url",
    help="Server URL, e.g. http://localhost:1234/v1 for LM Studio \\[env: HOLOMIND_URL].",
)
MODEL = typer.Option(
    None,
    "--model",
    help="Model name on the server (default: its first), or a .gguf file for embedded.",
)
CONTEXT = typer.Option(
    None,
    "--context",
    min=256,
    help="The model's context window in tokens (default 2048 embedded, 4096 servers).",
)
MAX_TOKENS = typer.Option(256, "--max-tokens", min=1, help="Longest answer, in tokens.")
ALSO = typer.Option(
    [], "--also", help="Another pixel network to recall from too (repeat for more)."
)


def open_chat_model(
    s: Settings, *, backend: str | None, context: int | None, timeout: float = 120.0
) -> Backend:
    """The chat backend the settings name (``backend`` is the --backend flag, if given)."""
    from holomind.llm import open_backend

    return open_backend(
        backend_name(s, backend),
        url=s.url,
        model=s.model,
        threads=s.threads,
        context_window=context,
        timeout=timeout,
    )


def require_networks(paths: list[Path]) -> None:
    """Refuse, in one line, an --also network that does not exist."""
    from holomind.errors import MissingFileError

    for path in paths:
        if not path.exists():
            raise MissingFileError(f"{path} does not exist", hint="check the --also path")


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


def local_workspace() -> Any:
    """The in-process global workspace a command publishes to, when the module is present."""
    try:
        from holomind.workspace import GlobalWorkspace
    except ImportError:
        return None
    return GlobalWorkspace(workers=1)
