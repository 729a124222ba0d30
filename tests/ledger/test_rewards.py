"""The reward rules: what each pays, what it must be told, and what it refuses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from holomind.errors import InvalidInputError
from holomind.ledger import RULES, Ledger

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ledger.md"


def files(led: Ledger) -> bytes:
    return (led.path / "entries.jsonl").read_bytes()


def test_each_rule_pays_its_credits_and_records_its_event(ledger: Ledger) -> None:
    paid = [
        ledger.reward("bob", "agent.best_return", episode=3, episode_return=12.5),
        ledger.reward(
            "bob", "soup.replicator_transition", run="r1", modulation_epoch=40, epoch=900
        ),
        ledger.reward("bob", "cartridge.new_domain", library="lib", cartridge=7, domain="python"),
        ledger.reward("bob", "memory.consolidated", network="net.png", first=11, records=4),
        ledger.reward("bob", "agent.proposal_adopted", proposal="p-9", memo="raised the rate"),
    ]
    assert [e.amount for e in paid] == [10, 50, 25, 4, 5]
    assert ledger.balance("bob") == 94
    assert paid[0].fields["event"] == {
        "rule": "agent.best_return",
        "id": "agent.best_return/bob/3",
        "episode": 3,
        "episode_return": 12.5,
    }
    assert paid[3].fields["event"]["id"] == "memory.consolidated/bob/net.png/11"
    assert [e.fields["memo"] for e in paid] == [
        "new best return 12.5 in episode 3",
        "replicators in soup run r1 at epoch 900, after modulation at 40",
        "new cartridge 7 for domain python",
        "4 records of net.png consolidated from #11",
        "raised the rate",
    ]
    assert ledger.earned("bob", "agent.best_return") == [paid[0].fields["event"]]
    assert ledger.verify().ok


def test_the_same_event_is_paid_once_per_account(ledger: Ledger) -> None:
    ledger.reward("bob", "cartridge.new_domain", library="lib", cartridge=7, domain="python")
    before = files(ledger)
    with pytest.raises(InvalidInputError, match="already paid in entry #5 \\(replayed\\)"):
        ledger.reward("bob", "cartridge.new_domain", library="lib", cartridge=7, domain="rust")
    assert files(ledger) == before
    ledger.reward("alice", "cartridge.new_domain", library="lib", cartridge=7, domain="python")
    assert (ledger.balance("bob"), ledger.balance("alice")) == (25, 125)


def test_a_best_return_must_beat_the_best_rewarded_so_far(ledger: Ledger) -> None:
    ledger.reward("bob", "agent.best_return", episode=1, episode_return=5)
    before = files(ledger)
    for episode, value in ((2, 5), (3, 4.99), (4, -1.0)):
        with pytest.raises(
            InvalidInputError, match="does not beat its best rewarded episode_return, 5"
        ):
            ledger.reward("bob", "agent.best_return", episode=episode, episode_return=value)
    assert files(ledger) == before
    ledger.reward("bob", "agent.best_return", episode=5, episode_return=5.5)
    ledger.reward("alice", "agent.best_return", episode=5, episode_return=1.0)  # her own best
    assert [e["episode_return"] for e in ledger.earned("bob", "agent.best_return")] == [5, 5.5]


@pytest.mark.parametrize(
    ("rule", "details", "message"),
    [
        ("agent.best", {}, "there is no reward rule 'agent.best': use one of: agent.best_return"),
        ("agent.best_return", {"episode": 1}, "needs details episode, episode_return"),
        ("agent.best_return", {"episode": 1, "episode_return": 2, "x": 1}, "unexpected \\['x'\\]"),
        (
            "agent.best_return",
            {"episode": True, "episode_return": 2},
            "episode must be int, got True",
        ),
        (
            "agent.best_return",
            {"episode": 1, "episode_return": "2"},
            "episode_return must be number",
        ),
        (
            "agent.best_return",
            {"episode": 1, "episode_return": float("nan")},
            "episode_return must be number",
        ),
        ("cartridge.new_domain", {"library": "", "cartridge": 1, "domain": "d"}, "library must"),
        (
            "soup.replicator_transition",
            {"run": "r", "modulation_epoch": 50, "epoch": 40},
            "does not apply: the modulation must come before the transition",
        ),
        (
            "memory.consolidated",
            {"network": "n", "first": 1, "records": 0},
            "does not apply: records must be at least 1",
        ),
    ],
)
def test_details_that_do_not_fit_the_rule_are_refused(
    ledger: Ledger, rule: str, details: dict, message: str
) -> None:
    before = files(ledger)
    with pytest.raises(InvalidInputError, match=message):
        ledger.reward("bob", rule, **details)
    assert files(ledger) == before


def test_docs_list_every_rule_with_its_credits() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for rule in RULES.values():
        per = f" per {rule.per.rstrip('s')}" if rule.per else ""
        row = re.search(rf"^\| `{re.escape(rule.name)}` \| (\d+){per} \|", text, re.MULTILINE)
        assert row is not None, rule.name
        assert int(row.group(1)) == rule.credits
