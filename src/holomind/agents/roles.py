"""The LLM agents' roles: what novelty spawns each, which keys it reads, its role prompt.

Seed 002 creates LLM agents "dynamically as the system evolves". Here each role
answers one kind of novelty on the workspace (`holomind.agents.novelty`); an
agent of that role is spawned when its novelty is seen and no agent of the role
is alive, reads the keys of its concern, and writes an observation or a proposal.
"""

from __future__ import annotations

from dataclasses import dataclass

# The JSON every agent's answer is held to (a llama.cpp grammar, servers' structured output).
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["observation", "proposal"]},
        "text": {"type": "string", "maxLength": 240},
        "action": {"type": "string", "enum": ["increase", "decrease", "maintain", "none"]},
    },
    "required": ["kind", "text", "action"],
    "additionalProperties": False,
}

# Every prompt is formatted with the band (str.format), hence the doubled braces.
_ANSWER = (
    ' Answer with JSON only: {{"kind": "observation" or "proposal", "text": one or two short '
    'sentences, "action": '
)


@dataclass(frozen=True)
class Role:
    """One kind of LLM agent."""

    name: str  # also the prefix of its agents' names ("soup-watcher-3")
    novelty: str  # the novelty that spawns it (`holomind.agents.novelty`)
    keys: tuple[str, ...]  # workspace keys it reads
    prompt: str  # its system prompt
    modulates: bool  # whether its proposals may carry a modulation to apply


ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            name="soup-watcher",
            novelty="soup_transition",
            keys=("soup/epoch", "soup/higher_entropy", "soup/diversity", "soup/replicators"),
            prompt=(
                "You are an evolutionary biologist watching a primordial soup of self-modifying "
                "BFF programs. Its high-order entropy just crossed 3 bits per byte: "
                "self-replicating programs have taken over. Say what the figures show, or "
                "propose what to watch next." + _ANSWER + '"none"}}.'
            ),
            modulates=False,
        ),
        Role(
            name="cartridge-curator",
            novelty="new_domain",
            keys=("cartridges/spawned", "train/metrics"),
            prompt=(
                "You curate a library of small expert networks (cartridges), one per domain of "
                "data. A new cartridge domain was just spawned. Say what it means for the "
                "library, or propose what data it should see next." + _ANSWER + '"none"}}.'
            ),
            modulates=False,
        ),
        Role(
            name="rate-watcher",
            novelty="rate_jump",
            keys=("neuro/state", "neural_activations", "modulation"),
            prompt=(
                "You are a neurophysiologist watching a spiking neural network whose firing rate "
                "should stay between {low:g} and {high:g} Hz. Its rate just jumped. Say what "
                "happened, or propose a modulation of its input: increase, decrease or "
                "maintain." + _ANSWER + '"increase", "decrease", "maintain" or "none"}}.'
            ),
            modulates=True,
        ),
    )
}
