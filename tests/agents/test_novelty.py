"""Novelty on the workspace: the soup's transition, a new cartridge domain, a jump in the rate."""

from __future__ import annotations

from holomind.agents import NoveltyDetector


def test_the_soup_transition_is_seen_once_when_crossed_upwards():
    d = NoveltyDetector()
    seen = [d.see("soup/higher_entropy", h) for h in (3.5, 1.0, 2.9, 3.2, 3.4, 2.0, 3.1)]
    kinds = [n.kind if n else None for n in seen]
    # 3.5 first: no crossing seen; 2.9 -> 3.2 crosses; 2.0 -> 3.1 crosses again.
    assert kinds == [None, None, None, "soup_transition", None, None, "soup_transition"]
    assert seen[3].reason == "soup entropy crossed 3 bits/byte (2.90 → 3.20)"


def test_every_new_cartridge_domain_is_novel():
    d = NoveltyDetector()
    n = d.see("cartridges/spawned", {"id": 4, "domain": "python", "parent": None, "count": 5})
    assert n.kind == "new_domain" and n.reason == "new cartridge 4 for 'python'"
    assert d.see("cartridges/spawned", "not a dict") is None


def test_a_rate_jump_after_warmup_then_quiet_for_the_cooldown():
    d = NoveltyDetector(jump_hz=5, jump_ratio=0.5, warmup=3, cooldown=2)

    def rate(r, t=1.0):
        return d.see("neuro/state", {"rate_hz": r, "t_s": t})

    assert [rate(10) for _ in range(4)] == [None] * 4
    assert rate(13) is None  # +3 Hz: not a jump
    jump = rate(30, 2.5)
    assert jump.kind == "rate_jump" and jump.value["rate_hz"] == 30
    assert (
        jump.reason.startswith("firing rate jumped from ~10.")
        and "30.0 Hz at t = 2.50 s" in jump.reason
    )
    assert rate(2) is None and rate(60) is None  # the cooldown
    assert rate(200).kind == "rate_jump"


def test_the_first_chunks_and_other_keys_are_not_novel():
    d = NoveltyDetector(warmup=5)
    assert d.see("neuro/state", {"rate_hz": 1}) is None
    assert d.see("neuro/state", {"rate_hz": 100}) is None  # still warming up
    assert d.see("modulation", "increase") is None
    assert d.see("neuro/state", {"no": "rate"}) is None
