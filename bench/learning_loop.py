"""Does the learning loop make the embedded model smarter? Measured, not claimed.

Teaches N invented facts (no model can know them), then asks a paraphrase of
each question twice: once with an empty memory and once with the taught memory.
Prints accuracy both ways, each turn's time split into retrieval and generation,
and the generation speed next to raw llama-cpp-python on the same model, the same
threads and the same prompts (greedy decoding, so both write the same tokens; each
prompt runs ours, raw, raw, ours so load drift cancels). A correct answer is one
that contains the fact's key word (e.g. "quelltown").

    OMP_NUM_THREADS=1 .venv/bin/python bench/learning_loop.py [--facts 20] [--json out.json]
        [--embedder auto|minilm|e5]

Goals: >= 80% correct with memory, <= 10% without; retrieval <= 5% of a turn;
generation >= 0.95x raw llama-cpp-python tokens/s.

``--compare-sampling`` measures the embedded backend's sampling settings instead,
each in the same run: the accuracy above (greedy, as here) and how much the model
repeats itself, as the share of repeated word 8-grams in its answers to 20 open
questions (`make run`'s settings: no memories, temperature 0.2, up to 256 tokens,
seed 0). The defaults in `holomind.llm.embedded.Sampling` come from this.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from holomind.bridge import PixelBridge
from holomind.bridge.facts import INVENTED_FACTS as FACTS
from holomind.llm.embedded import EmbeddedBackend, Sampling

# Open questions a user might ask first; answers to them show whether the model loops.
OPEN_QUESTIONS = [
    "What is a hippocampus?",
    "How do plants make food?",
    "Why is the sky blue?",
    "What is machine learning?",
    "How does a computer store data?",
    "What causes the seasons on Earth?",
    "Explain how vaccines work.",
    "What is the difference between weather and climate?",
    "How do birds fly?",
    "What is an operating system?",
    "Why do we sleep?",
    "How does the internet work?",
    "What is photosynthesis?",
    "Tell me about the Roman Empire.",
    "How do batteries store energy?",
    "What is a black hole?",
    "How does memory work in the brain?",
    "What is inflation in economics?",
    "How do neurons communicate?",
    "What is a programming language?",
]
# The settings compared: llama.cpp's own (no penalty) first, then penalties of rising strength.
SAMPLINGS = {
    "no penalty (llama.cpp default)": Sampling(repeat_penalty=1.0),
    "repeat 1.05": Sampling(repeat_penalty=1.05),
    "repeat 1.1": Sampling(repeat_penalty=1.1),
    "repeat 1.2": Sampling(repeat_penalty=1.2),
    "presence 0.5": Sampling(repeat_penalty=1.0, presence_penalty=0.5),
}


def repeated_ngrams(text: str, n: int = 8) -> tuple[int, int]:
    """(word n-grams that repeat an earlier one, all word n-grams) in ``text``."""
    words = re.findall(r"\w+", text.lower())
    grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return sum(c - 1 for c in grams.values()), sum(grams.values())


def raw_generation(
    llama, messages: list[dict], max_tokens: int, sampling: Sampling
) -> tuple[int, float]:
    """Tokens and seconds for raw llama-cpp-python streaming the same chat (the anchor).

    Tokens are counted as ours are: by tokenizing the text that came back.
    """
    start = time.perf_counter()
    pieces = []
    for chunk in llama.create_chat_completion(
        messages=messages, max_tokens=max_tokens, temperature=0.0, stream=True, **sampling.kwargs()
    ):
        pieces.append(chunk["choices"][0]["delta"].get("content") or "")
    seconds = time.perf_counter() - start
    text = "".join(pieces).encode("utf-8")
    return len(llama.tokenize(text, add_bos=False, special=False)), seconds


def main() -> None:
    """Run the benchmark and print the table (and write JSON when asked)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=len(FACTS), help="how many facts to teach")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads")
    parser.add_argument("--max-tokens", type=int, default=48, help="answer length cap")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument(
        "--embedder", default="auto", help="memory's embedder: auto, minilm or e5 (to compare)"
    )
    parser.add_argument(
        "--compare-sampling", action="store_true", help="compare sampling settings instead"
    )
    args = parser.parse_args()
    facts = FACTS[: args.facts]
    console = Console()
    if args.compare_sampling:
        compare_sampling(args, facts, console)
        return

    from llama_cpp import Llama

    backend = EmbeddedBackend(threads=args.threads)
    raw = Llama(
        model_path=str(backend.path),
        n_ctx=backend.context_window,
        n_threads=args.threads,
        n_threads_batch=args.threads,
        verbose=False,
    )
    with tempfile.TemporaryDirectory() as tmp:
        options = {
            "max_tokens": args.max_tokens,
            "temperature": 0.0,
            "learn": False,
            "embedder": args.embedder,
        }
        empty = PixelBridge(Path(tmp) / "empty.png", backend, **options)
        taught = PixelBridge(Path(tmp) / "taught.png", backend, **options)
        for question, answer, _, _ in facts:
            taught.append_interaction(question, answer)
        without = with_memory = 0
        retrieval = generation = first_generation = ours_tokens = 0.0
        raw_tokens = raw_seconds = 0.0
        rows = []
        with console.status("asking...") as status:
            # Without memory first, as its own phase: the two models then see the same
            # sequence of prompts, so llama.cpp's prefix cache helps both alike.
            bare = []
            for i, (_, _, paraphrase, _) in enumerate(facts, 1):
                status.update(f"without memory: fact {i}/{len(facts)}")
                bare.append(empty.turn(paraphrase))
            for i, ((_, _, paraphrase, word), plain) in enumerate(zip(facts, bare, strict=True)):
                status.update(f"with memory: fact {i + 1}/{len(facts)}")
                # Ours, anchor, anchor, ours on the very same prompt: the A-B-B-A order
                # cancels drift in the shared machine's load, and the repeat of each
                # side finds the prompt in its own cache alike.
                turn = taught.turn(paraphrase)
                for _ in range(2):
                    n, secs = raw_generation(raw, turn.messages, args.max_tokens, backend.sampling)
                    raw_tokens += n
                    raw_seconds += secs
                again = taught.turn(paraphrase)
                ours_tokens += (turn.completion_tokens or 0) + (again.completion_tokens or 0)
                generation += turn.generation_s + again.generation_s
                hit_without = word in plain.answer.lower()
                hit_with = word in turn.answer.lower()
                without += hit_without
                with_memory += hit_with
                retrieval += turn.retrieval_s
                first_generation += turn.generation_s
                rows.append(
                    {
                        "question": paraphrase,
                        "expected": word,
                        "without_memory": plain.answer,
                        "with_memory": turn.answer,
                        "correct_without": hit_without,
                        "correct_with": hit_with,
                        "retrieval_s": round(turn.retrieval_s, 4),
                        "generation_s": round(turn.generation_s, 4),
                    }
                )
    n = len(facts)
    ours_rate = ours_tokens / generation
    raw_rate = raw_tokens / raw_seconds
    results = {
        "facts": n,
        "threads": args.threads,
        "model": backend.model,
        "embedder": getattr(taught.network.embedder, "name", "none"),
        "accuracy_with_memory": with_memory / n,
        "accuracy_without_memory": without / n,
        # A turn as a user meets it: the first ask (the repeat finds its prompt cached).
        "retrieval_share": retrieval / (retrieval + first_generation),
        "mean_retrieval_s": retrieval / n,
        "mean_generation_s": first_generation / n,
        "tokens_per_s": ours_rate,
        "raw_llama_cpp_tokens_per_s": raw_rate,
        "speed_ratio": ours_rate / raw_rate,
        "turns": rows,
    }
    table = Table(
        title=f"Learning loop: {n} invented facts, {backend.model}, {args.threads} thread, "
        f"memory embedded by {results['embedder']}"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("goal", justify="right")
    table.add_row("correct with memory", f"{with_memory}/{n} = {with_memory / n:.0%}", ">= 80%")
    table.add_row("correct without memory", f"{without}/{n} = {without / n:.0%}", "<= 10%")
    table.add_row("retrieval per turn", f"{results['mean_retrieval_s'] * 1000:.0f} ms", "")
    table.add_row("generation per turn", f"{results['mean_generation_s'] * 1000:.0f} ms", "")
    table.add_row("retrieval share of turn", f"{results['retrieval_share']:.1%}", "<= 5%")
    table.add_row("generation, ours", f"{ours_rate:.1f} tok/s", "")
    table.add_row("generation, raw llama-cpp-python", f"{raw_rate:.1f} tok/s", "")
    table.add_row("speed ratio ours / raw", f"{results['speed_ratio']:.3f}", ">= 0.95")
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def accuracy(backend: EmbeddedBackend, facts: list, max_tokens: int, embedder: str) -> dict:
    """Right answers to the paraphrases, greedy, with the taught memory and without one."""
    with tempfile.TemporaryDirectory() as tmp:
        options = {"max_tokens": max_tokens, "temperature": 0.0, "learn": False}
        empty = PixelBridge(Path(tmp) / "empty.png", backend, embedder=embedder, **options)
        taught = PixelBridge(Path(tmp) / "taught.png", backend, embedder=embedder, **options)
        for question, answer, _, _ in facts:
            taught.append_interaction(question, answer)
        right = [word in taught.turn(asked).answer.lower() for _, _, asked, word in facts]
        wrong = [word in empty.turn(asked).answer.lower() for _, _, asked, word in facts]
    return {"with_memory": sum(right), "without_memory": sum(wrong)}


def repetition(backend: EmbeddedBackend, max_tokens: int = 256) -> dict:
    """How much the answers to `OPEN_QUESTIONS` repeat themselves (chat's settings, seed 0)."""
    with tempfile.TemporaryDirectory() as tmp:
        bridge = PixelBridge(
            Path(tmp) / "fresh.png", backend, max_tokens=max_tokens, temperature=0.2, learn=False
        )
        repeated = total = looping = tokens = 0
        answers = []
        for question in OPEN_QUESTIONS:
            backend.llama.set_seed(0)
            turn = bridge.turn(question)
            r, t = repeated_ngrams(turn.answer)
            repeated, total, tokens = (
                repeated + r,
                total + t,
                tokens + (turn.completion_tokens or 0),
            )
            looping += r > 0
            answers.append(turn.answer)
    return {
        "repeated_8gram_share": repeated / max(total, 1),
        "answers_with_a_repeat": looping,
        "mean_tokens": tokens / len(OPEN_QUESTIONS),
        "answers": answers,
    }


def compare_sampling(args: argparse.Namespace, facts: list, console: Console) -> None:
    """Accuracy and repetition of each sampling setting, in one run, as a table."""
    rows = {}
    for name, sampling in SAMPLINGS.items():
        backend = EmbeddedBackend(threads=args.threads, sampling=sampling)
        with console.status(f"{name}: accuracy"):
            found = accuracy(backend, facts, args.max_tokens, args.embedder)
        with console.status(f"{name}: repetition"):
            found |= repetition(backend)
        rows[name] = {"sampling": sampling.kwargs(), **found}
        console.print(f"{name}: {json.dumps({k: v for k, v in found.items() if k != 'answers'})}")
    table = Table(
        title=f"Sampling settings, {len(facts)} facts and {len(OPEN_QUESTIONS)} questions"
    )
    for column in (
        "setting",
        "correct with memory",
        "without",
        "repeated 8-grams",
        "answers looping",
        "mean tokens",
    ):
        table.add_column(column)
    for name, r in rows.items():
        table.add_row(
            name,
            f"{r['with_memory']}/{len(facts)}",
            f"{r['without_memory']}/{len(facts)}",
            f"{r['repeated_8gram_share']:.1%}",
            f"{r['answers_with_a_repeat']}/{len(OPEN_QUESTIONS)}",
            f"{r['mean_tokens']:.0f}",
        )
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
