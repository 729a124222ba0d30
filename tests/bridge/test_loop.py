"""The learning loop on the real embedded model and a real pixel network."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from holomind.bridge import LMStudioPixelBridge, PixelBridge
from holomind.errors import ContextOverflowError
from holomind.llm import open_backend
from holomind.llm.embedded import EmbeddedBackend
from holomind.memory import PixelNetwork
from holomind.workspace import GlobalWorkspace
from tests.llm.servers import free_port


@pytest.fixture(scope="module")
def backend() -> EmbeddedBackend:
    return EmbeddedBackend(threads=1)


@pytest.fixture
def bridge(tmp_path: Path, backend: EmbeddedBackend) -> PixelBridge:
    return PixelBridge(tmp_path / "net.png", backend, max_tokens=12, temperature=0.0)


def test_ask_answers_then_remembers(bridge, backend):
    assert bridge.rows == 0
    answer = bridge.ask("What is 2+2?")
    assert "4" in answer
    [rec] = bridge.network.records()
    assert (rec.question, rec.answer, rec.model) == ("What is 2+2?", answer, backend.model)
    assert bridge.rows == bridge.network.stats()["height"] > 0


def test_turn_reports_growth_and_timing(bridge):
    bridge.append_interaction("What is pxOS?", "pxOS is a GPU-native OS made of pixels.")
    before = bridge.network.stats()["height"]
    turn = bridge.turn("Tell me about pxOS.")
    after = bridge.network.stats()["height"]
    assert (turn.rows_before, turn.rows_after) == (before, after)
    assert after > before
    assert turn.record is not None and turn.record.id == 2
    assert [m.id for m in turn.memories] == [1]
    assert turn.messages[1]["content"].endswith("\n\nQuestion: Tell me about pxOS.")
    assert "> A: pxOS is a GPU-native OS made of pixels." in turn.messages[1]["content"]
    assert turn.retrieval_s > 0 and turn.generation_s > 0
    assert 0 < turn.completion_tokens <= 12


def test_no_learn_leaves_the_file_untouched(bridge):
    bridge.append_interaction("What is pxOS?", "A GPU-native OS.")
    data = bridge.network.path.read_bytes()
    turn = bridge.turn("What is pxOS?", learn=False)
    assert turn.record is None and turn.rows_after == turn.rows_before
    assert bridge.network.path.read_bytes() == data


def test_a_taught_fact_is_recalled(bridge):
    bridge.append_interaction(
        "What is the capital of Zorbania?", "The capital of Zorbania is Quelltown."
    )
    without = PixelBridge(
        bridge.network.path.with_name("empty.png"), bridge.backend, max_tokens=16, temperature=0
    ).turn("Which city is Zorbania's capital?", learn=False)
    bridge.max_tokens = 16
    turn = bridge.turn("Which city is Zorbania's capital?", learn=False)
    assert "quelltown" not in without.answer.lower()
    assert "quelltown" in turn.answer.lower()
    assert turn.memories[0].question == "What is the capital of Zorbania?"


def test_also_recalls_across_networks_and_quotes_a_shared_record_once(tmp_path, backend):
    cooking = PixelNetwork(tmp_path / "cooking.png", embedder="none")
    cooking.append("How long to boil an egg?", "Seven minutes.")
    code = PixelNetwork(tmp_path / "code.png", embedder="none")
    code.append("How to reverse a list?", "Use [::-1].")
    code.import_from(cooking.path)  # the egg record is in both networks now
    bridge = PixelBridge(cooking, backend, max_tokens=8, also=[code.path])
    prompt = bridge.prompt("boil an egg or reverse a list")
    assert sorted(r.question for r in prompt.memories) == [
        "How long to boil an egg?",
        "How to reverse a list?",
    ]
    assert prompt.messages[1]["content"].count("> Q: How long to boil an egg?") == 1


def test_prompt_is_budgeted_to_a_small_window(tmp_path):
    small = EmbeddedBackend(threads=1, context_window=256)
    bridge = PixelBridge(tmp_path / "n.png", small, max_tokens=8, temperature=0.0, embedder="none")
    bridge.network.append_many([(f"Fact {i}?", "word " * 40) for i in range(12)])
    prompt = bridge.prompt("Fact 3?")
    assert 0 < len(prompt.memories) < 8
    assert prompt.tokens + 8 <= 256
    turn = bridge.turn("Fact 3?", learn=False)
    assert turn.completion_tokens is not None


def test_a_question_too_long_for_the_window_is_one_clear_error(tmp_path):
    small = EmbeddedBackend(threads=1, context_window=256)
    bridge = PixelBridge(tmp_path / "n.png", small, max_tokens=8)
    with pytest.raises(ContextOverflowError, match="the window is 256"):
        bridge.turn("why " * 400)
    assert not (tmp_path / "n.png").exists()


def test_workspace_receives_the_turn(tmp_path, backend):
    with GlobalWorkspace() as ws:
        bridge = PixelBridge(
            tmp_path / "n.png", backend, max_tokens=8, temperature=0.0, workspace=ws
        )
        turn = bridge.turn("Say hi.")
        ws.flush()
        assert ws.read("bridge/turn") == turn.to_dict()
        assert ws.read("memory/appended")["id"] == 1


def test_export_and_import_knowledge(bridge, backend, tmp_path):
    bridge.append_interaction("What is pxOS?", "A GPU-native OS.")
    bridge.append_interaction("Who made it?", "The pxOS team.")
    assert bridge.export_knowledge(tmp_path / "expert.png") == 2
    other = PixelBridge(tmp_path / "other.png", backend)
    added = other.import_knowledge(tmp_path / "expert.png")
    assert [r.question for r in added] == ["What is pxOS?", "Who made it?"]
    assert other.import_knowledge(tmp_path / "expert.png") == []


def test_conversational_loop_streams_and_shows_growth(bridge):
    questions = iter(["What is 2+2?", "   ", "exit"])
    out = io.StringIO()
    learned = bridge.conversational_loop(input_fn=lambda prompt: next(questions), out=out)
    [rec] = bridge.network.records()
    text = out.getvalue()
    rows = bridge.rows
    assert learned == 1
    assert f"🤖 LLM: {rec.answer}\n" in text
    assert f"   ✅ Network expanded: 0 → {rows} rows (+{rows})\n" in text
    assert text.endswith("💡 Network has learned from 1 conversation!\n")


def test_conversational_loop_survives_a_server_that_is_down(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    bridge = PixelBridge(tmp_path / "n.png", open_backend("openai", url=url, model="m"))
    questions = iter(["hello", "exit"])
    out = io.StringIO()
    assert bridge.conversational_loop(input_fn=lambda prompt: next(questions), out=out) == 0
    assert f"error: no server at {url}: start LM Studio's server" in out.getvalue()
    assert not (tmp_path / "n.png").exists()


def test_loop_ends_on_end_of_input(bridge):
    def no_more(prompt: str) -> str:
        raise EOFError

    assert bridge.conversational_loop(input_fn=no_more, out=io.StringIO()) == 0


def test_the_seed_example_runs(tmp_path, backend):
    bridge = LMStudioPixelBridge(network_path=str(tmp_path / "my_network.png"), backend=backend)
    bridge.max_tokens = 8
    answer = bridge.ask_lm_studio("What is machine learning?")
    assert answer and len(bridge.network) == 0  # the seed appends by itself, next line
    bridge.append_interaction("What is machine learning?", answer)
    [rec] = PixelNetwork(tmp_path / "my_network.png").records()
    assert (rec.answer, rec.model) == (answer, None)  # taught by hand, no model wrote it


def test_teaching_needs_no_server(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    bridge = PixelBridge(tmp_path / "n.png", open_backend("openai", url=url))
    rec = bridge.append_interaction("What is pxOS?", "A GPU-native OS.", source="manual")
    assert (rec.id, rec.model, rec.meta) == (1, None, {"source": "manual"})
