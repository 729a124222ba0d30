"""Crash safety and concurrency: SIGKILLed appenders and several writer processes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

from holomind.memory import PixelNetwork, TailWarning

# Appends q{i}/a{i} forever, printing each id once append() has returned.
# Every seventh answer is long so that some kills land inside a multi-page write.
APPENDER = """
import sys
from holomind.memory import PixelNetwork
net = PixelNetwork(sys.argv[1], embedder="none")
i = len(net.records())
while True:
    i += 1
    answer = f"a{i} " + ("long " * 4000 if i % 7 == 0 else "")
    rec = net.append(f"q{i}", answer, writer=sys.argv[2])
    print(rec.id, flush=True)
"""


def open_quietly(path: Path) -> tuple[PixelNetwork, bool]:
    """Open a network; also say whether it warned about an unfinished tail."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = PixelNetwork(path, embedder="none")
    return net, any(issubclass(w.category, TailWarning) for w in caught)


def test_sigkill_during_appends_never_loses_a_committed_record(tmp_path: Path, pngcheck) -> None:
    path = tmp_path / "net.png"
    rng = random.Random(3)
    confirmed = 0
    torn = 0
    for round_ in range(50):
        child = subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(path), str(round_)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        first = child.stdout.readline()  # the child is in its append loop
        assert first.strip(), "appender died before appending"
        time.sleep(rng.uniform(0, 0.03))
        child.send_signal(signal.SIGKILL)
        printed = [int(first), *(int(x) for x in child.stdout.read().split())]
        child.wait()
        confirmed = printed[-1]
        net, warned = open_quietly(path)
        torn += warned
        records = net.records()
        # Every confirmed append is there; at most one more committed before its print.
        assert confirmed <= len(records) <= confirmed + 1
        assert [r.question for r in records] == [f"q{i}" for i in range(1, len(records) + 1)]
        report = net.verify()
        assert report.ok, report.problems
        net.repair()
        pngcheck(path)
    assert len(PixelNetwork(path, embedder="none").records()) >= confirmed >= 50
    # Some kills must have landed inside an append, or the test proved nothing.
    assert torn > 0


# Appends batches of three across small pages (a page takes about ten), printing the
# last id of each batch once append_many() has returned.
PAGED_APPENDER = """
import sys
from holomind.memory import PixelNetwork
net = PixelNetwork(sys.argv[1], embedder="none", page_height=700)
i = len(net)
while True:
    recs = net.append_many([(f"q{i + k}", f"a{i + k} Grüße 日本") for k in (1, 2, 3)])
    i += 3
    print(recs[-1].id, flush=True)
"""


def test_sigkill_across_page_boundaries_never_loses_a_committed_record(
    tmp_path: Path, pngcheck
) -> None:
    path = tmp_path / "paged.png"
    rng = random.Random(5)
    torn = 0
    for _ in range(40):
        child = subprocess.Popen(
            [sys.executable, "-c", PAGED_APPENDER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first.strip(), "appender died before appending"
        time.sleep(rng.uniform(0, 0.05))
        child.send_signal(signal.SIGKILL)
        printed = [int(first), *(int(x) for x in child.stdout.read().split())]
        child.wait()
        net, warned = open_quietly(path)
        torn += warned
        records = net.records()
        # A batch that spans pages commits page by page: up to 3 more than confirmed.
        assert printed[-1] <= len(records) <= printed[-1] + 3
        assert [r.question for r in records] == [f"q{i}" for i in range(1, len(records) + 1)]
        report = net.verify()
        assert report.ok, report.problems
        net.repair()
        for page in net.pages():
            pngcheck(page)
    pages = PixelNetwork(path, embedder="none").pages()
    assert len(pages) > 5
    assert torn > 0


def test_concurrent_appenders_lose_nothing(tmp_path: Path, pngcheck) -> None:
    path = tmp_path / "shared.png"
    script = (
        "import sys\n"
        "from holomind.memory import PixelNetwork\n"
        "net = PixelNetwork(sys.argv[1], embedder='none')\n"
        "for i in range(20):\n"
        "    net.append(f'{sys.argv[2]}-{i}', 'answer')\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), f"w{w}"]) for w in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    net = PixelNetwork(path, embedder="none")
    records = net.records()
    assert [r.id for r in records] == list(range(1, 81))
    assert sorted(r.question for r in records) == sorted(
        f"w{w}-{i}" for w in range(4) for i in range(20)
    )
    for w in range(4):  # each writer's own records stay in its order
        mine = [r.question for r in records if r.question.startswith(f"w{w}-")]
        assert mine == [f"w{w}-{i}" for i in range(20)]
    assert net.verify().ok
    pngcheck(path)


def test_reader_sees_other_process_appends(tmp_path: Path) -> None:
    path = tmp_path / "n.png"
    reader = PixelNetwork(path, embedder="none")
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from holomind.memory import PixelNetwork; "
            "PixelNetwork(sys.argv[1], embedder='none').append('from', 'elsewhere')",
            str(path),
        ],
        check=True,
    )
    assert [r.question for r in reader.records()] == ["from"]
    reader.append("and", "here")
    assert [r.id for r in PixelNetwork(path, embedder="none").records()] == [1, 2]
    assert os.path.getsize(path) == reader.stats()["bytes"]
