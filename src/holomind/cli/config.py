"""`holomind config`: show the settings in force and where they came from."""

from __future__ import annotations

import dataclasses

import typer
from rich.table import Table

from holomind.cli.common import console, print_json, settings


def config(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
) -> None:
    """Show the settings in force (defaults < HOLOMIND_* variables < flags)."""
    s = settings(ctx)
    data = {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}
    data["network_path"] = s.network_path
    data["library_path"] = s.library_path
    if as_json:
        print_json(data)
        return
    table = Table(title="HoloMind settings", show_header=True)
    table.add_column("setting")
    table.add_column("value")
    for name, value in data.items():
        table.add_row(name, str(value))
    console.print(table)
