"""CPU microseconds per control step of gym.make("RobotTwitch/Limb-v0") per body, for comparing two
versions of the code on a machine shared with other jobs (process CPU time, not wall-clock).

    python benchmarks/bench_env_cpu.py [--bodies planar_arm leg] [--steps 2000] [--repeats 3]

Run it alternately from two checkouts (PYTHONPATH=<checkout>) and compare the medians.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import robot_twitch  # noqa: E402,F401


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", nargs="*", default=["planar_arm", "leg"])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out = []
    for name in args.bodies:
        env = gym.make("RobotTwitch/Limb-v0", body=name, max_episode_steps=10**9, disable_env_checker=True)
        n = env.action_space.shape[0]
        actions = np.random.default_rng(0).uniform(0, 1, (args.steps, n)).astype(np.float32)
        times = []
        for _ in range(args.repeats):
            env.reset(seed=0)
            start = time.process_time()
            for a in actions:
                env.step(a)
            times.append((time.process_time() - start) / args.steps * 1e6)
        out.append(f"{name} {float(np.median(times)):.1f}")
        env.close()
    print(" | ".join(out))


if __name__ == "__main__":
    main()
