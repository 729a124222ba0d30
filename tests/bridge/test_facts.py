"""The invented facts behind the demo and the benchmark are fair tests of memory."""

from __future__ import annotations

from holomind.bridge.facts import INVENTED_FACTS


def test_each_answer_holds_its_key_word_and_the_question_does_not():
    for taught_q, taught_a, asked, word in INVENTED_FACTS:
        assert word == word.lower()
        assert word in taught_a.lower(), taught_a
        assert word not in asked.lower(), asked  # the paraphrase must not give it away
        assert word not in taught_q.lower(), taught_q
        assert asked != taught_q  # asked in other words than it was taught


def test_key_words_are_distinct():
    words = [word for *_, word in INVENTED_FACTS]
    assert len(set(words)) == len(words) == 20
