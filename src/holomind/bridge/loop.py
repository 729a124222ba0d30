"""The learning loop: recall from the pixel network, answer with the LLM, remember the answer.

``PixelBridge(network_path, backend).ask(question)`` quotes the most relevant and
the newest memories into the prompt, lets the model answer, and appends the
exchange to the network, so the next question can use it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from holomind.bridge.prompt import Prompt, build_prompt
from holomind.config import Settings
from holomind.errors import HoloMindError
from holomind.llm import Backend, Message, open_backend
from holomind.memory import NetworkOrchestrator, PixelNetwork, Record

EXIT_WORDS = ("exit", "quit", ":q")


@dataclass(frozen=True)
class Turn:
    """One question answered: what was recalled, what was said, how long each part took."""

    question: str
    answer: str
    memories: list[Record]  # quoted into the prompt, in prompt order
    retrieval_s: float  # searching the network and building the prompt
    generation_s: float  # the model's answer, first token to last
    completion_tokens: int | None  # tokens generated, when the backend says
    rows_before: int  # network height (pixel rows) before the turn
    rows_after: int  # network height after it (equal when nothing was learned)
    record: Record | None  # the appended exchange, None when not learning
    messages: list[Message]  # what the model was given (left out of to_dict: it can be long)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (memories as ids)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "memories": [r.id for r in self.memories],
            "retrieval_s": round(self.retrieval_s, 4),
            "generation_s": round(self.generation_s, 4),
            "completion_tokens": self.completion_tokens,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "record": None if self.record is None else self.record.id,
        }


class PixelBridge:
    """A chat model with a pixel-network memory: every answer is remembered and reused.

    `network_path` is a PNG file or an open `PixelNetwork` (default: the settings'
    network); `backend` is a `Backend`, a backend name, or None for the embedded
    model. Each prompt quotes the `relevant` most similar memories and the `recent`
    newest ones; the defaults suit the small embedded model (more of them distract
    it, see bench/learning_loop.py). With `also` (more networks), the relevant
    memories are routed across all of them (`NetworkOrchestrator`: the two whose
    records match best); the newest come from, and answers go to, `network_path`.
    ``workspace`` (anything with ``write(key, value)``) receives ``bridge/turn``
    after every turn, and the network publishes ``memory/appended``.
    """

    def __init__(
        self,
        network_path: str | Path | PixelNetwork | None = None,
        backend: Backend | str | None = None,
        *,
        url: str | None = None,
        model: str | None = None,
        relevant: int = 3,
        recent: int = 1,
        max_tokens: int = 256,
        temperature: float = 0.2,
        learn: bool = True,
        workspace: Any = None,
        embedder: str | None = "auto",
        also: list[str | Path] | None = None,
    ) -> None:
        if isinstance(network_path, PixelNetwork):
            self.network = network_path
        else:
            path = network_path or Settings.load().network_path
            self.network = PixelNetwork(path, embedder=embedder, workspace=workspace)
        self.orchestrator: NetworkOrchestrator | None = None
        if also:
            # Routing compares scores across networks, so all of them search with one model.
            emb = self.network.embedder
            others = [PixelNetwork(p, embedder=emb) for p in also]
            self.orchestrator = NetworkOrchestrator([self.network, *others])
        if isinstance(backend, Backend):
            self.backend = backend
        else:
            self.backend = open_backend(backend or "embedded", url=url, model=model)
        self.relevant = relevant
        self.recent = recent
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.learn = learn
        self.workspace = workspace

    @property
    def rows(self) -> int:
        """The network's height in pixel rows."""
        return int(self.network.stats()["height"])

    def prompt(self, question: str) -> Prompt:
        """The messages the model would get for `question`: relevant, then newest memories.

        This is the one place memories become prompt text (`holomind memory context`
        prints exactly this).
        """
        candidates: list[Record] = []
        if self.orchestrator is not None:
            found = self.orchestrator.search(question, self.relevant)
            candidates += [hit.record for _, hit in found]
        elif len(self.network):  # an empty network is not searched: no embedder to load
            candidates += [hit.record for hit in self.network.search(question, self.relevant)]
        if len(self.network):
            candidates += self.network.recent(self.recent)[::-1]
        return build_prompt(
            question,
            candidates,
            context_window=self.backend.context_window,
            max_tokens=self.max_tokens,
            count_tokens=self.backend.count_tokens,
        )

    def turn(
        self,
        question: str,
        *,
        on_text: Callable[[str], None] | None = None,
        learn: bool | None = None,
    ) -> Turn:
        """Answer `question` with recalled memories; `on_text` gets the answer as it streams."""
        started = time.perf_counter()
        prompt = self.prompt(question)
        recalled = time.perf_counter()
        stream = self.backend.chat(
            prompt.messages,
            stream=True,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
        )
        for piece in stream:
            if on_text is not None:
                on_text(piece)
        answered = time.perf_counter()
        reply = stream.reply
        assert reply is not None  # a drained stream always holds its reply
        answer = reply.text.strip()
        rows_before = self.rows
        record = None
        if (self.learn if learn is None else learn) and answer:
            record = self.append_interaction(question, answer, model=reply.model)
        turn = Turn(
            question=question,
            answer=answer,
            memories=prompt.memories,
            retrieval_s=recalled - started,
            generation_s=answered - recalled,
            completion_tokens=reply.completion_tokens,
            rows_before=rows_before,
            rows_after=self.rows if record else rows_before,
            record=record,
            messages=prompt.messages,
        )
        if self.workspace is not None:
            self.workspace.write("bridge/turn", turn.to_dict())
        return turn

    def ask(self, question: str, *, learn: bool | None = None) -> str:
        """Answer `question` using the network's memories, then remember the exchange."""
        return self.turn(question, learn=learn).answer

    def ask_lm_studio(self, question: str) -> str:
        """The seed's name: answer with memories but do not append (its examples append after)."""
        return self.ask(question, learn=False)

    def append_interaction(
        self, question: str, answer: str, model: str | None = None, **meta: Any
    ) -> Record:
        """Remember a question and its answer; `model` names the model that wrote the answer."""
        return self.network.append(question, answer, model=model, **meta)

    def export_knowledge(self, path: str | Path) -> int:
        """Write all memories to a new .png network or .jsonl file; returns the count."""
        return self.network.export(path)

    def import_knowledge(self, path: str | Path) -> list[Record]:
        """Add another network's (or .jsonl export's) exchanges that this one lacks."""
        return self.network.import_from(path)

    def conversational_loop(
        self,
        input_fn: Callable[[str], str] = input,
        out: TextIO | None = None,
    ) -> int:
        """Chat until the user types exit (or EOF / Ctrl-C); returns how many turns were learned.

        Answers stream as they are written; after each learned turn the network's
        growth is shown, e.g. "Network expanded: 150 → 175 rows (+25)".
        """
        out = out or sys.stdout

        def say(text: str = "", end: str = "\n") -> None:
            out.write(text + end)
            out.flush()

        learned = 0
        say(f"HoloMind chat · {self.backend.name}:{self.backend.model} · {self.network.path}")
        count = len(self.network)
        memories = "1 memory" if count == 1 else f"{count} memories"
        say(f"Network: {memories}, {self.rows} rows. Type 'exit' to leave.")
        while True:
            try:
                question = input_fn("\n🧑 You: ").strip()
            except (EOFError, KeyboardInterrupt):
                say()
                break
            if question.lower() in EXIT_WORDS:
                break
            if not question:
                continue
            say("🤖 LLM: ", end="")
            try:
                turn = self.turn(question, on_text=lambda piece: say(piece, end=""))
            except HoloMindError as exc:
                say(f"\nerror: {exc}")
                continue
            except KeyboardInterrupt:
                say("\n(interrupted)")
                continue
            say()
            if turn.record is not None:
                learned += 1
                grown = turn.rows_after - turn.rows_before
                say("💾 Appending to pixel network...")
                rows = f"{turn.rows_before} → {turn.rows_after} rows (+{grown})"
                say(f"   ✅ Network expanded: {rows}")
        if learned:
            plural = "" if learned == 1 else "s"
            say(f"💡 Network has learned from {learned} conversation{plural}!")
        return learned


# The seed's name, kept so its examples run.
LMStudioPixelBridge = PixelBridge
