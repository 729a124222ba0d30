"""What a sleep replays: which pixel-network records, how often, and as what text.

Selection (the rules `holomind sleep` documents in docs/cartridges.md):

- **New** records — appended since the last sleep's mark and still current —
  are replayed ``NEW_COPIES`` times each: they are what the cartridges have not
  learnt yet.
- **Rehearsed** records — current records at or before the mark, the most
  recent ``rehearse`` of them — are replayed once each, so that continuing to
  train the memory cartridge on new facts does not wash out the old ones.
- **Superseded** records are never replayed: only the record that replaced
  them (the last answer wins). A correction is a new record, so it is replayed
  as new, ``NEW_COPIES`` times, against the single rehearsal of nothing: the old
  answer is simply no longer in the text.

Each record becomes ``Q: <question>\\nA: <answer>\\n\\n`` (whitespace collapsed,
question and answer cut to ``MAX_QUESTION`` / ``MAX_ANSWER`` characters), the
same form a recall prompt takes, so the cartridge learns to continue
``Q: …\\nA:`` with the answer. Every copy of the replay is shuffled by a seeded
generator, so the text — and with it a resumed sleep's data — is the same each
time the same plan is rebuilt.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from holomind.errors import InvalidInputError
from holomind.memory import PixelNetwork, Record

NEW_COPIES = 4  # replays of each new record per sleep
REHEARSE = 256  # most recent earlier records replayed once each
MAX_QUESTION = 200  # characters of a question kept in the replay text
MAX_ANSWER = 300  # characters of an answer kept


@dataclass(frozen=True)
class ReplayPlan:
    """One sleep's choice of records: saved with the run so an interrupted sleep rebuilds it."""

    after: int  # the mark this sleep starts from (records 1..after were consolidated)
    upto: int  # the mark it ends at: the network's record count when the sleep began
    new: tuple[int, ...]  # ids replayed NEW_COPIES times
    rehearsed: tuple[int, ...]  # ids replayed once
    seed: int = 0  # shuffling seed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplayPlan:
        """The plan `to_dict` wrote."""
        return cls(
            int(data["after"]),
            int(data["upto"]),
            tuple(int(i) for i in data["new"]),
            tuple(int(i) for i in data["rehearsed"]),
            int(data.get("seed", 0)),
        )


def plan_replay(
    network: PixelNetwork, after: int, *, rehearse: int = REHEARSE, seed: int = 0
) -> ReplayPlan:
    """The records a sleep from mark ``after`` replays (see the module for the rules)."""
    upto = len(network)
    current = [r for r in network.records(after=0, include_superseded=False) if r.id <= upto]
    new = tuple(r.id for r in current if r.id > after)
    older = [r.id for r in current if r.id <= after]
    kept = tuple(older[max(0, len(older) - rehearse) :]) if rehearse > 0 else ()
    return ReplayPlan(after, upto, new, kept, seed)


def record_text(record: Record) -> str:
    """A record as the replay text the cartridge learns: ``Q: …\\nA: …`` and a blank line."""
    question = " ".join(record.question.split())[:MAX_QUESTION]
    answer = " ".join(record.answer.split())[:MAX_ANSWER]
    return f"Q: {question}\nA: {answer}\n\n"


def recall_prompt(question: str) -> str:
    """The prompt that asks the cartridges for a consolidated answer (greedy continuation)."""
    return f"Q: {' '.join(question.split())[:MAX_QUESTION]}\nA:"


def replay_text(network: PixelNetwork, plan: ReplayPlan, min_bytes: int) -> str:
    """The plan's records as one text: shuffled copies, padded with more copies to ``min_bytes``."""
    new = _fetch(network, plan.new)
    old = _fetch(network, plan.rehearsed)
    if not new and not old:
        raise InvalidInputError(
            "there is nothing to replay", hint="add records with `holomind memory add`"
        )
    rng = random.Random(plan.seed * 1_000_003 + plan.upto)
    passes: list[list[str]] = [new + old] + [list(new) for _ in range(NEW_COPIES - 1)]
    passes = [p for p in passes if p]
    parts: list[str] = []
    i = 0
    while i < len(passes) or sum(map(len, parts)) < min_bytes:
        texts = passes[i % len(passes)][:]
        rng.shuffle(texts)
        parts += texts
        i += 1
    return "".join(parts)


def _fetch(network: PixelNetwork, ids: Sequence[int]) -> list[str]:
    texts = []
    for id in ids:
        record = network.get(id)
        if record is None:
            raise InvalidInputError(
                f"record #{id} of the sleep's plan is not in {network.path}",
                hint="the network was replaced since the sleep began; delete the library's "
                "run/ folder to start the sleep anew",
            )
        texts.append(record_text(record))
    return texts
