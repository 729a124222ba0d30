"""`holomind ledger` end to end: the real command in a subprocess, on real files."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

from holomind.ledger import Ledger
from tests.conftest import CliRunner


def one_error_line(out, text: str) -> None:
    """A refused command: exit 2, nothing on stdout, one line on stderr containing ``text``."""
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: "), out.stderr
    assert text in out.stderr, out.stderr


def test_accounts_mints_transfers_and_refusals(holomind: CliRunner, holomind_home: Path) -> None:
    folder = holomind_home / "ledger"
    one_error_line(holomind("ledger", "balance", "alice"), f"there is no ledger at {folder}")
    created = holomind("ledger", "accounts", "create", "alice", "--json")
    assert created.returncode == 0, created.stderr
    key_file = Path(json.loads(created.stdout)["key_file"])
    assert key_file == folder / "keys" / "alice.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    out = holomind("ledger", "accounts", "create", "bob")
    assert out.stdout.startswith("created account bob (entry #3, key ")
    out = holomind("ledger", "mint", "alice", "100", "--memo", "found the bug")
    assert out.stdout == "minted 100 HMC to alice (entry #4); alice holds 100\n"
    out = holomind(
        "ledger", "transfer", "--from", "alice", "--to", "bob", "30", "--memo", "x", "--json"
    )
    sent = json.loads(out.stdout)
    assert (sent["seq"], sent["kind"], sent["amount"]) == (5, "transfer", 30)
    assert sent["balances"] == {"alice": 70, "bob": 30}
    log = (folder / "entries.jsonl").read_bytes()
    one_error_line(
        holomind("ledger", "transfer", "--from", "bob", "--to", "alice", "31", "--memo", "x"),
        "bob has 30 HMC and cannot send 31 (overdraft)",
    )
    one_error_line(holomind("ledger", "mint", "carol", "5", "--memo", "x"), "no account 'carol'")
    one_error_line(holomind("ledger", "accounts", "create", "Carol"), "cannot name an account")
    assert holomind("ledger", "mint", "alice", "0", "--memo", "x").returncode == 2
    assert (folder / "entries.jsonl").read_bytes() == log  # nothing written by any refusal
    accounts = json.loads(holomind("ledger", "accounts", "list", "--json").stdout)
    assert [(a["name"], a["balance"], a["earned"]) for a in accounts] == [
        ("alice", 70, 100),
        ("bob", 30, 0),
    ]
    balance = json.loads(holomind("ledger", "balance", "bob", "--json").stdout)
    assert (balance["name"], balance["balance"], balance["unit"]) == ("bob", 30, "HMC")
    last = json.loads(holomind("ledger", "history", "--account", "bob", "-n", "1", "--json").stdout)
    assert [e["seq"] for e in last] == [5]


def make_ledger(folder: Path) -> None:
    """Five entries, made through the Python API (the CLI's own appends are tested above)."""
    with Ledger.open(folder, create=True) as led, led.batch():
        led.create_account("alice")
        led.create_account("bob")
        led.mint("alice", 100, "start")
        led.transfer("alice", "bob", 7, 'a "quoted", memo')


def test_verify_prove_and_export(holomind: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "led"
    make_ledger(folder)
    report = json.loads(holomind("ledger", "verify", "--ledger", str(folder), "--json").stdout)
    assert (report["ok"], report["entries"], report["head"]["size"]) == (True, 5, 5)
    out = holomind("ledger", "verify", "--ledger", str(folder))
    assert out.stdout.startswith("ok: 5 entries, 2 accounts, 100 HMC minted; signed tree head")
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(
        holomind("ledger", "prove", "4", "--ledger", str(folder), "--json").stdout
    )
    proof = json.loads(proof_file.read_text())
    assert (proof["seq"], proof["entry"]["memo"], len(proof["path"])) == (4, "start", 3)
    checked = holomind("ledger", "prove", "--check", str(proof_file), "--ledger", str(folder))
    assert checked.stdout == f"ok: {proof_file} holds for ledger {report['head']['ledger']}\n"
    proof["path"][1] = "0" * 64
    proof_file.write_text(json.dumps(proof))
    one_error_line(
        holomind("ledger", "prove", "--check", str(proof_file), "--ledger", str(folder)),
        "the proof does not hold for this ledger's key",
    )
    rows = list(
        csv.reader(io.StringIO(holomind("ledger", "export", "--ledger", str(folder)).stdout))
    )
    assert rows[0] == ["seq", "time", "kind", "from", "to", "amount", "memo", "event", "hash"]
    assert rows[5][2:7] == ["transfer", "alice", "bob", "7", 'a "quoted", memo']
    out_file = tmp_path / "export.json"
    done = holomind("ledger", "export", "--json", "--out", str(out_file), "--ledger", str(folder))
    assert done.stderr == f"exported 5 entries to {out_file}\n"
    bundle = json.loads(out_file.read_text())
    assert bundle["head"] == report["head"] and len(bundle["entries"]) == 5


def test_verify_names_the_first_bad_entry(holomind: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "led"
    make_ledger(folder)
    log = folder / "entries.jsonl"
    good = log.read_bytes()
    log.write_bytes(good.replace(b'"amount":100', b'"amount":900'))
    one_error_line(
        holomind("ledger", "verify", "--ledger", str(folder)),
        "entry #4: signature does not match the ledger's key (edited or forged)",
    )
    lines = good.splitlines(keepends=True)
    log.write_bytes(b"".join([*lines[:2], lines[3], lines[2], lines[4]]))
    one_error_line(holomind("ledger", "verify", "--ledger", str(folder)), "entry #3: missing")
    log.write_bytes(good[:-40])
    out = holomind("ledger", "verify", "--ledger", str(folder), "--json")
    assert out.returncode == 2 and json.loads(out.stdout)["first_bad"] == 5
    assert out.stderr.count("\n") == 1 and "entry #5: missing" in out.stderr
    one_error_line(holomind("ledger", "balance", "bob", "--ledger", str(folder)), "head.json")


def test_verify_since_a_saved_head_catches_a_rollback(holomind: CliRunner, tmp_path: Path) -> None:
    """Cutting entries off and putting back an older signed head fools plain verify;
    a tree head saved earlier does not: the rollback is what it is there to catch."""
    folder = tmp_path / "led"
    make_ledger(folder)
    old = {p: (folder / p).read_bytes() for p in ("entries.jsonl", "head.json")}
    with Ledger.open(folder) as led:
        led.mint("bob", 3, "m")
    saved = tmp_path / "saved.json"
    saved.write_text(holomind("ledger", "verify", "--json", "--ledger", str(folder)).stdout)
    since = ("--since", str(saved), "--ledger", str(folder))
    assert holomind("ledger", "verify", *since).stdout.endswith(f"; consistent with {saved}\n")
    for name, data in old.items():
        (folder / name).write_bytes(data)
    assert holomind("ledger", "verify", "--ledger", str(folder)).returncode == 0
    one_error_line(
        holomind("ledger", "verify", *since),
        "the ledger no longer starts with the 6 entries the tree head",
    )
