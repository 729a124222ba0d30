"""LLM modulator: how often its decision agrees with the obvious rule, over 100 situations.

The rule: rate below the target band -> increase, above -> decrease, inside ->
maintain. Situations are drawn at random (seeded), a third each below, inside
and above the 5-15 Hz band, with the other workspace figures (membrane
potential, the first ten neurons' rates, soup entropy and diversity) random too.
The model is the embedded SmolLM2-135M-Instruct, temperature 0. Three prompts, the
same situations, in one run (each line changes one thing from the first):

  full              the rate and band, the relation in words ("too low", "too high",
                    "within the target band"), the other workspace figures; the
                    answer held to the JSON schema (llama.cpp grammar);
  no-context        without the other workspace figures -- the modulator's default
                    (`--llm-context` turns them on), chosen from this bench;
  numbers           without the relation in words: the model must compare numbers;
  keywords          free text, parsed by the seed's keywords (no grammar).

Goal: >= 80 % agreement.

    OMP_NUM_THREADS=1 .venv/bin/python bench/modulator.py [--n 100] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from holomind.llm import open_backend
from holomind.sim.modulation import ACTIONS, rule_action
from holomind.sim.modulator import Modulator
from holomind.workspace import GlobalWorkspace

BAND = (5.0, 15.0)
VARIANTS = {  # name: (relation in words, other figures, constrained output)
    "full": (True, True, True),
    "no-context": (True, False, True),
    "numbers": (False, True, True),
    "keywords": (True, True, False),
}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--json", type=Path, default=Path("bench/results/modulator.json"))
    args = parser.parse_args()
    backend = open_backend("embedded")
    cases = situations(args.n)
    results = {}
    for name, (relation, context, constrained) in VARIANTS.items():
        with GlobalWorkspace() as ws:
            mod = Modulator(
                backend,
                ws,
                band=BAND,
                interval_s=0,
                relation=relation,
                context=context,
                structured=constrained,
            )
            agree, answers, parsed, began = 0, dict.fromkeys(ACTIONS, 0), {}, time.perf_counter()
            confusion: dict[str, dict[str, int]] = {a: dict.fromkeys(ACTIONS, 0) for a in ACTIONS}
            for s in cases:
                d = mod.decide(s)
                assert d is not None and d.action is not None, d
                want = rule_action(s["rate_hz"], BAND)
                agree += d.action == want
                answers[d.action] += 1
                confusion[want][d.action] += 1
                parsed[d.parsed_by] = parsed.get(d.parsed_by, 0) + 1
            took = (time.perf_counter() - began) / len(cases)
        results[name] = {
            "agreement": agree / len(cases),
            "answers": answers,
            "confusion": confusion,
            "parsed_by": parsed,
            "s_per_decision": took,
        }
        print(
            f"{name:10s} agreement {agree}/{len(cases)} = {agree / len(cases):.0%}; "
            f"answers {answers}; parsed {parsed}; {took:.2f} s/decision",
            flush=True,
        )
        print(f"{'':10s} rule -> model: {confusion}", flush=True)
    print(f"model: {backend.model}; goal >= 80 % agreement")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"n": len(cases), "band": BAND, **results}, indent=2))


if __name__ == "__main__":
    main()
