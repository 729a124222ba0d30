"""`holomind soup`: run the primordial soup (cubff-exact BFF) or the seed's GA variant."""

from __future__ import annotations

import json
import time
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import typer

from holomind.cli.common import console, err_console, print_json, settings
from holomind.errors import InvalidInputError


class Mode(StrEnum):
    """Which experiment runs."""

    bff = "bff"
    ga = "ga"


class Lang(StrEnum):
    """The BFF dialects cubff defines."""

    bff_noheads = "bff_noheads"
    bff = "bff"


def soup(
    ctx: typer.Context,
    mode: Mode = typer.Option(
        Mode.bff, "--mode", help="bff: the cubff soup; ga: the seed's selection loop."
    ),
    lang: Lang | None = typer.Option(
        None, "--lang", help="BFF dialect \\[default: bff_noheads, or the checkpoint's]."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed \\[default: 0]."),
    epochs: int | None = typer.Option(
        None,
        "--epochs",
        help="Run epochs 0..N (N+1 epochs, as cubff's --max_epochs N) \\[default: 16000; ga: 100].",
    ),
    num: int | None = typer.Option(
        None, "--num", help="Programs in the soup \\[default: 131072; ga: 1000]."
    ),
    log: Path | None = typer.Option(
        None, "--log", help="Write the cubff-format CSV log here (appended to on --resume)."
    ),
    threads: int | None = typer.Option(
        None, "--threads", help="Kernel threads \\[default: HOLOMIND_THREADS, 1]."
    ),
    print_interval: int = typer.Option(64, "--print-interval", help="Epochs between log rows."),
    checkpoint_dir: Path | None = typer.Option(
        None, "--checkpoint-dir", help="Save soup.ckpt here at the end and every --save-interval."
    ),
    save_interval: int = typer.Option(
        1024,
        "--save-interval",
        help="Epochs between checkpoints (with --checkpoint-dir; taken at the next log row).",
    ),
    resume: Path | None = typer.Option(
        None, "--resume", help="Continue from a checkpoint (a --checkpoint-dir or its soup.ckpt)."
    ),
    eval_selfrep: bool = typer.Option(
        False, "--eval-selfrep", help="Count replicators at every row (cubff's --eval_selfrep)."
    ),
    until_transition: bool = typer.Option(
        False, "--until-transition", help="Stop at the first row with high-order entropy > 3.0."
    ),
    mutation_prob: float | None = typer.Option(
        None,
        "--mutation-prob",
        help="Per-byte mutation probability per interaction "
        "\\[default: 1/4096, or the checkpoint's].",
    ),
    png: Path | None = typer.Option(
        None, "--png", help="Save a picture of the final soup (a row per program)."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="Save the high-order entropy curve (all rows of --log if given)."
    ),
    top: int = typer.Option(5, "--top", help="Most common programs to show at the end."),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON summary."),
) -> None:
    """Run the primordial soup: BFF programs meet in pairs, mutate, and may learn to copy."""
    cfg = settings(ctx, threads=threads)
    if mode is Mode.ga:
        _run_ga(seed, epochs, num, log, as_json)
        return
    import numba

    from holomind.evolution import bff
    from holomind.evolution.metrics import TRANSITION_ENTROPY, most_common, render_program
    from holomind.evolution.render import save_soup_png
    from holomind.evolution.soup import CHECKPOINT_NAME, CSV_HEADER, Soup, SoupConfig

    if print_interval < 1 or save_interval < 1 or top < 0:
        raise InvalidInputError("--print-interval and --save-interval must be >= 1, --top >= 0")
    if mutation_prob is not None and not 0.0 <= mutation_prob <= 1.0:
        raise InvalidInputError(f"--mutation-prob must be in [0, 1], got {mutation_prob}")
    if cfg.threads > numba.config.NUMBA_NUM_THREADS:
        raise InvalidInputError(
            f"--threads {cfg.threads} exceeds numba's pool of {numba.config.NUMBA_NUM_THREADS}",
            hint="raise NUMBA_NUM_THREADS or ask for fewer threads",
        )
    numba.set_num_threads(cfg.threads)
    max_epoch = 16000 if epochs is None else epochs
    if max_epoch < 0:
        raise InvalidInputError(f"--epochs must be >= 0, got {max_epoch}")

    scale = bff.MUTATION_DENOMINATOR  # probabilities are kept in units of 2**-30
    if resume is not None:
        state = Soup.load(resume)
        saved = state.config
        given = {  # flag: (this run's value or None, the checkpoint's)
            "--lang": (lang and lang.value, saved.lang),
            "--seed": (seed, saved.seed),
            "--num": (num, saved.num_programs),
            "--mutation-prob": (
                None if mutation_prob is None else round(mutation_prob * scale) / scale,
                saved.mutation_prob / scale,
            ),
        }
        for flag, (value, stored) in given.items():
            if value is not None and value != stored:
                raise InvalidInputError(
                    f"{flag} {value} differs from the checkpoint's {stored}",
                    hint="leave it out when resuming",
                )
    else:
        state = Soup.new(
            SoupConfig(
                lang=(lang or Lang.bff_noheads).value,
                seed=0 if seed is None else seed,
                num_programs=(1 << 17) if num is None else num,
                mutation_prob=bff.MUTATION_PROB
                if mutation_prob is None
                else round(mutation_prob * scale),
            )
        )
    header = CSV_HEADER + (",number_selfreps" if eval_selfrep else "")
    log_file = _open_log(log, header, append=resume is not None)
    ckpt = checkpoint_dir / CHECKPOINT_NAME if checkpoint_dir is not None else None
    # Checkpoints go with log rows, so a resume appends to the log where the checkpoint
    # stands: the first row at or after each multiple of --save-interval takes one.
    next_save = -(-state.epoch // save_interval) * save_interval
    stop = (lambda r: r.higher_entropy > TRANSITION_ENTROPY) if until_transition else None
    start_epoch, start_ops, started = state.epoch, state.total_ops, time.perf_counter()
    interrupted = False
    try:
        with _progress(as_json) as progress:
            task = progress.add_task(
                "soup", total=max(max_epoch + 1 - start_epoch, 0), entropy=float("nan"), mops=0.0
            )

            def advance(s: Soup) -> None:
                elapsed = time.perf_counter() - started
                progress.update(task, advance=1, mops=(s.total_ops - start_ops) / elapsed / 1e6)

            rows = state.run(
                max_epoch,
                print_interval=print_interval,
                eval_selfrep=eval_selfrep,
                stop=stop,
                on_epoch=advance,
            )
            for row in rows:
                progress.update(task, entropy=row.higher_entropy)
                if log_file is not None:
                    log_file.write(row.csv() + "\n")
                    log_file.flush()
                if not as_json:
                    console.print(_row_text(row), highlight=False, soft_wrap=True)
                if ckpt is not None and row.epoch - 1 >= next_save:
                    state.save(ckpt)
                    next_save = ((row.epoch - 1) // save_interval + 1) * save_interval
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if log_file is not None:
            log_file.close()
    if ckpt is not None:
        state.save(ckpt)
    if png is not None:
        save_soup_png(state.programs, png)
    if plot is not None:
        _save_plot(plot, log, state)
    elapsed = time.perf_counter() - started
    ran = state.epoch - start_epoch
    summary: dict[str, Any] = {
        "lang": state.config.lang,
        "seed": state.config.seed,
        "epochs_run": ran,
        "next_epoch": state.epoch,
        "seconds": round(elapsed, 3),
        "epochs_per_s": round(ran / elapsed, 3) if elapsed > 0 else None,
        "total_ops": state.total_ops,
        "last_row": state.history[-1].__dict__ if state.history else None,
        "transition_epoch": state.transition_epoch,
        "most_common": [
            {"program": render_program(p), "hex": p.hex(), "count": c}
            for p, c in most_common(state.programs, top)
        ],
        "checkpoint": str(ckpt) if ckpt else None,
        "png": str(png) if png else None,
        "plot": str(plot) if plot else None,
        "interrupted": interrupted,
    }
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary)
    if interrupted:
        raise typer.Exit(130)


def _open_log(path: Path | None, header: str, append: bool) -> IO[str] | None:
    if path is None:
        return None
    if path.is_dir():
        raise InvalidInputError(f"--log {path} is a directory", hint="name a file")
    if append and path.exists() and path.stat().st_size > 0:
        with path.open() as f:
            first = f.readline().strip()
        if first != header:
            raise InvalidInputError(
                f"--log {path} has header {first!r}, this run writes {header!r}",
                hint="use a new log file or the same --eval-selfrep setting as before",
            )
        return path.open("a")
    path.parent.mkdir(parents=True, exist_ok=True)
    f = path.open("w")
    f.write(header + "\n")
    f.flush()
    return f


def _save_plot(path: Path, log: Path | None, state: Any) -> None:
    from holomind.evolution.metrics import TRANSITION_ENTROPY
    from holomind.evolution.render import save_curve_png

    if log is not None and log.is_file():
        with log.open() as f:
            rows = [line.split(",") for line in f.read().splitlines()[1:] if line]
        points = [(int(r[0]), float(r[3])) for r in rows]
    else:
        points = [(r.epoch, r.higher_entropy) for r in state.history]
    if not points:
        raise InvalidInputError("--plot has no rows to draw", hint="run at least one epoch")
    cfg = state.config
    save_curve_png(
        [p[0] for p in points],
        [p[1] for p in points],
        path,
        f"high-order entropy (bits/byte): {cfg.lang}, seed {cfg.seed}, {cfg.num_programs} programs",
        threshold=TRANSITION_ENTROPY,
    )


def _progress(quiet: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]soup[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("H={task.fields[entropy]:.3f}"),
        TextColumn("{task.fields[mops]:.1f} Mops/s"),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    )


def _row_text(row: Any) -> str:
    extra = f" replicators={row.replicators}" if row.replicators is not None else ""
    return (
        f"epoch {row.epoch:>7}  brotli {row.brotli_size:>9}  H0 {row.h0:.4f}  "
        f"higher {row.higher_entropy:.6f}  ops/interaction {row.ops_per_interaction:.2f}  "
        f"diversity {row.diversity:.4f}{extra}"
    )


def _print_summary(s: dict[str, Any]) -> None:
    console.print(
        f"ran {s['epochs_run']} epochs in {s['seconds']} s ({s['epochs_per_s']} epochs/s); "
        f"next epoch {s['next_epoch']}",
        highlight=False,
    )
    if s["transition_epoch"] is not None:
        console.print(
            f"state transition (high-order entropy > 3.0) at epoch {s['transition_epoch']}"
        )
    else:
        console.print("no state transition yet (high-order entropy has stayed <= 3.0)")
    for item in s["most_common"]:
        console.print(f"{item['count']:>7} x {item['program']}", highlight=False, markup=False)
    for key in ("checkpoint", "png", "plot"):
        if s[key]:
            console.print(f"{key}: {s[key]}", highlight=False)
    if s["interrupted"]:
        console.print("interrupted: the checkpoint (if any) holds the soup as it stood")


def _run_ga(
    seed: int | None, epochs: int | None, num: int | None, log: Path | None, as_json: bool
) -> None:
    from holomind.evolution.ga import CSV_HEADER, GAConfig, evolve

    config = GAConfig(population=1000 if num is None else num, seed=0 if seed is None else seed)
    generations = 100 if epochs is None else epochs
    if generations < 1:
        raise InvalidInputError(f"--epochs must be >= 1 in ga mode, got {generations}")
    log_file = _open_log(log, CSV_HEADER, append=False)
    rows = []
    try:
        for row in evolve(config, generations):
            rows.append(row)
            if log_file is not None:
                log_file.write(row.csv() + "\n")
                log_file.flush()
            if not as_json:
                console.print(
                    f"generation {row.generation:>4}  max {row.max_fitness:.4f}  "
                    f"avg {row.avg_fitness:.4f}  diversity {row.diversity:.3f}",
                    highlight=False,
                )
    finally:
        if log_file is not None:
            log_file.close()
    last = rows[-1]
    summary = {
        "generations": len(rows),
        **{k: v for k, v in last.__dict__.items() if k != "generation"},
    }
    if as_json:
        print_json(summary)
    else:
        console.print(f"best: {json.dumps(last.best)}", highlight=False, markup=False)
