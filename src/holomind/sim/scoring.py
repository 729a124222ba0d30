"""How likely the embedded model finds each of a few answers: choosing by log-likelihood.

A small model asked to *generate* one of a few answers picks mostly by position
(SmolLM2-135M answers whichever action the instructions name first). Reading
instead the probability it gives each whole answer, as the start of its reply,
lets every answer be compared on the same footing: `AnswerScorer.logprobs`
renders the conversation with the model's own chat template, evaluates it once,
and adds up the log-probabilities of each answer's tokens. The conversation's
tokens stay in llama.cpp's cache, so a follow-up question on the same
conversation evaluates only its new tokens.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from holomind.errors import BackendError
from holomind.llm import Backend, Message
from holomind.llm.base import overflow_error


def can_score(backend: Backend) -> bool:
    """Whether `backend` is a model in this process whose answers can be scored."""
    from holomind.llm.embedded import EmbeddedBackend

    return isinstance(backend, EmbeddedBackend) and "tokenizer.chat_template" in (
        backend.llama.metadata
    )


class AnswerScorer:
    """Scores candidate answers of the embedded model (`can_score(backend)` must hold).

    Uses the one llama.cpp context the backend shares: callers take turns with
    anything else that uses the same backend.
    """

    def __init__(self, backend: Backend) -> None:
        if not can_score(backend):
            raise BackendError(
                f"answers of the {backend.name} backend cannot be scored here",
                hint="scoring needs the embedded model (a GGUF with a chat template)",
            )
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.llama = backend.llama  # type: ignore[attr-defined]
        llm = self.llama
        self._format = Jinja2ChatFormatter(
            llm.metadata["tokenizer.chat_template"],
            eos_token=llm.detokenize([llm.token_eos()]).decode("utf-8", "replace"),
            bos_token=llm.detokenize([llm.token_bos()]).decode("utf-8", "replace"),
        )

    def prompt(self, messages: Sequence[Message], prefix: str = "") -> str:
        """The text the model continues: `messages` in its chat template, then `prefix`."""
        return self._format(messages=list(messages)).prompt + prefix

    def logprobs(
        self, messages: Sequence[Message], answers: Sequence[str], prefix: str = ""
    ) -> dict[str, float]:
        """Natural-log probability of each answer as the reply to `messages`, after `prefix`.

        An answer's probability is the product over its tokens, each given the
        ones before it; answers are text as it would follow `prefix` (mind the
        leading space where a word follows a word).
        """
        llm = self.llama
        tokens = llm.tokenize(self.prompt(messages, prefix).encode("utf-8"), special=True)
        longest = max(len(tokens) + max(len(self._tokens(a)) for a in answers), 1)
        if longest > llm.n_ctx():
            raise overflow_error(f"{longest} tokens to score, the context holds {llm.n_ctx()}")
        self._evaluate(tokens)
        start = llm.n_tokens
        first = self._last_logprobs()
        scores = {}
        for answer in answers:
            pieces = self._tokens(answer)
            llm.n_tokens = start  # back to the end of the prompt
            total = float(first[pieces[0]])
            for token, following in itertools.pairwise(pieces):
                llm.eval([token])
                total += float(self._last_logprobs()[following])
            scores[answer] = total
        # The cache keeps the prompt, but the logits are the last answer's: one token short
        # of the prompt, a follow-up (a question, or llama.cpp's own generation, which would
        # otherwise sample from those logits) evaluates the prompt's last token again.
        llm.n_tokens = start - 1
        return scores

    def _tokens(self, answer: str) -> list[int]:
        pieces = self.llama.tokenize(answer.encode("utf-8"), add_bos=False, special=False)
        if not pieces:
            raise ValueError("an empty answer cannot be scored")
        return pieces

    def _evaluate(self, tokens: list[int]) -> None:
        """Evaluate `tokens`, reusing what the cache already holds of them."""
        llm = self.llama
        cached = llm.input_ids[: llm.n_tokens]
        same = 0
        for a, b in zip(cached, tokens, strict=False):
            if a != b:
                break
            same += 1
        llm.n_tokens = min(same, len(tokens) - 1)  # the last token is evaluated for its logits
        llm.eval(tokens[llm.n_tokens :])

    def _last_logprobs(self) -> np.ndarray:
        """Log-softmax of the logits after the last evaluated token, (n_vocab,)."""
        import llama_cpp

        n = self.llama.n_vocab()
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self.llama.ctx, -1), (n,))
        x = logits.astype(np.float64)
        top = x.max()
        return x - top - math.log(float(np.exp(x - top).sum()))
