"""The dashboard under load: 50 SSE clients and 10 WebSocket chats on loopback for a minute.

The server (uvicorn, the real app) runs in this process, so the bench can write to
its workspace directly: every 100 ms it writes ``bench/tick`` holding the wall-clock
time of the write. The clients run in a second process (so they do not share the
server's interpreter lock): 50 read ``/stream/metrics`` and note, for each tick, how
long after its write it arrived; 10 chat over ``/ws/chat`` in a loop with the
embedded model (SmolLM2-135M, at most ``--max-tokens`` tokens an answer: the small,
fast backend). The anchor, in the same run, is the floor any stream can reach: a
subscriber inside the server process called by the workspace itself.

Goals: no errors; p95 latency from a workspace write to its SSE event <= 250 ms.

    python bench/dashboard.py [--seconds 60] [--sse 50] [--chats 10] [--json PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
import websockets

from holomind.server import ServerOptions, create_app

QUESTIONS = [
    "What is a pixel network?",
    "Name a colour.",
    "What is two plus two?",
    "Say hello.",
    "What does a cartridge hold?",
]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- clients


async def sse_client(url: str, until: float, out: dict[str, Any]) -> None:
    """Read the stream until the last tick (or ``until``); record each tick's delay."""
    try:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(30, read=None)) as client,
            client.stream("GET", f"{url}/stream/metrics", params={"keys": "bench/"}) as stream,
        ):
            if stream.status_code != 200:
                out["errors"].append(f"sse status {stream.status_code}")
                return
            event = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "ws":
                    value = json.loads(line[6:])["value"]
                    if value.get("last"):
                        return
                    out["latencies"].append(time.time() - value["sent"])
                if time.time() > until:
                    out["errors"].append("sse: the last tick never came")
                    return
    except Exception as exc:
        out["errors"].append(f"sse {type(exc).__name__}: {exc}")


async def chat_client(url: str, until: float, index: int, out: dict[str, Any]) -> None:
    """Ask questions one after another until ``until``; record each turn's time and tokens."""
    try:
        async with websockets.connect(url.replace("http", "ws") + "/ws/chat") as ws:
            turn = 0
            while time.time() < until:
                asked = time.time()
                await ws.send(json.dumps({"message": QUESTIONS[(index + turn) % len(QUESTIONS)]}))
                tokens = 0
                while True:
                    reply = json.loads(await ws.recv())
                    if reply["type"] == "token":
                        tokens += 1
                        continue
                    if reply["type"] == "error":
                        out["errors"].append(f"chat: {reply['error']}")
                    else:
                        out["turns"].append(time.time() - asked)
                        out["tokens"] += tokens
                    break
                turn += 1
    except Exception as exc:
        out["errors"].append(f"chat {type(exc).__name__}: {exc}")


def run_clients(url: str, seconds: float, sse: int, chats: int, result_path: str) -> None:
    """The client process: every client at once, then the figures written as JSON."""
    out: dict[str, Any] = {"latencies": [], "errors": [], "turns": [], "tokens": 0}

    async def main() -> None:
        until = time.time() + seconds
        # Streams read until the server's last tick; a minute's grace covers a slow start.
        tasks = [sse_client(url, until + 60, out) for _ in range(sse)]
        tasks += [chat_client(url, until, i, out) for i in range(chats)]
        await asyncio.gather(*tasks)

    asyncio.run(main())
    Path(result_path).write_text(json.dumps(out))


# ----------------------------------------------------------------------------- server


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ms = np.asarray(values) * 1000
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "max_ms": round(float(ms.max()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--sse", type=int, default=50)
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between writes")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--json", type=Path, default=Path("bench/results/dashboard.json"))
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="holomind-bench-dashboard-"))
    port = free_port()
    options = ServerOptions(
        network=home / "network.png",
        library=home / "cartridge_library",
        data_root=home / "data",
        port=port,
        max_tokens=args.max_tokens,
    )
    app = create_app(options)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    workspace = app.state.dashboard.workspace
    # Load the chat model before the clock starts, as a running dashboard would have it.
    app.state.dashboard.chat.bridge()

    floor: list[float] = []
    workspace.subscribe("bench/tick", lambda v: floor.append(time.time() - v["sent"]))
    result_path = home / "clients.json"
    ctx = multiprocessing.get_context("spawn")
    clients = ctx.Process(
        target=run_clients, args=(url, args.seconds, args.sse, args.chats, str(result_path))
    )
    clients.start()
    # Start writing once every stream is connected.
    deadline = time.monotonic() + 60
    while app.state.dashboard.hub.clients < args.sse and time.monotonic() < deadline:
        time.sleep(0.05)
    connected = app.state.dashboard.hub.clients
    writes = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        workspace.write("bench/tick", {"sent": time.time(), "n": writes, "pad": "x" * 200})
        writes += 1
        time.sleep(args.interval)
    workspace.write("bench/tick", {"sent": time.time(), "last": True})
    clients.join(args.seconds + 120)
    server.should_exit = True
    thread.join(30)
    got = json.loads(result_path.read_text())

    sse = percentiles(got["latencies"])
    sub = percentiles(floor)
    expected = writes * args.sse
    report = {
        "seconds": args.seconds,
        "sse_clients": args.sse,
        "sse_connected": connected,
        "chats": args.chats,
        "backend": f"embedded SmolLM2-135M, max {args.max_tokens} tokens",
        "writes": writes,
        "sse_events_expected": expected,
        "sse_events_received": sse["n"],
        "sse_latency": sse,
        "in_process_subscriber_latency": sub,
        "p95_ratio_sse_over_subscriber": (
            round(sse["p95_ms"] / sub["p95_ms"], 1) if sse["p95_ms"] and sub["p95_ms"] else None
        ),
        "chat_turns": len(got["turns"]),
        "chat_turn_latency": percentiles(got["turns"]),
        "chat_tokens": got["tokens"],
        "errors": got["errors"],
        "cpu_count": os.cpu_count(),
    }
    print(f"writes: {writes} at {1 / args.interval:.0f}/s for {args.seconds:.0f} s")
    print(
        f"SSE: {args.sse} clients ({connected} connected), {sse['n']:,}/{expected:,} events; "
        f"write → event p50 {sse['p50_ms']} ms, p95 {sse['p95_ms']} ms, max {sse['max_ms']} ms"
    )
    print(
        f"anchor (in-process subscriber): p50 {sub['p50_ms']} ms, p95 {sub['p95_ms']} ms; "
        f"SSE p95 / anchor p95 = {report['p95_ratio_sse_over_subscriber']}"
    )
    turns = report["chat_turn_latency"]
    print(
        f"chats: {args.chats} sockets, {len(got['turns'])} turns, {got['tokens']} tokens; "
        f"turn p50 {turns['p50_ms']} ms, p95 {turns['p95_ms']} ms"
    )
    print(
        f"errors: {len(got['errors'])}" + (f" (first: {got['errors'][0]})" if got["errors"] else "")
    )
    goal = not got["errors"] and sse["p95_ms"] is not None and sse["p95_ms"] <= 250
    print(f"goal (no errors, p95 <= 250 ms): {'met' if goal else 'NOT met'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
