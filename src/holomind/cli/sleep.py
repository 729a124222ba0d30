"""`holomind sleep NETWORK --library LIB`: consolidate a pixel network into a cartridge library."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer

from holomind.cli.common import local_workspace, print_json, settings


def sleep(
    ctx: typer.Context,
    network: Path = typer.Argument(..., help="The pixel network PNG whose records to replay."),
    library: Path | None = typer.Option(
        None, "--library", help="Cartridge library folder \\[default: HOME/cartridge_library]."
    ),
    steps: int | None = typer.Option(
        None, "--steps", min=1, help="Steps [20 a new record, 2 a rehearsed one; 100..2000]."
    ),
    lr: float | None = typer.Option(None, "--lr", help="Cartridge learning rate [1e-2]."),
    rehearse: int = typer.Option(
        256, "--rehearse", min=0, help="Earlier records replayed once each (most recent first)."
    ),
    domain: str = typer.Option("memory", "--domain", help="Cartridge domain of the memories."),
    log_every: int | None = typer.Option(None, "--log-every", help="Steps between lines [50]."),
    checkpoint_every: int | None = typer.Option(
        None, "--checkpoint-every", help="Steps between saves; 0 = the end only [500]."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed [0]."),
    threads: int | None = typer.Option(None, "--threads", help="Torch CPU threads [1]."),
    quiet: bool = typer.Option(False, "--quiet", help="Print only the final report."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Replay NETWORK's new records into a library's cartridges (Ctrl-C saves; rerun continues)."""
    import torch

    from holomind.sleep import sleep as run_sleep

    s = settings(ctx, library=library)
    values: dict[str, Any] = {"threads": threads or s.threads}
    for name, value in (
        ("lr", lr),
        ("log_every", log_every),
        ("checkpoint_every", checkpoint_every),
        ("seed", seed),
    ):
        if value is not None:
            values[name] = value
    torch.set_num_threads(values["threads"])
    write = None if quiet or as_json else typer.echo
    workspace = local_workspace()
    try:
        result = run_sleep(
            network,
            s.library_path,
            steps=steps,
            settings=values,
            rehearse=rehearse,
            domain=domain,
            write=write,
            workspace=workspace,
        )
    finally:
        if workspace is not None:
            workspace.close()
    if as_json:
        print_json(result.to_dict())
    elif result.nothing_new:
        typer.echo(
            f"Nothing new: records 1–{result.upto} of {network} are already consolidated "
            f"in {s.library_path}"
        )
    else:
        _report(result, network, s.library_path)
    if result.stopped_early:
        raise typer.Exit(130)


def _report(result: Any, network: Path, library: Path) -> None:
    r = result.report
    what = f"{result.new} new records ×4, {result.rehearsed} rehearsed ×1"
    if result.resumed:
        typer.echo(f"Continued an interrupted sleep ({what})")
    else:
        typer.echo(f"Replayed {what}")
    for name, after in result.val_after.items():
        before = result.val_before.get(name, math.nan)
        typer.echo(f"  {name}: replay held-out loss {before:.4f} → {after:.4f} nats/byte")
    if r.get("memory_samples"):
        from holomind.learning.report import format_report

        typer.echo(format_report(r))
    if result.stopped_early:
        typer.echo(
            f"Stopped at step {result.step} of {result.steps}; saved. "
            f"Continue with: holomind sleep {network} --library {library}"
        )
    else:
        typer.echo(f"Done: records 1–{result.upto} consolidated into {library}")
