"""LLM modulator: how often its decision agrees with the obvious rule, over 100 situations.

The rule: rate below the target band -> increase, above -> decrease, inside ->
maintain. Situations are drawn at random (seeded), a third each below, inside
and above the 5-15 Hz band, with the other workspace figures (membrane
potential, the first ten neurons' rates, soup entropy and diversity) random too.
The model is the embedded SmolLM2-135M-Instruct; every variant sees the same
situations, in one run. Two ways of asking:

- generate: the model writes its answer (temperature 0), as `Modulator` does with
  `method="generate"` (what servers get): JSON held to the schema by llama.cpp's
  grammar, or free text read by the seed's keywords;
- score: the model's log-probability of each possible answer decides
  (`holomind.sim.scoring`); `Modulator` with `method="score"` asks two questions
  ("Is that a problem?", then "Should its input be increased or decreased?").

"relation" means the prompt says in words whether the rate is too low, too
high or within the band (the code compares, the model turns that into an
action); without it the model must compare the numbers itself. Two reference
rows come first in the same run: the rule itself (100 % by construction: the
harness's check) and a seeded random choice (chance, ~33 %). Goal: >= 80 %.

    OMP_NUM_THREADS=1 .venv/bin/python bench/modulator.py [--n 100] [--only NAME,...] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from holomind.llm import Backend, open_backend
from holomind.sim.modulation import ACTIONS, rule_action
from holomind.sim.modulator import RELATION, Modulator
from holomind.sim.scoring import AnswerScorer
from holomind.workspace import GlobalWorkspace

BAND = (5.0, 15.0)
Decide = Callable[[dict[str, Any]], str | None]


def situations(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for k in range(n):
        low, high = [(0.0, BAND[0]), BAND, (BAND[1], 60.0)][k % 3]
        out.append(
            {
                "rate_hz": round(rng.uniform(low, high), 2),
                "mean_v_mv": round(rng.uniform(-65, -50), 1),
                "drive_pa": 0.0,
                "t_s": float(k),
                "activations": [round(rng.uniform(0, 40), 1) for _ in range(10)],
                "avg_entropy": round(rng.uniform(0, 5), 2),
                "diversity_index": round(rng.uniform(0, 1), 2),
            }
        )
    rng.shuffle(out)
    return out


def modulator(ws: GlobalWorkspace, backend: Backend, **kwargs: Any) -> Decide:
    """A `Modulator` as the product runs it, with these settings."""
    mod = Modulator(backend, ws, band=BAND, interval_s=0, **kwargs)

    def decide(s: dict[str, Any]) -> str | None:
        d = mod.decide(s)
        assert d is not None
        return d.action

    return decide


def rule(s: dict[str, Any]) -> str:
    """The rule the model is measured against."""
    return rule_action(s["rate_hz"], BAND)


def at_random(seed: int = 1) -> Decide:
    """One of the three actions, uniformly at random: what chance agreement is."""
    rng = random.Random(seed)
    return lambda s: rng.choice(ACTIONS)


def pick(scores: dict[str, float], mapping: dict[str, str]) -> str:
    """The action whose answer the model finds likeliest."""
    return mapping[max(scores, key=scores.__getitem__)]


def json_scored(ws: GlobalWorkspace, backend: Backend, rotations: int = 1) -> Decide:
    """The JSON prompt of `method="generate"`; the three JSON answers scored, not generated.

    With `rotations` 3, the system prompt names the three rules in each of three
    orders, and each answer's log-probabilities are added up (position balanced).
    """
    mod = Modulator(backend, ws, band=BAND, method="generate")
    scorer = AnswerScorer(backend)
    low, high = BAND
    rules = [(RELATION[a], a) for a in ACTIONS]
    answers = {f'{a}"}}': a for a in ACTIONS}

    def decide(s: dict[str, Any]) -> str:
        total = dict.fromkeys(answers, 0.0)
        for r in range(rotations):
            order = rules[r:] + rules[:r]
            system = (
                "You regulate a spiking neural network whose firing rate should stay between "
                f"{low:g} and {high:g} Hz. "
                + " ".join(
                    f'If its firing rate is {w}, answer {{"action": "{a}"}}.' for w, a in order
                )
            )
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": mod.describe(s)},
            ]
            for answer, lp in scorer.logprobs(messages, list(answers), '{"action": "').items():
                total[answer] += lp
        return pick(total, answers)

    return decide


def one_question(ws: GlobalWorkspace, backend: Backend) -> Decide:
    """One scored question naming all three actions, with the relation in words."""
    mod = Modulator(backend, ws, band=BAND, method="generate")
    scorer = AnswerScorer(backend)
    answers = {" increased": "increase", " decreased": "decrease", " maintained": "maintain"}

    def decide(s: dict[str, Any]) -> str:
        question = "Should its input be increased, decreased or maintained?"
        messages = [
            {"role": "system", "content": "You regulate a spiking neural network."},
            {"role": "user", "content": f"{mod.describe(s)} {question}"},
        ]
        return pick(scorer.logprobs(messages, list(answers), "Its input should be"), answers)

    return decide


def relation_question(ws: GlobalWorkspace, backend: Backend, shots: int = 0) -> Decide:
    """The model compares: "Is X below, inside or above the range L to H?", scored.

    Its answer maps to the action (below -> increase, inside -> maintain, above ->
    decrease). `shots` worked examples (a third of each answer, other numbers) come
    first as earlier turns of the conversation.
    """
    scorer = AnswerScorer(backend)
    low, high = BAND
    answers = {" below": "increase", " inside": "maintain", " above": "decrease"}
    rng = random.Random(11)
    examples: list[dict[str, str]] = []
    for k in range(shots):
        where, (lo, hi) = [("below", (0.0, low)), ("inside", BAND), ("above", (high, 60.0))][k % 3]
        x = f"{rng.uniform(lo, hi):.1f}"
        examples.append(
            {
                "role": "user",
                "content": f"Is {x} below, inside or above the range {low:g} to {high:g}?",
            }
        )
        examples.append({"role": "assistant", "content": f"{x} is {where}."})

    def decide(s: dict[str, Any]) -> str:
        x = f"{s['rate_hz']:.1f}"
        question = f"Is {x} below, inside or above the range {low:g} to {high:g}?"
        messages = [
            {"role": "system", "content": "You compare numbers."},
            *examples,
            {"role": "user", "content": question},
        ]
        return pick(scorer.logprobs(messages, list(answers), f"{x} is"), answers)

    return decide


# name: (what it is, how it decides). First the two references (the rule itself, and
# a random choice: chance), then the modulator's default for the embedded model, then
# issue 12's default (the previous default), then the other ways of asking.
VARIANTS: dict[str, tuple[str, Callable[[GlobalWorkspace, Backend], Decide]]] = {
    "rule": ("reference: the rule itself (no model)", lambda ws, b: rule),
    "random": ("reference: a seeded random choice (chance)", lambda ws, b: at_random()),
    "score": (
        "two scored questions, relation in words (default, embedded)",
        partial(modulator, method="score"),
    ),
    "json": (
        "generate: relation in words, JSON schema (issue 12's default; servers)",
        partial(modulator, method="generate"),
    ),
    "json-context": (
        "generate: + voltage, neuron rates, soup figures",
        partial(modulator, method="generate", context=True),
    ),
    "json-numbers": (
        "generate: numbers only, JSON schema",
        partial(modulator, method="generate", relation=False),
    ),
    "keywords": (
        "generate: relation in words, free text + the seed's keywords",
        partial(modulator, method="generate", structured=False),
    ),
    "json-scored": (
        "score: issue 12's JSON prompt, the three JSON answers scored",
        json_scored,
    ),
    "json-scored-rotated": (
        "score: the same, rules named in 3 orders, log-probabilities added",
        partial(json_scored, rotations=3),
    ),
    "one-question": (
        "score: one question naming the three actions, relation in words",
        one_question,
    ),
    "score-context": (
        "score: two questions + voltage, neuron rates, soup figures",
        partial(modulator, method="score", context=True),
    ),
    "score-numbers": (
        "score: two questions, numbers only",
        partial(modulator, method="score", relation=False),
    ),
    "compare": (
        'score: "Is X below, inside or above L to H?" (the model compares)',
        relation_question,
    ),
    "compare-6-shot": (
        "score: the same after 6 worked examples",
        partial(relation_question, shots=6),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--only", default=",".join(VARIANTS), help="variants, comma-separated")
    parser.add_argument("--json", type=Path, default=Path("bench/results/modulator.json"))
    args = parser.parse_args()
    backend = open_backend("embedded")
    cases = situations(args.n)
    results = {}
    for name in args.only.split(","):
        what, make = VARIANTS[name]
        with GlobalWorkspace() as ws:
            decide = make(ws, backend)
            agree, answers, began = 0, dict.fromkeys(ACTIONS, 0), time.perf_counter()
            confusion: dict[str, dict[str, int]] = {a: dict.fromkeys(ACTIONS, 0) for a in ACTIONS}
            for s in cases:
                action = decide(s)
                assert action in ACTIONS, (name, action)
                want = rule_action(s["rate_hz"], BAND)
                agree += action == want
                answers[action] += 1
                confusion[want][action] += 1
            took = (time.perf_counter() - began) / len(cases)
        results[name] = {
            "what": what,
            "agreement": agree / len(cases),
            "answers": answers,
            "confusion": confusion,
            "s_per_decision": took,
        }
        print(
            f"{name:20s} agreement {agree}/{len(cases)} = {agree / len(cases):.0%}; "
            f"answers {answers}; {took:.2f} s/decision  ({what})",
            flush=True,
        )
        print(f"{'':20s} rule -> model: {confusion}", flush=True)
    print(f"model: {backend.model}; goal >= 80 % agreement")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"n": len(cases), "band": BAND, **results}, indent=2))


if __name__ == "__main__":
    main()
