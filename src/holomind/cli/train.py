"""`holomind train DATA_DIR`: train a library's stem (once) and its cartridges on text files.

Each run on an existing library is a new experience: the stem stays frozen, new
domains get new cartridges, and only the cartridges owning the data learn.
``--resume`` continues an interrupted run exactly where its last commit left it.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import typer

from holomind.cli.common import local_workspace, print_json, settings
from holomind.errors import ConfigError, MissingFileError


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise MissingFileError(f"config file {path} does not exist", hint="check the path")
    try:
        if path.suffix == ".toml":
            return tomllib.loads(path.read_text())
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"config file {path} is not valid {path.suffix.lstrip('.') or 'JSON'} ({exc})",
            hint="use a JSON or .toml file of TrainConfig fields",
        ) from None


def train(
    ctx: typer.Context,
    data_dir: Path = typer.Argument(..., help="Folder of *.txt files; sub-folders name domains."),
    library: Path | None = typer.Option(
        None, "--library", help="Cartridge library folder \\[default: HOME/cartridge_library]."
    ),
    steps: int | None = typer.Option(None, "--steps", help="Cartridge training steps [1000]."),
    stem_steps: int | None = typer.Option(
        None, "--stem-steps", help="Stem training steps, only for a new library [2000]."
    ),
    config_file: Path | None = typer.Option(
        None, "--config", help="JSON or TOML file of settings (flags override it)."
    ),
    dim: int | None = typer.Option(None, "--dim", help="Model width [256]."),
    stem_depth: int | None = typer.Option(None, "--stem-depth", help="Stem blocks [4]."),
    n_head: int | None = typer.Option(None, "--heads", help="Attention heads [4]."),
    adapter_rank: int | None = typer.Option(None, "--rank", help="LoRA rank [16]."),
    targets: str | None = typer.Option(
        None,
        "--targets",
        help="Comma-separated Linears each adapted block's LoRA adapts, of attn.c_attn, "
        "attn.c_proj, mlp.c_fc, mlp.c_proj [mlp.c_fc,mlp.c_proj].",
    ),
    adapted_layers: int | None = typer.Option(
        None, "--adapted", help="Top stem blocks that carry cartridge adapters [1]."
    ),
    active_k: int | None = typer.Option(None, "--active-k", help="Active cartridges [4]."),
    slots: int | None = typer.Option(None, "--slots", help="Workspace winners per position [2]."),
    batch: int | None = typer.Option(None, "--batch", help="Windows per step [32]."),
    seq_len: int | None = typer.Option(None, "--seq-len", help="Bytes per window [64]."),
    lr: float | None = typer.Option(None, "--lr", help="Cartridge learning rate [1e-2]."),
    stem_lr: float | None = typer.Option(None, "--stem-lr", help="Stem learning rate [1e-3]."),
    spawn_threshold: float | None = typer.Option(
        None, "--spawn-threshold", help="Cosine below which a document spawns a cartridge [0.5]."
    ),
    cache_size: int | None = typer.Option(None, "--cache-size", help="Cartridges in memory [64]."),
    log_every: int | None = typer.Option(None, "--log-every", help="Steps between lines [50]."),
    checkpoint_every: int | None = typer.Option(
        None, "--checkpoint-every", help="Steps between saves; 0 = stage ends only [500]."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed [0]."),
    preset: str | None = typer.Option(
        None,
        "--preset",
        help="Phases and parts: holomind (our measured defaults) or pragnosia (seed 004's "
        "table, intrinsic objectives and freezing) \\[holomind].",
    ),
    intrinsic: bool | None = typer.Option(
        None, "--intrinsic/--no-intrinsic", help="Intrinsic objectives on/off \\[the preset's]."
    ),
    freezing: bool | None = typer.Option(
        None, "--freezing/--no-freezing", help="Freezing of mature cartridges \\[the preset's]."
    ),
    device: str | None = typer.Option(None, "--device", help="cpu, cuda or auto \\[cpu]."),
    threads: int | None = typer.Option(None, "--threads", help="Torch CPU threads [1]."),
    log_dir: Path | None = typer.Option(
        None, "--log-dir", help="TensorBoard folder \\[default: LIBRARY/logs]."
    ),
    domain: str | None = typer.Option(
        None, "--domain", help="Domain of every file (default: each file's sub-folder)."
    ),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the library's interrupted run exactly (same data)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run's summary as JSON."),
) -> None:
    """Train a cartridge library on DATA_DIR; Ctrl-C saves and stops, --resume continues."""
    import torch

    from holomind.learning import (
        Corpus,
        ProgressLine,
        RunReport,
        TensorBoardLogger,
        TrainConfig,
        Trainer,
        WorkspacePublisher,
        format_report,
        resolve_config,
        standard_plugins,
    )

    s = settings(ctx, library=library)
    values = _read_config(config_file) if config_file else {}
    if targets is not None:
        targets = tuple(t.strip() for t in targets.split(",") if t.strip())
    flags = {k: v for k, v in locals().items() if k in TrainConfig.__dataclass_fields__}
    values.update({k: v for k, v in flags.items() if v is not None})
    if not resume:
        values.setdefault("threads", s.threads)
    root = s.library_path
    config = resolve_config(root, values, resume=resume)
    torch.set_num_threads(config.threads)
    corpus = Corpus.from_folder(data_dir, config.seq_len, config.val_fraction, domain=domain)
    write = (lambda line: None) if as_json else typer.echo
    report = RunReport()
    plugins = [
        *standard_plugins(config),
        report,
        ProgressLine(config.log_every, write),
        TensorBoardLogger(log_dir or root / "logs", config.log_every),
    ]
    workspace = local_workspace()
    if workspace is not None:
        plugins.append(WorkspacePublisher(workspace, config.log_every))
    write(
        f"{'Resuming' if resume else 'Training'} on {len(corpus.documents)} files "
        f"({corpus.num_tokens():,} bytes) into {root} on {config.device}"
    )
    trainer = Trainer(config, corpus, root, plugins, resume=resume)
    try:
        state = trainer.fit()
    finally:
        if workspace is not None:
            workspace.close()
    summary = trainer.summary()
    ran = bool(report.phases)  # the cartridge stage ran: the seed's report applies
    if as_json:
        print_json({**summary, "report": report.result() if ran else None})
    else:
        if ran:
            write(format_report(report.result()))
        for name, after in state.val_after.items():
            before = state.val_before.get(name, float("nan"))
            write(f"  {name or 'all'}: validation loss {before:.4f} → {after:.4f} nats/byte")
        if state.stopped_early:
            write(
                f"Stopped by Ctrl-C at step {state.step} [{state.phase}]; saved. "
                f"Continue with: holomind train {data_dir} --library {root} --resume"
            )
        else:
            write(f"Done: {len(trainer.library or [])} cartridges in {root}")
    if state.stopped_early:
        raise typer.Exit(130)
