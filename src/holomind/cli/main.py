"""The `holomind` entry point: the root command, its groups, and error handling.

User errors (`HoloMindError`) become one line on stderr and exit status 2;
``--debug`` adds the traceback. Unknown commands and flags also exit 2.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import typer
from rich.markup import escape

from holomind import __version__
from holomind.cli import agents as agents_cli
from holomind.cli import cartridges as cartridges_cli
from holomind.cli import chat as chat_cli
from holomind.cli import config as config_cli
from holomind.cli import ledger as ledger_cli
from holomind.cli import memory as memory_cli
from holomind.cli import serve as serve_cli
from holomind.cli import sim as sim_cli
from holomind.cli import sleep as sleep_cli
from holomind.cli import soup as soup_cli
from holomind.cli import train as train_cli
from holomind.cli.common import err_console
from holomind.config import Settings
from holomind.errors import HoloMindError

app = typer.Typer(
    name="holomind",
    help="HoloMind: a local, brain-inspired learning system.",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"holomind {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    home: Path | None = typer.Option(
        None, "--home", help="Where HoloMind keeps its files \\[env: HOLOMIND_HOME]."
    ),
) -> None:
    """HoloMind: a local, brain-inspired learning system."""
    ctx.obj = Settings.load(home=home, debug=debug or None)
    # BLAS and OpenMP read these once, when numpy or an engine first loads (after
    # this point: commands import them lazily). Oversubscribing a small machine's
    # cores makes small matrix products many times slower, so default to HOLOMIND_THREADS.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(ctx.obj.threads))
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


app.command("config")(config_cli.config)
app.command("chat")(chat_cli.chat)
app.command("train")(train_cli.train)
app.command("sleep")(sleep_cli.sleep)
app.add_typer(cartridges_cli.app, name="cartridges")
app.add_typer(memory_cli.app, name="memory")
app.command("soup")(soup_cli.soup)
app.command("sim")(sim_cli.sim)
app.command("serve")(serve_cli.serve)
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(agents_cli.app, name="agents")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; exit 0 on success, 2 on a user error or a bad command line."""
    args = sys.argv[1:] if argv is None else argv
    try:
        # Standalone mode: typer reports usage errors (unknown command or flag) with exit 2.
        app(args=args, prog_name="holomind")
    except HoloMindError as exc:
        if "--debug" in args or os.environ.get("HOLOMIND_DEBUG", "") in ("1", "true", "yes", "on"):
            traceback.print_exc()
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(exc.exit_code)
