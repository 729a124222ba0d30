"""`holomind cartridges list|show|generate`: look inside a cartridge library and use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from holomind.cli.common import console, print_json, settings
from holomind.errors import InvalidInputError

app = typer.Typer(
    help="Inspect a cartridge library and generate text with it.", no_args_is_help=True
)

LIBRARY_HELP = "Cartridge library folder \\[default: HOME/cartridge_library]."


def _open(ctx: typer.Context, library: Path | None, threads: int | None = None) -> Any:
    import torch

    from holomind.cartridges import Library

    s = settings(ctx, library=library, threads=threads)
    torch.set_num_threads(s.threads)
    return Library.open(s.library_path)


def _parse_id(text: str) -> tuple[int | None, str | None]:
    """An integer id, or a 'domain_XXX/cart_YYYY' path."""
    if text.isdigit():
        return int(text), None
    return None, text.strip("/")


@app.command("list")
def list_(
    ctx: typer.Context,
    library: Path | None = typer.Option(None, "--library", help=LIBRARY_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object each."),
) -> None:
    """List the cartridges: id, folder, domain, maturity, frozen, parent, size."""
    lib = _open(ctx, library)
    try:
        metas = list(lib.iter_meta())
    finally:
        lib.close()
    if as_json:
        print_json([_summary(m) for m in metas])
        return
    table = Table(title=f"{len(metas)} cartridges in {lib.root}")
    for col in ("id", "path", "domain", "maturity", "frozen", "parent", "steps", "KB"):
        table.add_column(col)
    for m in metas:
        table.add_row(
            str(m["id"]),
            m["path"],
            m["name"],
            f"{m['maturity']:.2f}",
            "yes" if m["frozen"] else "no",
            "-" if m["parent"] is None else str(m["parent"]),
            str(m["steps"]),
            f"{m['size_bytes'] / 1024:.0f}",
        )
    console.print(table)


def _summary(meta: dict) -> dict:
    keys = ("id", "path", "name", "domain", "maturity", "frozen", "parent", "lineage", "steps")
    return {k: meta[k] for k in (*keys, "strength", "size_bytes")}


@app.command()
def show(
    ctx: typer.Context,
    cartridge: str = typer.Argument(..., help="Id (e.g. 3) or folder (domain_000/cart_0001)."),
    library: Path | None = typer.Option(None, "--library", help=LIBRARY_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the meta as JSON."),
) -> None:
    """Show one cartridge's meta.json, size and Hebbian strength."""
    lib = _open(ctx, library)
    try:
        cart_id, path = _parse_id(cartridge)
        if cart_id is None:
            ids = [i for i in range(len(lib)) if str(lib.path_of(i).relative_to(lib.root)) == path]
            if not ids:
                raise InvalidInputError(
                    f"no cartridge folder {path} in {lib.root}",
                    hint="see `holomind cartridges list`",
                )
            cart_id = ids[0]
        meta = lib.meta(cart_id)
    finally:
        lib.close()
    if as_json:
        print_json(meta)
        return
    table = Table(title=f"cartridge {cart_id}", show_header=False)
    for key, value in meta.items():
        table.add_row(key, str(value))
    console.print(table)


@app.command()
def generate(
    ctx: typer.Context,
    prompt: str = typer.Argument(..., help="Text to continue."),
    library: Path | None = typer.Option(None, "--library", help=LIBRARY_HELP),
    seed: int = typer.Option(0, "--seed", help="Sampling seed: the same seed, the same text."),
    max_tokens: int = typer.Option(200, "--max-tokens", help="Bytes to generate."),
    temperature: float = typer.Option(0.8, "--temperature", help="Sampling temperature (> 0)."),
    top_k: int = typer.Option(40, "--top-k", help="Sample among the k likeliest bytes."),
    threads: int | None = typer.Option(None, "--threads", help="Torch CPU threads."),
) -> None:
    """Continue PROMPT with the library's cartridges (routed by the prompt)."""
    from holomind.cartridges import CartridgeModel

    lib = _open(ctx, library, threads)
    try:
        text = CartridgeModel(lib).generate(
            prompt, max_tokens, temperature=temperature, top_k=top_k, seed=seed
        )
    finally:
        lib.close()
    typer.echo(prompt + text)
