"""`holomind sim`: the spiking network, a soup and the LLM modulator as threads on one workspace."""

from __future__ import annotations

import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from holomind.cli.common import err_console, open_chat_model, print_json, settings
from holomind.errors import InvalidInputError


class NetworkName(StrEnum):
    """The networks `holomind.neuro` ships."""

    seed = "seed"
    coba = "coba"
    cuba = "cuba"


class Target(StrEnum):
    """How Brian2 runs the equations."""

    cython = "cython"
    numpy = "numpy"


def sim(
    ctx: typer.Context,
    duration: float = typer.Option(
        10.0, "--duration", help="Seconds of simulated (biological) time to run."
    ),
    network: NetworkName | None = typer.Option(
        None, "--network", help="seed (seed 002's STDP network), coba or cuba \\[default: seed]."
    ),
    neurons: int | None = typer.Option(
        None, "--neurons", help="Network size; inputs per neuron stay as in the standard size."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed \\[default: 0]."),
    no_llm: bool = typer.Option(False, "--no-llm", help="Run without the LLM modulator."),
    no_soup: bool = typer.Option(False, "--no-soup", help="Run without the primordial soup."),
    db: Path | None = typer.Option(
        None, "--db", help="Activity log (SQLite) \\[default: HOME/sim.db]."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the run stored in --db."),
    as_json: bool = typer.Option(False, "--json", help="Print only a JSON summary on stdout."),
    chunk_ms: float = typer.Option(
        100.0, "--chunk-ms", help="Simulated ms per chunk; modulation acts between chunks."
    ),
    band: str = typer.Option(
        "5:15", "--band", metavar="LOW:HIGH", help="Target firing-rate band for the modulator, Hz."
    ),
    llm_interval: float = typer.Option(
        5.0, "--llm-interval", help="Least seconds between two modulator calls."
    ),
    llm_context: bool = typer.Option(
        False,
        "--llm-context",
        help="Also show the modulator the voltage, neuron rates and soup figures.",
    ),
    sample: str | None = typer.Option(
        None,
        "--sample",
        metavar="VARS",
        help="State variables to log, comma-separated, or 'all' \\[default: v].",
    ),
    sample_neurons: int | None = typer.Option(
        None, "--sample-neurons", help="Log variables of the first N neurons \\[default: 10]."
    ),
    sample_every: float | None = typer.Option(
        None, "--sample-every", help="Sampling period, ms \\[default: 1.0]."
    ),
    soup_programs: int = typer.Option(4096, "--soup-programs", help="Programs in the soup."),
    plot: Path | None = typer.Option(
        None, "--plot", help="Save a PNG: spike raster and rate curve of this run."
    ),
    codegen: Target = typer.Option(
        Target.cython, "--codegen", help="Brian2 code target (numpy needs no C compiler; slower)."
    ),
    backend: str | None = typer.Option(
        None,
        "--backend",
        help="Modulator LLM: embedded | openai | ollama \\[env: HOLOMIND_BACKEND].",
    ),
    url: str | None = typer.Option(
        None, "--url", help="LLM server URL, e.g. http://localhost:1234/v1 \\[env: HOLOMIND_URL]."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Model on the server, or a .gguf file for embedded."
    ),
    context: int | None = typer.Option(
        None, "--context", min=256, help="The model's context window in tokens."
    ),
    timeout: float = typer.Option(
        120.0, "--timeout", min=0.1, help="Seconds to wait for a server."
    ),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="Threads for the embedded model and the soup."
    ),
    agents: bool = typer.Option(
        False,
        "--agents",
        help="Run the agents: the RL agent modulates after every chunk (learning, resumed from "
        "HOME/agents) in the LLM modulator's place, and LLM agents spawn on novelty; rewards "
        "go to HOME/ledger.",
    ),
) -> None:
    """Run the spiking network, a soup and an LLM modulator on one global workspace."""
    from holomind.neuro.log import ActivityLog, read_meta
    from holomind.neuro.runner import Sampling
    from holomind.sim.signals import stop_on_signals
    from holomind.sim.simulation import SimConfig, Simulation

    s = settings(ctx, backend=backend, url=url, model=model, threads=threads)
    if not duration > 0:
        raise InvalidInputError(f"--duration must be positive, got {duration}")
    path = db if db is not None else s.home / "sim.db"
    defaults = Sampling()
    variables = defaults.variables
    if sample == "all":
        variables = None
    elif sample:
        variables = tuple(v.strip() for v in sample.split(",") if v.strip())
    sampling = Sampling(
        variables=variables,
        neurons=defaults.neurons if sample_neurons is None else sample_neurons,
        every_ms=defaults.every_ms if sample_every is None else sample_every,
    )
    config = SimConfig(
        network=(network or NetworkName.seed).value,
        neurons=neurons,
        seed=0 if seed is None else seed,
        sampling=sampling,
        chunk_ms=chunk_ms,
        soup=not no_soup,
        soup_programs=soup_programs,
        band_hz=parse_band(band),
        llm_interval_s=llm_interval,
        llm_context=llm_context,
        target=codegen.value,
    )
    if not resume:
        ActivityLog.check_new(path)
    else:
        _check_resume_flags(
            read_meta(path).get("run", {}),
            {
                "--network": network and network.value,
                "--neurons": neurons,
                "--seed": seed,
                "--sample": sample,
                "--sample-neurons": sample_neurons,
                "--sample-every": sample_every,
            },
        )
    llm = None
    if not no_llm:
        llm = open_chat_model(s, backend=backend, context=context, timeout=timeout)
        _ = llm.model  # a server that is down or has no model is refused now, not mid-run
    if not no_soup:
        import numba

        numba.set_num_threads(min(s.threads, numba.config.NUMBA_NUM_THREADS))
    requested = threading.Event()
    running: list[Simulation] = []

    def on_stop(signum: int) -> None:
        requested.set()
        for one in running:
            one.stop("signal")

    with stop_on_signals(on_stop):
        cache = s.home / "brian2"
        if not as_json:
            err_console.print(f"building the {config.network} network (compiled code in {cache})")
        # With agents the RL agent is the network's controller and the model serves the LLM
        # agents: two controllers writing `modulation` every chunk would only fight.
        modulator = None if agents else llm
        if resume:
            simulation = Simulation.resume(path, config, backend=modulator, cache_dir=cache)
        else:
            simulation = Simulation(config, db=path, backend=modulator, cache_dir=cache)
        running.append(simulation)
        team = None
        if agents:
            from holomind.agents.live import AgentPaths, SimAgents

            try:
                team = SimAgents(simulation, AgentPaths.under(s.home), backend=llm)
            except BaseException:
                simulation.close()
                raise
        recorder = None
        if plot is not None:
            from holomind.sim.plot import Recorder

            recorder = Recorder(simulation.workspace, config.band_hz if llm else None)
        try:
            if requested.is_set():
                simulation.stopped_by = "signal"
            else:
                line = _ProgressLine(simulation.network.net.spec.name)
                simulation.run(duration, on_progress=line.show, progress_s=line.every)
                line.end()
            if recorder is not None and plot is not None:
                recorder.close()
                recorder.save_png(plot)
        finally:
            try:
                if team is not None:
                    team.close()
            finally:
                simulation.close()
                if llm is not None:
                    llm.close()
    summary = simulation.summary()
    if team is not None:
        summary["agents"] = team.summary()
    if as_json:
        print_json(summary)
        return
    err_console.print(
        f"simulated {summary['bio_seconds']:.2f} s of {summary['network']} "
        f"({summary['neurons']} neurons): {summary['spikes']:,} spikes, "
        f"{summary['mean_rate_hz']:.2f} Hz mean; {summary['db_rows']:,} rows in {path}"
        + (f"; plot in {plot}" if plot is not None else ""),
        highlight=False,
    )
    if team is not None:
        rl, llm_agents = summary["agents"]["rl"], summary["agents"]["llm"]
        spoke = (
            ""
            if llm_agents is None
            else (
                f"; LLM agents: {llm_agents['spawned']} spawned, {llm_agents['messages']} messages"
            )
        )
        err_console.print(
            f"agents: {rl['agent']} finished {rl['session_episodes']} episodes (best return "
            f"{rl['best_return']}), {len(rl['rewards'])} rewards paid{spoke}; book "
            f"{summary['agents']['db']}, ledger {summary['agents']['ledger']['path']}",
            highlight=False,
        )


def parse_band(text: str) -> tuple[float, float]:
    """LOW:HIGH in Hz as a pair; one clear line if it is not that."""
    try:
        low, high = (float(x) for x in text.split(":"))
    except ValueError:
        raise InvalidInputError(
            f"--band takes LOW:HIGH in Hz, got {text!r}", hint="e.g. 5:15"
        ) from None
    return low, high


def _check_resume_flags(stored: dict[str, Any], given: dict[str, Any]) -> None:
    sampling = stored.get("sampling", {})
    values = {
        "--network": stored.get("network"),
        "--neurons": stored.get("neurons"),
        "--seed": stored.get("seed"),
        "--sample": ",".join(sampling["variables"]) if sampling.get("variables") else "all",
        "--sample-neurons": sampling.get("neurons"),
        "--sample-every": sampling.get("every_ms"),
    }
    for flag, value in given.items():
        if value is not None and value != values[flag]:
            raise InvalidInputError(
                f"{flag} {value} differs from the stored run's {values[flag]}",
                hint="leave it out when resuming",
            )


class _ProgressLine:
    """One line on stderr: where the run is, how fast, and when it will end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tty = sys.stderr.isatty()
        self.every = 0.5 if self.tty else 2.0

    def show(self, p: dict[str, Any]) -> None:
        rate = "–" if p["rate_hz"] is None else f"{p['rate_hz']:.1f} Hz"
        volt = "" if p["mean_v_mv"] is None else f" | V {p['mean_v_mv']:.1f} mV"
        speed = "" if not p["speed"] else f" | {p['speed']:.2f}× real time"
        eta = "" if p["eta_s"] is None else f" | ETA {p['eta_s']:.0f} s"
        soup = ""
        if p["avg_entropy"] is not None:
            soup = f" | soup H {p['avg_entropy']:.2f} D {p['diversity_index'] or 0:.2f}"
        mod = p["modulation"]
        said = ""
        if isinstance(mod, dict) and mod.get("action"):
            said = f" | last modulation: {mod['action']} ({mod.get('source', '?')})"
        text = (
            f"sim {self.name}: t {p['t_s']:.2f}/{p['end_s']:.2f} s | {rate}{volt}"
            f" | drive {p['drive_pa']:+.0f} pA{speed}{eta}{soup}{said}"
        )
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + text)
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def end(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()
