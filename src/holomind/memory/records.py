"""Records: a remembered exchange, its identity and checks, how it is drawn, and the table of them.

A `Record` is what callers get back. A `Draft` is a record about to be written (no
id yet). `RecordTable` holds a network's committed records as compact columns
(their JSON, who supersedes whom, content hashes) and builds `Record`s only when
asked, so a network of 100,000 records opens without making 100,000 objects.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from holomind.errors import CorruptFileError, InvalidInputError, NotSerializableError
from holomind.memory.render import LINE_HEIGHT, render_lines, rule, wrap_lines

MAX_RECORD_LINES = 60  # rendered lines per record; the data strip always holds everything
MADE_KEPT = 4096  # `Record`s a table keeps made, so repeated reads of the same ones are cheap


@dataclass(frozen=True)
class Record:
    """One remembered exchange: a question, its answer, when, and where it came from."""

    id: int  # position in this network, 1-based; never reused
    question: str
    answer: str
    created: datetime  # UTC
    meta: dict[str, Any] = field(default_factory=dict)
    hash: str = ""  # sha256 of question + NUL + answer: the identity used to de-duplicate
    model: str | None = None  # the model that produced the answer, if any
    supersedes: int | None = None  # id of the record whose answer this one replaces
    superseded_by: int | None = None  # set when a later record replaces this one

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (created as ISO 8601)."""
        out = dataclasses.asdict(self)
        out["created"] = self.created.isoformat()
        return out


@dataclass(frozen=True)
class Hit:
    """A search result: the record, its score, and how it was found."""

    record: Record
    score: float
    via: str  # "semantic" or "keyword"


def content_hash(question: str, answer: str) -> str:
    """The sha256 hex digest that identifies a Q&A pair across networks."""
    return hashlib.sha256(f"{question}\x00{answer}".encode()).hexdigest()


def check_text(value: Any, name: str) -> str:
    """``value`` if it is storable text, else an `InvalidInputError` naming ``name``."""
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be text, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(f"{name} is not valid Unicode (lone surrogate)") from None
    return value


def check_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """A JSON round-tripped copy of ``meta``, or a `NotSerializableError` saying why not."""
    try:
        text = json.dumps(meta, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise NotSerializableError(
            f"metadata cannot be stored: {exc}", hint="pass JSON values (str, number, list, dict)"
        ) from None
    return json.loads(text)


def parse_created(value: Any, what: str) -> datetime:
    """An ISO 8601 time as an aware datetime (UTC when it names no offset)."""
    try:
        created = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise CorruptFileError(f"{what}: bad creation time {value!r}") from None
    return created if created.tzinfo else created.replace(tzinfo=UTC)


@dataclass
class Draft:
    """A record about to be written: everything except its id."""

    question: str
    answer: str
    created: datetime
    model: str | None
    meta: dict[str, Any]
    supersedes: int | None = None
    vector: np.ndarray | None = None  # its embedding, when one was made
    embedder: str | None = None  # the model that made `vector`

    @classmethod
    def checked(
        cls,
        question: Any,
        answer: Any,
        model: Any = None,
        meta: dict[str, Any] | None = None,
        created: datetime | None = None,
    ) -> Draft:
        """A draft from caller input, refusing what cannot be stored (typed errors)."""
        return cls(
            question=check_text(question, "question"),
            answer=check_text(answer, "answer"),
            created=created or datetime.now(UTC),
            model=None if model is None else check_text(model, "model"),
            meta=check_meta(meta or {}),
        )

    @property
    def hash(self) -> str:
        """Its content hash."""
        return content_hash(self.question, self.answer)

    def fields(self, id: int) -> dict[str, Any]:
        """The JSON fields of its data strip, as record ``id`` (the file adds rows and adler)."""
        out: dict[str, Any] = {
            "id": id,
            "question": self.question,
            "answer": self.answer,
            "created": self.created.isoformat(),
            "hash": self.hash,
            "model": self.model,
            "meta": self.meta,
        }
        if self.supersedes is not None:
            out["supersedes"] = self.supersedes
        if self.vector is not None:
            out["embedder"] = self.embedder
        return out

    def vector_bytes(self) -> bytes:
        """Its embedding as stored: little-endian float16 (empty when there is none)."""
        return b"" if self.vector is None else np.asarray(self.vector).astype("<f2").tobytes()

    def render(self, id: int, width: int) -> np.ndarray:
        """Its text band as record ``id``: a header line, Q, A, meta, then a thin rule (ink)."""
        head = f"#{id}  {self.created:%Y-%m-%d %H:%M:%S}Z  hash {self.hash[:12]}"
        if self.model:
            head += f"  model {self.model}"
        if self.supersedes is not None:
            head += f"  replaces #{self.supersedes}"
        text = f"{head}\nQ: {self.question}\nA: {self.answer}"
        if self.meta:
            text += "\nmeta: " + json.dumps(self.meta, ensure_ascii=False)
        lines = wrap_lines(text, width)
        if len(lines) > MAX_RECORD_LINES:
            hidden = len(lines) - MAX_RECORD_LINES + 1
            lines = [*lines[: MAX_RECORD_LINES - 1], f"... {hidden} more lines in the data strip"]
        return np.vstack([render_lines(lines, width), rule(width, LINE_HEIGHT // 2)])


def record_from_fields(fields: dict[str, Any], what: str) -> Record:
    """The `Record` a data strip's fields describe, after checking every field and the hash."""
    try:
        rec = Record(
            id=fields["id"],
            question=fields["question"],
            answer=fields["answer"],
            created=parse_created(fields["created"], what),
            meta=fields["meta"],
            hash=fields["hash"],
            model=fields.get("model"),
            supersedes=fields.get("supersedes"),
        )
    except KeyError as exc:
        raise CorruptFileError(f"{what}: record lacks field {exc}") from None
    ok = (
        isinstance(rec.id, int)
        and isinstance(rec.question, str)
        and isinstance(rec.answer, str)
        and isinstance(rec.meta, dict)
        and isinstance(rec.hash, str)
        and rec.hash == content_hash(rec.question, rec.answer)
        and (rec.supersedes is None or isinstance(rec.supersedes, int))
        and (rec.model is None or isinstance(rec.model, str))
    )
    if not ok:
        raise CorruptFileError(f"{what}: record fields are malformed or its hash does not match")
    return rec


class RecordTable:
    """A network's committed records, ids 1..n in order, as columns; `Record`s made on demand."""

    def __init__(self) -> None:
        self._firsts: list[int] = []  # first id of each run of JSON
        self._runs: list[Sequence[bytes]] = []  # each record's data-strip JSON, by run
        self._digests = bytearray()  # sha256 of each record, 32 bytes apiece
        self._supersedes = np.zeros(64, dtype=np.int32)  # by position; 0 = replaces nothing
        self._superseded_by = np.zeros(64, dtype=np.int32)  # by position; 0 = current
        self._n = 0
        self._made: dict[int, Record] = {}  # recently made, oldest first (bounded)
        self._by_hash: dict[bytes, int] | None = None

    def __len__(self) -> int:
        return self._n

    def extend(self, jsons: Sequence[bytes], supersedes: np.ndarray, digests: bytes) -> None:
        """Add the next ``len(jsons)`` records (ids continue from the last one)."""
        count = len(jsons)
        if not count:
            return
        first = self._n + 1
        if self._runs and isinstance(self._runs[-1], list) and isinstance(jsons, list):
            self._runs[-1].extend(jsons)  # appends one at a time join the last run
        else:
            self._firsts.append(first)
            self._runs.append(list(jsons) if isinstance(jsons, list) else jsons)
        end = self._n + count
        if end > len(self._supersedes):
            grow = max(2 * end, 64) - len(self._supersedes)
            self._supersedes = np.concatenate([self._supersedes, np.zeros(grow, np.int32)])
            self._superseded_by = np.concatenate([self._superseded_by, np.zeros(grow, np.int32)])
        self._supersedes[self._n : end] = supersedes
        # A record replaces an earlier one; a later replacement wins, as in file order.
        for pos in np.flatnonzero(supersedes) + self._n:
            target = int(self._supersedes[pos])
            if 0 < target <= pos:
                self._superseded_by[target - 1] = pos + 1
                self._made.pop(target, None)
        self._digests += digests
        if self._by_hash is not None:
            for i in range(count):
                self._by_hash.setdefault(bytes(digests[32 * i : 32 * i + 32]), first + i)
        self._n = end

    def json(self, id: int) -> bytes:
        """The data-strip JSON of record ``id`` (1 <= id <= len)."""
        run = np.searchsorted(self._firsts, id, side="right") - 1
        return self._runs[run][id - self._firsts[run]]

    def get(self, id: int) -> Record | None:
        """Record ``id``, or None when there is none."""
        if not isinstance(id, int) or not 1 <= id <= self._n:
            return None
        rec = self._made.get(id)
        if rec is None:
            rec = record_from_fields(json.loads(self.json(id)), f"record #{id}")
            by = int(self._superseded_by[id - 1])
            if by:
                rec = dataclasses.replace(rec, superseded_by=by)
            if len(self._made) >= MADE_KEPT:
                del self._made[next(iter(self._made))]
            self._made[id] = rec
        return rec

    def many(self, ids: Sequence[int]) -> list[Record]:
        """Records by id, in the order given."""
        return [rec for rec in map(self.get, ids) if rec is not None]

    def live(self) -> np.ndarray:
        """Bool per position: the record is current (nothing superseded it)."""
        return self._superseded_by[: self._n] == 0

    def supersedes(self, start: int, count: int) -> np.ndarray:
        """The supersedes column of ``count`` records from position ``start`` (0 = none)."""
        return self._supersedes[start : start + count].copy()

    def digests(self, start: int, count: int) -> bytes:
        """The sha256 digests of ``count`` records from position ``start``, 32 bytes each."""
        return bytes(self._digests[32 * start : 32 * (start + count)])

    def jsons(self, start: int, count: int) -> list[bytes]:
        """The data-strip JSON of ``count`` records from position ``start``."""
        return [self.json(i) for i in range(start + 1, start + count + 1)]

    def id_of_hash(self, digest: str) -> int | None:
        """The id of the first record with this content hash (hex), or None."""
        if self._by_hash is None:
            self._by_hash = {}
            blob = bytes(self._digests)
            for i in range(self._n - 1, -1, -1):  # backwards: the first occurrence wins
                self._by_hash[blob[32 * i : 32 * i + 32]] = i + 1
        try:
            return self._by_hash.get(bytes.fromhex(digest))
        except ValueError:
            return None

    def texts(self) -> list[str]:
        """Each record's question and answer, joined by a space, for keyword search."""
        out = []
        for i in range(1, self._n + 1):
            fields = json.loads(self.json(i))
            out.append(f"{fields['question']} {fields['answer']}")
        return out
