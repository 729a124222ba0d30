"""Agents on the simulation: a Gymnasium environment, the RL agent manager, dynamic LLM agents.

`ModulationEnv` is the simulation as a Gymnasium environment (also registered as
``HoloMind/Modulation-v0`` for `gymnasium.make`); `AgentManager` trains and runs
seed 002's policy on it with PPO and pays it in the ledger; `AgentPool` spawns
LLM agents when something new happens on the workspace; `AgentStore` is the
agents' SQLite book (the seed's ``agent_interactions`` table). See docs/agents.md.
"""

import gymnasium

from holomind.agents.env import ACTION_COST, OBSERVATION, EnvConfig, ModulationEnv, observe, reward
from holomind.agents.live import AgentPaths, SimAgents
from holomind.agents.llm_agents import AgentPool
from holomind.agents.manager import AgentManager
from holomind.agents.novelty import Novelty, NoveltyDetector
from holomind.agents.ppo import PPO, PPOConfig
from holomind.agents.roles import ROLES, Role
from holomind.agents.store import AgentStore

ENV_ID = "HoloMind/Modulation-v0"
if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="holomind.agents.env:ModulationEnv")

__all__ = [
    "ACTION_COST",
    "ENV_ID",
    "OBSERVATION",
    "PPO",
    "ROLES",
    "AgentManager",
    "AgentPaths",
    "AgentPool",
    "AgentStore",
    "EnvConfig",
    "ModulationEnv",
    "Novelty",
    "NoveltyDetector",
    "PPOConfig",
    "Role",
    "SimAgents",
    "observe",
    "reward",
]
