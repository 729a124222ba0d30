"""The page in a real browser (Debian's chromium, headless): every view, live, no console error.

One server and one page for the module; the tests run in order, as a person would
use the dashboard: chat, memory, training (pause, resume), the cartridge graph,
the soup, the workspace. Screenshots of every view are kept under
tests/artifacts/dashboard/; with HOLOMIND_DOCS_SCREENSHOTS=1 they are also
written to docs/ for docs/dashboard.md.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

from tests.neuro.conftest import brian_cache  # noqa: F401 -- the session-wide fixture
from tests.server.conftest import TINY_TRAINING, Server, screenshot

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def server(start_server, corpus: Path, module_home: Path, brian_cache: Path) -> Server:  # noqa: F811
    (module_home / "brian2").symlink_to(brian_cache, target_is_directory=True)
    return start_server("--max-tokens", "32")


@pytest.fixture(scope="module")
def page(browser: Any, server: Server) -> Iterator[Any]:
    """One tab on the dashboard; console and page errors are collected in ``page.problems``."""
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    tab.problems = []
    tab.on("console", lambda m: m.type == "error" and tab.problems.append(m.text))
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    tab.goto(server.url + "/")
    tab.wait_for_selector("#conn.live", timeout=30_000)
    yield tab
    tab.close()


def show(page: Any, view: str) -> None:
    page.click(f"#nav-{view}")
    page.wait_for_selector(f"#view-{view}.shown")


def shoot(page: Any, name: str) -> Path:
    """Screenshot the page; check it is not blank; copy it to docs/images when asked."""
    path = screenshot(page, name)
    extrema = ImageStat.Stat(Image.open(path).convert("L")).extrema[0]
    assert extrema[1] - extrema[0] > 100, f"{name} looks blank"
    if os.environ.get("HOLOMIND_DOCS_SCREENSHOTS"):
        shutil.copy(path, DOCS / f"dashboard-{name}.png")
    return path


def canvas_colours(page: Any, selector: str) -> int:
    """How many distinct colours a canvas holds (1 when nothing was drawn)."""
    return page.evaluate(
        """(selector) => {
            const c = document.querySelector(selector);
            const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            const seen = new Set();
            for (let i = 0; i < data.length; i += 4 * 7) seen.add(data.slice(i, i + 4).join());
            return seen.size;
        }""",
        selector,
    )


def until(page: Any, script: str, arg: Any = None, timeout: float = 120.0) -> Any:
    """Poll a function in the page until it returns something truthy.

    Playwright's own wait_for_function evaluates a string, which the page's
    content security policy (no 'unsafe-eval') rightly forbids.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(script, arg)
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out waiting for {script}")


def job_state(server: Server, kind: str) -> str:
    return next(j["state"] for j in server.client.get("/api/jobs").json() if j["kind"] == kind)


def test_the_page_loads_every_view_without_errors(page: Any) -> None:
    names = [a.get_attribute("id")[4:] for a in page.query_selector_all("nav a")]
    assert names == [
        "chat",
        "memory",
        "training",
        "sleep",
        "cartridges",
        "soup",
        "sim",
        "agents",
        "ledger",
        "workspace",
    ]
    assert page.title() == "HoloMind"
    assert page.problems == []


def test_chat_streams_an_answer_and_appends_a_record(page: Any, server: Server) -> None:
    show(page, "chat")
    page.wait_for_selector("#chat-send:not([disabled])")
    page.fill("#chat-input", "What is a pixel network?")
    page.click("#chat-send")
    page.wait_for_selector(".msg.llm.done", timeout=300_000)
    meta = page.inner_text(".msg.llm.done .meta")
    assert re.match(r"💾 record #1 · Network expanded: 0 → \d+ rows \(\+\d+\)", meta), meta
    assert server.client.get("/api/memory").json()["records"] == 1
    until(page, "() => document.querySelector('#network-image').naturalWidth === 1024")
    until(page, "() => document.querySelector('#chat-growth').dataset.points === '1'")
    shoot(page, "chat")


def test_memory_lists_searches_and_teaches(page: Any, server: Server) -> None:
    show(page, "memory")
    page.wait_for_selector("#memory-records tbody tr[data-id='1']")
    page.fill("#memory-teach textarea[name=question]", "What colour is the dashboard?")
    page.fill("#memory-teach textarea[name=answer]", "Dark blue-grey, with blue accents.")
    page.click("#memory-teach button")
    page.wait_for_selector("#memory-records tbody tr[data-id='2']")
    page.fill("#memory-search input", "dashboard colour")
    page.click("#memory-search button")
    page.wait_for_selector("#memory-hits tbody tr")
    page.click("#memory-records tbody tr[data-id='2']")
    assert "Dark blue-grey" in page.inner_text("#memory-detail")
    shoot(page, "memory")


def test_training_runs_pauses_and_resumes_from_the_page(page: Any, server: Server) -> None:
    show(page, "training")
    page.wait_for_selector("#train-data option[value=corpus]", state="attached")
    fields = {"stem_steps": 20, "steps": 1_000_000, "log_every": 5, **TINY_TRAINING}
    for name, value in fields.items():
        page.fill(f"#train-form input[name={name}]", str(value))
    page.click("#train-start")
    page.wait_for_selector("#train-state .chip.running")
    until(page, "() => Number(document.querySelector('#train-loss').dataset.points) > 8")
    page.click("#train-pause")
    page.wait_for_selector("#train-state .chip.paused", timeout=60_000)
    assert job_state(server, "train") == "paused"
    assert page.is_enabled("#train-resume") and not page.is_enabled("#train-pause")
    page.click("#train-resume")
    page.wait_for_selector("#train-state .chip.running")
    assert job_state(server, "train") == "running"
    assert canvas_colours(page, "#train-loss") > 3
    shoot(page, "training")


def test_the_cartridge_graph_renders_live(page: Any, server: Server) -> None:
    show(page, "cartridges")
    until(page, "() => document.querySelector('#cartridge-graph').dataset.nodes === '3'")
    page.wait_for_selector("#cartridge-table tbody tr[data-id='2']")
    assert "live at step" in page.inner_text("#cartridge-summary")
    assert canvas_colours(page, "#cartridge-graph") > 10
    shoot(page, "cartridges")
    job = next(j for j in server.client.get("/api/jobs").json() if j["kind"] == "train")
    server.client.post(f"/api/jobs/{job['id']}/stop")
    server.wait_state(job["id"], "stopped")


def test_the_soup_updates_live(page: Any, server: Server) -> None:
    show(page, "soup")
    page.fill("#soup-form input[name=num_programs]", "1024")
    page.fill("#soup-form input[name=print_interval]", "4")
    page.click("#soup-start")
    until(page, "() => Number(document.querySelector('#soup-entropy').dataset.points) > 5")
    first = page.inner_text("#view-soup .stat b")
    until(
        page, "(first) => document.querySelector('#view-soup .stat b').textContent !== first", first
    )
    until(page, "() => document.querySelector('#soup-image').naturalHeight === 512")
    page.wait_for_selector("#soup-programs tbody tr")
    assert canvas_colours(page, "#soup-entropy") > 3
    assert canvas_colours(page, "#soup-diversity") > 3
    shoot(page, "soup")


def test_the_simulation_runs_with_its_agent_from_the_page(page: Any, server: Server) -> None:
    show(page, "sim")
    for name, value in {"neurons": 200, "chunk_ms": 50, "soup_programs": 256}.items():
        page.fill(f"#sim-form input[name={name}]", str(value))
    page.click("#sim-start")
    page.wait_for_selector("#sim-state .chip.running", timeout=120_000)
    until(page, "() => Number(document.querySelector('#sim-raster').dataset.points) > 100")
    until(page, "() => Number(document.querySelector('#sim-rate').dataset.points) > 10")
    page.wait_for_selector("#sim-decisions tr td:nth-child(2):text('rl-agent')")
    page.click("#sim-increase")
    page.wait_for_selector("#sim-decisions tr td:nth-child(2):text('person')")
    assert canvas_colours(page, "#sim-raster") > 3
    shoot(page, "sim")


def test_the_agents_view_shows_the_agent_learning(page: Any, server: Server) -> None:
    show(page, "agents")
    until(page, "() => Number(document.querySelector('#agents-rewards').dataset.points) > 45")
    page.wait_for_selector("#agents-table tr td:text('rl-agent')")
    assert canvas_colours(page, "#agents-rewards") > 3
    shoot(page, "agents")


def test_the_ledger_view_shows_rewards_and_verifies(page: Any, server: Server) -> None:
    show(page, "ledger")
    page.wait_for_selector("#ledger-balances tr td:text('rl-agent')", timeout=60_000)
    page.wait_for_selector("#ledger-entries tr td:text('mint')")
    page.click("#ledger-verify")
    page.wait_for_selector("#ledger-verdict .good")
    assert page.inner_text("#ledger-verdict").startswith("verified: ")
    shoot(page, "ledger")
    job = next(j for j in server.client.get("/api/jobs").json() if j["kind"] == "sim")
    server.client.post(f"/api/jobs/{job['id']}/stop")
    server.wait_state(job["id"], "stopped")


def test_the_workspace_shows_every_key_live(page: Any, server: Server) -> None:
    show(page, "workspace")
    for key in ("bridge/turn", "memory/appended", "train/metrics", "soup/epoch", "server/jobs"):
        page.wait_for_selector(f"#workspace-table tr[data-key='{key}']")
    version = "#workspace-table tr[data-key='soup/epoch'] td:nth-child(2)"
    before = int(page.inner_text(version))
    until(
        page, "([sel, v]) => Number(document.querySelector(sel).textContent) > v", [version, before]
    )
    shoot(page, "workspace")
    job = next(j for j in server.client.get("/api/jobs").json() if j["kind"] == "soup")
    server.client.post(f"/api/jobs/{job['id']}/stop")
    server.wait_state(job["id"], "stopped")


def test_no_console_errors_anywhere(page: Any) -> None:
    assert page.problems == []
