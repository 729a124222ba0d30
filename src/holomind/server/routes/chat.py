"""The chat: a WebSocket through the learning loop, the answer streamed token by token.

The client sends ``{"message": "..."}``; the server answers with
``{"type": "token", "text": "..."}`` messages and ends with ``{"type": "done",
"answer": ..., "record_id": N, ...}`` (the Q&A appended to the pixel network),
or ``{"type": "error", "error": "..."}``. The socket stays open for the next question.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect

from holomind.bridge import Turn
from holomind.errors import HoloMindError
from holomind.server.chat import USAGE
from holomind.server.state import Dashboard, dashboard

router = APIRouter()
Board = Annotated[Dashboard, Depends(dashboard)]


@router.get("/api/chat")
def chat_info(board: Board) -> dict[str, Any]:
    """The backend that answers, and the last turns (``bridge/turn``) since the server started."""
    return {
        **board.chat.describe(),
        "turns": [e["value"] for e in board.hub.history("bridge/turn", 50)],
    }


@router.websocket("/ws/chat")
async def chat(websocket: WebSocket) -> None:
    """One conversation: questions in, streamed answers out, each Q&A remembered."""
    board: Dashboard = websocket.app.state.dashboard
    await websocket.accept()
    try:
        while True:
            raw = await websocket.receive_text()
            try:
                message = json.loads(raw)
            except ValueError:
                message = None
            if not isinstance(message, dict):
                await websocket.send_json({"type": "error", "error": USAGE})
                continue
            try:
                async for item in board.chat.stream(message.get("message")):
                    if isinstance(item, Turn):
                        await websocket.send_json(_done(item))
                    else:
                        await websocket.send_json({"type": "token", "text": item})
            except HoloMindError as exc:
                await websocket.send_json({"type": "error", "error": str(exc)})
    except WebSocketDisconnect:
        return


def _done(turn: Turn) -> dict[str, Any]:
    grown = turn.rows_after - turn.rows_before
    return {
        "type": "done",
        "answer": turn.answer,
        "record_id": turn.record.id if turn.record is not None else None,
        "memories": [r.id for r in turn.memories],
        "rows_before": turn.rows_before,
        "rows_after": turn.rows_after,
        "growth": f"Network expanded: {turn.rows_before} → {turn.rows_after} rows (+{grown})",
        "generation_s": round(turn.generation_s, 3),
        "completion_tokens": turn.completion_tokens,
    }
