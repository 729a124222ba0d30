"""Crash safety: SIGKILLed appenders lose no committed entry; torn tails and lagging heads heal."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from holomind.errors import CorruptFileError
from holomind.ledger import Ledger, TornTailWarning, verify_ledger

# Appends forever, printing "seq memo" once each call has returned (inside a batch too:
# an entry is committed when its call returns). Every fourth round is a batch of three;
# every fifth entry carries a 12 KB event, so a kill can land inside a multi-page write.
APPENDER = """
import sys
from holomind.ledger import Ledger
led = Ledger.open(sys.argv[1])
tag, i = sys.argv[2], 0

def one():
    global i
    event = {"blob": "x" * 12_000} if i % 5 == 4 else None
    entry = led.mint("agent", 1, f"{tag}-{i}", event=event)
    print(entry.seq, entry.fields["memo"], flush=True)
    i += 1

while True:
    if i % 4 == 3:
        with led.batch():
            for _ in range(3):
                one()
    else:
        one()
"""


def open_quietly(path: Path) -> tuple[Ledger, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TornTailWarning)
        led = Ledger.open(path)
    return led, [str(w.message) for w in caught]


@pytest.mark.slow
def test_sigkill_during_appends_never_loses_a_committed_entry(tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    with Ledger.open(path, create=True) as led:
        led.create_account("agent")
    rng = random.Random(5)
    interrupted = 0
    for trial in range(50):
        child = subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(path), f"k{trial}"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first.strip(), "the appender died before appending"
        time.sleep(rng.uniform(0, 0.04))
        child.send_signal(signal.SIGKILL)
        printed = [first.split(), *(line.split() for line in child.stdout.read().splitlines())]
        child.wait()
        printed = [p for p in printed if len(p) == 2]  # a print cut by the kill proves nothing
        report = verify_ledger(path)
        assert report.ok, report.problem
        stale = list(path.glob(".head.json.*.tmp"))
        interrupted += bool(report.unfinished or report.head_size < report.entries or stale)
        led, _ = open_quietly(path)
        with led:
            for seq, memo in printed:  # every confirmed entry is there, as it was
                assert led.entry(int(seq)).fields["memo"] == memo
            mine = [
                e.fields["memo"]
                for e in led.history()
                if e.fields.get("memo", "").startswith(f"k{trial}-")
            ]
            # In order, and at most one more than confirmed (written just before the kill).
            assert mine == [f"k{trial}-{i}" for i in range(len(mine))]
            assert len(printed) <= len(mine) <= len(printed) + 1
            assert led.balance("agent") == led.supply == len(led) - 2
    with Ledger.open(path) as led:
        led.mint("agent", 1, "after the crashes")
        assert len(led) >= 50 + 3 and led.head().size == len(led)
    assert verify_ledger(path).ok and not list(path.glob(".head.json.*.tmp"))
    # Some kills must have landed inside an append, or the test proved nothing.
    assert interrupted > 0


def test_an_unfinished_append_is_ignored_then_cut_off(ledger: Ledger) -> None:
    log = ledger.path / "entries.jsonl"
    committed = log.read_bytes()
    with open(log, "ab") as f:
        f.write(committed.splitlines(keepends=True)[-1][:100])  # a torn copy: no newline
    ledger.close()
    led, said = open_quietly(ledger.path)
    assert said == [f"{log} ended in an unfinished append of 100 bytes (ignored; the next "
                    "append cuts it off); no committed entry was lost"]  # fmt: skip
    assert len(led) == 4 and led.balance("alice") == 100
    report = verify_ledger(ledger.path)
    assert (report.ok, report.unfinished, report.entries) == (True, 100, 4)
    with pytest.warns(TornTailWarning, match=r"100 bytes \(cut off\)"):
        led.mint("bob", 2, "after the tear")
    assert log.read_bytes().startswith(committed) and len(log.read_bytes().splitlines()) == 5
    assert verify_ledger(ledger.path).unfinished == 0
    led.close()


def test_an_entry_whose_tree_head_was_never_written_is_kept(ledger: Ledger) -> None:
    head = (ledger.path / "head.json").read_bytes()
    ledger.transfer("alice", "bob", 9, "the head after this was lost")
    (ledger.path / "head.json").write_bytes(head)  # as if killed between the two writes
    ledger.close()
    report = verify_ledger(ledger.path)
    assert (report.ok, report.entries, report.head_size) == (True, 5, 4)
    with Ledger.open(ledger.path) as led:
        assert led.balance("bob") == 9
        assert led.head().size == 5  # signed anew
        assert led.prove(5).verify(led.public_key)


def test_a_forged_entry_after_the_tree_head_is_refused(ledger: Ledger) -> None:
    head = (ledger.path / "head.json").read_bytes()
    ledger.transfer("alice", "bob", 9, "honest")
    (ledger.path / "head.json").write_bytes(head)
    ledger.close()
    log = ledger.path / "entries.jsonl"
    log.write_bytes(log.read_bytes().replace(b'"amount":9', b'"amount":90'))
    with pytest.raises(CorruptFileError, match=r"entry #5: signature does not match alice's key"):
        Ledger.open(ledger.path)
    assert verify_ledger(ledger.path).first_bad == 5
