"""Which records a sleep replays, how often, and as what text."""

from __future__ import annotations

from pathlib import Path

from holomind.memory import PixelNetwork
from holomind.sleep.replay import (
    NEW_COPIES,
    ReplayPlan,
    plan_replay,
    recall_prompt,
    record_text,
    replay_text,
)


def _network(tmp_path: Path, n: int) -> PixelNetwork:
    net = PixelNetwork(tmp_path / "net.png", embedder="none")
    net.append_many([(f"Question {i}?", f"Answer {i}.") for i in range(1, n + 1)])
    return net


def test_plan_new_rehearsed_and_superseded(tmp_path: Path) -> None:
    net = _network(tmp_path, 6)
    first = plan_replay(net, 0)
    assert (first.after, first.upto, first.new, first.rehearsed) == (0, 6, (1, 2, 3, 4, 5, 6), ())
    net.supersede(2, "Answer 2, corrected.")  # record 7 replaces record 2
    net.append("Question 8?", "Answer 8.")
    second = plan_replay(net, 6, rehearse=3)
    # new: the correction and the new record; rehearsed: the 3 most recent current older ones
    assert (second.upto, second.new, second.rehearsed) == (8, (7, 8), (4, 5, 6))
    assert plan_replay(net, 6).rehearsed == (1, 3, 4, 5, 6)  # never the superseded #2
    assert plan_replay(net, 8).new == ()
    assert ReplayPlan.from_dict(second.to_dict()) == second


def test_record_text_and_recall_prompt(tmp_path: Path) -> None:
    net = PixelNetwork(tmp_path / "net.png", embedder="none")
    rec = net.append("  What is\nthe  capital?", "It is\n\nVorl.")
    assert record_text(rec) == "Q: What is the capital?\nA: It is Vorl.\n\n"
    assert recall_prompt("  What is\nthe  capital?") == "Q: What is the capital?\nA:"


def test_replay_text_repeats_new_records_and_is_reproducible(tmp_path: Path) -> None:
    net = _network(tmp_path, 6)
    plan = ReplayPlan(after=4, upto=6, new=(5, 6), rehearsed=(1, 3), seed=0)
    text = replay_text(net, plan, min_bytes=0)
    counts = {i: text.count(f"Q: Question {i}?\nA: Answer {i}.\n\n") for i in range(1, 7)}
    assert counts == {1: 1, 2: 0, 3: 1, 4: 0, 5: NEW_COPIES, 6: NEW_COPIES}
    assert replay_text(net, plan, min_bytes=0) == text  # the same plan, the same text
    padded = replay_text(net, plan, min_bytes=2000)
    assert len(padded) >= 2000 and padded.startswith(text)
