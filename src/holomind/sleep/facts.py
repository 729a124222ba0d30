"""Invented facts for measuring consolidation: names no stem or corpus can know beforehand.

Each fact is a question about an invented subject whose answer is an invented
key word (three syllables drawn from a fixed list, seeded), so a model that
answers with the key must have learnt it from the memories it was given.
`bench/sleep.py` and the sleep tests teach them with `holomind memory add`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SYLLABLES = (
    "ka", "lo", "mi", "ru", "ze", "vo", "ti", "qua", "bre", "dax", "fen", "gor",
    "hul", "jip", "nyx", "plo", "sku", "tre", "wim", "yor", "zel", "bix", "cru", "dro",
)  # fmt: skip
QUESTIONS = (
    "What is the capital of {subject}?",
    "Who invented the {subject}?",
    "What do people eat in {subject}?",
    "What is the dog of {subject} called?",
)


@dataclass(frozen=True)
class Fact:
    """An invented question, its answer, and the key word a correct answer contains."""

    question: str
    answer: str
    key: str


def invented_word(rng: random.Random, syllables: int = 3) -> str:
    """A capitalised word of ``syllables`` random syllables."""
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def invented_facts(n: int = 20, seed: int = 7) -> list[Fact]:
    """``n`` facts with distinct invented subjects and keys; the answer is the key word."""
    rng = random.Random(seed)
    used: set[str] = set()
    facts: list[Fact] = []
    while len(facts) < n:
        subject, key = invented_word(rng), invented_word(rng)
        if subject in used or key in used or subject == key:
            continue
        used |= {subject, key}
        question = QUESTIONS[len(facts) % len(QUESTIONS)].format(subject=subject)
        facts.append(Fact(question, f"{key}.", key))
    return facts
