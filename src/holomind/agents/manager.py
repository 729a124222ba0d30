"""The RL agent manager: trains the seed's policy, runs it on a live simulation, pays it.

`AgentManager` owns one RL agent: its PPO learner (`holomind.agents.ppo`), its
checkpoint file, its rows in the agents' book (`AgentStore`) and its ledger
account. Two ways to use it:

- `train(env, steps)`: PPO on a `ModulationEnv` (each step a real chunk of the
  network), checkpointed as it goes; `resume` is opening the same checkpoint.
- `attach(sim)`: act on a running `Simulation` after every chunk (in the
  network's thread, between chunks, so the action lands on the next chunk as in
  training), with the same observation and reward; it keeps learning unless told
  not to, and its episodes are `episode_steps` chunks.

Rewards land in the ledger as they are earned (`holomind.ledger` rules):
``agent.best_return`` when an episode beats every return the agent was paid for,
``soup.replicator_transition`` when the soup's entropy crosses the transition
line after one of the agent's modulations. Each is also published as
``ledger/rewarded``; each step as ``agents/rl``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from holomind.agents.env import ModulationEnv, observe, reward
from holomind.agents.novelty import TRANSITION_BITS
from holomind.agents.ppo import PPO, PPOConfig, Step
from holomind.agents.store import AgentStore
from holomind.errors import InvalidInputError
from holomind.ledger import Ledger
from holomind.sim import ACTIONS, Simulation
from holomind.workspace import GlobalWorkspace

RL_ROLE = "network modulation (PPO on the seed's 10-128-128-3 policy)"


class AgentManager:
    """One RL agent: learner, checkpoint, book and ledger account.

    Args:
        checkpoint: the agent's checkpoint file (opened if it exists: training resumes).
        store: the agents' book.
        ledger: where rewards are minted (None: none are).
        name: the agent's name, also its ledger account.
        config: PPO settings for a new agent (a resumed one keeps its own).
        workspace: where ``agents/rl`` and ``ledger/rewarded`` are published (None: nowhere).
    """

    def __init__(
        self,
        checkpoint: Path,
        store: AgentStore,
        *,
        ledger: Ledger | None = None,
        name: str = "rl-agent",
        config: PPOConfig = PPOConfig(),
        workspace: GlobalWorkspace | None = None,
    ) -> None:
        self.checkpoint = Path(checkpoint)
        self.store = store
        self.ledger = ledger
        self.name = name
        self.workspace = workspace
        extra: dict[str, Any] = {}
        if self.checkpoint.is_file():
            self.ppo, extra = PPO.load(self.checkpoint)
        else:
            self.ppo = PPO(config)
        self.resumed = bool(extra)
        self.steps = int(extra.get("steps", 0))  # environment steps ever taken
        self.episodes = int(extra.get("episodes", 0))  # episodes ever finished
        self.best_return: float | None = extra.get("best_return")
        self.returns: list[float] = []  # episode returns in this session
        self.rewards: list[dict[str, Any]] = []  # ledger entries minted in this session
        self.refused: list[str] = []  # rewards the ledger refused (replays, not a new best)
        self.store.register(name, "rl", RL_ROLE, "resumed" if self.resumed else "created")
        if ledger is not None:
            ledger.ensure_account(name)
        self._live: _Live | None = None

    # -- training ------------------------------------------------------------------

    def train(
        self,
        env: ModulationEnv,
        steps: int,
        *,
        seed: int = 0,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        stop: threading.Event | None = None,
        save_every: int = 4,
    ) -> dict[str, Any]:
        """Run PPO for `steps` environment steps (whole episodes; `stop` ends it early).

        Episodes are seeded `seed + episode number`, so a resumed run continues the
        same sequence. The checkpoint is written every `save_every` updates and at the end.
        """
        if steps < 1:
            raise InvalidInputError(f"train for at least 1 step, got {steps}")
        began, start, target = time.perf_counter(), self.steps, self.steps + steps
        saved_at = self.ppo.updates
        while self.steps < target and not (stop is not None and stop.is_set()):
            obs, _ = env.reset(seed=seed + self.episodes)
            total, done = 0.0, False
            while not done:
                step = self.ppo.act(obs)
                nxt, r, terminated, truncated, info = env.step(step.action)
                self.ppo.record(obs, step, r, nxt, terminated, truncated)
                self._log_step(obs, step, r, info.get("rate_hz"))
                obs, total, done = nxt, total + r, terminated or truncated
            self._end_episode(total)
            if self.ppo.updates - saved_at >= save_every:
                self.save()
                saved_at = self.ppo.updates
            if on_progress is not None:
                on_progress(self._progress(start, target, time.perf_counter() - began))
        self.save()
        self.store.retire(self.name, "training ended")
        return self.summary()

    def _log_step(self, obs: np.ndarray, step: Step, r: float, rate: float | None) -> None:
        self.steps += 1
        self.store.record(
            self.name,
            "step",
            [round(float(x), 5) for x in obs],
            action=step.action,
            reward=round(r, 6),
            episode=self.episodes + 1,
        )
        if self.workspace is not None:
            self.workspace.write(
                "agents/rl",
                {
                    "agent": self.name,
                    "step": self.steps,
                    "episode": self.episodes + 1,
                    "action": ACTIONS[step.action],
                    "probs": step.probs,
                    "reward": round(r, 4),
                    "rate_hz": rate,
                    "best_return": self.best_return,
                    "updates": self.ppo.updates,
                    "learning": self._live is None or self._live.learn,
                },
            )

    def _end_episode(self, total: float) -> None:
        self.store.flush()  # a finished episode's rows are readable by others (the dashboard)
        self.episodes += 1
        total = round(total, 4)
        self.returns.append(total)
        if self.best_return is None or total > self.best_return:
            self.best_return = total
            self._reward("agent.best_return", episode=self.episodes, episode_return=total)

    def _reward(self, rule: str, **details: Any) -> None:
        if self.ledger is None:
            return
        try:
            entry = self.ledger.reward(self.name, rule, **details)
        except InvalidInputError as exc:  # a replay, or not better than a best paid before
            self.refused.append(str(exc))
            return
        paid = {
            "account": self.name,
            "rule": rule,
            "amount": entry.fields["amount"],
            "seq": entry.seq,
            "memo": entry.fields["memo"],
        }
        self.rewards.append(paid)
        if self.workspace is not None:
            self.workspace.write("ledger/rewarded", paid)

    def _progress(self, start: int, target: int, elapsed: float) -> dict[str, Any]:
        pace = elapsed / max(self.steps - start, 1)
        recent = self.returns[-10:]
        return {
            "steps": self.steps,
            "target": target,
            "episodes": self.episodes,
            "episode_return": self.returns[-1] if self.returns else None,
            "mean_return_10": round(float(np.mean(recent)), 4) if recent else None,
            "best_return": self.best_return,
            "updates": self.ppo.updates,
            "eta_s": max(target - self.steps, 0) * pace,
        }

    # -- acting on a live simulation ------------------------------------------------

    def attach(self, sim: Simulation, *, learn: bool = True, episode_steps: int = 40) -> None:
        """Act on `sim` after each of its chunks (learning from it too, unless `learn` is off)."""
        self.workspace = self.workspace or sim.workspace
        self._live = _Live(sim, learn, episode_steps)
        sim.chunk_listeners.append(self._on_chunk)

    def _on_chunk(self, state: dict[str, Any]) -> None:
        live = self._live
        assert live is not None
        sim = live.sim
        band = sim.config.band_hz
        rate = float(state["rate_hz"])
        obs = observe(sim.observe(), live.rate if live.rate is not None else rate, band)
        if live.obs is not None and live.step is not None and self._applied(state):
            r = reward(rate, band, ACTIONS[live.step.action])
            live.steps += 1
            live.total += r
            truncated = live.steps >= live.episode_steps
            if live.learn:
                self.ppo.record(live.obs, live.step, r, obs, False, truncated)
            self._log_step(live.obs, live.step, r, rate)
            if truncated:
                self._end_episode(live.total)
                live.steps, live.total = 0, 0.0
        self._watch_soup(live)
        live.obs, live.rate = obs, rate
        version = sim.workspace.version("modulation")
        if live.written is not None and version != live.written:
            # Someone else (a person, an adopted proposal) wrote a modulation during the
            # chunk: it acts on the next chunk, and that chunk teaches the agent nothing.
            live.step, live.written = None, version
            return
        live.step = self.ppo.act(obs, greedy=not live.learn)
        action = ACTIONS[live.step.action]
        live.written = sim.modulate(action, source=self.name)
        if action != "maintain" and live.first_modulation_epoch is None:
            epoch = sim.workspace.read("soup/epoch")
            if isinstance(epoch, int):
                live.first_modulation_epoch = epoch

    def _applied(self, state: dict[str, Any]) -> bool:
        """Whether the modulation applied at the start of this chunk was the agent's own."""
        mod = state.get("modulation") or {}
        start = state["t_s"] - state["chunk_s"]
        return mod.get("source") == self.name and abs(mod.get("t_s", -1.0) - start) < 1e-6

    def _watch_soup(self, live: _Live) -> None:
        ws = live.sim.workspace
        entropy, epoch = ws.read("soup/higher_entropy"), ws.read("soup/epoch")
        if live.transition_paid or not isinstance(epoch, int):
            return
        if isinstance(entropy, float | int) and entropy >= TRANSITION_BITS:
            live.transition_paid = True
            if live.first_modulation_epoch is not None:
                self._reward(
                    "soup.replicator_transition",
                    run=live.run,
                    modulation_epoch=live.first_modulation_epoch,
                    epoch=epoch,
                )

    # -- the end -------------------------------------------------------------------

    def save(self) -> None:
        """Write the checkpoint (atomically) and commit the book."""
        self.ppo.save(
            self.checkpoint,
            {
                "name": self.name,
                "steps": self.steps,
                "episodes": self.episodes,
                "best_return": self.best_return,
                "saved": time.time(),
            },
        )
        self.store.flush()

    def summary(self) -> dict[str, Any]:
        """What the agent has done, JSON-ready."""
        recent = self.returns[-10:]
        return {
            "agent": self.name,
            "checkpoint": str(self.checkpoint),
            "resumed": self.resumed,
            "steps": self.steps,
            "episodes": self.episodes,
            "updates": self.ppo.updates,
            "best_return": self.best_return,
            "mean_return_last_10": round(float(np.mean(recent)), 4) if recent else None,
            "session_episodes": len(self.returns),
            "rewards": self.rewards,
            "refused": self.refused,
            "losses": self.ppo.last_losses,
            "ppo": asdict(self.ppo.config),
        }


class _Live:
    """What the manager keeps about a simulation it acts on."""

    def __init__(self, sim: Simulation, learn: bool, episode_steps: int) -> None:
        self.sim = sim
        self.learn = learn
        self.episode_steps = max(1, episode_steps)
        self.obs: np.ndarray | None = None
        self.step: Step | None = None
        self.rate: float | None = None
        self.steps = 0
        self.total = 0.0
        self.first_modulation_epoch: int | None = None
        self.written: int | None = None  # version of the agent's last `modulation`
        self.transition_paid = False
        # Names this soup run in the ledger: the log file and when this manager joined it.
        self.run = f"{sim.db.name if sim.db else 'sim'}@{int(time.time())}"
