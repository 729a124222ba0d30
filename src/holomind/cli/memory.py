"""`holomind memory`: read, search, teach, verify and share pixel networks."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from holomind.cli.common import (
    ALSO,
    BACKEND,
    CONTEXT,
    MAX_TOKENS,
    MODEL,
    URL,
    console,
    err_console,
    open_chat_model,
    print_json,
    require_networks,
    settings,
    shorten,
)
from holomind.errors import CorruptFileError, InvalidInputError, MissingFileError

app = typer.Typer(
    help="The pixel network (hippocampus): a Q&A memory kept in a readable PNG.",
    no_args_is_help=True,
)

NET = typer.Argument(..., help="The pixel network PNG.", show_default=False)
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")
EMBEDDER = typer.Option(
    "auto",
    "--embedder",
    help="auto (MiniLM, else e5, else keywords), minilm, e5, or none (keywords only).",
)


@contextlib.contextmanager
def _network(path: Path, *, must_exist: bool = True, embedder: str = "none") -> Iterator[Any]:
    """Open a network, printing tail warnings as one line each on stderr."""
    from holomind.memory import PixelNetwork, TailWarning

    if must_exist and not path.exists():
        raise MissingFileError(
            f"{path} does not exist", hint="check the path, or `memory add` to it"
        )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TailWarning)
        net = PixelNetwork(path, embedder=embedder)
        yield net
    for w in caught:
        if issubclass(w.category, TailWarning):
            err_console.print(f"[yellow]warning:[/] {escape(str(w.message))}", soft_wrap=True)


def _table(records: list[Any], scores: list[float] | None = None) -> Table:
    table = Table(show_lines=False)
    table.add_column("id", justify="right")
    if scores is not None:
        table.add_column("score", justify="right")
    table.add_column("created")
    table.add_column("question")
    table.add_column("answer")
    for i, r in enumerate(records):
        cells = [str(r.id)]
        if scores is not None:
            cells.append(f"{scores[i]:.3f}")
        mark = "" if r.superseded_by is None else f" [dim](→ #{r.superseded_by})[/]"
        cells += [
            f"{r.created:%Y-%m-%d %H:%M}",
            escape(shorten(r.question)),
            escape(shorten(r.answer)) + mark,
        ]
        table.add_row(*cells)
    return table


@app.command("list")
def list_records(
    net: Path = NET,
    last: int = typer.Option(50, "--last", "-n", min=1, help="Show the last N records."),
    everything: bool = typer.Option(False, "--all", help="Show every record."),
    current: bool = typer.Option(False, "--current", help="Hide superseded records."),
    as_json: bool = JSON,
) -> None:
    """List the records in a network, oldest first (the last 50 unless told otherwise)."""
    with _network(net) as pn:
        total = pn.stats()["current" if current else "records"]
        if everything:
            records = pn.records(include_superseded=not current)
        elif current:
            records = pn.recent(last)
        else:
            records = pn.records(after=total - last)
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    console.print(_table(records))
    if len(records) < total:
        console.print(f"[dim]last {len(records)} of {total} records; --all shows every one[/]")


@app.command("show")
def show(
    net: Path = NET, id: int = typer.Argument(..., help="Record id."), as_json: bool = JSON
) -> None:
    """Show one record in full."""
    with _network(net) as pn:
        rec = pn.get(id)
    if rec is None:
        raise InvalidInputError(f"no record #{id} in {net}", hint="see `holomind memory list`")
    if as_json:
        print_json(rec.to_dict())
        return
    console.print(f"[bold]#{rec.id}[/]  {rec.created.isoformat()}  hash {rec.hash[:16]}")
    if rec.model:
        console.print(f"model: {escape(rec.model)}")
    if rec.supersedes is not None:
        console.print(f"replaces #{rec.supersedes}")
    if rec.superseded_by is not None:
        console.print(f"[yellow]replaced by #{rec.superseded_by}[/]")
    console.print(f"[bold]Q:[/] {escape(rec.question)}", soft_wrap=True)
    console.print(f"[bold]A:[/] {escape(rec.answer)}", soft_wrap=True)
    if rec.meta:
        console.print("meta: " + escape(json.dumps(rec.meta, ensure_ascii=False)), soft_wrap=True)


@app.command("search")
def search(
    net: Path = NET,
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(5, "-k", min=1, help="How many results."),
    embedder: str = EMBEDDER,
    as_json: bool = JSON,
) -> None:
    """Find the records most relevant to a query (semantic, or keywords as fallback)."""
    with _network(net, embedder=embedder) as pn:
        hits = pn.search(query, k)
    if as_json:
        print_json([{**h.record.to_dict(), "score": h.score, "via": h.via} for h in hits])
        return
    if not hits:
        console.print("no matching records")
        return
    console.print(_table([h.record for h in hits], [h.score for h in hits]))
    console.print(f"[dim]{hits[0].via} search[/]")


@app.command("context")
def context(
    ctx: typer.Context,
    net: Path = NET,
    query: str = typer.Argument(..., help="The question a prompt is being built for."),
    also: list[Path] = ALSO,
    backend: str | None = BACKEND,
    url: str | None = URL,
    model: str | None = MODEL,
    context_window: int | None = CONTEXT,
    max_tokens: int = MAX_TOKENS,
    embedder: str = EMBEDDER,
    as_json: bool = JSON,
) -> None:
    """Print the prompt `holomind chat` would send for QUERY: its memories, quoted, in budget.

    Takes chat's model flags: the model's window and token counts decide which
    memories fit. Nothing is generated and nothing is remembered.
    """
    from holomind.bridge import PixelBridge

    require_networks(also)
    s = settings(ctx, backend=backend, url=url, model=model)
    with _network(net, embedder=embedder) as pn:
        llm = open_chat_model(s, backend=backend, context=context_window)
        prompt = PixelBridge(pn, llm, max_tokens=max_tokens, also=also).prompt(query)
    if as_json:
        print_json(
            {
                "messages": prompt.messages,
                "memories": [r.id for r in prompt.memories],
                "tokens": prompt.tokens,
            }
        )
        return
    for i, message in enumerate(prompt.messages):
        typer.echo(("\n" if i else "") + f"--- {message['role']} ---\n{message['content']}")


def _parse_meta(items: list[str]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidInputError(f"bad --meta {item!r}", hint="use --meta key=value")
        try:
            meta[key] = json.loads(value)
        except json.JSONDecodeError:
            meta[key] = value
    return meta


@app.command("add")
def add(
    net: Path = NET,
    question: str = typer.Option(..., "--question", "-q", help="The question."),
    answer: str = typer.Option(..., "--answer", "-a", help="The answer to remember."),
    model: str | None = typer.Option(None, "--model", help="Who produced the answer."),
    meta: list[str] = typer.Option([], "--meta", help="key=value (value may be JSON); repeat."),
    embedder: str = EMBEDDER,
    as_json: bool = JSON,
) -> None:
    """Teach the network a Q&A (creates the file if needed)."""
    extra = _parse_meta(meta)
    with _network(net, must_exist=False, embedder=embedder) as pn:
        rec = pn.append(question, answer, model=model, **extra)
    if as_json:
        print_json(rec.to_dict())
    else:
        console.print(f"added #{rec.id} to {escape(str(net))}", soft_wrap=True)


@app.command("export")
def export(
    net: Path = NET,
    out: Path = typer.Argument(..., help="New .png network or .jsonl file to write."),
    current: bool = typer.Option(False, "--current", help="Leave out superseded records."),
    grep: str | None = typer.Option(
        None, "--grep", help="Only records whose question or answer contains this (any case)."
    ),
    since: int | None = typer.Option(None, "--since", help="Only records with id >= this."),
) -> None:
    """Copy records (all, or a filtered subset) to a new PNG network or to JSONL."""
    needle = grep.casefold() if grep else None

    def wanted(r: Any) -> bool:
        return (
            (not current or r.superseded_by is None)
            and (since is None or r.id >= since)
            and (needle is None or needle in f"{r.question}\n{r.answer}".casefold())
        )

    with _network(net) as pn:
        n = pn.export(out, filter=wanted)
    console.print(f"exported {n} records to {escape(str(out))}", soft_wrap=True)


@app.command("import")
def import_(
    net: Path = NET,
    source: Path = typer.Argument(..., help="A pixel network .png or a .jsonl export."),
    embedder: str = EMBEDDER,
    as_json: bool = JSON,
) -> None:
    """Merge another network's records into this one, skipping ones it already has."""
    with _network(net, must_exist=False, embedder=embedder) as pn:
        with console.status("importing…"):
            added = pn.import_from(source)
        total = len(pn)
    if as_json:
        print_json({"added": len(added), "records": total})
    else:
        console.print(f"added {len(added)} new records ({total} in total)")


@app.command("verify")
def verify(
    net: Path = NET,
    repair: bool = typer.Option(
        False, "--repair", help="Also drop an interrupted append's leftovers."
    ),
    as_json: bool = JSON,
) -> None:
    """Check every checksum and band; exit 2 if anything committed is damaged."""
    with _network(net) as pn:
        with console.status("verifying…"):
            report = pn.verify()
        # Repairing keeps every record still whole; a cut file's lost tail stays lost.
        repaired = pn.repair() if repair else False
    if as_json:
        print_json({**report.to_dict(), "repaired": repaired})
    elif report.ok or repaired:
        done = ", tail repaired" if repaired else ""
        pages = f" in {report.pages} pages" if report.pages > 1 else ""
        console.print(f"ok: {report.records} records verified{pages}{done}", soft_wrap=True)
        for note in report.notes + report.problems:
            console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    if not report.ok and not repaired:
        raise CorruptFileError(
            f"{net}: " + "; ".join(report.problems),
            hint="`holomind memory verify --repair` keeps the records that are whole",
        )


@app.command("stats")
def stats(net: Path = NET, as_json: bool = JSON) -> None:
    """Counts and sizes of a network."""
    with _network(net) as pn:
        info = pn.stats()
    if as_json:
        print_json(info)
        return
    table = Table(show_header=False)
    for key, value in info.items():
        table.add_row(key, escape(str(value)))
    console.print(table)
