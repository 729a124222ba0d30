"""Property-based tests of the whole API from its OpenAPI schema (schemathesis): no 5xx, ever."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.server.conftest import Server


@pytest.fixture(scope="module")
def server(start_server, corpus: Path) -> Server:
    return start_server()


@pytest.mark.slow
def test_no_request_makes_the_server_fail(server: Server) -> None:
    # Each operation's cases are drawn by hypothesis from the schema; every response must
    # be below 500 (schemathesis' own pytest plug-in does not run on this pytest).
    schema = schemathesis.openapi.from_url(f"{server.url}/api/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 39
    # The event stream never ends by design; tests/server/routes/test_core.py reads it.
    operations = [op for op in operations if op.path != "/stream/metrics"]

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            case.call_and_validate(base_url=server.url, checks=[not_a_server_error])

        check()


def test_the_schema_describes_every_api_route(server: Server) -> None:
    paths = set(server.client.get("/api/openapi.json").json()["paths"])
    assert paths == {
        "/api/status",
        "/api/views",
        "/api/workspace",
        "/api/workspace/history",
        "/stream/metrics",
        "/api/jobs",
        "/api/jobs/{job_id}",
        "/api/jobs/{job_id}/stop",
        "/api/chat",
        "/api/memory",
        "/api/memory/records",
        "/api/memory/records/{record_id}",
        "/api/memory/search",
        "/api/memory/network.png",
        "/api/memory/export",
        "/api/memory/import",
        "/api/training",
        "/api/training/folders",
        "/api/training/start",
        "/training/pause",
        "/training/resume",
        "/training/mode/{mode}",
        "/cartridges",
        "/api/cartridges/{cart_id}",
        "/api/soup/start",
        "/api/soup",
        "/api/soup/image.png",
        "/api/sim/start",
        "/api/sim",
        "/api/sim/modulate",
        "/api/agents",
        "/api/agents/messages",
        "/api/agents/{name}",
        "/api/agents/messages/{message_id}/adopt",
        "/api/ledger",
        "/api/ledger/verify",
        "/api/sleep",
        "/api/sleep/start",
    }
