"""Tamper fuzzing: hundreds of random edits to a ledger's files, every one caught by `verify`.

Each trial restores a clean ledger's bytes, damages them one way (byte flips, one
character changed for another of its kind, deletions and insertions, truncations,
removed, swapped or replayed entries, forged signatures, a forged tree head), then
asserts that `verify_ledger` fails naming the first bad entry and that `Ledger.open`
refuses the ledger too.
"""

from __future__ import annotations

import json
import random
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from holomind.errors import CorruptFileError
from holomind.ledger import Ledger, TreeHead, verify_ledger
from holomind.ledger.entry import sign
from holomind.ledger.keys import KeyRing, public_hex
from holomind.ledger.merkle import leaf_hash

Tamper = Callable[[bytes, random.Random], tuple[bytes, int]]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, bytes]:
    """A ledger of 24 entries of every kind; its folder, log bytes and head bytes."""
    path = tmp_path_factory.mktemp("tamper") / "ledger"
    with Ledger.open(path, create=True) as led, led.batch():
        for name in ("alice", "bob", "carol"):
            led.create_account(name)
        led.mint("alice", 500, "start", event={"note": "ünïcode ✓", "n": [1, 2.5, None]})
        led.reward("bob", "agent.best_return", episode=1, episode_return=3.25)
        for i in range(16):
            a, b = ("alice", "bob", "carol")[i % 3], ("alice", "bob", "carol")[(i + 1) % 3]
            if i % 3 == 0:
                led.transfer(a, b, 5 + i, f"payment {i}")
            else:
                led.mint(b, 1 + i, f"reward {i}", event={"id": f"e{i}"})
        assert len(led) == 22
        led.reward("carol", "memory.consolidated", network="net.png", first=1, records=4)
        led.transfer("carol", "alice", 3, 'quotes " and \\ and ,"sig":"')
    assert verify_ledger(path).ok
    return path, (path / "entries.jsonl").read_bytes(), (path / "head.json").read_bytes()


def line_of(log: bytes, pos: int) -> int:
    """The entry (1-based) whose line holds byte ``pos`` (its newline included)."""
    return log.count(b"\n", 0, pos) + 1


def flip(log: bytes, rng: random.Random) -> tuple[bytes, int]:
    pos = rng.randrange(len(log))
    return log[:pos] + bytes([log[pos] ^ rng.randrange(1, 256)]) + log[pos + 1 :], line_of(log, pos)


def edit_char(log: bytes, rng: random.Random) -> tuple[bytes, int]:
    """A subtle edit: one digit or letter becomes another, so the line stays valid JSON."""
    while True:
        pos = rng.randrange(len(log))
        for pool in (b"0123456789", b"abcdef", b"ghijklmnopqrstuvwxyz"):
            if log[pos] in pool:
                new = rng.choice([c for c in pool if c != log[pos]])
                return log[:pos] + bytes([new]) + log[pos + 1 :], line_of(log, pos)


def delete(log: bytes, rng: random.Random) -> tuple[bytes, int]:
    pos = rng.randrange(len(log))
    return log[:pos] + log[pos + rng.randint(1, 8) :], line_of(log, pos)


def insert(log: bytes, rng: random.Random) -> tuple[bytes, int]:
    pos = rng.randrange(len(log))  # never after the last newline: that is an unfinished append
    return log[:pos] + rng.randbytes(rng.randint(1, 8)) + log[pos:], line_of(log, pos)


def truncate(log: bytes, rng: random.Random) -> tuple[bytes, int]:
    pos = rng.randrange(len(log))
    return log[:pos], line_of(log, pos)


def drop_entry(log: bytes, rng: random.Random) -> tuple[bytes, int]:
    lines = log.splitlines(keepends=True)
    j = rng.randint(1, len(lines))
    del lines[j - 1]
    return b"".join(lines), j


def swap_entries(log: bytes, rng: random.Random) -> tuple[bytes, int]:
    lines = log.splitlines(keepends=True)
    i, j = sorted(rng.sample(range(1, len(lines) + 1), 2))
    lines[i - 1], lines[j - 1] = lines[j - 1], lines[i - 1]
    return b"".join(lines), i


def replay_entry(log: bytes, rng: random.Random) -> tuple[bytes, int]:
    lines = log.splitlines(keepends=True)
    i = rng.randint(1, len(lines))
    j = rng.randint(i + 1, len(lines) + 1)  # where the copy lands
    lines.insert(j - 1, lines[i - 1])
    return b"".join(lines), j


def forger(keys: KeyRing) -> Callable[[bytes, random.Random], tuple[bytes, int]]:
    """Forged signatures: edited entries re-signed by the wrong key, stolen signatures,
    a new entry signed by a stranger, a genesis entry that names another ledger key."""

    def forge(log: bytes, rng: random.Random) -> tuple[bytes, int]:
        lines = log.splitlines(keepends=True)
        stranger = Ed25519PrivateKey.generate()
        how = rng.choice(["edit", "steal", "wrong-signer", "append", "genesis"])
        j = rng.randint(2, len(lines))
        entry = json.loads(lines[j - 1])
        del entry["sig"]
        if how == "edit":
            if "amount" in entry:
                entry["amount"] += rng.randint(1, 1000)
            else:
                entry["key"] = public_hex(stranger)
            key = stranger
        elif how == "wrong-signer":
            key = keys.load("alice" if entry["kind"] != "transfer" else "ledger")
        elif how == "steal":
            other = json.loads(lines[rng.choice([k for k in range(len(lines)) if k != j - 1])])
            line = lines[j - 1].replace(
                json.loads(lines[j - 1])["sig"].encode(), other["sig"].encode()
            )
            lines[j - 1] = line
            return b"".join(lines), j
        elif how == "append":
            last = json.loads(lines[-1])
            entry = {
                "seq": len(lines) + 1,
                "prev": leaf_hash(lines[-1].rstrip(b"\n")).hex(),
                "time": last["time"],
                "kind": "transfer",
                "from": "alice",
                "to": "carol",
                "amount": 1,
                "memo": "not alice",
            }
            line, _ = sign(entry, stranger)
            return log + line + b"\n", len(lines) + 1
        else:  # a genesis entry naming the stranger's key, signed by it
            j, entry = 1, json.loads(lines[0])
            del entry["sig"]
            entry["key"] = public_hex(stranger)
            key = stranger
        line, _ = sign(entry, key)
        lines[j - 1] = line + b"\n"
        return b"".join(lines), j

    return forge


def test_every_random_tampering_of_the_log_is_caught(clean: tuple[Path, bytes, bytes]) -> None:
    path, log, head = clean
    rng = random.Random(2026)
    kinds: list[tuple[Tamper, int]] = [
        (flip, 60),
        (edit_char, 80),
        (delete, 40),
        (insert, 40),
        (truncate, 40),
        (drop_entry, 30),
        (swap_entries, 30),
        (replay_entry, 30),
        (forger(KeyRing(path / "keys")), 80),
    ]
    caught = 0
    for tamper, trials in kinds:
        for _ in range(trials):
            bad, first_bad = tamper(log, rng)
            assert bad != log
            (path / "entries.jsonl").write_bytes(bad)
            (path / "head.json").write_bytes(head)
            report = verify_ledger(path)
            where = f"{tamper.__name__}: {report.problem}"
            assert not report.ok, where
            assert report.first_bad == first_bad, where
            assert report.problem.startswith(f"entry #{first_bad}: "), where
            with pytest.raises(CorruptFileError), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Ledger.open(path)
            caught += 1
    assert caught == 430


def test_every_tampering_of_the_tree_head_is_caught(clean: tuple[Path, bytes, bytes]) -> None:
    path, log, head = clean
    rng = random.Random(7)
    stranger = Ed25519PrivateKey.generate()
    good = TreeHead.from_bytes(head, "head")
    forged = [
        TreeHead.sign(good.ledger, good.size, bytes.fromhex(good.root), good.time, stranger),
        TreeHead.sign(good.ledger, good.size - 1, bytes.fromhex(good.root), good.time, stranger),
    ]
    damaged = [f.to_bytes() for f in forged]
    for _ in range(60):
        pos = rng.randrange(len(head))
        damaged.append(head[:pos] + bytes([head[pos] ^ rng.randrange(1, 256)]) + head[pos + 1 :])
    for bad in damaged:
        (path / "entries.jsonl").write_bytes(log)
        (path / "head.json").write_bytes(bad)
        report = verify_ledger(path)
        assert not report.ok and report.problem.startswith("head.json"), report.problem
        assert report.entries == 24  # every entry itself was fine
        with pytest.raises(CorruptFileError, match=r"head\.json"):
            Ledger.open(path)
    (path / "head.json").unlink()
    report = verify_ledger(path)
    assert report.problem == "head.json is missing, so entries cut off the end would not show"
    with pytest.raises(CorruptFileError, match=r"head\.json is missing"):
        Ledger.open(path)
    (path / "head.json").write_bytes(head)
    assert verify_ledger(path).ok
