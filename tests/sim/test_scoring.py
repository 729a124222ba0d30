"""Scoring answers by log-likelihood with the embedded model (real SmolLM2, real llama.cpp)."""

from __future__ import annotations

import math

import pytest

from holomind.errors import BackendError, ContextOverflowError
from holomind.llm import Backend, open_backend
from holomind.sim.scoring import AnswerScorer, can_score

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France? Answer in one word."},
]
OTHER = [
    {"role": "system", "content": "You regulate a spiking neural network."},
    {"role": "user", "content": "The firing rate is too low. Is that a problem?"},
]


@pytest.fixture(scope="module")
def embedded() -> Backend:
    return open_backend("embedded")


def test_the_greedy_answer_scores_highest_and_chat_is_untouched(embedded: Backend) -> None:
    scorer = AnswerScorer(embedded)
    before = embedded.chat(QUESTION, max_tokens=5, temperature=0.0).text
    first = before.split()[0]
    candidates = [first, *(w for w in ("Paris", "London", "France", "Yes") if w != first)]
    scores = scorer.logprobs(QUESTION, candidates)
    assert max(scores, key=scores.__getitem__) == first  # what temperature 0 picks first
    assert all(v < 0 for v in scores.values())
    assert sum(math.exp(v) for v in scores.values()) <= 1.0  # distinct first tokens
    # Scoring leaves the model's cache so that the same chat answers the same.
    assert embedded.chat(QUESTION, max_tokens=5, temperature=0.0).text == before


def test_an_answer_is_the_sum_of_its_tokens(embedded: Backend) -> None:
    scorer = AnswerScorer(embedded)
    whole = scorer.logprobs(QUESTION, ["Paris is the capital", "Paris"])
    rest = scorer.logprobs(QUESTION, [" is the capital"], prefix="Paris")
    # log p("Paris is the capital") = log p("Paris") + log p(" is the capital" | "Paris"). The
    # two sides reach "Paris" differently (one token alone, or inside the prompt's batch),
    # and llama.cpp's kernels for one token and for a batch round differently: the sides
    # agree to a few hundredths, while the continuation alone weighs over a nat.
    assert rest[" is the capital"] < -1.0
    assert whole["Paris is the capital"] == pytest.approx(
        whole["Paris"] + rest[" is the capital"], abs=0.15
    )


def test_scores_do_not_depend_on_what_was_scored_before(embedded: Backend) -> None:
    scorer = AnswerScorer(embedded)
    alone = scorer.logprobs(OTHER, ["Yes", "No"])
    scorer.logprobs(QUESTION, ["Paris", "Paris is the capital"])
    after_another = scorer.logprobs(OTHER, ["Yes", "No"])
    follow_up = [*OTHER, {"role": "assistant", "content": "Yes."}]
    scorer.logprobs(follow_up, [" increased"], "Its input should be")  # shares the prefix
    again = scorer.logprobs(OTHER, ["Yes", "No"])
    assert after_another == pytest.approx(alone, abs=1e-4)
    assert again == pytest.approx(alone, abs=1e-4)


def test_what_cannot_be_scored_is_refused(embedded: Backend) -> None:
    server = open_backend("openai", url="http://127.0.0.1:9/v1", model="m")
    assert can_score(embedded) and not can_score(server)
    with pytest.raises(BackendError, match="cannot be scored here"):
        AnswerScorer(server)
    scorer = AnswerScorer(embedded)
    before = scorer.logprobs(OTHER, ["Yes"])
    with pytest.raises(ValueError, match="empty answer"):
        scorer.logprobs(QUESTION, ["Paris", ""])
    long = [{"role": "user", "content": "word " * embedded.context_window}]
    with pytest.raises(ContextOverflowError):
        scorer.logprobs(long, ["Yes"])
    assert scorer.logprobs(OTHER, ["Yes"]) == pytest.approx(before, abs=1e-4)  # still usable
