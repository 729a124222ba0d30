"""The reward rules: which events earn credits, how many, and what each event must state.

Seed 002 rewards agents for advanced learning, inventions and contributions. Each rule
here names one such event, the credits it pays, the details a caller must give (they
are stored in the mint's ``event``), which details identify the event (the same event
is paid once per account: a replay is refused), and optional conditions. Callers use
`Ledger.reward(account, rule, **details)`; `holomind ledger rules` lists the table.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from holomind.errors import InvalidInputError

Details = dict[str, Any]

_KINDS: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: type(v) is int,
    "number": lambda v: type(v) in (int, float) and math.isfinite(v),
    "text": lambda v: isinstance(v, str) and 0 < len(v) <= 200,
}


@dataclass(frozen=True)
class RewardRule:
    """One kind of event that earns credits."""

    name: str  # what callers pass, e.g. "agent.best_return"
    credits: int  # paid per event (per unit of ``per`` when set)
    description: str  # one sentence: when it pays
    details: dict[str, str]  # required detail -> "int" | "number" | "text"
    key: tuple[str, ...]  # details that identify the event; each event pays an account once
    memo: str  # memo template, formatted with the details
    per: str | None = None  # an int detail the credits are multiplied by
    improves: str | None = None  # a number detail that must beat every earlier one rewarded
    conditions: tuple[tuple[str, Callable[[Details], bool]], ...] = field(default=())

    def event(self, account: str, details: Details) -> Details:
        """The mint's ``event`` for ``details``, after checking them; `InvalidInputError` if bad."""
        missing = self.details.keys() - details.keys()
        extra = details.keys() - self.details.keys()
        if missing or extra:
            raise InvalidInputError(
                f"reward rule {self.name!r} needs details {', '.join(sorted(self.details))}",
                hint=f"missing {sorted(missing)}, unexpected {sorted(extra)}",
            )
        for name, kind in self.details.items():
            if not _KINDS[kind](details[name]):
                raise InvalidInputError(
                    f"reward rule {self.name!r}: {name} must be {kind}, got {details[name]!r}"
                )
        for why, holds in self.conditions:
            if not holds(details):
                raise InvalidInputError(f"reward rule {self.name!r} does not apply: {why}")
        event_id = "/".join([self.name, account, *(str(details[k]) for k in self.key)])
        return {"rule": self.name, "id": event_id, **details}

    def amount(self, details: Details) -> int:
        """Credits the event pays."""
        return self.credits * (details[self.per] if self.per else 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (conditions by their wording)."""
        return {
            "name": self.name,
            "credits": self.credits,
            "per": self.per,
            "description": self.description,
            "details": dict(self.details),
            "key": list(self.key),
            "improves": self.improves,
            "conditions": [why for why, _ in self.conditions],
        }


RULES: dict[str, RewardRule] = {
    rule.name: rule
    for rule in (
        RewardRule(
            name="agent.best_return",
            credits=10,
            description="Advanced learning: an agent ends an episode with a higher return "
            "than any it was rewarded for before.",
            details={"episode": "int", "episode_return": "number"},
            key=("episode",),
            memo="new best return {episode_return} in episode {episode}",
            improves="episode_return",
        ),
        RewardRule(
            name="soup.replicator_transition",
            credits=50,
            description="Invention: the soup reached its replicator state transition after "
            "the agent's modulation (one reward per soup run).",
            details={"run": "text", "modulation_epoch": "int", "epoch": "int"},
            key=("run",),
            memo="replicators in soup run {run} at epoch {epoch}, after modulation at "
            "{modulation_epoch}",
            conditions=(
                (
                    "the modulation must come before the transition",
                    lambda d: 0 <= d["modulation_epoch"] <= d["epoch"],
                ),
            ),
        ),
        RewardRule(
            name="cartridge.new_domain",
            credits=25,
            description="Invention: a new cartridge domain was spawned from data or a "
            "proposal the agent brought.",
            details={"library": "text", "cartridge": "int", "domain": "text"},
            key=("library", "cartridge"),
            memo="new cartridge {cartridge} for domain {domain}",
        ),
        RewardRule(
            name="memory.consolidated",
            credits=1,
            per="records",
            description="Advanced learning: hippocampus records consolidated into the "
            "cartridges during sleep (per record).",
            details={"network": "text", "first": "int", "records": "int"},
            key=("network", "first"),
            memo="{records} records of {network} consolidated from #{first}",
            conditions=(
                ("records must be at least 1", lambda d: d["records"] >= 1),
                ("first must be a record id (1 or more)", lambda d: d["first"] >= 1),
            ),
        ),
        RewardRule(
            name="agent.proposal_adopted",
            credits=5,
            description="Contribution: the system applied a proposal the agent wrote to "
            "the workspace.",
            details={"proposal": "text"},
            key=("proposal",),
            memo="proposal {proposal} adopted",
        ),
    )
}


def rule(name: str) -> RewardRule:
    """The rule called ``name``; `InvalidInputError` listing the rules if there is none."""
    found = RULES.get(name)
    if found is None:
        raise InvalidInputError(
            f"there is no reward rule {name!r}", hint=f"use one of: {', '.join(RULES)}"
        )
    return found
