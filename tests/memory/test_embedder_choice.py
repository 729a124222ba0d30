"""Which model a network searches with, when its stored vectors came from another one."""

from __future__ import annotations

from pathlib import Path

import pytest

from holomind.embed import E5Embedder, MiniLMEmbedder, load_embedder
from holomind.memory import NetworkOrchestrator, PixelNetwork
from tests.memory.embedders import CountingEmbedder

FACTS = [
    ("What is the capital of France?", "Paris."),
    ("How do plants make food?", "By photosynthesis, using sunlight."),
    ("How much protein per day?", "About 0.8 g per kg of body weight."),
]


@pytest.fixture
def e5_network(tmp_path: Path) -> Path:
    net = PixelNetwork(tmp_path / "e5.png", embedder="e5")
    net.append_many(FACTS)
    return net.path


def test_auto_keeps_a_network_on_the_model_its_vectors_came_from(e5_network: Path) -> None:
    net = PixelNetwork(e5_network, embedder="auto")
    hits = net.search("which city is France's capital", k=1)
    assert (hits[0].record.answer, hits[0].via) == ("Paris.", "semantic")
    assert net.embedder is load_embedder("e5")
    net.append("What is the boiling point of water?", "100 °C at sea level.")
    assert net.records()[-1].answer == "100 °C at sea level."
    # The new record's stored vector is e5's too, so the network stays one model's.
    assert PixelNetwork(e5_network, embedder="none").stored_models() == {E5Embedder.name: 4}


def test_a_new_network_gets_the_default(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "new.png", embedder="auto")
    net.append_many(FACTS)
    assert isinstance(net.embedder, MiniLMEmbedder)
    hits = PixelNetwork(net.path).search("green leaves turning light into sugar", k=1)
    assert (hits[0].record.question, hits[0].via) == ("How do plants make food?", "semantic")


def test_naming_another_model_re_embeds_in_memory_only(e5_network: Path) -> None:
    before = e5_network.read_bytes()
    minilm = CountingEmbedder("minilm")
    net = PixelNetwork(e5_network, embedder=minilm)
    hits = net.search("which city is France's capital", k=1)
    assert (hits[0].record.answer, hits[0].via) == ("Paris.", "semantic")
    # No stored e5 vector was compared with MiniLM's: all three were embedded by MiniLM,
    # once (a second search embeds nothing), in memory: the file is untouched.
    assert minilm.passages == 3
    net.search("how do plants feed", k=1)
    assert minilm.passages == 3
    assert net.stored_models() == {E5Embedder.name: 3}
    assert e5_network.read_bytes() == before
    assert PixelNetwork(e5_network, embedder="auto").embedder is load_embedder(E5Embedder.name)


def test_import_re_embeds_another_models_vectors(e5_network: Path, tmp_path: Path) -> None:
    minilm = CountingEmbedder("minilm")
    fresh = PixelNetwork(tmp_path / "fresh.png", embedder=minilm)
    assert len(fresh.import_from(e5_network)) == 3
    assert minilm.passages == 3
    reread = PixelNetwork(fresh.path, embedder="none")
    assert reread.stored_models() == {MiniLMEmbedder.name: 3}
    # The same model's vectors are copied as they are: nothing is embedded, and every
    # search scores exactly as it does on the source.
    e5 = CountingEmbedder("e5")
    same = PixelNetwork(tmp_path / "same.png", embedder=e5)
    same.import_from(e5_network)
    assert e5.passages == 0
    assert PixelNetwork(same.path, embedder="none").stored_models() == {E5Embedder.name: 3}
    source = PixelNetwork(e5_network, embedder="e5")
    copied = PixelNetwork(same.path, embedder="e5")
    for query in ("capital of France", "photosynthesis", "protein"):
        mine = [(h.record.question, h.score) for h in copied.search(query, k=3)]
        assert mine == [(h.record.question, h.score) for h in source.search(query, k=3)]


def test_orchestrator_routes_with_one_model_for_all_networks(
    e5_network: Path, tmp_path: Path
) -> None:
    cooking = PixelNetwork(tmp_path / "cooking.png", embedder="minilm")
    cooking.append_many([("How long to boil an egg?", "Nine minutes for hard-boiled.")])
    orch = NetworkOrchestrator([e5_network, cooking.path])
    # Most stored vectors are e5's, so both networks search with e5 and scores compare.
    assert [net.embedder for net in orch.networks] == [load_embedder("e5")] * 2
    assert orch.networks[1].stored_models() == {MiniLMEmbedder.name: 1}
    routes = orch.route("boiling eggs", top=2)
    assert routes[0].network.path == cooking.path
    assert orch.route("capital city of France", top=1)[0].network.path == e5_network
