"""`holomind ledger`: accounts, mints, transfers, balances, history, verify, proofs, export."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from holomind.cli.common import console, err_console, print_json, settings, shorten
from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError

app = typer.Typer(
    help="The reward ledger: signed, hash-chained, Merkle-proved credits (HMC) for agents and "
    "people. A local ledger, not a blockchain.",
    no_args_is_help=True,
)
accounts_app = typer.Typer(help="Create and list accounts.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")

LEDGER = typer.Option(
    None,
    "--ledger",
    help="The ledger folder \\[default: HOLOMIND_HOME/ledger].",
    show_default=False,
)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
AMOUNT = typer.Argument(..., min=1, help="Whole credits (HMC).", show_default=False)
MEMO = typer.Option(..., "--memo", help="Why: stored in the signed entry.", show_default=False)


@contextlib.contextmanager
def _ledger(ctx: typer.Context, path: Path | None, *, create: bool = False) -> Iterator[Any]:
    """Open the ledger (the default one unless --ledger), printing crash-repair notes on stderr."""
    from holomind.ledger import Ledger, TornTailWarning

    folder = path if path is not None else settings(ctx).home / "ledger"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TornTailWarning)
        with Ledger.open(folder, create=create) as ledger:
            yield ledger
    for w in caught:
        if issubclass(w.category, TornTailWarning):
            err_console.print(f"[yellow]warning:[/] {escape(str(w.message))}", soft_wrap=True)


def _unit() -> str:
    from holomind.ledger import UNIT

    return UNIT


@accounts_app.command("create")
def accounts_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Lowercase letters, digits, '.', '_', '-'."),
    ledger: Path | None = LEDGER,
    as_json: bool = JSON,
) -> None:
    """Open an account with its own Ed25519 key (creates the ledger on first use)."""
    with _ledger(ctx, ledger, create=True) as led:
        account = led.create_account(name)
        key_file = led.path / "keys" / f"{name}.key"
    if as_json:
        print_json({**account.to_dict(), "key_file": str(key_file)})
        return
    console.print(
        f"created account [bold]{escape(name)}[/] (entry #{account.opened}, key "
        f"{account.key[:16]}…); its private key is {escape(str(key_file))}: back it up",
        soft_wrap=True,
    )


@accounts_app.command("list")
def accounts_list(ctx: typer.Context, ledger: Path | None = LEDGER, as_json: bool = JSON) -> None:
    """List every account with its balance."""
    with _ledger(ctx, ledger) as led:
        accounts = led.accounts()
    if as_json:
        print_json([a.to_dict() for a in accounts])
        return
    if not accounts:
        console.print("no accounts yet: `holomind ledger accounts create NAME`")
        return
    table = Table()
    for column in ("account", "balance", "earned", "opened", "key"):
        table.add_column(column, justify="right" if column in ("balance", "earned") else "left")
    for a in accounts:
        table.add_row(
            escape(a.name), f"{a.balance:,}", f"{a.earned:,}", f"#{a.opened}", a.key[:16] + "…"
        )
    console.print(table)


@app.command("mint")
def mint(
    ctx: typer.Context,
    account: str = typer.Argument(..., help="Who is rewarded."),
    amount: int = AMOUNT,
    memo: str = MEMO,
    ledger: Path | None = LEDGER,
    as_json: bool = JSON,
) -> None:
    """Reward an account by hand: new credits, signed by the ledger's own key."""
    with _ledger(ctx, ledger) as led:
        entry = led.mint(account, amount, memo)
        balance = led.balance(account)
    if as_json:
        print_json({**entry.to_dict(), "balance": balance})
        return
    console.print(
        f"minted {amount:,} {_unit()} to {escape(account)} (entry #{entry.seq}); "
        f"{escape(account)} holds {balance:,}",
        soft_wrap=True,
    )


@app.command("transfer")
def transfer(
    ctx: typer.Context,
    amount: int = AMOUNT,
    sender: str = typer.Option(..., "--from", help="The paying account (signs with its key)."),
    recipient: str = typer.Option(..., "--to", help="The receiving account."),
    memo: str = MEMO,
    ledger: Path | None = LEDGER,
    as_json: bool = JSON,
) -> None:
    """Send credits from one account to another, signed by the sender's key."""
    with _ledger(ctx, ledger) as led:
        entry = led.transfer(sender, recipient, amount, memo)
        balances = {sender: led.balance(sender), recipient: led.balance(recipient)}
    if as_json:
        print_json({**entry.to_dict(), "balances": balances})
        return
    console.print(
        f"sent {amount:,} {_unit()} from {escape(sender)} to {escape(recipient)} "
        f"(entry #{entry.seq}); {escape(sender)} holds {balances[sender]:,}, "
        f"{escape(recipient)} holds {balances[recipient]:,}",
        soft_wrap=True,
    )


@app.command("balance")
def balance(
    ctx: typer.Context,
    account: str = typer.Argument(..., help="The account."),
    ledger: Path | None = LEDGER,
    as_json: bool = JSON,
) -> None:
    """Show what an account holds."""
    with _ledger(ctx, ledger) as led:
        found = led.account(account)
    if as_json:
        print_json({"account": found.name, "unit": _unit(), **found.to_dict()})
        return
    console.print(
        f"{escape(found.name)}: {found.balance:,} {_unit()} (earned {found.earned:,} in all)",
        soft_wrap=True,
    )


@app.command("history")
def history(
    ctx: typer.Context,
    account: str | None = typer.Option(None, "--account", help="Only entries touching it."),
    last: int = typer.Option(20, "--last", "-n", min=1, help="Show the last N entries."),
    everything: bool = typer.Option(False, "--all", help="Show every entry."),
    ledger: Path | None = LEDGER,
    as_json: bool = JSON,
) -> None:
    """List entries, oldest first (the last 20 unless told otherwise)."""
    with _ledger(ctx, ledger) as led:
        entries = led.history(account, last=None if everything else last)
        total = len(led) if account is None else len(led.history(account))
    if as_json:
        print_json([e.to_dict() for e in entries])
        return
    table = Table()
    for column in ("#", "time", "kind", "from", "to", "amount", "memo"):
        table.add_column(column, justify="right" if column in ("#", "amount") else "left")
    for e in entries:
        f = e.fields
        table.add_row(
            str(e.seq),
            e.time[:19].replace("T", " "),
            e.kind,
            escape(f.get("from", "ledger" if e.kind == "mint" else "")),
            escape(f.get("to", f.get("name", ""))),
            f"{e.amount:,}" if e.amount else "",
            escape(shorten(f.get("memo", ""), 48)),
        )
    console.print(table)
    if len(entries) < total:
        console.print(f"[dim]last {len(entries)} of {total} entries; --all shows every one[/]")


@app.command("verify")
def verify(
    ctx: typer.Context,
    since: Path | None = typer.Option(
        None,
        "--since",
        help="A tree head saved earlier (the 'head' of `verify --json`): also prove the "
        "ledger still starts with what it covered.",
    ),
    ledger: Path | None = LEDGER,
    as_json: bool = JSON,
) -> None:
    """Check every entry: format, order, hash chain, signatures, balances, tree head."""
    from holomind.ledger import TreeHead, verify_ledger

    folder = ledger if ledger is not None else settings(ctx).home / "ledger"
    report = verify_ledger(folder)
    out: dict[str, Any] = report.to_dict()
    problem = report.problem
    if report.ok:
        with _ledger(ctx, folder) as led:
            head = led.head()
            out["head"] = head.to_dict()
            out["public_key"] = led.public_key
            if since is not None:
                old = TreeHead.from_bytes(_head_bytes(since), str(since))
                proof = led.prove_consistency(old.size) if 1 <= old.size <= head.size else None
                out["consistent_with"] = old.to_dict()
                if proof is None or not proof.verify(led.public_key, old_head=old):
                    problem = (
                        f"the ledger no longer starts with the {old.size} entries the tree head "
                        f"in {since} covered (rewritten, or another ledger's head)"
                    )
    out["ok"] = problem is None
    out["problem"] = problem
    if as_json:
        print_json(out)
    if problem is not None:
        raise CorruptFileError(f"{folder}: {problem}", hint="restore the ledger from a backup")
    if not as_json:
        tail = f"; ignored an unfinished append of {report.unfinished} bytes" * bool(
            report.unfinished
        )
        console.print(
            f"ok: {report.entries:,} entries, {report.accounts} accounts, {report.supply:,} "
            f"{_unit()} minted; signed tree head covers {out['head']['size']:,} entries, root "
            f"{out['head']['root'][:16]}…{tail}"
            + (f"; consistent with {since}" if since is not None else ""),
            soft_wrap=True,
        )


def _head_bytes(path: Path) -> bytes:
    """A saved tree head: a head.json file, or `verify --json` output (its 'head' field)."""
    from holomind.ledger.entry import canonical

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingFileError(f"{path} does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CorruptFileError(
            f"{path} is not JSON", hint="save the output of `verify --json`"
        ) from None
    head = data.get("head", data) if isinstance(data, dict) else data
    return canonical(head) + b"\n"


@app.command("prove")
def prove(
    ctx: typer.Context,
    entry: int | None = typer.Argument(None, help="The entry (seq) to prove.", show_default=False),
    check: Path | None = typer.Option(
        None, "--check", help="Instead: check a proof saved from `prove --json`."
    ),
    ledger: Path | None = LEDGER,
    as_json: bool = JSON,
) -> None:
    """Print a Merkle inclusion proof for an entry, or check a saved one (--check)."""
    from holomind.ledger import proof_from_dict

    if (entry is None) == (check is None):
        raise InvalidInputError("name an ENTRY to prove, or --check FILE, not both")
    with _ledger(ctx, ledger) as led:
        if check is not None:
            try:
                proof = proof_from_dict(json.loads(check.read_text(encoding="utf-8")))
            except FileNotFoundError:
                raise MissingFileError(f"{check} does not exist") from None
            except (UnicodeDecodeError, ValueError) as exc:
                raise CorruptFileError(f"{check} is not a proof: {exc}") from None
            holds = proof.verify(led.public_key)
            if as_json:
                print_json({"ok": holds, "proof": proof.to_dict()})
            if not holds:
                raise CorruptFileError(
                    f"{check}: the proof does not hold for this ledger's key (altered, or "
                    "from another ledger)"
                )
            if not as_json:
                console.print(f"ok: {escape(str(check))} holds for ledger {led.id}", soft_wrap=True)
            return
        assert entry is not None
        proof = led.prove(entry)
        stored = led.entry(entry)
        if not proof.verify(led.public_key):
            raise CorruptFileError(f"{led.path}: the proof for entry #{entry} does not hold")
        public_key = led.public_key
    if as_json:
        print_json({**proof.to_dict(), "entry": stored.to_dict(), "public_key": public_key})
        return
    head = proof.head
    console.print(
        f"entry #{entry} ({stored.kind}, leaf {proof.leaf[:16]}…) is in the tree of "
        f"{head.size:,} entries signed {head.time}, root {head.root[:16]}…; audit path of "
        f"{len(proof.path)} hashes (checked):",
        soft_wrap=True,
    )
    for h in proof.path:
        console.print(f"  {h}")


@app.command("export")
def export(
    ctx: typer.Context,
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here instead of stdout."),
    ledger: Path | None = LEDGER,
    as_json: bool = JSON,
) -> None:
    """Export every entry: CSV for spreadsheets, or --json with the signed tree head."""
    from holomind.files import atomic_write_text

    with _ledger(ctx, ledger) as led:
        bundle = led.export()
    if as_json:
        text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    else:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["seq", "time", "kind", "from", "to", "amount", "memo", "event", "hash"])
        for e in bundle["entries"]:
            writer.writerow(
                [
                    e["seq"],
                    e["time"],
                    e["kind"],
                    e.get("from", "ledger" if e["kind"] == "mint" else ""),
                    e.get("to", e.get("name", "")),
                    e.get("amount", ""),
                    e.get("memo", ""),
                    json.dumps(e["event"], ensure_ascii=False) if "event" in e else "",
                    e["hash"],
                ]
            )
        text = buf.getvalue()
    if out is None:
        typer.echo(text, nl=False)
        return
    atomic_write_text(out, text)
    err_console.print(
        f"exported {len(bundle['entries']):,} entries to {escape(str(out))}", soft_wrap=True
    )


@app.command("rules")
def rules(as_json: bool = JSON) -> None:
    """List the reward rules: which events earn credits, and how many."""
    from holomind.ledger import RULES

    if as_json:
        print_json([r.to_dict() for r in RULES.values()])
        return
    table = Table()
    for column in ("rule", _unit(), "details", "when"):
        table.add_column(column)
    for r in RULES.values():
        credits = f"{r.credits}" + (f" per {r.per}" if r.per else "")
        table.add_row(r.name, credits, ", ".join(r.details), r.description)
    console.print(table)
