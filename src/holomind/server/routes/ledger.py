"""The ledger view's API: balances, recent entries, and a full verification."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from holomind.server.state import Dashboard, dashboard

router = APIRouter(prefix="/api/ledger")
Board = Annotated[Dashboard, Depends(dashboard)]


def _folder(board: Dashboard) -> FilePath:
    assert board.options.home is not None
    return board.options.home / "ledger"


@router.get("")
def ledger(board: Board, last: Annotated[int, Query(ge=1, le=500)] = 20) -> dict[str, Any]:
    """The ledger's summary (entries, supply, accounts, signed head) and its last entries."""
    from holomind.ledger import Ledger

    folder = _folder(board)
    if not (folder / "entries.jsonl").is_file():
        return {"ledger": None, "entries": []}
    with Ledger.open(folder) as book:
        return {
            "ledger": book.summary(),
            "entries": [e.to_dict() for e in book.history(last=last)],
        }


@router.get("/verify")
def verify(board: Board) -> dict[str, Any]:
    """Check every entry, signature and the signed tree head from scratch."""
    from holomind.errors import MissingFileError
    from holomind.ledger import verify_ledger

    folder = _folder(board)
    if not (folder / "entries.jsonl").is_file():
        raise MissingFileError("there is no ledger yet", hint="rewards create it as agents run")
    return verify_ledger(folder).to_dict()
