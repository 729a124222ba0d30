"""The agents' SQLite book: who the agents are, and every step and message they made.

Two tables. ``agents`` lists each agent once (the RL agent and every LLM agent
ever spawned: role, when and why spawned, when and why retired).
``agent_interactions`` is seed 002's table — ``id, time, state, action, reward,
llm_response`` — with four more columns saying whose row it is: ``agent``,
``episode`` (RL: the episode; LLM: null), ``kind`` (``step`` for an RL step,
``observation``/``proposal`` for an LLM agent's message, ``error`` for a call that
failed) and ``prompt`` (what an LLM agent was asked). ``state`` is JSON: the
observation vector for an RL step, the workspace values an LLM agent read.
``action`` is the modulation index (`holomind.sim.ACTIONS`), or null.

One `AgentStore` may be shared by threads. Rows are committed in small batches
(`commit_rows`) and by `flush`/`close`; an LLM message is committed at once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    name TEXT PRIMARY KEY, kind TEXT NOT NULL, role TEXT NOT NULL, spawned REAL NOT NULL,
    reason TEXT NOT NULL, retired REAL, retired_why TEXT
);
CREATE TABLE IF NOT EXISTS agent_interactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL, state TEXT, action INTEGER, reward REAL, llm_response TEXT,
    agent TEXT, episode INTEGER, kind TEXT, prompt TEXT
);
CREATE INDEX IF NOT EXISTS agent_interactions_agent ON agent_interactions(agent, id);
"""


@dataclass(frozen=True)
class AgentRecord:
    """One agent as the book knows it."""

    name: str
    kind: str  # "rl" | "llm"
    role: str
    spawned: float  # unix time
    reason: str  # why it was spawned (the novelty, or "trained" for the RL agent)
    retired: float | None
    retired_why: str | None
    interactions: int  # rows in agent_interactions
    last: float | None  # time of its last row

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Interaction:
    """One row of agent_interactions."""

    id: int
    time: float
    agent: str
    kind: str
    episode: int | None
    state: Any
    action: int | None
    reward: float | None
    llm_response: str | None
    prompt: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class AgentStore:
    """The agents' book at `path` (created if missing unless `create=False`)."""

    def __init__(self, path: str | Path, *, create: bool = True, commit_rows: int = 64) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise MissingFileError(
                f"{self.path} does not exist",
                hint="run `holomind agents train` or `holomind sim --agents` first, or pass --db",
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.commit_rows = commit_rows
        self._lock = threading.Lock()
        self._pending = 0
        try:
            self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)
            self._conn.commit()
        except sqlite3.DatabaseError as exc:
            raise CorruptFileError(
                f"{self.path} is not an agents database ({exc})",
                hint="pass another --db, or move the file away",
            ) from None

    # -- writing -------------------------------------------------------------------

    def register(self, name: str, kind: str, role: str, reason: str) -> None:
        """Add an agent (or mark one that comes back, like a resumed RL agent, active again)."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO agents (name, kind, role, spawned, reason) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET retired = NULL, retired_why = NULL",
                (name, kind, role, time.time(), reason),
            )
            self._commit()

    def retire(self, name: str, why: str) -> None:
        """Mark an agent retired now."""
        with self._lock:
            self._conn.execute(
                "UPDATE agents SET retired = ?, retired_why = ? WHERE name = ? AND retired IS NULL",
                (time.time(), why, name),
            )
            self._commit()

    def record(
        self,
        agent: str,
        kind: str,
        state: Any,
        *,
        action: int | None = None,
        reward: float | None = None,
        llm_response: str | None = None,
        episode: int | None = None,
        prompt: str | None = None,
        commit: bool = False,
    ) -> int:
        """Append one row; returns its id. Committed now if `commit`, else within a batch."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO agent_interactions "
                "(time, state, action, reward, llm_response, agent, episode, kind, prompt) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    json.dumps(state, ensure_ascii=False),
                    action,
                    reward,
                    llm_response,
                    agent,
                    episode,
                    kind,
                    prompt,
                ),
            )
            self._pending += 1
            if commit or self._pending >= self.commit_rows:
                self._commit()
            assert cur.lastrowid is not None
            return cur.lastrowid

    def flush(self) -> None:
        """Commit every row written so far."""
        with self._lock:
            self._commit()

    def _commit(self) -> None:
        self._conn.commit()
        self._pending = 0

    # -- reading -------------------------------------------------------------------

    def agents(self) -> list[AgentRecord]:
        """Every agent, oldest first, with its row count and last activity."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT a.name, a.kind, a.role, a.spawned, a.reason, a.retired, a.retired_why, "
                "COUNT(i.id), MAX(i.time) FROM agents a "
                "LEFT JOIN agent_interactions i ON i.agent = a.name "
                "GROUP BY a.name ORDER BY a.spawned, a.name"
            ).fetchall()
        return [AgentRecord(*row) for row in rows]

    def agent(self, name: str) -> AgentRecord:
        """One agent; `InvalidInputError` naming the known ones if there is none."""
        for found in self.agents():
            if found.name == name:
                return found
        known = ", ".join(a.name for a in self.agents()) or "none yet"
        raise InvalidInputError(f"there is no agent {name!r}", hint=f"known agents: {known}")

    def interactions(
        self,
        agent: str | None = None,
        *,
        last: int = 20,
        kinds: tuple[str, ...] = (),
        after: int = 0,
    ) -> list[Interaction]:
        """The `last` rows, oldest first, of `agent` (None: all), of `kinds`, with id > `after`."""
        where, args = ["id > ?"], [after]
        if agent is not None:
            where.append("agent = ?")
            args.append(agent)
        if kinds:
            where.append(f"kind IN ({', '.join('?' * len(kinds))})")
            args.extend(kinds)
        return self._select(" AND ".join(where), args, last)[::-1]

    def interaction(self, row_id: int) -> Interaction:
        """Row `row_id`; `InvalidInputError` if there is none."""
        found = self._select("id = ?", [row_id], 1)
        if not found:
            raise InvalidInputError(f"there is no agent message #{row_id}")
        return found[0]

    def _select(self, where: str, args: list[Any], limit: int) -> list[Interaction]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, time, agent, kind, episode, state, action, reward, llm_response, "
                f"prompt FROM agent_interactions WHERE {where} ORDER BY id DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [Interaction(r[0], r[1], r[2], r[3], r[4], _json(r[5]), *r[6:]) for r in rows]

    def close(self) -> None:
        """Commit and close."""
        with self._lock:
            self._conn.commit()
            self._conn.close()

    def __enter__(self) -> AgentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json(text: str | None) -> Any:
    try:
        return None if text is None else json.loads(text)
    except json.JSONDecodeError:
        return text
