"""The agents view's API: the agents, what they said, and adopting a proposal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from holomind.server.sim import SimJob
from holomind.server.state import Dashboard, dashboard

router = APIRouter(prefix="/api/agents")
Board = Annotated[Dashboard, Depends(dashboard)]
MESSAGE_KINDS = ("observation", "proposal", "error")


def _paths(board: Dashboard) -> Any:
    from holomind.agents import AgentPaths  # torch and gymnasium load on first use

    assert board.options.home is not None
    return AgentPaths.under(board.options.home)


def _store(board: Dashboard) -> Any:
    from holomind.agents import AgentStore

    path = _paths(board).db
    return AgentStore(path) if path.is_file() else None


def _balances(board: Dashboard) -> dict[str, int]:
    from holomind.ledger import Ledger

    folder = _paths(board).ledger
    if not (folder / "entries.jsonl").is_file():
        return {}
    with Ledger.open(folder) as ledger:
        return {a.name: a.balance for a in ledger.accounts()}


@router.get("")
def agents(board: Board) -> dict[str, Any]:
    """Every agent in the book, with its balance; which LLM agents are alive now."""
    store = _store(board)
    listed = []
    if store is not None:
        with store:
            listed = [a.to_dict() for a in store.agents()]
    balances = _balances(board)
    job = board.jobs.latest(SimJob.kind)
    pool = job.team.pool if isinstance(job, SimJob) and job.team is not None else None
    return {
        "agents": [{**a, "balance": balances.get(a["name"])} for a in listed],
        "live": pool.summary()["live"] if pool is not None and job.active else [],
    }


@router.get("/messages")
def messages(
    board: Board,
    after: Annotated[int, Query(ge=0, le=2**62, description="only rows with a larger id")] = 0,
    last: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    """The LLM agents' latest messages (observations, proposals, failed calls), oldest first."""
    store = _store(board)
    if store is None:
        return []
    with store:
        rows = store.interactions(last=last, kinds=MESSAGE_KINDS, after=after)
    return [r.to_dict() for r in rows]


@router.get("/{name}")
def agent(
    board: Board,
    name: Annotated[str, Path(min_length=1, max_length=64)],
    last: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> dict[str, Any]:
    """One agent and its last rows (RL steps, or LLM messages with prompt and answer)."""
    from holomind.errors import MissingFileError

    store = _store(board)
    if store is None:
        raise MissingFileError("no agent has run yet", hint="start the simulation with agents")
    with store:
        found = store.agent(name)
        rows = store.interactions(name, last=last)
    balance = _balances(board).get(name)
    return {**found.to_dict(), "balance": balance, "rows": [r.to_dict() for r in rows]}


@router.post("/messages/{message_id}/adopt")
def adopt(board: Board, message_id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
    """Apply an LLM agent's modulation proposal to the running network; the ledger pays it."""
    job = board.jobs.running(SimJob.kind)
    assert isinstance(job, SimJob)
    return job.adopt(message_id)
