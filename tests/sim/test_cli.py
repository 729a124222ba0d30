"""`holomind sim` as a user runs it: the summary, the log, signals, resume, bad input."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.llm.servers import free_port


def sim_env(home: Path) -> dict[str, str]:
    return {**os.environ, "HOLOMIND_HOME": str(home)}


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "holomind", "sim", *args],
        capture_output=True,
        text=True,
        env=sim_env(home),
        timeout=600,
    )


def query(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.slow
def test_two_seconds_make_a_summary_a_sound_log_and_a_plot(sim_home: Path, tmp_path: Path) -> None:
    db, png = tmp_path / "sim.db", tmp_path / "run.png"
    proc = cli(
        sim_home, "--duration", "2", "--no-llm", "--db", str(db), "--json", "--plot", str(png)
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["network"] == "seed" and summary["neurons"] == 1000
    assert summary["bio_seconds"] == 2.0 and summary["stopped_by"] == "duration"
    spikes = query(db, "SELECT COUNT(*) FROM spikes")[0][0]
    sampled = query(db, "SELECT COUNT(*) FROM neural_activity")[0][0]
    assert summary["spikes"] == spikes > 0
    assert summary["mean_rate_hz"] == pytest.approx(spikes / 1000 / 2.0, abs=1e-4)
    assert sampled == 10 * 2000  # v of 10 neurons, every ms for 2 s
    assert summary["db_rows"] == sum(summary["db_tables"].values()) == spikes + sampled + 20
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    assert summary["soup"]["epoch"] > 0
    assert "sim seed: t " in proc.stderr  # the progress line
    assert subprocess.run(["pngcheck", "-q", str(png)]).returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "group"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGINT", "Ctrl-C"],  # Ctrl-C: the terminal signals the whole process group
)
def test_a_signal_stops_the_run_with_a_complete_log(
    sig: signal.Signals, group: bool, sim_home: Path, tmp_path: Path
) -> None:
    db = tmp_path / "sim.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "holomind",
            "sim",
            "--duration",
            "600",
            "--no-llm",
            "--db",
            str(db),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=sim_env(sim_home),
        start_new_session=group,
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until the simulation is under way
        if line.startswith("sim seed: t ") and float(line.split()[3].split("/")[0]) >= 0.3:
            break
    sent = time.monotonic()
    if group:
        os.killpg(proc.pid, sig)  # the activity log's writer process gets it too
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == 0, err
    summary = json.loads(out)
    assert summary["stopped_by"] == "signal"
    assert summary["stop_s"] is not None and summary["threads_left"] == []
    t = summary["t_s"]
    assert 0.3 <= t < 600
    # Everything simulated is in the log, up to the stored state, with no gap.
    chunks = query(db, "SELECT t_start, t_end FROM chunks ORDER BY t_start")
    assert chunks[0][0] == 0.0 and chunks[-1][1] == pytest.approx(t)
    assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(chunks))
    assert query(db, "SELECT time FROM checkpoint") == [(pytest.approx(t),)]
    assert query(db, "SELECT COUNT(*) FROM spikes")[0][0] == summary["spikes"]
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    print(f"{sig.name}: threads ended {summary['stop_s']} s, process {took:.2f} s after it")


@pytest.mark.slow
def test_resume_continues_the_stored_run(sim_home: Path, tmp_path: Path) -> None:
    db = tmp_path / "sim.db"
    first = cli(
        sim_home,
        "--duration",
        "0.5",
        "--no-llm",
        "--db",
        str(db),
        "--json",
        "--network",
        "coba",
        "--neurons",
        "400",
    )
    assert first.returncode == 0, first.stderr
    second = cli(
        sim_home,
        "--duration",
        "0.3",
        "--no-llm",
        "--db",
        str(db),
        "--json",
        "--resume",
        "--codegen",
        "numpy",
    )
    assert second.returncode == 0, second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert (b["network"], b["neurons"]) == ("coba", 400)
    assert b["resumed_from_s"] == pytest.approx(0.5) and b["t_s"] == pytest.approx(0.8)
    assert query(db, "SELECT COUNT(*) FROM spikes")[0][0] == a["spikes"] + b["spikes"]
    assert query(db, "SELECT MAX(t_end) FROM chunks") == [(pytest.approx(0.8),)]
    clash = cli(
        sim_home, "--duration", "0.1", "--no-llm", "--db", str(db), "--resume", "--network", "seed"
    )
    assert clash.returncode == 2
    assert "--network seed differs from the stored run's coba" in clash.stderr


def test_bad_input_is_one_line_and_exit_2(holomind_home: Path, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 64)
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"x")
    port = free_port()
    cases = [
        (["--resume", "--db", str(garbage)], "is not a HoloMind activity log"),
        (["--resume", "--db", str(tmp_path / "none.db")], "no activity log at"),
        (["--no-llm", "--db", str(existing)], "already holds a run"),
        (["--band", "fast"], "--band takes LOW:HIGH"),
        (["--band", "15:5", "--no-llm"], "the target band must be low < high"),
        (["--duration", "0"], "--duration must be positive"),
        (["--url", f"http://127.0.0.1:{port}/v1", "--db", str(tmp_path / "a.db")], "no server at"),
    ]
    for args, message in cases:
        proc = cli(holomind_home, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert garbage.read_bytes() == b"not a database" * 64
    assert existing.read_bytes() == b"x"
    assert not (tmp_path / "a.db").exists()


@pytest.mark.slow
def test_agents_modulate_learn_and_are_paid_in_the_ledger(sim_home: Path, tmp_path: Path) -> None:
    # 50 chunks of 20 ms: the RL agent acts after each of the first 49, so one 40-step
    # episode ends, and the first episode's return is the agent's first best, paid for.
    db = tmp_path / "sim.db"
    proc = cli(
        sim_home,
        *("--duration", "1", "--chunk-ms", "20", "--no-llm", "--no-soup", "--agents"),
        *("--db", str(db), "--json"),
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    rl = summary["agents"]["rl"]
    assert summary["agents"]["llm"] is None  # --no-llm: no model, so no LLM agents
    assert (rl["agent"], rl["steps"], rl["episodes"], rl["resumed"]) == ("rl-agent", 49, 1, False)
    [paid] = rl["rewards"]
    assert (paid["account"], paid["rule"]) == ("rl-agent", "agent.best_return")
    assert summary["agents"]["ledger"]["balances"] == {"rl-agent": paid["amount"]}
    assert paid["amount"] > 0
    # Every step is a modulation of the network and a row of the agents' book.
    assert query(db, "SELECT source, COUNT(*) FROM modulations GROUP BY source") == [
        ("rl-agent", 49)
    ]
    assert query(
        sim_home / "agents.db", "SELECT agent, kind, COUNT(*) FROM agent_interactions"
    ) == [("rl-agent", "step", 49)]
    assert (sim_home / "agents" / "rl-agent.safetensors").is_file()
    # The reward is a signed ledger entry that verifies.
    verify = subprocess.run(
        [sys.executable, "-m", "holomind", "ledger", "verify", "--json"],
        capture_output=True,
        text=True,
        env=sim_env(sim_home),
        timeout=60,
    )
    assert verify.returncode == 0, verify.stderr
    report = json.loads(verify.stdout)
    assert (report["ok"], report["supply"]) == (True, paid["amount"])
