"""The dashboard's chat: the learning loop (`holomind.bridge`) behind one lock, streamed to callers.

A chat model answers one question at a time (llama.cpp is not re-entrant), so
turns from every WebSocket queue on one worker thread. The model loads on the
first question, not when the server starts.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from holomind.bridge import PixelBridge, Turn
from holomind.errors import InvalidInputError
from holomind.llm import Backend, open_backend
from holomind.memory import PixelNetwork

MAX_QUESTION_CHARS = 4000
USAGE = 'send {"message": "your question"}'


class ChatService:
    """Answers questions through one `PixelBridge` on the server's network and workspace."""

    def __init__(
        self,
        network: PixelNetwork,
        workspace: Any,
        *,
        backend: str = "embedded",
        url: str | None = None,
        model: str | None = None,
        threads: int = 1,
        max_tokens: int = 256,
    ) -> None:
        self.network = network
        self.workspace = workspace
        self.backend_name, self.url, self.model = backend, url, model
        self.threads = threads
        self.max_tokens = max_tokens
        self._bridge: PixelBridge | None = None
        self._opening = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chat")

    def bridge(self) -> PixelBridge:
        """The learning loop, its backend opened on first use."""
        with self._opening:
            if self._bridge is None:
                backend: Backend = open_backend(
                    self.backend_name, url=self.url, model=self.model, threads=self.threads
                )
                self._bridge = PixelBridge(
                    self.network, backend, max_tokens=self.max_tokens, workspace=self.workspace
                )
            return self._bridge

    def describe(self) -> dict[str, Any]:
        """Which backend answers, and whether it is loaded yet."""
        loaded = self._bridge is not None
        return {
            "backend": self.backend_name,
            "url": self.url,
            "model": self._bridge.backend.model if self._bridge is not None else self.model,
            "loaded": loaded,
            "max_tokens": self.max_tokens,
        }

    async def stream(self, question: str) -> AsyncIterator[str | Turn]:
        """Yield the answer's pieces as the model writes them, then the finished `Turn`."""
        if not isinstance(question, str) or not question.strip():
            raise InvalidInputError(USAGE)
        if len(question) > MAX_QUESTION_CHARS:
            raise InvalidInputError(
                f"the question has {len(question):,} characters; at most {MAX_QUESTION_CHARS:,}"
            )
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str] = asyncio.Queue()

        def run() -> Turn:
            def on_text(piece: str) -> None:
                loop.call_soon_threadsafe(pieces.put_nowait, piece)

            return self.bridge().turn(question.strip(), on_text=on_text)

        turn = loop.run_in_executor(self._worker, run)
        while True:
            getter = asyncio.ensure_future(pieces.get())
            done, _ = await asyncio.wait({getter, turn}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                yield getter.result()
                continue
            getter.cancel()
            while not pieces.empty():
                yield pieces.get_nowait()
            yield turn.result()  # raises what the turn raised
            return

    def close(self) -> None:
        """Wait for the turn in progress and release the backend."""
        self._worker.shutdown(wait=True)
        if self._bridge is not None:
            self._bridge.backend.close()
