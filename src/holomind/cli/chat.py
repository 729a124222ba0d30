"""`holomind chat`: talk to a model that remembers, through the pixel network."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from holomind.cli.common import (
    ALSO,
    BACKEND,
    CONTEXT,
    MAX_TOKENS,
    MODEL,
    URL,
    console,
    open_chat_model,
    print_json,
    require_networks,
    settings,
)
from holomind.errors import InvalidInputError

if TYPE_CHECKING:
    from holomind.bridge import PixelBridge
    from holomind.llm import Backend

DEMO_FACTS = 3  # how many invented facts the demo teaches


def chat(
    ctx: typer.Context,
    interactive: bool = typer.Option(
        False, "--interactive", "-i", help="Chat in a loop (the default when no mode is given)."
    ),
    once: str | None = typer.Option(
        None, "--once", metavar="QUESTION", help="Answer one question; print only the answer."
    ),
    demo: bool = typer.Option(
        False, "--demo", help="Teach a few invented facts; show answers before and after."
    ),
    network: Path | None = typer.Option(
        None, "--network", help="Pixel network PNG \\[env: HOLOMIND_NETWORK; HOME/network.png]."
    ),
    backend: str | None = BACKEND,
    url: str | None = URL,
    model: str | None = MODEL,
    also: list[Path] = ALSO,
    no_learn: bool = typer.Option(False, "--no-learn", help="Answer without remembering."),
    max_tokens: int = MAX_TOKENS,
    temperature: float = typer.Option(0.2, "--temperature", min=0.0, max=2.0),
    context: int | None = CONTEXT,
    timeout: float = typer.Option(
        120.0, "--timeout", min=0.1, help="Seconds to wait for a server."
    ),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="Threads for the embedded model \\[env: HOLOMIND_THREADS]."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="With --once: print the whole turn as JSON."
    ),
    micro_sleep: Path | None = typer.Option(
        None,
        "--micro-sleep",
        metavar="LIBRARY",
        help="While you are idle, consolidate the network into this cartridge library "
        "(`holomind sleep` in the background; a turn interrupts it, nothing is lost).",
    ),
) -> None:
    """Chat with a model that remembers every exchange in a pixel network."""
    if sum([interactive, once is not None, demo]) > 1:
        raise InvalidInputError(
            "--interactive, --once and --demo exclude each other", hint="choose one"
        )
    if once is not None and not once.strip():
        raise InvalidInputError("--once needs a question", hint='e.g. --once "What is pxOS?"')
    if as_json and once is None:
        raise InvalidInputError("--json goes with --once", hint='e.g. --once "Hi." --json')
    if demo and (network is not None or also):
        raise InvalidInputError(
            "--demo teaches invented facts to a network of its own, never to --network or --also",
            hint="leave out --network; to keep the facts, `holomind memory import` the "
            "demo's network (its path is shown) into yours",
        )
    require_networks(also)
    if micro_sleep is not None:
        _check_micro_sleep(micro_sleep, once is not None or demo or no_learn)
    s = settings(ctx, network=network, backend=backend, url=url, model=model, threads=threads)
    llm = open_chat_model(s, backend=backend, context=context, timeout=timeout)
    if demo:
        _demo(llm, max_tokens=min(max_tokens, 64), folder=s.home / "demos")
        return

    from holomind.bridge import PixelBridge

    if not no_learn:
        _check_writable(s.network_path)
    bridge = PixelBridge(
        s.network_path,
        llm,
        max_tokens=max_tokens,
        temperature=temperature,
        learn=not no_learn,
        also=also,
    )
    if once is None:
        import readline  # noqa: F401 -- gives input() line editing and history

        _chat_loop(bridge, micro_sleep, s.network_path)
        return
    if as_json:
        print_json(bridge.turn(once).to_dict())
        return
    written: list[str] = []

    def show(piece: str) -> None:
        written.append(piece)
        sys.stdout.write(piece)
        sys.stdout.flush()

    try:
        bridge.turn(once, on_text=show)
    finally:
        # End the answer's line even when remembering it failed after it was shown.
        if written:
            sys.stdout.write("\n")


def _check_writable(path: Path) -> None:
    """Refuse before the model runs, not after it answered, when the network cannot be written."""
    folder = path.expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInputError(
            f"cannot create folder {folder} for the network ({exc.strerror})",
            hint="pass --network with a writable path, or --no-learn",
        ) from None
    if not os.access(folder, os.W_OK):
        raise InvalidInputError(
            f"cannot write to {folder}", hint="pass --network with a writable path, or --no-learn"
        )


def _demo(llm: Backend, *, max_tokens: int, folder: Path) -> None:
    """Ask questions about invented facts, teach the facts, ask again; all answers live.

    The facts go to a new network of the demo's own under ``folder`` (kept, so it can
    be opened afterwards), never to the user's network.
    """
    from holomind.bridge import PixelBridge
    from holomind.bridge.facts import INVENTED_FACTS

    facts = INVENTED_FACTS[:DEMO_FACTS]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"demo-{stamp}.png"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"demo-{stamp}-{n}.png"
    bridge = PixelBridge(path, llm, max_tokens=max_tokens, temperature=0.0, learn=False)
    console.print(f"[bold]Demo[/]: teaching {len(facts)} invented facts to {path}\n")
    before_right = after_right = 0
    for taught_q, taught_a, asked, word in facts:
        with console.status("thinking..."):
            before = bridge.turn(asked)
        rows_before = bridge.rows
        bridge.append_interaction(taught_q, taught_a)
        with console.status("thinking..."):
            after = bridge.turn(asked)
        before_ok = word in before.answer.lower()
        after_ok = word in after.answer.lower()
        before_right += before_ok
        after_right += after_ok
        # Model text is escaped: an answer like "[memory #1]" is not rich markup.
        console.print(f"[bold]Q:[/] {escape(asked)}", highlight=False)
        console.print(f"  before: {_mark(before_ok)} {escape(before.answer)}", highlight=False)
        console.print(f"  taught: {escape(taught_a)}", highlight=False)
        console.print(
            f"  💾 Network expanded: {rows_before} → {bridge.rows} rows "
            f"(+{bridge.rows - rows_before})",
            highlight=False,
        )
        console.print(
            f"  after:  {_mark(after_ok)} {escape(after.answer)}  "
            f"[dim](memories quoted: {len(after.memories)}, recall took "
            f"{after.retrieval_s * 1000:.0f} ms)[/]\n",
            highlight=False,
        )
    n = len(facts)
    console.print(f"[bold]Right before teaching: {before_right}/{n}; after: {after_right}/{n}[/]")
    console.print(f"The demo's network: {path} (open it to see what it learned)")


def _mark(ok: bool) -> str:
    return "[green]✓[/]" if ok else "[red]✗[/]"


def _check_micro_sleep(library: Path, other_mode: bool) -> None:
    from holomind.cartridges import Library
    from holomind.errors import MissingFileError

    if other_mode:
        raise InvalidInputError(
            "--micro-sleep goes with the interactive chat that learns",
            hint="leave out --once, --demo and --no-learn",
        )
    if not Library.exists(library):
        raise MissingFileError(
            f"{library} is not a cartridge library",
            hint="make one with `holomind train DATA --library LIB`",
        )


def _chat_loop(bridge: PixelBridge, micro_sleep: Path | None, network: Path) -> None:
    """The interactive chat; with ``micro_sleep``, idle time consolidates into that library."""
    if micro_sleep is None:
        bridge.conversational_loop()
        return
    from holomind.sleep import MicroSleep

    micro = MicroSleep(network, micro_sleep).start()
    try:
        bridge.conversational_loop(input_fn=micro.wrap(input))
    finally:
        micro.close()
