"""Reading `modulation` values, the seed's keyword parsing, the JSON schema, the obvious rule."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from holomind.sim.modulation import (
    ACTIONS,
    Modulation,
    keyword_action,
    parse_modulation,
    rule_action,
    schema_action,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


def test_bare_strings_and_dicts_are_read() -> None:
    assert parse_modulation("increase") == Modulation("increase")
    assert parse_modulation(" Decrease ") == Modulation("decrease")
    assert parse_modulation({"action": "maintain", "strength": 2, "source": "agent"}) == (
        Modulation("maintain", 2.0, "agent")
    )
    assert parse_modulation({"action": "increase"}) == Modulation("increase", 1.0, "unknown")


def test_anything_else_is_ignored() -> None:
    for value in (
        None,
        "more",
        3,
        ["increase"],
        {"action": "boost"},
        {"action": "increase", "strength": 0},
        {"action": "increase", "strength": 11},
        {"action": "increase", "strength": float("nan")},
        {"action": "increase", "strength": True},
        {"action": "increase", "strength": "2"},
    ):
        assert parse_modulation(value) is None, value


@given(JSON)
def test_parse_never_raises_and_returns_a_valid_modulation(value: object) -> None:
    mod = parse_modulation(value)
    assert mod is None or (mod.action in ACTIONS and 0 < mod.strength <= 10)


@given(st.sampled_from(ACTIONS), st.floats(0.01, 10), st.text(max_size=10))
def test_the_workspace_form_round_trips(action: str, strength: float, source: str) -> None:
    mod = Modulation(action, strength, source)
    assert parse_modulation(json.loads(json.dumps(mod.to_dict()))) == mod


def test_keyword_parsing_keeps_the_seeds_phrases() -> None:
    assert keyword_action("I suggest we Increase Activity now.") == "increase"
    assert keyword_action("decrease activity, it is too busy") == "decrease"
    assert keyword_action("Rather maintain; do not increase yet.") == "maintain"
    assert keyword_action("no idea") == "maintain"
    assert keyword_action("increases everywhere") == "maintain"  # whole words only


@given(st.text())
def test_keyword_parsing_always_answers_an_action(text: str) -> None:
    assert keyword_action(text) in ACTIONS


def test_schema_answers() -> None:
    assert schema_action('{"action": "decrease"}') == "decrease"
    assert schema_action('{"action": "more"}') is None
    assert schema_action('["increase"]') is None
    assert schema_action('{"action": "increase"') is None


@given(st.text())
def test_schema_parsing_never_raises(text: str) -> None:
    assert schema_action(text) in (None, *ACTIONS)


def test_the_obvious_rule() -> None:
    band = (5.0, 15.0)
    assert [rule_action(r, band) for r in (0.0, 4.99, 5.0, 15.0, 15.01)] == [
        "increase",
        "increase",
        "maintain",
        "maintain",
        "decrease",
    ]
