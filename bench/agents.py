"""Agents benchmark: the trained RL agent against random, always-maintain and a tuned PID.

One run, one environment (`ModulationEnv`: the seed network, 200 neurons, 25 ms
chunks, band 5-15 Hz, 40-step episodes starting up to 12 drive steps away):

1. Train. The agent manager runs PPO on the seed's policy for `--steps` steps
   (each a real Brian2 chunk), fresh (no checkpoint), seed 0.
2. Tune the PID. A grid of gains (kp, ki, kd) is tried on `--tune-episodes`
   episodes of their own (seeds 20,000+); the best goes on.
3. Evaluate. The trained agent (greedy), random, always-maintain and the tuned PID
   each play the same `--episodes` held-out episodes (seeds 10,000+: the same
   networks and starting drives for all four). Goal: the agent's mean return at
   least the PID's, and well above random's.

    OMP_NUM_THREADS=1 .venv/bin/python bench/agents.py             # ~5 minutes here
    OMP_NUM_THREADS=1 .venv/bin/python bench/agents.py --quick     # a smoke test

Results also go to bench/results/agents.json (or --json PATH).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from holomind.agents import AgentManager, AgentStore, EnvConfig, ModulationEnv, PPOConfig
from holomind.agents.baselines import AlwaysMaintain, PIDController, RandomPolicy, evaluate
from holomind.config import Settings

KP = (0.05, 0.1, 0.2)
KI = (0.0, 0.5, 1.0)
KD = (0.0, 0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8000, help="training steps")
    parser.add_argument("--episodes", type=int, default=20, help="evaluation episodes")
    parser.add_argument("--tune-episodes", type=int, default=5, help="episodes per PID setting")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    parser.add_argument("--json", type=Path, default=Path("bench/results/agents.json"))
    args = parser.parse_args()
    if args.quick:
        args.steps, args.episodes, args.tune_episodes = 400, 3, 1
    torch.set_num_threads(1)
    config = EnvConfig()
    work = Path(tempfile.mkdtemp(prefix="holomind-bench-agents-"))
    env = ModulationEnv(config, cache_dir=Settings.load().home / "brian2")
    began = time.perf_counter()

    print(f"training {args.steps} steps ...", file=sys.stderr)
    with AgentStore(work / "agents.db") as store:
        manager = AgentManager(work / "rl.safetensors", store, config=PPOConfig(seed=0))

        def show(p: dict) -> None:
            print(
                f"\r  step {p['steps']}/{p['target']} episode {p['episodes']} mean return "
                f"(10) {p['mean_return_10']} ETA {p['eta_s']:.0f} s   ",
                end="",
                file=sys.stderr,
            )

        t0 = time.perf_counter()
        trained_summary = manager.train(env, args.steps, seed=0, on_progress=show)
        train_s = time.perf_counter() - t0
        print(file=sys.stderr)

        print("tuning the PID ...", file=sys.stderr)
        grid = []
        for kp, ki, kd in itertools.product(KP, KI, KD):
            pid = PIDController(band=config.band_hz, kp=kp, ki=ki, kd=kd, dt=config.chunk_ms / 1000)
            returns = evaluate(env, pid, args.tune_episodes, 20_000, reset=pid.reset)
            grid.append({"kp": kp, "ki": ki, "kd": kd, "mean_return": statistics.mean(returns)})
        best = max(grid, key=lambda g: g["mean_return"])
        pid = PIDController(
            band=config.band_hz,
            kp=best["kp"],
            ki=best["ki"],
            kd=best["kd"],
            dt=config.chunk_ms / 1000,
        )

        print("evaluating ...", file=sys.stderr)
        policies = {
            "trained": (lambda obs: manager.ppo.act(obs, greedy=True).action, None),
            "pid": (pid, pid.reset),
            "always_maintain": (AlwaysMaintain(), None),
            "random": (RandomPolicy(0), None),
        }
        results = {}
        for name, (policy, reset) in policies.items():
            t0 = time.perf_counter()
            returns = evaluate(env, policy, args.episodes, 10_000, reset=reset)
            results[name] = {
                "mean_return": round(statistics.mean(returns), 3),
                "stdev": round(statistics.stdev(returns), 3) if len(returns) > 1 else 0.0,
                "returns": returns,
                "seconds": round(time.perf_counter() - t0, 2),
            }
    env.close()
    t, p, r = (results[k]["mean_return"] for k in ("trained", "pid", "random"))
    out = {
        "env": {**config.__dict__, "band_hz": list(config.band_hz)},
        "steps": args.steps,
        "train_seconds": round(train_s, 1),
        "trained": {k: trained_summary[k] for k in ("episodes", "updates", "best_return")},
        "pid_grid": grid,
        "pid_best": best,
        "results": results,
        "trained_minus_pid": round(t - p, 3),
        "trained_minus_random": round(t - r, 3),
        "goal_met": t >= p and t - r > 0.5 * abs(p - r),
        "total_seconds": round(time.perf_counter() - began, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    print(
        f"{'policy':<16}{'mean return':>12}{'stdev':>8}  (max {config.episode_steps} per episode)"
    )
    for name, res in results.items():
        print(f"{name:<16}{res['mean_return']:>12.2f}{res['stdev']:>8.2f}")
    print(
        f"trained - PID = {t - p:+.2f}; trained - random = {t - r:+.2f}; PID gains {best}; "
        f"training {train_s:.0f} s for {args.steps} steps; goal met: {out['goal_met']}"
    )


if __name__ == "__main__":
    main()
