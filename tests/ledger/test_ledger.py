"""The ledger's Python API: exact balances, refusals that write nothing, threads and processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from holomind.errors import HoloMindError, InvalidInputError, MissingFileError
from holomind.ledger import Ledger, verify_ledger


def files(led: Ledger) -> tuple[bytes, bytes]:
    return (led.path / "entries.jsonl").read_bytes(), (led.path / "head.json").read_bytes()


def test_mints_and_transfers_keep_exact_balances(ledger: Ledger) -> None:
    sent = ledger.transfer("alice", "bob", 30, "rent")
    minted = ledger.mint("bob", 5, "found a bug", event={"issue": 13})
    assert (sent.seq, sent.kind, sent.signer, sent.amount) == (5, "transfer", "alice", 30)
    assert (minted.seq, minted.signer, minted.fields["event"]) == (6, "ledger", {"issue": 13})
    assert (ledger.balance("alice"), ledger.balance("bob"), ledger.supply) == (70, 35, 105)
    assert [a.to_dict() for a in ledger.accounts()] == [
        {
            "name": "alice",
            "key": ledger.account("alice").key,
            "opened": 2,
            "balance": 70,
            "earned": 100,
            "last": 5,
        },
        {
            "name": "bob",
            "key": ledger.account("bob").key,
            "opened": 3,
            "balance": 35,
            "earned": 5,
            "last": 6,
        },
    ]
    kinds = ["genesis", "account", "account", "mint", "transfer", "mint"]
    assert [e.kind for e in ledger.history()] == kinds
    assert [e.seq for e in ledger.history("bob")] == [3, 5, 6]
    assert [e.seq for e in ledger.history(last=2)] == [5, 6]
    assert [e.seq for e in ledger.history(kinds=("mint",))] == [4, 6]
    assert ledger.entry(5).to_dict() == sent.to_dict()
    assert len(ledger) == 6 and ledger.head().size == 6
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("act", "message"),
    [
        (
            lambda led: led.transfer("alice", "bob", 101, "x"),
            "alice has 100 HMC and cannot send 101",
        ),
        (lambda led: led.transfer("alice", "carol", 1, "x"), "there is no account 'carol'"),
        (lambda led: led.transfer("carol", "bob", 1, "x"), "there is no account 'carol'"),
        (lambda led: led.transfer("alice", "alice", 1, "x"), "alice cannot send credits to itself"),
        (lambda led: led.mint("carol", 1, "x"), "there is no account 'carol'"),
        (lambda led: led.mint("alice", 0, "x"), "whole number of HMC from 1"),
        (lambda led: led.mint("alice", -5, "x"), "whole number of HMC from 1"),
        (lambda led: led.mint("alice", 1.5, "x"), "whole number of HMC from 1"),
        (lambda led: led.mint("alice", True, "x"), "whole number of HMC from 1"),
        (lambda led: led.mint("alice", 2**63, "x"), "whole number of HMC from 1"),
        (lambda led: led.mint("alice", 2**63 - 1, "x"), "would pass the largest supply"),
        (lambda led: led.mint("alice", 1, "x" * 1001), "at most 1000 characters"),
        (lambda led: led.mint("alice", 1, "\ud800"), "unpaired surrogates"),
        (lambda led: led.mint("alice", 1, "x", event={"b": "x" * 17_000}), "at most 16384 bytes"),
        (lambda led: led.mint("alice", 1, "x", event=["x"]), "is a JSON object"),
        (lambda led: led.mint("alice", 1, "x", event={"id": 3}), "event id is text"),
        (lambda led: led.mint("alice", 1, "x", event={"v": float("inf")}), "cannot store dict"),
        (lambda led: led.create_account("alice"), "account 'alice' already exists"),
        (lambda led: led.create_account("Alice"), "'Alice' cannot name an account"),
        (lambda led: led.entry(99), "there is no entry #99"),
    ],
)
def test_a_refused_entry_writes_nothing(ledger: Ledger, act, message: str) -> None:
    before = files(ledger)
    with pytest.raises(HoloMindError, match=message):
        act(ledger)
    assert files(ledger) == before
    assert len(ledger) == 4 and ledger.balance("alice") == 100
    assert not (ledger.path / "keys" / "Alice.key").exists()


def test_ensure_account_opens_an_account_once(ledger: Ledger) -> None:
    assert ledger.ensure_account("alice") == ledger.account("alice")
    assert len(ledger) == 4
    made = ledger.ensure_account("rl-agent")
    assert (made.name, made.opened, made.balance) == ("rl-agent", 5, 0)
    assert ledger.ensure_account("rl-agent") == made and len(ledger) == 5


def test_a_mint_keeps_its_event_as_stored(ledger: Ledger) -> None:
    event = {"rule": "x", "seen": ("a", "b")}
    entry = ledger.mint("bob", 1, "m", event=event)
    event["rule"] = "changed afterwards"
    stored = {"rule": "x", "seen": ["a", "b"]}
    assert entry.fields["event"] == stored == ledger.entry(5).fields["event"]
    assert ledger.earned("bob", "x") == [stored]


def test_a_reward_event_is_paid_once(ledger: Ledger) -> None:
    ledger.mint("bob", 3, "proposal 7", event={"id": "proposal/7"})
    before = files(ledger)
    with pytest.raises(InvalidInputError, match=r"'proposal/7' was already paid in entry #5"):
        ledger.mint("bob", 3, "proposal 7 again", event={"id": "proposal/7"})
    assert files(ledger) == before
    ledger.mint("bob", 3, "another", event={"id": "proposal/8"})
    assert ledger.balance("bob") == 6


def test_reopening_reads_back_the_same_ledger(ledger: Ledger) -> None:
    ledger.transfer("alice", "bob", 7, "x")
    before = ([e.to_dict() for e in ledger.history()], ledger.summary())
    ledger.close()
    with pytest.raises(InvalidInputError, match="was closed"):
        ledger.balance("alice")
    with Ledger.open(ledger.path) as again:
        assert ([e.to_dict() for e in again.history()], again.summary()) == before


def test_two_open_ledgers_see_each_others_appends(ledger: Ledger) -> None:
    with Ledger.open(ledger.path) as other:
        other.transfer("alice", "bob", 10, "from the other object")
        assert ledger.balance("bob") == 10
        ledger.transfer("bob", "alice", 4, "back")
        assert other.balance("alice") == 94 and len(other) == 6
        assert other.head() == ledger.head()


def test_threads_share_one_ledger(ledger: Ledger) -> None:
    def work(t: int) -> None:
        for i in range(8):
            ledger.mint("bob", 1, f"t{t}-{i}")
            ledger.transfer("bob", "alice", 1, f"t{t}-{i} back")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger) == 4 + 4 * 8 * 2
    assert (ledger.balance("alice"), ledger.balance("bob"), ledger.supply) == (132, 0, 132)
    for t in range(4):  # each thread's entries stay in its order
        memos = [
            e.fields["memo"] for e in ledger.history("bob") if f"t{t}-" in e.fields.get("memo", "")
        ]
        assert memos == [m for i in range(8) for m in (f"t{t}-{i}", f"t{t}-{i} back")]
    assert ledger.verify().ok


APPENDER = """
import sys
from holomind.ledger import Ledger
with Ledger.open(sys.argv[1]) as led:
    for i in range(8):
        led.transfer("alice", "bob", 1, f"{sys.argv[2]}-{i}")
"""


def test_processes_append_to_one_ledger_at_once(ledger: Ledger) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(ledger.path), f"p{p}"])
        for p in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    assert (ledger.balance("alice"), ledger.balance("bob")) == (68, 32)
    memos = [e.fields["memo"] for e in ledger.history(kinds=("transfer",))]
    for p in range(4):
        assert [m for m in memos if m.startswith(f"p{p}-")] == [f"p{p}-{i}" for i in range(8)]
    report = verify_ledger(ledger.path)
    assert (report.ok, report.entries, report.head_size) == (True, 36, 36)


def test_a_batch_signs_one_head_and_keeps_what_it_appended(ledger: Ledger) -> None:
    head = ledger.head()
    with pytest.raises(InvalidInputError, match="overdraft"), ledger.batch():
        for i in range(3):
            ledger.mint("bob", 1, f"b{i}")
        assert ledger.head() == head  # not signed until the block ends
        with pytest.raises(InvalidInputError, match="inside a batch"):
            ledger.verify()
        ledger.transfer("bob", "alice", 50, "too much")
    assert ledger.head().size == len(ledger) == 7
    assert ledger.balance("bob") == 3 and verify_ledger(ledger.path).ok


def test_a_lost_account_key_freezes_only_that_account(ledger: Ledger) -> None:
    ledger.close()
    (ledger.path / "keys" / "alice.key").unlink()
    with Ledger.open(ledger.path) as led:
        before = files(led)
        with pytest.raises(MissingFileError, match=r"alice\.key is missing"):
            led.transfer("alice", "bob", 1, "x")
        assert files(led) == before
        led.mint("alice", 1, "can still receive")
        assert led.balance("alice") == 101


def test_a_lost_ledger_key_leaves_a_readable_ledger(ledger: Ledger) -> None:
    ledger.close()
    (ledger.path / "keys" / "ledger.key").unlink()
    with Ledger.open(ledger.path) as led:
        before = files(led)
        for act in (
            lambda: led.mint("alice", 1, "x"),
            lambda: led.transfer("alice", "bob", 1, "x"),
            lambda: led.create_account("carol"),
        ):
            with pytest.raises(MissingFileError, match=r"ledger\.key is missing"):
                act()
        assert files(led) == before and not (led.path / "keys" / "carol.key").exists()
        assert led.balance("alice") == 100 and led.prove(4).verify(led.public_key)
    assert verify_ledger(ledger.path).ok


def test_opening_what_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="there is no ledger at"):
        Ledger.open(tmp_path / "nothing")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInputError, match="exists and is not a ledger"):
        Ledger.open(tmp_path / "full", create=True)
    assert os.listdir(tmp_path / "full") == ["notes.txt"]
    assert sorted(os.listdir(tmp_path)) == ["full"]  # no temporary folder left behind


CREATOR = """
import sys
from holomind.ledger import Ledger
with Ledger.open(sys.argv[1], create=True) as led:
    led.create_account(sys.argv[2])
"""


def test_two_processes_creating_one_ledger_make_one(tmp_path: Path) -> None:
    path = tmp_path / "new"
    procs = [
        subprocess.Popen([sys.executable, "-c", CREATOR, str(path), name]) for name in ("x", "y")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with Ledger.open(path) as led:
        assert sorted(a.name for a in led.accounts()) == ["x", "y"] and len(led) == 3
    assert sorted(os.listdir(tmp_path)) == ["new"]


def test_summary_and_export_hold_what_a_dashboard_shows(ledger: Ledger) -> None:
    summary = ledger.summary()
    assert summary["entries"] == 4 and summary["supply"] == 100 and summary["unit"] == "HMC"
    assert [a["name"] for a in summary["accounts"]] == ["alice", "bob"]
    assert summary["head"] == ledger.head().to_dict() and summary["ledger"] == ledger.id
    bundle = ledger.export()
    assert bundle["head"]["size"] == len(bundle["entries"]) == 4
    assert bundle["entries"][3] == ledger.entry(4).to_dict()
    assert bundle["public_key"] == ledger.public_key
