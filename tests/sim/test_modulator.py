"""The LLM modulator with real backends: the embedded model, llama.cpp's server, a plain server."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from holomind.errors import InvalidInputError
from holomind.llm import open_backend
from holomind.neuro.log import ActivityLog
from holomind.sim.modulation import ACTIONS
from holomind.sim.modulator import Modulator, situation_from
from holomind.workspace import GlobalWorkspace
from tests.llm.servers import JSONHandler, llama_server, serve

SITUATION = {
    "rate_hz": 2.5,
    "mean_v_mv": -61.0,
    "drive_pa": 0.0,
    "t_s": 1.5,
    "activations": [0.0, 10.0, 0.0],
    "avg_entropy": 1.25,
    "diversity_index": 0.5,
}


@pytest.fixture
def ws() -> Iterator[GlobalWorkspace]:
    with GlobalWorkspace() as bus:
        yield bus


def decisions(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT time, prompt, response, action, parsed_by FROM decisions"
        ).fetchall()
    finally:
        conn.close()


def test_the_embedded_model_decides_under_its_grammar(ws: GlobalWorkspace, tmp_path: Path) -> None:
    log = ActivityLog.create(tmp_path / "run.db", {})
    mod = Modulator(open_backend("embedded"), ws, log=log, interval_s=60, method="generate")
    decision = mod.decide(SITUATION)
    log.close()
    assert decision is not None and decision.parsed_by == "schema"
    assert json.loads(decision.text) == {"action": decision.action}  # held to the schema
    assert not mod.ready()  # rate-limited for the next 60 s
    published = ws.read("modulation")
    assert published["action"] == decision.action in ACTIONS
    assert published["source"] == "llm" and published["parsed_by"] == "schema"
    assert published["t_s"] == 1.5 and published["rate_hz"] == 2.5
    [(t, prompt, response, action, parsed_by)] = decisions(tmp_path / "run.db")
    assert (t, response, action, parsed_by) == (1.5, decision.text, decision.action, "schema")
    assert json.loads(prompt) == decision.messages
    assert "Firing rate: 2.5 Hz." in decision.messages[-1]["content"]


@pytest.mark.parametrize(
    ("rate_hz", "action", "said"),
    [
        (2.5, "increase", "Yes (-"),  # too low: a problem, the input should be increased
        (9.0, "maintain", "No (-"),  # within the band: no problem
        (40.0, "decrease", "Yes (-"),  # too high: a problem, the input should be decreased
    ],
)
def test_the_embedded_model_decides_by_scoring_its_answers(
    ws: GlobalWorkspace, tmp_path: Path, rate_hz: float, action: str, said: str
) -> None:
    log = ActivityLog.create(tmp_path / "run.db", {})
    mod = Modulator(open_backend("embedded"), ws, log=log)
    assert mod.method == "score"  # "auto" scores where it can: the embedded model
    decision = mod.decide({**SITUATION, "rate_hz": rate_hz})
    log.close()
    assert decision is not None and (decision.action, decision.parsed_by) == (action, "scores")
    assert decision.text.startswith(said)
    assert ("Its input should be" in decision.text) == (action != "maintain")
    assert ws.read("modulation")["action"] == action
    assert (mod.decisions, mod.agreed) == (1, 1)
    [(_, prompt, response, logged, parsed_by)] = decisions(tmp_path / "run.db")
    assert (response, logged, parsed_by) == (decision.text, action, "scores")
    assert json.loads(prompt) == decision.messages
    assert decision.messages[1]["content"].endswith("Is that a problem?")


def test_an_unknown_method_is_refused(ws: GlobalWorkspace) -> None:
    with pytest.raises(InvalidInputError, match="unknown modulator method 'guess'"):
        Modulator(
            open_backend("openai", url="http://127.0.0.1:9/v1", model="m"), ws, method="guess"
        )
    server = open_backend("openai", url="http://127.0.0.1:9/v1", model="m")
    assert Modulator(server, ws).method == "generate"  # a server's answers cannot be scored


def test_nothing_to_decide_before_the_first_chunk(ws: GlobalWorkspace) -> None:
    assert situation_from(ws) is None
    ws.write("neuro/state", {"rate_hz": 7.0, "mean_v_mv": -58.0, "drive_pa": 50.0, "t_s": 0.2})
    ws.write("neural_activations", list(range(20)))
    ws.write("avg_entropy", 2.0)
    situation = situation_from(ws)
    assert situation is not None
    assert situation["activations"] == list(range(10))  # the seed's first ten
    assert situation["avg_entropy"] == 2.0 and situation["diversity_index"] is None


@pytest.mark.slow
def test_a_server_answers_with_structured_output(
    ws: GlobalWorkspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = llama_server(tmp_path_factory.mktemp("llama")).url
    backend = open_backend("openai", url=url)
    decision = Modulator(backend, ws).decide(SITUATION)
    backend.close()
    assert decision is not None and decision.parsed_by == "schema"
    assert decision.action in ACTIONS


class PlainServer(JSONHandler):
    """An OpenAI-style server that refuses structured output and answers in words."""

    def do_GET(self) -> None:
        self.send_json(200, {"object": "list", "data": [{"id": "plain", "object": "model"}]})

    def do_POST(self) -> None:
        body = self.read_json()
        if "response_format" in body:
            self.send_json(400, {"error": {"message": "response_format is not supported"}})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ("We should ", "increase activity", "."):
            chunk = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "plain",
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


def test_without_structured_output_the_seeds_keywords_decide(ws: GlobalWorkspace) -> None:
    with serve(PlainServer) as url:
        backend = open_backend("openai", url=f"{url}/v1")
        mod = Modulator(backend, ws, interval_s=0)
        first = mod.decide(SITUATION)
        second = mod.decide(SITUATION)
        backend.close()
    assert first is not None and second is not None
    assert (first.action, first.parsed_by) == ("increase", "keywords")
    assert first.text == "We should increase activity."
    assert not mod.structured  # each shape of structured output refused once, then no more
    assert (second.action, second.parsed_by) == ("increase", "keywords")


def test_a_stopping_simulation_abandons_the_answer(ws: GlobalWorkspace) -> None:
    stop = threading.Event()
    stop.set()
    decision = Modulator(open_backend("embedded"), ws).decide(SITUATION, stop=stop)
    assert decision is not None and (decision.action, decision.parsed_by) == (None, "stopped")
    assert ws.read("modulation") is None


def test_a_server_that_is_down_is_logged_not_fatal(ws: GlobalWorkspace) -> None:
    from tests.llm.servers import free_port

    backend = open_backend("openai", url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    decision = Modulator(backend, ws).decide(SITUATION)
    assert decision is not None and decision.parsed_by == "error"
    assert decision.error is not None and "no server at" in decision.error
    assert ws.read("modulation") is None
