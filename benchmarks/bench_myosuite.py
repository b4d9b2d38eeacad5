"""Optional: planar_arm Limb-v0 and MyoSuite's myoElbowPose1D6MRandom-v0 side by side, in one process.

Both envs are made with gym.make (their default wrappers), reset once, then stepped with
precomputed uniform random actions; the two are interleaved in every repeat (pinned to one core)
so that machine noise hits them alike; medians. Unit: simulated seconds per wall (or, with
--cpu-time, CPU) second. Needs MyoSuite (`pip install myosuite`, 3.0 from PyPI, which brings
MuJoCo and its models; nothing is downloaded at run time). MyoSuite pins gymnasium 1.2, so it is
best installed in its own virtual environment together with robot_twitch's dependencies (see
docs/benchmarks.md); without MyoSuite the script says so and exits 2.

    python benchmarks/bench_myosuite.py [--steps 2000] [--repeats 5] [--core 0] [--cpu-time]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402
from _common import machine, median, pin_to_core, timed, use_cpu_clock  # noqa: E402

MYO_ENV = "myoElbowPose1D6MRandom-v0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin to (-1: no pinning)")
    parser.add_argument("--cpu-time", action="store_true", help="time with process CPU time")
    args = parser.parse_args()
    try:
        import myosuite  # noqa: F401
        from myosuite.utils import gym as myo_gym
    except ImportError as exc:
        print(f"MyoSuite is not installed ({exc}); `pip install myosuite` (see docs/benchmarks.md)")
        raise SystemExit(2) from None
    import gymnasium as gym

    import robot_twitch  # noqa: F401

    clock = use_cpu_clock(args.cpu_time)
    pinned = pin_to_core(None if args.core < 0 else args.core)
    ours = gym.make("RobotTwitch/Limb-v0", body="planar_arm", max_episode_steps=10**9, disable_env_checker=True)
    myo = myo_gym.make(MYO_ENV)
    rng = np.random.default_rng(0)
    envs = {
        "robot_twitch planar_arm Limb-v0": (ours, rng.uniform(0.0, 1.0, (args.steps, ours.action_space.shape[0]))),
        f"MyoSuite {MYO_ENV}": (myo, rng.uniform(0.0, 1.0, (args.steps, myo.action_space.shape[0]))),
    }
    for env, _ in envs.values():
        env.reset(seed=0)
    names = list(envs)
    dt_s = {names[0]: ours.unwrapped.sim_config.control_dt_s, names[1]: float(myo.unwrapped.dt)}

    def run(env, actions) -> None:
        for a in actions.astype(np.float32):
            env.step(a)

    times: dict[str, list[float]] = {name: [] for name in envs}
    for _ in range(args.repeats):
        for name, (env, actions) in envs.items():
            env.reset(seed=0)
            times[name].append(timed(lambda env=env, actions=actions: run(env, actions)))
    print(f"# {machine()}; {pinned}; {args.steps} env steps x {args.repeats} repeats, medians; {clock}")
    print("| env | env step [ms] | physics step [ms] | x real time | us per env step |")
    print("|---|---|---|---|---|")
    physics = {names[0]: 1000.0 / ours.unwrapped.sim_config.physics_hz,
               names[1]: float(myo.unwrapped.mj_model.opt.timestep) * 1000.0}
    speed = {}
    for name in envs:
        t = median(times[name])
        speed[name] = args.steps * dt_s[name] / t
        print(f"| {name} | {dt_s[name] * 1e3:.0f} | {physics[name]:g} | {speed[name]:.0f} | {t / args.steps * 1e6:.1f} |")
    a, b = speed.values()
    print(f"\nrobot_twitch / MyoSuite, simulated s per second: {a / b:.2f}")
    ours.close()
    myo.close()


if __name__ == "__main__":
    main()
