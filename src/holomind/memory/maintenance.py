"""Looking after networks: verify every byte, and plan what an import or export copies.

`verify` reads a network's pages straight from disk (never the sidecar index) and
checks every chunk CRC, record checksum, band size, id and Adler-32 chain. The
import helpers turn another network's records (or a JSONL export's lines) into
drafts; `plan_import` then decides, under the writer's lock, which of them are new
and what the ids of the records they supersede are in this network.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from holomind.errors import CorruptFileError, MissingFileError
from holomind.files import replacing
from holomind.memory import codec
from holomind.memory.pngfile import CUT_SHORT, NetworkFile, TailWarning
from holomind.memory.records import Draft, Record, parse_created


@dataclass
class Verification:
    """What `PixelNetwork.verify` found."""

    ok: bool  # every committed record and checksum is intact
    records: int
    problems: list[str]  # damage found (ok is False when there is any)
    notes: list[str] = field(default_factory=list)  # harmless findings, e.g. an unfinished tail
    pages: int = 1  # how many page files were checked

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


def verify(path: Path) -> Verification:
    """Decode every band of every page of the network at ``path`` and check every checksum."""
    net = NetworkFile(path, 1024)
    try:
        count = net.page_count()
    except CorruptFileError as exc:
        return Verification(False, 0, [str(exc)])
    if count == 0:
        return Verification(True, 0, [], pages=0)
    problems: list[str] = []
    notes: list[str] = []
    records = 0
    for number in range(count):
        last = number == count - 1
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                page, parsed = net.read(number, records + 1, last)
        except CorruptFileError as exc:
            return Verification(False, records, [*problems, str(exc)], notes, count)
        tail = [str(w.message) for w in caught if issubclass(w.category, TailWarning)]
        # A cut file lost committed records; an unfinished append lost nothing.
        (problems if page.dirty == CUT_SHORT else notes).extend(tail)
        records += len(parsed)
        stride = page.width // 8 + 1
        adler = zlib.adler32(net.header_band(page))
        for rec in parsed:
            entry = rec.entry
            if entry.adler_before != adler:
                problems.append(f"record #{rec.fields['id']}: checksum chain broken")
            for data, rows in net.band_data(page, entry):
                try:
                    raw = codec.inflate_band(data, rows * stride, f"record #{rec.fields['id']}")
                except CorruptFileError as exc:
                    problems.append(str(exc))
                    continue
                adler = zlib.adler32(raw, adler)
        if page.dirty is None and adler != page.adler:
            problems.append(f"{page.path.name}: image checksum (Adler-32) does not match the rows")
    return Verification(not problems, records, problems, notes, count)


@dataclass
class Candidate:
    """A record offered by an import: the draft, and its id and supersedes where it came from."""

    draft: Draft
    source_id: int | None
    source_supersedes: int | None


def from_records(
    records: Iterable[Record],
    origin: str,
    stored: Callable[[int], tuple[str, np.ndarray] | None],
    model: str | None,
) -> list[Candidate]:
    """Candidates from another network's records, keeping vectors ``model`` can use.

    ``stored(id)`` gives a record's stored (model, vector); a vector from another
    model is not comparable with ours, so it is left for the importer to re-embed
    (``model`` None keeps every vector).
    """
    out = []
    for rec in records:
        meta = dict(rec.meta)
        meta.setdefault("origin", {"network": origin, "id": rec.id})
        draft = Draft(rec.question, rec.answer, rec.created, rec.model, meta)
        got = stored(rec.id)
        if got is not None and (model is None or got[0] == model):
            draft.embedder, draft.vector = got[0], got[1].copy()
        out.append(Candidate(draft, rec.id, rec.supersedes))
    return out


def from_jsonl(src: Path) -> list[Candidate]:
    """Candidates from a JSONL export (one `Record.to_dict()` per line; id and created optional)."""
    out = []
    try:
        lines = src.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise MissingFileError(f"{src} does not exist") from None
    except UnicodeDecodeError:
        raise CorruptFileError(f"{src} is not UTF-8 text", hint="import a .jsonl export") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            created = parse_created(item["created"], "") if item.get("created") else None
            draft = Draft.checked(
                item["question"],
                item["answer"],
                item.get("model"),
                dict(item.get("meta") or {}),
                created,
            )
            source_id = item.get("id")
            supersedes = item.get("supersedes")
            if not all(isinstance(x, int | None) for x in (source_id, supersedes)):
                raise TypeError("id and supersedes must be integers")
        except (ValueError, KeyError, TypeError, AttributeError, CorruptFileError) as exc:
            raise CorruptFileError(
                f"{src}:{lineno}: not a memory record ({exc})",
                hint="each line needs question, answer (and optionally created, meta)",
            ) from None
        draft.meta.setdefault("origin", {"network": src.name, "id": source_id})
        out.append(Candidate(draft, source_id, supersedes))
    return out


def plan_import(
    candidates: list[Candidate], id_of_hash: Callable[[str], int | None], next_id: int
) -> list[Draft]:
    """The drafts to append, in order: the candidates this network lacks (by content hash).

    Call it while holding the network's write lock, with ``next_id`` the id the first
    draft will get: a record that supersedes another then points at that record's id
    here, whether it was imported now or was already present.
    """
    drafts: list[Draft] = []
    ids: dict[int, int] = {}  # source id -> id in this network
    batch: dict[str, int] = {}  # hash -> id, for repeats within the import
    for cand in candidates:
        draft = cand.draft
        digest = draft.hash
        ours = id_of_hash(digest) or batch.get(digest)
        if ours is None:
            ours = batch[digest] = next_id + len(drafts)
            target = cand.source_supersedes
            draft.supersedes = ids.get(target) if target is not None else None
            drafts.append(draft)
        if cand.source_id is not None:
            ids[cand.source_id] = ours
    return drafts


def write_jsonl(target: Path, records: Iterable[Record]) -> int:
    """Write records as JSON lines (atomically); returns how many."""
    count = 0
    with replacing(target) as f:
        for rec in records:
            f.write((json.dumps(rec.to_dict(), ensure_ascii=False) + "\n").encode())
            count += 1
    return count
