"""`holomind agents`: train the RL agent, list the agents, show what one of them did."""

from __future__ import annotations

import datetime as dt
import sys
import threading
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from holomind.cli.common import console, err_console, print_json, settings, shorten

app = typer.Typer(
    help="Agents on the simulation: the RL agent (seed 002's policy, PPO) and the LLM agents "
    "spawned by novelty.",
    no_args_is_help=True,
)

DB = typer.Option(
    None,
    "--db",
    help="The agents' book (SQLite) \\[default: HOLOMIND_HOME/agents.db].",
    show_default=False,
)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


@app.command("train")
def train(
    ctx: typer.Context,
    steps: int = typer.Option(4000, "--steps", min=1, help="Environment steps (network chunks)."),
    checkpoint: Path | None = typer.Option(
        None,
        "--checkpoint",
        help="The agent's checkpoint; training resumes from it if it exists "
        "\\[default: HOLOMIND_HOME/agents/rl-agent.safetensors].",
        show_default=False,
    ),
    neurons: int = typer.Option(200, "--neurons", min=2, help="Neurons in the training network."),
    chunk_ms: float = typer.Option(25.0, "--chunk-ms", help="Simulated ms per step."),
    band: str = typer.Option("5:15", "--band", metavar="LOW:HIGH", help="Target band, Hz."),
    episode_steps: int = typer.Option(40, "--episode-steps", min=1, help="Steps per episode."),
    seed: int = typer.Option(0, "--seed", help="Seeds the weights and the episodes."),
    db: Path | None = DB,
    ledger: Path | None = typer.Option(
        None,
        "--ledger",
        help="Where rewards are paid \\[default: HOLOMIND_HOME/ledger].",
        show_default=False,
    ),
    no_ledger: bool = typer.Option(False, "--no-ledger", help="Pay no rewards."),
    as_json: bool = JSON,
) -> None:
    """Train the RL agent with PPO on the spiking network (each step one real chunk)."""
    from holomind.agents import (
        AgentManager,
        AgentPaths,
        AgentStore,
        EnvConfig,
        ModulationEnv,
        PPOConfig,
    )
    from holomind.cli.sim import parse_band

    s = settings(ctx)
    paths = AgentPaths.under(s.home)
    config = EnvConfig(
        neurons=neurons, chunk_ms=chunk_ms, band_hz=parse_band(band), episode_steps=episode_steps
    )
    book = ledger_of(paths.ledger if ledger is None else ledger, no_ledger)
    stop = threading.Event()
    try:
        with AgentStore(db or paths.db) as store:
            manager = AgentManager(
                checkpoint or paths.checkpoint, store, ledger=book, config=PPOConfig(seed=seed)
            )
            if manager.resumed and not as_json:
                err_console.print(
                    f"resuming {manager.name} from {manager.checkpoint} "
                    f"({manager.steps:,} steps, {manager.episodes} episodes)",
                    highlight=False,
                )
            env = ModulationEnv(config, cache_dir=s.home / "brian2")
            line = _Progress(quiet=as_json)
            try:
                summary = manager.train(env, steps, seed=seed, on_progress=line.show, stop=stop)
            except KeyboardInterrupt:
                stop.set()
                manager.save()
                summary = manager.summary()
            finally:
                line.end()
                env.close()
    finally:
        if book is not None:
            book.close()
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['agent']}: {summary['steps']:,} steps, {summary['episodes']} episodes, best "
        f"return {summary['best_return']}, mean of the last 10 {summary['mean_return_last_10']}; "
        f"{len(summary['rewards'])} rewards paid; checkpoint {escape(summary['checkpoint'])}",
        highlight=False,
        soft_wrap=True,
    )


def ledger_of(path: Path, off: bool) -> Any:
    """The ledger at `path` (created if missing), or None when rewards are off."""
    if off:
        return None
    from holomind.ledger import Ledger

    return Ledger.open(path, create=True)


@app.command("list")
def list_agents(ctx: typer.Context, db: Path | None = DB, as_json: bool = JSON) -> None:
    """Every agent: kind, role, alive or retired, how much it did, its balance."""
    from holomind.agents import AgentPaths, AgentStore

    paths = AgentPaths.under(settings(ctx).home)
    with AgentStore(db or paths.db, create=False) as store:
        agents = store.agents()
    balances = _balances(paths.ledger)
    rows = [{**a.to_dict(), "balance": balances.get(a.name)} for a in agents]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no agents yet: run `holomind agents train` or `holomind sim --agents`")
        return
    table = Table("name", "kind", "role", "spawned", "status", "rows", "balance", "why")
    for r in rows:
        status = "alive" if r["retired"] is None else f"retired: {r['retired_why']}"
        table.add_row(
            escape(r["name"]),
            r["kind"],
            escape(shorten(r["role"], 28)),
            _when(r["spawned"]),
            escape(shorten(status, 28)),
            f"{r['interactions']:,}",
            "–" if r["balance"] is None else f"{r['balance']} HMC",
            escape(shorten(r["reason"], 40)),
        )
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The agent (see `holomind agents list`)."),
    last: int = typer.Option(10, "--last", min=1, max=10_000, help="Its last N rows."),
    db: Path | None = DB,
    as_json: bool = JSON,
) -> None:
    """One agent and its last rows: RL steps, or LLM messages with prompt and answer."""
    from holomind.agents import AgentPaths, AgentStore

    paths = AgentPaths.under(settings(ctx).home)
    with AgentStore(db or paths.db, create=False) as store:
        agent = store.agent(name)
        rows = store.interactions(name, last=last)
    balance = _balances(paths.ledger).get(name)
    if as_json:
        print_json({**agent.to_dict(), "balance": balance, "rows": [r.to_dict() for r in rows]})
        return
    status = "alive"
    if agent.retired is not None:
        status = f"retired {_when(agent.retired)} ({agent.retired_why})"
    console.print(
        f"[bold]{escape(agent.name)}[/] ({agent.kind}: {escape(agent.role)}), spawned "
        f"{_when(agent.spawned)} because {escape(agent.reason)}; {status}; "
        f"{agent.interactions:,} rows" + ("" if balance is None else f"; balance {balance} HMC"),
        soft_wrap=True,
        highlight=False,
    )
    from holomind.sim import ACTIONS

    for r in rows:
        action = "" if r.action is None else f" action={ACTIONS[r.action]}"
        if r.kind == "step":
            console.print(
                f"#{r.id} {_when(r.time)} episode {r.episode}{action} reward {r.reward}",
                highlight=False,
            )
        else:
            console.print(
                f"#{r.id} {_when(r.time)} {r.kind}{action}: {escape(r.llm_response or '')}",
                highlight=False,
                soft_wrap=True,
            )


def _balances(path: Path) -> dict[str, int]:
    """Balances by account in the ledger at `path` (empty if there is no ledger there)."""
    from holomind.ledger import Ledger

    if not (path / "entries.jsonl").is_file():
        return {}
    with Ledger.open(path) as ledger:
        return {a.name: a.balance for a in ledger.accounts()}


def _when(t: float | None) -> str:
    if t is None:
        return "–"
    return dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


class _Progress:
    """One line on stderr: steps, episodes, returns, ETA."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.shown = False

    def show(self, p: dict[str, Any]) -> None:
        if self.quiet:
            return
        text = (
            f"train: step {p['steps']:,}/{p['target']:,} | episode {p['episodes']} | return "
            f"{p['episode_return']} (mean of 10: {p['mean_return_10']}, best {p['best_return']})"
            f" | updates {p['updates']} | ETA {p['eta_s']:.0f} s"
        )
        sys.stderr.write(("\r\x1b[2K" if self.tty else "") + text + ("" if self.tty else "\n"))
        sys.stderr.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown and self.tty:
            sys.stderr.write("\n")
