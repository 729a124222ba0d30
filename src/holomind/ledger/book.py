"""The ledger's rules, applied entry by entry: what each entry may do and the state it leaves.

One `Book` replays a log from its genesis entry: positions and the hash chain,
signatures, known accounts, balances that never go negative, and reward events paid
at most once. Appending checks a new entry against the same rules before it is
written, so what the ledger writes and what `verify` accepts cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from holomind.ledger.entry import LEDGER, MAX_AMOUNT, UNIT, ZERO_HASH, Entry
from holomind.ledger.keys import public_key, signature_ok


class Refused(Exception):
    """An entry breaks a rule; the message reads on its own and after ``entry #N: ``."""

    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


@dataclass
class AccountState:
    """What the ledger knows about one account after the entries replayed so far."""

    name: str
    key: str  # hex Ed25519 public key
    opened: int  # seq of the entry that created it
    public: Ed25519PublicKey
    balance: int = 0
    earned: int = 0  # credits minted to it
    last: int = 0  # seq of the latest entry that touched it


@dataclass
class Book:
    """The state after replaying entries 1..size; `check` then `apply` each next entry."""

    trusted_key: str | None = None  # the ledger key the genesis entry must carry, if known
    size: int = 0
    last_hash: str = ZERO_HASH
    ledger_id: str | None = None
    ledger_key: str | None = None
    ledger_public: Ed25519PublicKey | None = None
    supply: int = 0
    accounts: dict[str, AccountState] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)  # reward event id -> seq that paid it
    rewards: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)

    def check(self, entry: Entry, message: bytes | None) -> None:
        """Refuse ``entry`` unless it may come next; ``message``: verify its signature too."""
        n = self.size + 1
        if entry.seq < n:
            raise Refused(f"a copy of entry #{entry.seq} is here (replayed or reordered)")
        if entry.seq > n:
            raise Refused(f"missing (entry #{entry.seq} stands in its place: removed or reordered)")
        if (entry.kind == "genesis") != (n == 1):
            raise Refused("the genesis entry must come first, and only first")
        signer_key = self._signer_key(entry)
        if message is not None and not signature_ok(signer_key, entry.sig, message):
            who = "the ledger" if entry.signer == LEDGER else entry.signer
            raise Refused(f"signature does not match {who}'s key (edited or forged)")
        if entry.prev != self.last_hash:
            raise Refused(f"not linked to entry #{n - 1} (its prev hash differs)")
        self.check_rules(entry.kind, entry.fields)

    def check_rules(self, kind: str, fields: dict[str, Any]) -> None:
        """Refuse an entry of ``kind`` with ``fields`` if it breaks a ledger rule now."""
        if kind == "account":
            name = fields["name"]
            if name in self.accounts:
                raise Refused(
                    f"account {name!r} already exists (entry #{self.accounts[name].opened})"
                )
        elif kind == "mint":
            self._known(fields["to"])
            if self.supply + fields["amount"] > MAX_AMOUNT:
                raise Refused(f"minting {fields['amount']} {UNIT} would pass the largest supply")
            event_id = fields.get("event", {}).get("id")
            if event_id is not None and event_id in self.events:
                raise Refused(
                    f"reward event {event_id!r} was already paid in entry "
                    f"#{self.events[event_id]} (replayed)"
                )
        elif kind == "transfer":
            sender = self._known(fields["from"])
            self._known(fields["to"])
            if fields["from"] == fields["to"]:
                raise Refused(f"{sender.name} cannot send credits to itself")
            if sender.balance < fields["amount"]:
                raise Refused(
                    f"{sender.name} has {sender.balance} {UNIT} and cannot send "
                    f"{fields['amount']} (overdraft)",
                    hint=f"see `holomind ledger balance {sender.name}`",
                )

    def apply(self, entry: Entry) -> None:
        """Take ``entry`` (already checked) into the state."""
        f, seq = entry.fields, entry.seq
        if entry.kind == "genesis":
            self.ledger_id, self.ledger_key = f["ledger"], f["key"]
            self.ledger_public = public_key(f["key"])
        elif entry.kind == "account":
            self.accounts[f["name"]] = AccountState(
                f["name"], f["key"], seq, public_key(f["key"]), last=seq
            )
        elif entry.kind == "mint":
            to = self.accounts[f["to"]]
            to.balance += f["amount"]
            to.earned += f["amount"]
            to.last = seq
            self.supply += f["amount"]
            event = f.get("event")
            if event is not None:
                if "id" in event:
                    self.events[event["id"]] = seq
                if isinstance(event.get("rule"), str):
                    self.rewards.setdefault((f["to"], event["rule"]), []).append(event)
        else:
            sender, to = self.accounts[f["from"]], self.accounts[f["to"]]
            sender.balance -= f["amount"]
            to.balance += f["amount"]
            sender.last = to.last = seq
        self.size, self.last_hash = seq, entry.hash

    def _signer_key(self, entry: Entry) -> Ed25519PublicKey:
        if entry.kind == "genesis":
            key = entry.fields["key"]
            if self.trusted_key is not None and key != self.trusted_key:
                raise Refused(
                    "genesis names a ledger key other than keys/ledger.key's (log replaced)"
                )
            return public_key(key)
        if entry.kind == "transfer":
            return self._known(entry.fields["from"]).public
        assert self.ledger_public is not None  # genesis came first
        return self.ledger_public

    def _known(self, name: str) -> AccountState:
        account = self.accounts.get(name)
        if account is None:
            raise Refused(
                f"there is no account {name!r}",
                hint="see `holomind ledger accounts list`, or create it with "
                f"`holomind ledger accounts create {name}`",
            )
        return account
