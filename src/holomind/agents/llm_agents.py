"""Dynamic LLM agents: spawned by novelty on the workspace, rate-limited, retired when idle.

`AgentPool` watches the workspace (`holomind.agents.novelty`). When a novelty
arrives and no agent of the role that answers it is alive, it spawns one
(``<role>-<n>``, a name that is never reused, with its own ledger account); a
live agent of that role gets the news instead. One worker thread asks the
model, one agent at a time (one model answers one question at a time): the
role prompt, the news, and the current values of the keys the role reads. The
answer is held to `roles.ANSWER_SCHEMA` (kind, text, action); a server that
refuses structured output is asked again in free text, which becomes an
observation. Every message — its prompt, the values read, the model's answer —
is a row in the agents' book and is published as ``agents/messages``.

An agent speaks at most once per `interval_s`; one that has heard no news for
`idle_s` is retired. ``agents/roster`` is published whenever an agent comes or
goes. A proposal that carries a modulation may be adopted (`adopt`): the pool
applies it and the ledger pays the agent (``agent.proposal_adopted``).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from holomind.agents.novelty import KEYS, Novelty, NoveltyDetector
from holomind.agents.roles import ANSWER_SCHEMA, ROLES, Role
from holomind.agents.store import AgentStore
from holomind.errors import BackendError, InvalidInputError
from holomind.ledger import Ledger
from holomind.llm import NOT_ABOUT_FORMAT, Backend, Message, model_name
from holomind.sim import ACTIONS
from holomind.workspace import GlobalWorkspace

Modulate = Callable[[str, float, str], Any]  # Simulation.modulate(action, strength, source)
_FORMAT = {"type": "json_schema", "json_schema": {"name": "agent_message", "schema": ANSWER_SCHEMA}}
_VALUE_CHARS = 600  # how much of each key's value goes into a prompt


@dataclass
class LLMAgent:
    """One live LLM agent."""

    name: str
    role: Role
    reason: str  # the novelty that spawned it
    spawned: float = field(default_factory=time.time)
    news: list[Novelty] = field(default_factory=list)  # novelties not yet answered
    last_news: float = field(default_factory=time.monotonic)
    last_spoke: float = -float("inf")
    messages: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The roster's form."""
        return {
            "name": self.name,
            "role": self.role.name,
            "reason": self.reason,
            "spawned": self.spawned,
            "messages": self.messages,
            "pending": len(self.news),
        }


class AgentPool:
    """Spawns, runs and retires LLM agents on a workspace.

    Args:
        backend: the chat model every agent speaks through.
        workspace: watched for novelty; messages and the roster are published there.
        store: the agents' book (every message is a row).
        ledger: pays adopted proposals (None: nothing is paid).
        modulate: applies an adopted modulation (`Simulation.modulate`; None: none can be).
        band: the network's target band, for the rate-watcher's prompt.
        interval_s: least time between two messages of one agent.
        idle_s: an agent with no news for this long is retired.
        max_agents: agents alive at once at most (novelty beyond that is dropped).
        max_tokens: the longest answer asked for.
        detector: the novelty detector (default thresholds if None).
    """

    def __init__(
        self,
        backend: Backend,
        workspace: GlobalWorkspace,
        store: AgentStore,
        *,
        ledger: Ledger | None = None,
        modulate: Modulate | None = None,
        band: tuple[float, float] = (5.0, 15.0),
        interval_s: float = 10.0,
        idle_s: float = 60.0,
        max_agents: int = 4,
        max_tokens: int = 96,
        detector: NoveltyDetector | None = None,
    ) -> None:
        self.backend = backend
        self.workspace = workspace
        self.store = store
        self.ledger = ledger
        self.modulate = modulate
        self.band = band
        self.interval_s = interval_s
        self.idle_s = idle_s
        self.max_agents = max_agents
        self.max_tokens = max_tokens
        self.detector = detector or NoveltyDetector()
        self.live: dict[str, LLMAgent] = {}
        self.spawned = 0
        self.messages = 0
        self.dropped = 0  # novelties with no room for an agent
        self.adopted: list[dict[str, Any]] = []
        self._structured = True
        self._events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._lock = threading.Lock()  # guards `live`
        self._thread: threading.Thread | None = None
        self._subscribed: list[tuple[str, Callable[[Any], None]]] = []

    # -- life cycle ----------------------------------------------------------------

    def start(self) -> None:
        """Watch the workspace and start the worker thread."""
        for key in KEYS:
            callback = self._callback(key)
            self.workspace.subscribe(key, callback)
            self._subscribed.append((key, callback))
        self._thread = threading.Thread(target=self._work, name="llm-agents", daemon=True)
        self._thread.start()

    def stop(self, why: str = "the run ended") -> None:
        """Stop watching, end the worker (abandoning an answer in progress), retire everyone."""
        self._stop.set()
        for key, callback in self._subscribed:
            self.workspace.unsubscribe(key, callback)
        self._subscribed.clear()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            names = list(self.live)
        for name in names:
            self._retire(name, why)

    def _callback(self, key: str) -> Callable[[Any], None]:
        def on_write(value: Any) -> None:
            self._events.put((key, value))

        return on_write

    # -- the worker ------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                key, value = self._events.get(timeout=0.2)
            except queue.Empty:
                pass
            else:
                novelty = self.detector.see(key, value)
                if novelty is not None:
                    self._news(novelty)
            self._speak_one()
            self._retire_idle()

    def _news(self, novelty: Novelty) -> None:
        role = next((r for r in ROLES.values() if r.novelty == novelty.kind), None)
        if role is None:
            return
        with self._lock:
            agent = next((a for a in self.live.values() if a.role is role), None)
            if agent is None and len(self.live) >= self.max_agents:
                self.dropped += 1
                return
        if agent is None:
            agent = self._spawn(role, novelty.reason)
        agent.news.append(novelty)
        agent.last_news = time.monotonic()

    def _spawn(self, role: Role, reason: str) -> LLMAgent:
        taken = {a.name for a in self.store.agents()}
        n = 1
        while f"{role.name}-{n}" in taken:
            n += 1
        agent = LLMAgent(f"{role.name}-{n}", role, reason)
        self.store.register(agent.name, "llm", role.name, reason)
        if self.ledger is not None:
            self.ledger.ensure_account(agent.name)
        with self._lock:
            self.live[agent.name] = agent
        self.spawned += 1
        self._publish_roster()
        return agent

    def _retire(self, name: str, why: str) -> None:
        with self._lock:
            agent = self.live.pop(name, None)
        if agent is not None:
            self.store.retire(name, why)
            self._publish_roster()

    def _retire_idle(self) -> None:
        now = time.monotonic()
        with self._lock:
            idle = [
                a.name for a in self.live.values() if not a.news and now - a.last_news > self.idle_s
            ]
        for name in idle:
            self._retire(name, f"idle for {self.idle_s:g} s")

    def _publish_roster(self) -> None:
        with self._lock:
            roster = [a.to_dict() for a in self.live.values()]
        self.workspace.write("agents/roster", roster)

    # -- speaking ------------------------------------------------------------------

    def _speak_one(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [
                a for a in self.live.values() if a.news and now - a.last_spoke >= self.interval_s
            ]
        if not due:
            return
        agent = min(due, key=lambda a: a.last_spoke)
        agent.last_spoke = now
        self.speak(agent)

    def speak(self, agent: LLMAgent) -> dict[str, Any] | None:
        """Ask the model for `agent`'s message about its news; log and publish it."""
        news, agent.news = agent.news, []
        read = {key: self.workspace.read(key) for key in agent.role.keys}
        messages = self.prompt(agent, news, read)
        began = time.perf_counter()
        try:
            text, structured = self._ask(messages)
        except BackendError as exc:
            self.store.record(
                agent.name,
                "error",
                read,
                llm_response=str(exc),
                prompt=_dump(messages),
                commit=True,
            )
            return None
        if text is None:  # the pool is stopping
            return None
        kind, said, action = _parse(text, structured, agent.role)
        row = self.store.record(
            agent.name,
            kind,
            read,
            action=ACTIONS.index(action) if action else None,
            llm_response=text,
            prompt=_dump(messages),
            commit=True,
        )
        agent.messages += 1
        self.messages += 1
        message = {
            "id": row,
            "agent": agent.name,
            "role": agent.role.name,
            "kind": kind,
            "text": said,
            "action": action,
            "news": [n.reason for n in news],
            "time": time.time(),
            "latency_s": round(time.perf_counter() - began, 3),
            "model": model_name(self.backend),
        }
        self.workspace.write("agents/messages", message)
        self._publish_roster()
        return message

    def prompt(self, agent: LLMAgent, news: list[Novelty], read: dict[str, Any]) -> list[Message]:
        """The role prompt, then the news and the values of the keys the role reads."""
        low, high = self.band
        lines = ["News: " + "; ".join(n.reason for n in news) + "."]
        for key, value in read.items():
            text = json.dumps(value, ensure_ascii=False, default=str)
            lines.append(f"{key}: {text[:_VALUE_CHARS]}")
        return [
            {"role": "system", "content": agent.role.prompt.format(low=low, high=high)},
            {"role": "user", "content": "\n".join(lines)},
        ]

    def _ask(self, messages: list[Message]) -> tuple[str | None, bool]:
        fmt = _FORMAT if self._structured else None
        try:
            return self._generate(messages, fmt), fmt is not None
        except BackendError as exc:
            if fmt is None or isinstance(exc, NOT_ABOUT_FORMAT):
                raise
            self._structured = False  # this server refuses structured output: free text from now
            return self._generate(messages, None), False

    def _generate(self, messages: list[Message], fmt: dict[str, Any] | None) -> str | None:
        stream = self.backend.chat(
            messages, stream=True, max_tokens=self.max_tokens, temperature=0.2, response_format=fmt
        )
        pieces = []
        for piece in stream:
            if self._stop.is_set():
                return None
            pieces.append(piece)
        return "".join(pieces)

    # -- adopting proposals --------------------------------------------------------

    def adopt(self, message_id: int) -> dict[str, Any]:
        """Apply the modulation proposal `message_id` and pay its agent; refused otherwise."""
        row = self.store.interaction(message_id)
        if row.kind != "proposal" or row.action is None:
            raise InvalidInputError(
                f"agent message #{message_id} is not a proposal with a modulation",
                hint="only a rate-watcher's proposals of increase, decrease or maintain apply",
            )
        if self.modulate is None:
            raise InvalidInputError(
                "no simulation is running to apply the proposal to",
                hint="start the simulation with agents first",
            )
        if any(a["id"] == message_id for a in self.adopted):
            raise InvalidInputError(f"agent message #{message_id} was adopted already")
        action = ACTIONS[row.action]
        version = self.modulate(action, 1.0, f"llm:{row.agent}")
        adopted: dict[str, Any] = {"id": message_id, "agent": row.agent, "action": action}
        adopted["modulation_version"] = version
        if self.ledger is not None:
            self.ledger.ensure_account(row.agent)  # an agent of an earlier run may have none
            entry = self.ledger.reward(
                row.agent, "agent.proposal_adopted", proposal=f"{self.store.path.name}#{message_id}"
            )
            adopted["ledger_seq"] = entry.seq
            self.workspace.write(
                "ledger/rewarded",
                {
                    "account": row.agent,
                    "rule": "agent.proposal_adopted",
                    "amount": entry.fields["amount"],
                    "seq": entry.seq,
                    "memo": entry.fields["memo"],
                },
            )
        self.adopted.append(adopted)
        return adopted

    def summary(self) -> dict[str, Any]:
        """What the pool did, JSON-ready."""
        with self._lock:
            live = [a.to_dict() for a in self.live.values()]
        return {
            "spawned": self.spawned,
            "messages": self.messages,
            "dropped_novelties": self.dropped,
            "live": live,
            "adopted": self.adopted,
            "structured_output": self._structured,
        }


def _parse(text: str, structured: bool, role: Role) -> tuple[str, str, str | None]:
    """(kind, text, action or None) from an answer; free text is an observation."""
    data: Any = None
    if structured:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            data = None
    if not isinstance(data, dict) or data.get("kind") not in ("observation", "proposal"):
        return "observation", " ".join(text.split())[:240], None
    said = str(data.get("text", ""))[:240]
    action = data.get("action")
    if data["kind"] != "proposal" or not role.modulates or action not in ACTIONS:
        action = None
    return data["kind"], said, action


def _dump(messages: list[Message]) -> str:
    return json.dumps(messages, ensure_ascii=False)
