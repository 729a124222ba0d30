"""`holomind chat`: one question, the REPL through a pseudo-terminal, the demo, errors."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from holomind.memory import PixelNetwork
from tests.llm.servers import SERVER_MODEL, free_port, llama_server


def test_once_answers_offline_and_prints_only_the_answer(holomind, holomind_home):
    r = holomind("chat", "--once", "What is 2+2?", "--max-tokens", "12", "--temperature", "0")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    [rec] = PixelNetwork(holomind_home / "network.png", embedder="none").records()
    assert r.stdout == rec.answer + "\n"
    assert "4" in rec.answer
    assert rec.model == "SmolLM2-135M-Instruct.Q4_1"


def test_once_through_a_real_server(holomind, holomind_home, tmp_path_factory):
    url = llama_server(tmp_path_factory.mktemp("llama")).url
    r = holomind("chat", "--once", "What is 2+2?", "--url", url, "--max-tokens", "12")
    assert r.returncode == 0, r.stderr
    [rec] = PixelNetwork(holomind_home / "network.png", embedder="none").records()
    assert r.stdout == rec.answer + "\n"
    assert rec.model == SERVER_MODEL  # the server's model answered, not the embedded one


def test_once_json_and_no_learn(holomind, holomind_home):
    r = holomind("chat", "--once", "Say hi.", "--json", "--no-learn", "--max-tokens", "6")
    assert r.returncode == 0, r.stderr
    turn = json.loads(r.stdout)
    assert turn["question"] == "Say hi."
    assert turn["record"] is None and turn["rows_before"] == turn["rows_after"] == 0
    assert turn["completion_tokens"] <= 6
    assert not (holomind_home / "network.png").exists()


def test_server_down_is_one_line_and_exit_2(holomind, holomind_home):
    url = f"http://127.0.0.1:{free_port()}/v1"
    r = holomind("chat", "--once", "hi", "--url", url, "--model", "m")
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.splitlines() == [
        f"error: no server at {url}: start LM Studio's server (or llama.cpp, vLLM, Ollama) "
        "there, or use the embedded model (--backend embedded)"
    ]
    assert not (holomind_home / "network.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--once", "hi", "--demo"], "error: --interactive, --once and --demo exclude each other"),
        (["--once", "  "], "error: --once needs a question"),
        (["--demo", "--json"], "error: --json goes with --once"),
        (["--backend", "embedded", "--url", "http://x/v1", "--once", "hi"], "error: --url has no"),
        (["--backend", "telepathy", "--once", "hi"], "error: unknown backend 'telepathy'"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(holomind, args, message):
    r = holomind("chat", *args)
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith(message)


def test_corrupt_network_is_refused_and_left_alone(holomind, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    r = holomind("chat", "--once", "hi", "--network", str(bad))
    assert r.returncode == 2
    assert len(r.stderr.splitlines()) == 1 and r.stderr.startswith("error: ")
    assert bad.read_bytes() == b"not a png at all"


def test_unwritable_network_is_refused_before_the_model_runs(holomind, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "file").write_text("x")
    r = holomind("chat", "--once", "hi", "--network", str(locked / "file" / "net.png"))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.startswith(f"error: cannot create folder {locked / 'file'} for the network")
    assert len(r.stderr.splitlines()) == 1


def test_interactive_repl_in_a_pseudo_terminal(holomind_home):
    env = {**os.environ, "HOLOMIND_HOME": str(holomind_home), "TERM": "dumb"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "holomind", "chat", "--interactive", "--max-tokens", "12"],
        env=env,
        encoding="utf-8",
        timeout=120,
    )
    growth = re.compile(r"Network expanded: (\d+) → (\d+) rows \(\+(\d+)\)")
    child.expect_exact("🧑 You: ")
    child.sendline("What is 2+2?")
    child.expect_exact("🤖 LLM: ")
    child.expect(growth)
    first = [int(x) for x in child.match.groups()]
    assert first[0] == 0 and first[1] == first[2] > 0
    child.expect_exact("🧑 You: ")
    child.sendline("And what is 3+3?")
    child.expect(growth)
    second = [int(x) for x in child.match.groups()]
    assert second[0] == first[1] and second[1] - second[0] == second[2] > 0
    child.expect_exact("🧑 You: ")
    child.sendline("exit")
    child.expect_exact("💡 Network has learned from 2 conversations!")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    network = PixelNetwork(holomind_home / "network.png", embedder="none")
    assert [r.question for r in network.records()] == ["What is 2+2?", "And what is 3+3?"]
    assert network.stats()["height"] == second[1]


def test_demo_teaches_and_compares_live_in_its_own_network(holomind, holomind_home, tmp_path):
    r = holomind("chat", "--demo", "--max-tokens", "24")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.count("before: ") == 3 and out.count("after:  ") == 3
    assert out.count("Network expanded: ") == 3
    before, after = map(
        int, re.search(r"Right before teaching: (\d)/3; after: (\d)/3", out).groups()
    )
    assert before < after
    assert not (holomind_home / "network.png").exists()  # the user's network is untouched
    [demo] = (holomind_home / "demos").glob("demo-*.png")
    assert f"The demo's network: {demo}" in " ".join(out.split())
    assert len(PixelNetwork(demo, embedder="none").records()) == 3
    # Asked to use the user's own network, the demo refuses rather than write invented facts.
    mine = tmp_path / "mine.png"
    PixelNetwork(mine, embedder="none").append("real question", "real answer")
    kept = mine.read_bytes()
    r = holomind("chat", "--demo", "--network", str(mine))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith("error: --demo teaches invented facts to a network of its own")
    assert mine.read_bytes() == kept


def test_help_lists_the_flags(holomind):
    r = holomind("chat", "--help")
    assert r.returncode == 0
    for flag in ("--interactive", "--once", "--demo", "--network", "--backend", "--url"):
        assert flag in r.stdout
    for flag in ("--model", "--no-learn"):
        assert flag in r.stdout


def test_network_flag_picks_the_file(holomind, tmp_path: Path):
    target = tmp_path / "mine" / "brain.png"
    r = holomind("chat", "--once", "Say hi.", "--network", str(target), "--max-tokens", "6")
    assert r.returncode == 0, r.stderr
    assert len(PixelNetwork(target, embedder="none").records()) == 1
