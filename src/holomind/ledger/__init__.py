"""The reward ledger: signed, hash-chained, Merkle-proved credits for agents and people.

from holomind.ledger import Ledger
ledger = Ledger.open("~/.holomind/ledger", create=True)
ledger.create_account("alice")
ledger.ensure_account("rl-agent")
ledger.reward("rl-agent", "agent.best_return", episode=12, episode_return=41.5)
ledger.transfer("rl-agent", "alice", 5, memo="thanks")
ledger.verify().ok

A local ledger, not a blockchain: see docs/ledger.md for what it guarantees.
"""

from holomind.ledger.entry import UNIT, Entry
from holomind.ledger.ledger import Account, Ledger, TornTailWarning, VerifyReport, verify_ledger
from holomind.ledger.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from holomind.ledger.proofs import ConsistencyProof, InclusionProof, TreeHead, proof_from_dict
from holomind.ledger.rewards import RULES, RewardRule

__all__ = [
    "RULES",
    "UNIT",
    "Account",
    "ConsistencyProof",
    "Entry",
    "InclusionProof",
    "Ledger",
    "MerkleTree",
    "RewardRule",
    "TornTailWarning",
    "TreeHead",
    "VerifyReport",
    "leaf_hash",
    "proof_from_dict",
    "verify_consistency",
    "verify_inclusion",
    "verify_ledger",
]
