"""Simulated seconds per wall-clock second of RobotTwitch/Limb-v0, next to raw PyBullet.

For every built-in body: (a) gym.make("RobotTwitch/Limb-v0") with its default wrappers, (b) the
unwrapped env, (c) Simulation.step alone, (d) raw PyBullet stepping the same URDF with the
torques that (b) applied, precomputed, at the same physics rate and numSubSteps scheme: the URDF
exactly as the env hands it to Bullet (fixed-joint links welded, robot_twitch.body.weld), and
(e) the body's URDF file as written, unwelded, for reference. All in
one process pinned to one core; the four are interleaved in every repeat so that machine noise
hits them alike; medians of the repeats are reported.

    python benchmarks/bench_limb.py [--steps 2000] [--repeats 7] [--core 0] [--bodies planar_arm] [--cpu-time]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from _common import RawLimbs, machine, median, pin_to_core, timed, use_cpu_clock  # noqa: E402

import robot_twitch  # noqa: E402,F401
from robot_twitch.body.spec import builtin_bodies  # noqa: E402
from robot_twitch.sim import SimConfig, bullet_urdf  # noqa: E402


def bench_body(name: str, steps: int, repeats: int, sim_config: SimConfig | None = None) -> dict[str, float]:
    wrapped = gym.make("RobotTwitch/Limb-v0", body=name, max_episode_steps=10**9, disable_env_checker=True,
                       sim_config=sim_config)
    env = wrapped.unwrapped
    n_muscles = env.action_space.shape[0]
    actions = np.random.default_rng(0).uniform(0.0, 1.0, (steps, n_muscles)).astype(np.float32)
    dt_s = env.sim_config.control_dt_s
    torques: list[list[list[float]]] = []

    def run_env(e: gym.Env, record: bool = False) -> None:
        e.reset(seed=0)
        for a in actions:
            e.step(a)
            if record:
                torques.append([env.limb_state.joint_torque_nm.tolist()])

    def run_sim() -> None:
        env.reset(seed=0)
        sim = env.sim
        for a in actions:
            sim.step(a.astype(np.float64))

    run_env(env, record=True)
    spec = env.body.spec
    cfg = env.sim_config
    with bullet_urdf(env.body, cfg) as urdf_path:
        raw = RawLimbs(str(urdf_path), spec.fixed_base, 1, cfg.control_hz, cfg.physics_hz,
                       self_collision=cfg.self_collision and spec.self_collision)
    raw_file = RawLimbs(str(spec.urdf_path), spec.fixed_base, 1, cfg.control_hz, cfg.physics_hz,
                        self_collision=cfg.self_collision and spec.self_collision)
    names = ("gym.make env", "unwrapped env", "Simulation.step", "raw", "raw file")
    times: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(repeats):
        times["gym.make env"].append(timed(lambda: run_env(wrapped)))
        times["unwrapped env"].append(timed(lambda: run_env(env)))
        times["Simulation.step"].append(timed(run_sim))
        times["raw"].append(timed(lambda: raw.run(torques)))
        times["raw file"].append(timed(lambda: raw_file.run(torques)))
    raw.close()
    raw_file.close()
    wrapped.close()
    simulated_s = steps * dt_s
    return {k: simulated_s / median(v) for k, v in times.items()} | {
        f"{k} us/step": median(v) / steps * 1e6 for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin to (-1: no pinning)")
    parser.add_argument("--bodies", nargs="*", default=None)
    parser.add_argument("--physics-hz", type=float, default=None, help="Bullet rate (default: SimConfig's)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with process CPU time (robust on a shared machine) instead of the wall clock")
    args = parser.parse_args()
    clock = use_cpu_clock(args.cpu_time)
    cfg = SimConfig(physics_hz=args.physics_hz) if args.physics_hz else None
    pinned = pin_to_core(None if args.core < 0 else args.core)
    print(f"# {machine()}; {pinned}; physics {(cfg or SimConfig()).physics_hz:.0f} Hz; "
          f"{args.steps} control steps x {args.repeats} repeats, medians; {clock}")
    print("| body | gym.make env [x real time] | unwrapped env | Simulation.step | raw PyBullet | "
          "raw, URDF as written | env us/step | raw us/step | env / raw cost |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.bodies or sorted(builtin_bodies()):
        r = bench_body(name, args.steps, args.repeats, cfg)
        print(f"| {name} | {r['gym.make env']:.0f} | {r['unwrapped env']:.0f} | {r['Simulation.step']:.0f} | "
              f"{r['raw']:.0f} | {r['raw file']:.0f} | {r['gym.make env us/step']:.1f} / {r['unwrapped env us/step']:.1f} | "
              f"{r['raw us/step']:.1f} | {r['raw'] / r['gym.make env']:.2f} / "
              f"{r['raw'] / r['unwrapped env']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
