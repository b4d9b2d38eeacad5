"""Aggregate simulated seconds per wall second of the batched vector env, on one core.

For N limbs: the batched LimbVectorEnv with 1 limb per Bullet world ("clients"), 8 per world (the
default) and all N in one world, N separate Limb-v0 envs stepped in a loop, and raw PyBullet
stepping N skeletons (the URDF exactly as the env loads it) with precomputed torques in the same three layouts, interleaved in every
repeat; medians. Memory per limb from the RSS growth of building
a batched env. Then a 2-core scaling check: 1 vs 2 processes, each pinned to its own core,
each stepping one batched env of --scale-n limbs.

    python benchmarks/bench_vector.py [--n 1 8 64 256] [--repeats 5] [--core 0] [--scale-cores 0 1]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
from _common import RawLimbs, machine, median, pin_to_core, rss_mb, timed, use_cpu_clock  # noqa: E402

import robot_twitch  # noqa: E402,F401
from robot_twitch.envs.vector import LimbVectorEnv  # noqa: E402
from robot_twitch.sim import SimConfig, bullet_urdf  # noqa: E402


def _steps_for(n: int, target_limb_steps: int) -> int:
    return max(20, target_limb_steps // n)


LAYOUTS = {"clients": 1, "8/world": 8, "world": None}


def bench_n(body: str, n: int, repeats: int, limb_steps: int, singles: bool,
            sim_config: SimConfig | None = None) -> dict[str, float]:
    steps = _steps_for(n, limb_steps)
    rng = np.random.default_rng(0)
    envs = {name: LimbVectorEnv(num_envs=n, body=body, limbs_per_world=per or n, sim_config=sim_config)
            for name, per in LAYOUTS.items()}
    ref = envs["clients"]
    m = ref.single_action_space.shape[0]
    actions = rng.uniform(0.0, 1.0, (steps, n, m))
    torques: list[list[list[float]]] = []
    ref.reset(seed=0)
    for a in actions:
        ref.step(a)
        torques.append(ref.sim.joint_torque_nm.tolist())
    cfg, spec, spacing = ref.sim_config, ref.body.spec, ref.sim.spacing_m
    with bullet_urdf(ref.body, cfg) as urdf_path:  # the URDF exactly as the env hands it to Bullet
        raws = {name: RawLimbs(str(urdf_path), spec.fixed_base, n, cfg.control_hz, cfg.physics_hz,
                               per or n, spacing, cfg.self_collision and spec.self_collision)
                for name, per in LAYOUTS.items()}
    single_envs = [gym.make("RobotTwitch/Limb-v0", body=body, sim_config=sim_config).unwrapped
                   for _ in range(n)] if singles else []

    def run_vec(env: LimbVectorEnv) -> None:
        env.reset(seed=0)
        for a in actions:
            env.step(a)

    def run_singles() -> None:
        for i, e in enumerate(single_envs):
            e.reset(seed=i)
        for a in actions:
            for e, u in zip(single_envs, a, strict=True):
                e.step(u)

    times: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, env in envs.items():
            times.setdefault(f"vector {name}", []).append(timed(lambda env=env: run_vec(env)))
        for name, raw in raws.items():
            times.setdefault(f"raw {name}", []).append(timed(lambda raw=raw: raw.run(torques)))
        if singles:
            times.setdefault("N single envs", []).append(timed(run_singles))
    for obj in [*envs.values(), *raws.values(), *single_envs]:
        obj.close()
    simulated_s = steps * n * cfg.control_dt_s
    return {k: simulated_s / median(v) for k, v in times.items()}


def _memory_worker(body: str, n: int, per_world: int, out: mp.Queue) -> None:
    LimbVectorEnv(num_envs=1, body=body).close()  # imports, caches
    before = rss_mb()
    env = LimbVectorEnv(num_envs=n, body=body, limbs_per_world=per_world)
    env.reset(seed=0)
    for _ in range(10):
        env.step(np.zeros((n, env.single_action_space.shape[0])))
    out.put((rss_mb() - before) / n)
    env.close()


def memory_per_limb_mb(body: str, n: int, per_world: int) -> float:
    """RSS growth per limb of building and stepping an N-limb env, in a fresh process [MB]."""
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_memory_worker, args=(body, n, per_world, queue))
    proc.start()
    try:
        value = queue.get(timeout=600)
    except Exception:  # the child died (e.g. out of memory)
        value = float("nan")
    proc.join()
    return value


def _worker(core: int | None, body: str, n: int, seconds: float, start: float, out: mp.Queue,
            sim_config: SimConfig | None = None) -> None:
    pin_to_core(core)
    env = LimbVectorEnv(num_envs=n, body=body, sim_config=sim_config)
    env.reset(seed=0)
    u = np.full((n, env.single_action_space.shape[0]), 0.3)
    while time.time() < start:
        time.sleep(0.001)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        env.step(u)
        steps += 1
    out.put(steps * n * env.sim_config.control_dt_s / (time.perf_counter() - t0))
    env.close()


def scaling(body: str, n: int, cores: list[int], seconds: float,
            sim_config: SimConfig | None = None) -> tuple[float, float]:
    ctx = mp.get_context("spawn")
    results = []
    for used in (cores[:1], cores[:2]):
        queue: mp.Queue = ctx.Queue()
        start = time.time() + 3.0
        procs = [ctx.Process(target=_worker, args=(c, body, n, seconds, start, queue, sim_config)) for c in used]
        for p in procs:
            p.start()
        rates = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        results.append(sum(rates))
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body", default="planar_arm")
    parser.add_argument("--n", type=int, nargs="*", default=[1, 8, 64, 256])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--limb-steps", type=int, default=4000, help="N x control steps per timed run")
    parser.add_argument("--core", type=int, default=0, help="core for the single-core runs (-1: no pinning)")
    parser.add_argument("--scale-cores", type=int, nargs="*", default=[0, 1])
    parser.add_argument("--scale-n", type=int, default=64)
    parser.add_argument("--scale-seconds", type=float, default=5.0)
    parser.add_argument("--scale-repeats", type=int, default=1, help="scaling runs; medians reported")
    parser.add_argument("--physics-hz", type=float, default=None, help="Bullet rate (default: SimConfig's)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory-per-limb runs")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time the single-core runs with process CPU time (robust on a shared machine)")
    args = parser.parse_args()
    cfg = SimConfig(physics_hz=args.physics_hz) if args.physics_hz else None
    print(f"# {machine()}; body {args.body}; physics {(cfg or SimConfig()).physics_hz:.0f} Hz; "
          f"medians of {args.repeats} repeats")
    if args.scale_cores:
        runs = [scaling(args.body, args.scale_n, args.scale_cores, args.scale_seconds, cfg)
                for _ in range(args.scale_repeats)]
        for k, (one, two) in enumerate(runs):
            print(f"scaling run {k + 1}: 1 process {one:.0f}x, 2 processes {two:.0f}x, speedup {two / one:.2f}x")
        one, two = median([r[0] for r in runs]), median([r[1] for r in runs])
        speedups = sorted(r[1] / r[0] for r in runs)
        print(f"\n2-process scaling (N={args.scale_n} per process, cores {args.scale_cores[:2]}, "
              f"{args.scale_seconds:.0f} s, median of {len(runs)}): 1 process {one:.0f}x, 2 processes "
              f"{two:.0f}x real time, speedup {median(speedups):.2f}x (runs: "
              f"{', '.join(f'{x:.2f}' for x in speedups)})\n", flush=True)
    pinned = pin_to_core(None if args.core < 0 else args.core)
    pinned += f"; {use_cpu_clock(args.cpu_time)}"
    print(f"# single-core runs {pinned}")
    names = list(LAYOUTS)
    print("| N | " + " | ".join(f"vector {k} [x real time]" for k in names) + " | N single envs | "
          + " | ".join(f"raw {k}" for k in names) + " | " + " | ".join(f"cost / raw ({k})" for k in names)
          + " | best vector / best raw |")
    print("|---" * (3 * len(names) + 3) + "|")
    for n in args.n:
        r = bench_n(args.body, n, args.repeats, args.limb_steps, singles=n <= 64, sim_config=cfg)
        best_raw = max(r[f"raw {k}"] for k in names)
        best_vec = max(r[f"vector {k}"] for k in names)
        single = f"{r['N single envs']:.0f}" if "N single envs" in r else "-"
        cells = [f"{r[f'vector {k}']:.0f}" for k in names] + [single]
        cells += [f"{r[f'raw {k}']:.0f}" for k in names]
        cells += [f"{r[f'raw {k}'] / r[f'vector {k}']:.2f}" for k in names] + [f"{best_raw / best_vec:.2f}"]
        print(f"| {n} | " + " | ".join(cells) + " |", flush=True)
    # One Bullet client per limb costs ~28 MB: 256 of them next to other jobs have been killed for
    # memory on a 23 GB machine, so that layout is measured at N = 64.
    for name, per in ([] if args.no_memory else LAYOUTS.items()):
        n = 64 if per == 1 else 256
        print(f"memory per limb ({name}, N={n}): {memory_per_limb_mb(args.body, n, per or n):.2f} MB")


if __name__ == "__main__":
    main()
