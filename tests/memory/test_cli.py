"""`holomind memory` end to end, through the real CLI in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from holomind.bridge import PixelBridge
from holomind.bridge.prompt import NOTES_HEADER
from holomind.llm.embedded import EmbeddedBackend
from holomind.memory import PixelNetwork


def test_add_list_show_search_stats_verify(holomind, tmp_path: Path, pngcheck) -> None:
    net = str(tmp_path / "net.png")
    out = holomind(
        "memory", "add", net, "-q", "What is pxOS?", "-a", "A GPU-native OS.",
        "--meta", "topic=os", "--meta", "n=3", "--embedder", "none", "--json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert (rec["id"], rec["meta"]) == (1, {"topic": "os", "n": 3})
    holomind("memory", "add", net, "-q", "protein per day?", "-a", "0.8 g/kg", "--embedder", "none")
    listed = json.loads(holomind("memory", "list", net, "--json").stdout)
    assert [r["question"] for r in listed] == ["What is pxOS?", "protein per day?"]
    shown = json.loads(holomind("memory", "show", net, "2", "--json").stdout)
    assert shown["answer"] == "0.8 g/kg"
    found = holomind("memory", "search", net, "protein", "--embedder", "none", "--json")
    assert [(h["id"], h["via"]) for h in json.loads(found.stdout)] == [(2, "keyword")]
    stats = json.loads(holomind("memory", "stats", net, "--json").stdout)
    assert (stats["records"], stats["clean"]) == (2, True)
    verified = holomind("memory", "verify", net)
    assert verified.returncode == 0 and "ok: 2 records verified" in verified.stdout
    pngcheck(Path(net))


def test_export_import_round_trip(holomind, tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.png"), str(tmp_path / "b.png")
    for q in ("one", "two", "three"):
        holomind("memory", "add", a, "-q", q, "-a", f"answer {q}", "--embedder", "none")
    out = holomind("memory", "export", a, str(tmp_path / "part.jsonl"), "--grep", "T")
    assert out.stdout.strip() == f"exported 2 records to {tmp_path / 'part.jsonl'}"
    lines = (tmp_path / "part.jsonl").read_text().splitlines()
    assert [json.loads(x)["question"] for x in lines] == ["two", "three"]
    first = holomind("memory", "import", b, a, "--embedder", "none", "--json")
    assert json.loads(first.stdout) == {"added": 3, "records": 3}
    again = holomind("memory", "import", b, str(tmp_path / "part.jsonl"), "--json")
    assert json.loads(again.stdout) == {"added": 0, "records": 3}
    origin = json.loads(holomind("memory", "show", b, "1", "--json").stdout)["meta"]["origin"]
    assert origin == {"network": "a.png", "id": 1}


def test_user_errors_are_one_line_and_exit_2(holomind, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    cases = [
        ("memory", "list", str(tmp_path / "missing.png")),
        ("memory", "verify", str(photo)),
        ("memory", "show", str(photo), "1"),
        ("memory", "add", str(tmp_path / "n.png"), "-q", "q", "-a", "a", "--meta", "novalue"),
        ("memory", "export", str(photo), str(tmp_path / "out.txt")),
    ]
    for args in cases:
        out = holomind(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.count("\n") == 1 and out.stderr.startswith("error:"), out.stderr
    assert not (tmp_path / "n.png").exists()
    assert not (tmp_path / "out.txt").exists()


def test_verify_reports_damage_and_repairs_an_unfinished_tail(holomind, tmp_path: Path) -> None:
    net = tmp_path / "net.png"
    holomind("memory", "add", str(net), "-q", "q", "-a", "a", "--embedder", "none")
    good = net.read_bytes()
    net.write_bytes(good + b"\x00\x00\x01\x00IDAT" + b"x" * 20)  # a torn append
    out = holomind("memory", "verify", str(net), "--repair")
    assert out.returncode == 0 and "tail repaired" in out.stdout
    assert "unfinished append" in out.stderr
    assert net.read_bytes() == good
    damaged = bytearray(good)
    damaged[len(good) // 2] ^= 0xFF
    net.write_bytes(bytes(damaged))
    out = holomind("memory", "verify", str(net))
    assert out.returncode == 2 and "CRC" in out.stderr


def test_verify_flags_a_cut_file_and_repair_keeps_whole_records(
    holomind, tmp_path: Path, pngcheck
) -> None:
    net = tmp_path / "net.png"
    for q in ("first", "second"):
        holomind("memory", "add", str(net), "-q", q, "-a", "x" * 300, "--embedder", "none")
    data = net.read_bytes()
    net.write_bytes(data[: len(data) - 200])  # cut inside the second record's text band
    out = holomind("memory", "verify", str(net))
    assert out.returncode == 2 and "truncated" in out.stderr
    out = holomind("memory", "verify", str(net), "--repair")
    assert out.returncode == 0, out.stderr
    assert "ok: 1 records verified, tail repaired" in out.stdout
    pngcheck(net)
    listed = json.loads(holomind("memory", "list", str(net), "--json").stdout)
    assert [r["question"] for r in listed] == ["first"]


def test_context_prints_exactly_what_chat_sends(holomind, tmp_path: Path) -> None:
    a, b = tmp_path / "cooking.png", tmp_path / "code.png"
    holomind("memory", "add", str(a), "-q", "How long to boil an egg?", "-a", "Seven minutes.",
             "--embedder", "none")  # fmt: skip
    holomind("memory", "add", str(b), "-q", "Reverse a list?", "-a", "Use [::-1].",
             "--embedder", "none")  # fmt: skip
    out = holomind("memory", "context", str(a), "boil egg", "--embedder", "none",
                   "--max-tokens", "8", "--json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    # What the model is given in a real chat turn on the same network and settings.
    bridge = PixelBridge(PixelNetwork(a, embedder="none"), EmbeddedBackend(), max_tokens=8)
    turn = bridge.turn("boil egg", learn=False)
    assert shown["messages"] == turn.messages
    assert shown["memories"] == [1]
    assert turn.messages[1]["content"] == (
        f"{NOTES_HEADER}\n> [memory #1, {turn.memories[0].created:%Y-%m-%d}]\n"
        "> Q: How long to boil an egg?\n> A: Seven minutes.\n\nQuestion: boil egg"
    )
    text = holomind("memory", "context", str(a), "boil egg", "--embedder", "none").stdout
    system, user = turn.messages
    assert text == f"--- system ---\n{system['content']}\n\n--- user ---\n{user['content']}\n"
    # --also routes the relevant memories across networks, as `chat --also` does.
    out = holomind("memory", "context", str(a), "reverse list", "--also", str(b),
                   "--embedder", "none", "--json")  # fmt: skip
    quoted = json.loads(out.stdout)["messages"][1]["content"]
    assert "> Q: Reverse a list?" in quoted and "> Q: How long to boil an egg?" in quoted
    assert quoted.index("Reverse a list?") > quoted.index("boil an egg")  # most relevant last
    missing = holomind("memory", "context", str(a), "x", "--also", str(tmp_path / "no.png"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: ")
