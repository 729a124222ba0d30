"""The reward ledger: a folder holding an append-only log of signed entries and its tree head.

    ledger/
      entries.jsonl  one canonical JSON entry per line (see `entry`), hash-chained
      head.json      the signed tree head: size and RFC 6962 Merkle root of the log
      keys/          private Ed25519 keys, 0600: ledger.key and one per account

An append writes one whole line with one ``write`` (the entry is then committed: a
SIGKILL cannot take it back), fsyncs the log, and replaces ``head.json`` atomically.
A line left unfinished by a crash has no newline; readers ignore it and the next
writer cuts it off. ``head.json`` lets a reader see entries cut off the end. Every
change is made under an exclusive ``flock`` on the log, so processes can share a
ledger, and under a lock per `Ledger`, so threads can share one object.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import secrets
import shutil
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError
from holomind.files import atomic_write_bytes, fsync_folder
from holomind.ledger import rewards
from holomind.ledger.book import Book, Refused
from holomind.ledger.entry import (
    FORMAT_VERSION,
    LEDGER,
    MAX_AMOUNT,
    MAX_EVENT,
    MAX_MEMO,
    UNIT,
    ZERO_HASH,
    Entry,
    EntryFormatError,
    canonical,
    check_name,
    decode,
    now,
    sign,
    signed_message,
)
from holomind.ledger.keys import KeyRing, public_hex
from holomind.ledger.merkle import MerkleTree, leaf_hash
from holomind.ledger.proofs import ConsistencyProof, InclusionProof, TreeHead

LOG = "entries.jsonl"
HEAD = "head.json"
KEYS = "keys"


class TornTailWarning(UserWarning):
    """The log ended in an append a crash left unfinished; it was ignored (and cut off)."""


@dataclass(frozen=True)
class Account:
    """An account as the ledger sees it now."""

    name: str
    key: str  # hex Ed25519 public key
    opened: int  # seq of the entry that created it
    balance: int  # credits held
    earned: int  # credits minted to it in all
    last: int  # seq of the latest entry that touched it

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "name": self.name,
            "key": self.key,
            "opened": self.opened,
            "balance": self.balance,
            "earned": self.earned,
            "last": self.last,
        }


@dataclass(frozen=True)
class VerifyReport:
    """What `verify` found: ok, or the first bad entry and what is wrong with it."""

    path: str
    ok: bool
    entries: int  # complete entries that passed every check
    head_size: int | None  # entries the signed tree head covers (None: no readable head)
    root: str | None  # hex root of the entries that passed
    accounts: int
    supply: int  # credits minted in all
    first_bad: int | None  # seq of the first bad or missing entry, when one is to blame
    problem: str | None  # one line: what is wrong
    unfinished: int  # bytes of an unfinished append at the end (ignored, not an error)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dataclasses.asdict(self)


class Ledger:
    """A local, tamper-evident ledger of credits: accounts, mints, transfers, proofs.

    Open one with `Ledger.open(path)`; every method is safe to call from several
    threads, and several processes may append to the same folder at once.
    """

    def __init__(self, path: Path) -> None:
        """Use `Ledger.open`."""
        self.path = path
        self._log = path / LOG
        self._head_path = path / HEAD
        self._keys = KeyRing(path / KEYS)
        self._lock = threading.RLock()
        self._depth = 0  # nesting of holds by the thread holding _lock (flock is taken once)
        self._writing = False  # the outermost hold is exclusive
        self._fd = -1
        self._signers: dict[str, Ed25519PrivateKey] = {}

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = False) -> Ledger:
        """Open the ledger folder ``path``; ``create``: make a new ledger there if there is none.

        Opening replays the log (hash chain, rules, and the Merkle root against the signed
        tree head); it does not re-check old signatures: `verify` does.
        """
        path = Path(path).expanduser()
        if not (path / LOG).exists():
            if not create:
                raise MissingFileError(
                    f"there is no ledger at {path}",
                    hint="create one with `holomind ledger accounts create NAME`, or name "
                    "another with --ledger",
                )
            _create(path)
        ledger = cls(path)
        ledger._attach()
        with ledger._shared():
            pass
        return ledger

    def _attach(self) -> None:
        """(Re)open the log file and forget what was read from it."""
        if self._fd >= 0:
            os.close(self._fd)
        self._read_only = not os.access(self._log, os.W_OK)
        try:
            self._fd = os.open(
                self._log, os.O_RDONLY if self._read_only else os.O_RDWR | os.O_APPEND
            )
        except FileNotFoundError:
            raise MissingFileError(f"{self._log} is missing", hint="restore the ledger") from None
        except PermissionError:
            raise InvalidInputError(f"no permission to read {self._log}") from None
        self._ino = os.fstat(self._fd).st_ino
        self._offset = 0
        self._book = Book(trusted_key=self._trusted_key())
        self._tree = MerkleTree()
        self._lines: list[bytes] = []
        self._head: TreeHead | None = None
        self._head_stamp: tuple[int, int, int] | None = None
        self._tail = 0  # bytes of an unfinished append last seen at the end of the log
        self._swept = False

    def _trusted_key(self) -> str | None:
        """The ledger key in keys/ledger.key, the anchor the genesis entry must match."""
        if not self._keys.exists(LEDGER):
            return None
        key = self._keys.load(LEDGER)
        self._signers[LEDGER] = key
        return public_hex(key)

    def close(self) -> None:
        """Release the log file; the object cannot be used afterwards."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ locking and reading

    def _shared(self) -> _Hold:
        """Hold the ledger for reading, after taking in what other processes appended."""
        return _Hold(self, exclusive=False)

    def _exclusive(self) -> _Hold:
        """Hold the ledger for appending; on the way out, fsync and sign a new tree head."""
        return _Hold(self, exclusive=True)

    def _enter(self, exclusive: bool) -> None:
        """Take the file lock and read what is new, unless this thread holds the ledger already."""
        if self._fd < 0:
            raise InvalidInputError(f"the ledger {self.path} was closed")
        if exclusive and self._read_only:
            raise InvalidInputError(
                f"no permission to write {self._log}", hint="this copy of the ledger is read-only"
            )
        if self._depth:
            if exclusive and not self._writing:
                raise RuntimeError("cannot append while the ledger is held only for reading")
            self._depth += 1
            return
        if os.stat(self._log).st_ino != self._ino:  # replaced under us: read it anew
            self._attach()
        fcntl.flock(self._fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            self._read_new(exclusive)
        except BaseException:
            # What was read may be half a story: forget it, and read it all again next time.
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._attach()
            raise
        self._depth, self._writing = 1, exclusive

    def _leave(self) -> None:
        """Undo one `_enter`; the outermost commits what was appended and drops the file lock."""
        self._depth -= 1
        if self._depth:
            return
        try:
            if self._writing and self._head_size() < self._book.size:
                self._commit()
        finally:
            self._writing = False
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _head_size(self) -> int:
        return 0 if self._head is None else self._head.size

    def _read_new(self, exclusive: bool) -> None:
        """Take in entries and a tree head written since the last look (lock held)."""
        head, stamp = self._read_head()
        size = os.fstat(self._fd).st_size
        if size < self._offset:
            raise CorruptFileError(
                f"{self._log} shrank from {self._offset} to {size} bytes while open",
                hint="entries were removed: run `holomind ledger verify`",
            )
        if size > self._offset:
            data = os.pread(self._fd, size - self._offset, self._offset)
            end = data.rfind(b"\n") + 1
            signed_up_to = max(self._head_size(), head.size if head else 0)
            for line in data[:end].split(b"\n")[:-1]:
                self._take(line, check_signature=self._book.size >= signed_up_to)
            self._unfinished_tail(len(data) - end, exclusive)
        if head is not None:
            self._accept_head(head)
            self._head_stamp = stamp
        if self._head is None:
            raise CorruptFileError(
                f"{self._head_path} is missing",
                hint="restore it from a backup; without it cut-off entries cannot be detected",
            )
        if exclusive and not self._swept:
            for stale in self.path.glob(f".{HEAD}.*.tmp"):  # left by a writer killed mid-write
                stale.unlink(missing_ok=True)
            self._swept = True

    def _take(self, line: bytes, check_signature: bool) -> None:
        seq = self._book.size + 1
        try:
            entry = decode(line)
            self._book.check(entry, signed_message(line) if check_signature else None)
        except (EntryFormatError, Refused) as exc:
            raise CorruptFileError(
                f"{self._log}: entry #{seq}: {exc}",
                hint="run `holomind ledger verify` for the full check",
            ) from None
        self._book.apply(entry)
        self._tree.append(bytes.fromhex(entry.hash))
        self._lines.append(line)
        self._offset += len(line) + 1

    def _unfinished_tail(self, nbytes: int, exclusive: bool) -> None:
        # Writers hold the exclusive lock while writing, so a line without its newline
        # seen under any lock is an append that died part-way: never committed.
        seen, self._tail = self._tail, nbytes
        if nbytes == 0:
            return
        if exclusive:
            os.ftruncate(self._fd, self._offset)
            os.fsync(self._fd)
            self._tail = 0
        elif nbytes == seen:
            return  # said once already
        what = "cut off" if exclusive else "ignored; the next append cuts it off"
        warnings.warn(
            TornTailWarning(
                f"{self._log} ended in an unfinished append of {nbytes} bytes ({what}); "
                "no committed entry was lost"
            ),
            stacklevel=2,
        )

    def _read_head(self) -> tuple[TreeHead | None, tuple[int, int, int] | None]:
        """The stored head and its file stamp if it changed since the last look, else None."""
        try:
            st = os.stat(self._head_path)
        except FileNotFoundError:
            return None, None
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        if stamp == self._head_stamp:
            return None, None
        return TreeHead.from_bytes(self._head_path.read_bytes(), str(self._head_path)), stamp

    def _accept_head(self, head: TreeHead) -> None:
        problem = _head_problem(head, self._book, self._tree)
        if problem is not None:
            raise CorruptFileError(
                f"{self._head_path}: {problem}", hint="run `holomind ledger verify`"
            )
        self._head = head

    # ------------------------------------------------------------ writing

    def _signer(self, name: str) -> Ed25519PrivateKey:
        key = self._signers.get(name)
        if key is None:
            key = self._signers[name] = self._keys.load(name)
        return key

    def _append(self, kind: str, fields: dict[str, Any], signer: str) -> Entry:
        """Check, sign, write and take in one entry (exclusive lock held)."""
        try:
            self._book.check_rules(kind, fields)
        except Refused as exc:
            raise InvalidInputError(exc.reason, hint=exc.hint) from None
        key = self._signer(signer)
        self._signer(LEDGER)  # the tree head after it needs the ledger's key too
        seq, prev, time = self._book.size + 1, self._book.last_hash, now()
        line, sig = sign({"seq": seq, "prev": prev, "time": time, "kind": kind, **fields}, key)
        data = line + b"\n"
        try:
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except BaseException:
            os.ftruncate(self._fd, self._offset)  # nothing half-written stays behind
            raise
        leaf = leaf_hash(line)
        entry = Entry(seq, kind, time, prev, sig, leaf.hex(), fields)
        self._book.apply(entry)
        self._tree.append(leaf)
        self._lines.append(line)
        self._offset += len(data)
        return entry

    def _commit(self) -> None:
        """Make the appended entries durable and sign a tree head over them."""
        os.fsync(self._fd)
        assert self._book.ledger_id is not None
        head = TreeHead.sign(
            self._book.ledger_id, self._book.size, self._tree.root(), now(), self._signer(LEDGER)
        )
        atomic_write_bytes(self._head_path, head.to_bytes())
        self._head = head
        st = os.stat(self._head_path)
        self._head_stamp = (st.st_ino, st.st_size, st.st_mtime_ns)

    @contextlib.contextmanager
    def batch(self) -> Iterator[Ledger]:
        """Append many entries with one fsync and one tree head at the end.

        Other threads and processes wait until the block ends. Each entry is committed
        as its call returns (a crash inside the block loses none of them); the fsync
        and the signed tree head come once, when the block ends.
        """
        with self._exclusive():
            yield self

    def create_account(self, name: str) -> Account:
        """Open an account: a new Ed25519 key in keys/NAME.key, registered by the ledger."""
        check_name(name)
        with self._exclusive():
            if name in self._book.accounts:
                raise InvalidInputError(
                    f"account {name!r} already exists",
                    hint="see `holomind ledger accounts list`",
                )
            self._signer(LEDGER)  # refuse before writing a key if the ledger cannot sign
            # A key left by a crash between writing it and the entry is ours to reuse.
            key = self._keys.load(name) if self._keys.exists(name) else self._keys.create(name)
            self._signers[name] = key
            self._append("account", {"name": name, "key": public_hex(key)}, LEDGER)
            return self.account(name)

    def ensure_account(self, name: str) -> Account:
        """The account ``name``, opened now if it does not exist yet (for agents that restart)."""
        with self._exclusive():
            if name in self._book.accounts:
                return self.account(name)
            return self.create_account(name)

    def mint(
        self, account: str, amount: int, memo: str = "", event: dict[str, Any] | None = None
    ) -> Entry:
        """Create ``amount`` credits in ``account``, signed by the ledger's key.

        ``event`` records what earned them (JSON, at most 16 KB); an event with an
        ``id`` is paid once: minting the same id again is refused as a replay.
        """
        fields: dict[str, Any] = {"to": account, "amount": _amount(amount), "memo": _memo(memo)}
        if event is not None:
            fields["event"] = _event(event)
        with self._exclusive():
            return self._append("mint", fields, LEDGER)

    def reward(self, account: str, rule: str, *, memo: str | None = None, **details: Any) -> Entry:
        """Mint what reward ``rule`` pays for an event with ``details`` (see `rewards.RULES`).

        Refused if the details do not fit the rule, the event was already paid to this
        account, or (for rules that track a best) it does not beat the best so far.
        """
        found = rewards.rule(rule)
        event = found.event(account, details)
        with self._exclusive():
            if found.improves is not None:
                earlier = self._book.rewards.get((account, rule), [])
                best = max((e[found.improves] for e in earlier), default=None)
                if best is not None and details[found.improves] <= best:
                    raise InvalidInputError(
                        f"{account}'s {found.improves} {details[found.improves]} does not beat "
                        f"its best rewarded {found.improves}, {best}"
                    )
            text = found.memo.format(**details) if memo is None else memo
            return self.mint(account, found.amount(details), text, event=event)

    def transfer(self, sender: str, recipient: str, amount: int, memo: str = "") -> Entry:
        """Move ``amount`` credits, signed by ``sender``'s key; refused if it would overdraw."""
        fields = {"from": sender, "to": recipient, "amount": _amount(amount), "memo": _memo(memo)}
        with self._exclusive():
            return self._append("transfer", fields, sender)

    # ------------------------------------------------------------ reading

    def __len__(self) -> int:
        """Entries in the log."""
        with self._shared():
            return self._book.size

    @property
    def id(self) -> str:
        """The ledger's id (hex), fixed by its genesis entry."""
        assert self._book.ledger_id is not None
        return self._book.ledger_id

    @property
    def public_key(self) -> str:
        """The ledger's public key (hex): what checks mints, accounts and tree heads."""
        assert self._book.ledger_key is not None
        return self._book.ledger_key

    def account(self, name: str) -> Account:
        """One account; `InvalidInputError` if there is none of that name."""
        with self._shared():
            state = self._book.accounts.get(name)
            if state is None:
                raise InvalidInputError(
                    f"there is no account {name!r}", hint="see `holomind ledger accounts list`"
                )
            return Account(
                state.name, state.key, state.opened, state.balance, state.earned, state.last
            )

    def accounts(self) -> list[Account]:
        """Every account, in the order they were opened."""
        with self._shared():
            return [self.account(name) for name in self._book.accounts]

    def balance(self, name: str) -> int:
        """The credits ``name`` holds."""
        return self.account(name).balance

    @property
    def supply(self) -> int:
        """Credits minted in all (the sum of every balance)."""
        with self._shared():
            return self._book.supply

    def entry(self, seq: int) -> Entry:
        """Entry ``seq`` (1-based)."""
        with self._shared():
            if not 1 <= seq <= self._book.size:
                raise InvalidInputError(
                    f"there is no entry #{seq}", hint=f"entries run from 1 to {self._book.size}"
                )
            return decode(self._lines[seq - 1])

    def history(
        self, account: str | None = None, *, last: int | None = None, kinds: tuple[str, ...] = ()
    ) -> list[Entry]:
        """Entries oldest first: all or those touching ``account``, of ``kinds``, the ``last`` N."""
        with self._shared():
            if account is not None:
                self.account(account)
            found: list[Entry] = []
            for line in reversed(self._lines):  # newest first, so --last stops early
                if last is not None and len(found) >= last:
                    break
                entry = decode(line)
                if kinds and entry.kind not in kinds:
                    continue
                if account is None or account in (
                    entry.fields.get("to"),
                    entry.fields.get("from"),
                    entry.fields.get("name"),
                ):
                    found.append(entry)
            return found[::-1]

    def earned(self, account: str, rule: str) -> list[dict[str, Any]]:
        """The events ``account`` was rewarded for under ``rule``, oldest first."""
        with self._shared():
            return [dict(e) for e in self._book.rewards.get((account, rule), [])]

    def head(self) -> TreeHead:
        """The signed tree head over every entry, signed now if a crash left it behind.

        Inside a `batch` it is the head from before the batch (signed when it ends).
        """
        with self._shared():
            if self._head_size() == self._book.size:
                assert self._head is not None
                return self._head
        with self._exclusive():
            pass  # the outermost hold signs a head over every entry as it ends
        with self._shared():
            assert self._head is not None
            return self._head

    def prove(self, seq: int) -> InclusionProof:
        """Proof that entry ``seq`` is in the tree the current signed head covers."""
        head = self.head()
        with self._shared():
            if not 1 <= seq <= head.size:
                raise InvalidInputError(
                    f"there is no entry #{seq}", hint=f"entries run from 1 to {head.size}"
                )
            path = self._tree.inclusion_proof(seq - 1, head.size)
            return InclusionProof(
                seq, self._tree.leaf(seq - 1).hex(), [p.hex() for p in path], head
            )

    def prove_consistency(self, old_size: int) -> ConsistencyProof:
        """Proof that the first ``old_size`` entries are the start of the current signed tree."""
        head = self.head()
        with self._shared():
            if not 1 <= old_size <= head.size:
                raise InvalidInputError(
                    f"cannot prove a tree of {old_size} entries",
                    hint=f"sizes run from 1 to {head.size}",
                )
            path = self._tree.consistency_proof(old_size, head.size)
            return ConsistencyProof(
                old_size, self._tree.root(old_size).hex(), [p.hex() for p in path], head
            )

    def verify(self) -> VerifyReport:
        """Check every entry from scratch, signatures included (see `verify_ledger`)."""
        with self._lock:
            if self._depth:  # our own lock would block verify's reader
                raise InvalidInputError("verify cannot run inside a batch or another call")
        return verify_ledger(self.path)

    def export(self) -> dict[str, Any]:
        """Every entry as stored (plus its hash), with the signed tree head over them all."""
        head = self.head()
        with self._shared():
            return {
                "format": f"holomind-ledger/{FORMAT_VERSION}",
                "ledger": self.id,
                "public_key": self.public_key,
                "unit": UNIT,
                "head": head.to_dict(),
                "entries": [decode(line).to_dict() for line in self._lines[: head.size]],
            }

    def summary(self) -> dict[str, Any]:
        """What a dashboard shows: size, supply, accounts, the head, the unit."""
        with self._shared():
            assert self._head is not None
            return {
                "path": str(self.path),
                "ledger": self.id,
                "public_key": self.public_key,
                "unit": UNIT,
                "entries": self._book.size,
                "supply": self._book.supply,
                "accounts": [a.to_dict() for a in self.accounts()],
                "head": self._head.to_dict(),
            }


class _Hold:
    """A context manager for one hold on a `Ledger`: its thread lock, then `_enter`/`_leave`."""

    __slots__ = ("exclusive", "ledger")

    def __init__(self, ledger: Ledger, exclusive: bool) -> None:
        self.ledger, self.exclusive = ledger, exclusive

    def __enter__(self) -> None:
        self.ledger._lock.acquire()
        try:
            self.ledger._enter(self.exclusive)
        except BaseException:
            self.ledger._lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            self.ledger._leave()
        finally:
            self.ledger._lock.release()


def verify_ledger(path: str | os.PathLike[str]) -> VerifyReport:
    """Check a ledger folder entry by entry: format, order, chain, signatures, rules, tree head.

    Stops at the first problem and names the entry to blame. Signatures are checked
    against the keys the log registers; the genesis key must match keys/ledger.key
    when that file is present.
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise MissingFileError(f"there is no ledger at {folder}", hint="check --ledger")
    keys = KeyRing(folder / KEYS)
    book = Book(trusted_key=public_hex(keys.load(LEDGER)) if keys.exists(LEDGER) else None)
    tree = MerkleTree()

    def report(problem: str | None, first_bad: int | None, head: TreeHead | None) -> VerifyReport:
        return VerifyReport(
            path=str(folder),
            ok=problem is None,
            entries=book.size,
            head_size=None if head is None else head.size,
            root=tree.root().hex() if book.size else None,
            accounts=len(book.accounts),
            supply=book.supply,
            first_bad=first_bad,
            problem=problem,
            unfinished=unfinished,
        )

    unfinished = 0
    head_path = folder / HEAD
    try:
        head: TreeHead | None = TreeHead.from_bytes(head_path.read_bytes(), HEAD)
        head_problem = None
    except FileNotFoundError:
        head, head_problem = None, f"{HEAD} is missing, so entries cut off the end would not show"
    except CorruptFileError as exc:
        head, head_problem = None, exc.message
    try:
        with open(folder / LOG, "rb") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_SH)
            data = f.read()
    except FileNotFoundError:
        return report(f"entry #1: missing ({LOG} is gone)", 1, head)
    end = data.rfind(b"\n") + 1
    unfinished = len(data) - end
    for line in data[:end].split(b"\n")[:-1]:
        seq = book.size + 1
        try:
            entry = decode(line)
            book.check(entry, signed_message(line))
        except (EntryFormatError, Refused) as exc:
            return report(f"entry #{seq}: {exc}", seq, head)
        book.apply(entry)
        tree.append(bytes.fromhex(entry.hash))
    if book.size == 0:
        return report("entry #1: missing (the log is empty)", 1, head)
    if head_problem is not None:
        return report(head_problem, None, head)
    assert head is not None
    if head.size > book.size:
        seq = book.size + 1
        return report(
            f"entry #{seq}: missing (the log ends after #{book.size} but the signed tree "
            f"head covers {head.size} entries: cut off or removed)",
            seq,
            head,
        )
    problem = _head_problem(head, book, tree)
    return report(None if problem is None else f"{HEAD}: {problem}", None, head)


def _head_problem(head: TreeHead, book: Book, tree: MerkleTree) -> str | None:
    """What is wrong with ``head`` for this log, or None."""
    if head.ledger != book.ledger_id or book.ledger_key is None:
        return "belongs to another ledger"
    if not head.signed_by(book.ledger_key):
        return "its signature does not match the ledger key (edited or forged)"
    if head.size > book.size:
        return (
            f"covers {head.size} entries but the log holds {book.size}: entry "
            f"#{book.size + 1} is missing"
        )
    if tree.root(head.size).hex() != head.root:
        return f"its root does not match entries 1..{head.size}: an entry was changed"
    return None


def _create(path: Path) -> None:
    """Make a new ledger at ``path``: keys, genesis entry and tree head, all or nothing.

    Everything is built in a temporary folder beside ``path`` and renamed into place,
    so a crash leaves no half-made ledger, and of two processes creating the same
    ledger at once one wins and the other opens it.
    """
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InvalidInputError(
            f"{path} exists and is not a ledger", hint="name an empty or new folder with --ledger"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        tmp.mkdir()
        key = KeyRing(tmp / KEYS).create(LEDGER)
        genesis = {
            "seq": 1,
            "prev": ZERO_HASH,
            "time": now(),
            "kind": "genesis",
            "ledger": secrets.token_hex(16),
            "key": public_hex(key),
            "unit": UNIT,
            "version": FORMAT_VERSION,
        }
        line, _ = sign(genesis, key)
        with open(tmp / LOG, "wb") as f:
            f.write(line + b"\n")
            f.flush()
            os.fsync(f.fileno())
        tree = MerkleTree()
        tree.append(leaf_hash(line))
        head = TreeHead.sign(genesis["ledger"], 1, tree.root(), now(), key)
        atomic_write_bytes(tmp / HEAD, head.to_bytes())
        fsync_folder(tmp)
        try:
            os.rename(tmp, path)  # replaces an empty folder; fails if another ledger won
        except OSError:
            if not (path / LOG).exists():
                raise
        fsync_folder(path.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _amount(amount: int) -> int:
    if type(amount) is not int or not 1 <= amount <= MAX_AMOUNT:
        raise InvalidInputError(
            f"an amount is a whole number of {UNIT} from 1 to {MAX_AMOUNT}, got {amount!r}"
        )
    return amount


def _memo(memo: str) -> str:
    if not isinstance(memo, str) or len(memo) > MAX_MEMO:
        raise InvalidInputError(f"a memo is text of at most {MAX_MEMO} characters")
    try:
        memo.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError("a memo cannot hold unpaired surrogates") from None
    return memo


def _event(event: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise InvalidInputError("a mint's event is a JSON object (a dict)")
    stored = canonical(event)
    if len(stored) > MAX_EVENT:
        raise InvalidInputError(f"a mint's event is at most {MAX_EVENT} bytes of JSON")
    if "id" in event and not isinstance(event["id"], str):
        raise InvalidInputError("a mint's event id is text")
    return json.loads(stored)  # a copy, exactly as stored: the caller may reuse theirs
