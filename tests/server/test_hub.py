"""The hub: every workspace write seen, kept per key, and fanned out to matching stream clients."""

from __future__ import annotations

import asyncio
import json
import math
import time

from holomind.server import hub as hub_module
from holomind.server.hub import Hub, ObservedWorkspace, encode


def run(coro):
    return asyncio.run(coro)


def test_history_keeps_each_keys_last_values_with_versions() -> None:
    with ObservedWorkspace() as ws:
        hub = Hub(ws, history=3)

        async def go() -> None:
            hub.start(asyncio.get_running_loop())
            for i in range(5):
                ws.write("a", i)
            ws.write("b", {"x": 1})

        run(go())
        assert [(e["value"], e["version"]) for e in hub.history("a")] == [(2, 3), (3, 4), (4, 5)]
        assert [e["value"] for e in hub.history("a", limit=1)] == [4]
        assert hub.history("b")[0]["value"] == {"x": 1}
        assert hub.history("never") == []
        assert hub.events == 6
        hub.stop()


def test_clients_get_the_keys_they_asked_for_in_write_order() -> None:
    with ObservedWorkspace() as ws:
        hub = Hub(ws)

        async def go() -> tuple[list, list]:
            hub.start(asyncio.get_running_loop())
            everything = hub.connect()
            soup_only = hub.connect(("soup/",))
            for i in range(3):
                ws.write("soup/epoch", i)
                ws.write("train/metrics", {"step": i})
            got_all = [json.loads(await everything.queue.get()) for _ in range(6)]
            got_soup = [json.loads(await soup_only.queue.get()) for _ in range(3)]
            assert soup_only.queue.empty()
            hub.disconnect(everything)
            hub.disconnect(soup_only)
            assert hub.clients == 0
            return got_all, got_soup

        got_all, got_soup = run(go())
        assert [(e["key"], e["version"]) for e in got_all[:2]] == [
            ("soup/epoch", 1),
            ("train/metrics", 1),
        ]
        assert [e["value"] for e in got_soup] == [0, 1, 2]
        assert all(e["time"] > 1e9 for e in got_soup)
        hub.stop()


def test_a_client_that_falls_behind_loses_its_oldest_events_only(monkeypatch) -> None:
    monkeypatch.setattr(hub_module, "QUEUE_SIZE", 4)
    with ObservedWorkspace() as ws:
        hub = Hub(ws)

        async def go() -> tuple[list[int], int]:
            hub.start(asyncio.get_running_loop())
            slow = hub.connect()
            for i in range(10):
                ws.write("n", i)
            await asyncio.sleep(0.05)  # let the loop run the fan-out callbacks
            kept = [json.loads(slow.queue.get_nowait())["value"] for _ in range(4)]
            assert slow.queue.empty()
            return kept, slow.dropped

        assert run(go()) == ([6, 7, 8, 9], 6)
        assert [e["value"] for e in hub.history("n")] == list(range(10))
        hub.stop()


def test_snapshot_lists_live_keys_with_prefix() -> None:
    with ObservedWorkspace() as ws:
        ws.write("soup/epoch", 3)
        ws.write("soup/epoch", 4)
        ws.write("train/metrics", {"loss": 1.0})
        ws.write("gone", 1, expiration=0.01)
        time.sleep(0.05)  # past its expiry: a key that expired is not listed
        hub = Hub(ws)
        snap = hub.snapshot()
        assert [(e["key"], e["value"], e["version"]) for e in snap] == [
            ("soup/epoch", 4, 2),
            ("train/metrics", {"loss": 1.0}, 1),
        ]
        assert [e["key"] for e in hub.snapshot(("train/",))] == ["train/metrics"]


def test_encode_writes_non_finite_numbers_as_null() -> None:
    value = {"loss": math.nan, "list": [1.5, math.inf, -math.inf], "text": "ü", "n": 3}
    assert encode(value) == '{"loss":null,"list":[1.5,null,null],"text":"ü","n":3}'
