"""The whole-body infant with skin: speed against real time and raw PyBullet, the skin's share, memory.

In one process pinned to one core, interleaved in every repeat (machine noise hits all alike),
medians of the repeats:

- env: gym.make("RobotTwitch/Limb-v0", body="infant") stepped with sparse random excitations
  (each muscle on with probability 0.1 per step, uniform amplitude: twitch-like activity);
- Simulation.step alone, and the same without skin (the body's taxels removed);
- raw PyBullet: the URDF exactly as the env hands it to Bullet, in the same world (crib, contact
  stiffness, self-collision, physics rate and numSubSteps), stepped with the torques the env
  applied (precomputed): setJointMotorControlArray + stepSimulation and nothing else;
- the skin's share: the time of the skin readout (contacts -> taxels) inside Simulation.step.

Memory: resident set growth per env for 8 envs made and reset in this process.

Clock: `--clock cpu` (default) times the CPU seconds of this process (time.process_time), which
on a machine shared with other jobs is what the code costs; `--clock wall` times wall-clock
seconds (time.perf_counter), the right figure on a quiet machine (there the two agree: the
process is single-threaded and CPU-bound).

    python benchmarks/bench_infant.py [--steps 1000] [--repeats 5] [--core 0] [--clock cpu|wall]
                                      [--physics-hz 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import pybullet  # noqa: E402
from _common import machine, median, pin_to_core, rss_mb  # noqa: E402

import robot_twitch  # noqa: E402,F401
from robot_twitch.body.spec import load_body  # noqa: E402
from robot_twitch.sim import (  # noqa: E402
    SimConfig,
    Simulation,
    bullet_urdf,
    configure_world,
    connect_quietly,
    load_ground,
    load_limb,
)


class RawInfant:
    """The infant's URDF (as the env loads it) in the same Bullet world, stepped by raw PyBullet."""

    def __init__(self, body, cfg: SimConfig) -> None:
        self.client = connect_quietly()
        configure_world(self.client, cfg)
        load_ground(self.client, cfg.ground_for(body), crib_m=body.spec.crib_m)
        with bullet_urdf(body, cfg) as urdf_path:
            limb = load_limb(self.client, body, cfg, urdf_path=urdf_path)
        self.robot, self.joints = limb.robot_id, limb.joint_indices
        self.q0 = body.initial_posture()

    def run(self, torques: list[list[float]]) -> None:
        c, cid = self.client, self.client._client
        for index, q in zip(self.joints, self.q0, strict=True):
            c.resetJointState(self.robot, index, float(q), 0.0)
        set_array, step, mode = pybullet.setJointMotorControlArray, pybullet.stepSimulation, pybullet.TORQUE_CONTROL
        robot, joints = self.robot, self.joints
        for tau in torques:
            set_array(robot, joints, mode, forces=tau, physicsClientId=cid)
            step(physicsClientId=cid)

    def close(self) -> None:
        self.client.disconnect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin to (-1: no pinning)")
    parser.add_argument("--envs", type=int, default=8, help="envs made for the memory figure")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--physics-hz", type=float, default=SimConfig().physics_hz)
    args = parser.parse_args()
    pinned = pin_to_core(None if args.core < 0 else args.core)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    def timed(fn) -> float:
        start = clock()
        fn()
        return clock() - start

    body = load_body("infant")
    cfg = SimConfig(physics_hz=args.physics_hz)
    n_m = len(body.muscle_names)
    rng = np.random.default_rng(0)
    actions = (rng.uniform(size=(args.steps, n_m)) * (rng.uniform(size=(args.steps, n_m)) < 0.1)).astype(np.float32)

    wrapped = gym.make("RobotTwitch/Limb-v0", body="infant", max_episode_steps=10**9, disable_env_checker=True,
                       sim_config=cfg)
    env = wrapped.unwrapped
    torques: list[list[float]] = []
    env.reset(seed=0)
    for a in actions:
        env.step(a)
        torques.append(env.limb_state.joint_torque_nm.tolist())

    def run_env() -> None:
        wrapped.reset(seed=0)
        for a in actions:
            wrapped.step(a)

    skin_s = [0.0]
    sim = Simulation(body, cfg)
    read = sim._skin.read

    def timed_read(*a, **k):
        start = clock()
        out = read(*a, **k)
        skin_s[0] += clock() - start
        return out

    sim._skin.read = timed_read  # type: ignore[method-assign]
    bare = Simulation(replace(body, skin=None), cfg)

    def run_sim(s: Simulation) -> None:
        s.reset()
        for a in actions:
            s.step(a.astype(np.float64))

    raw = RawInfant(body, cfg)
    names = ("env", "Simulation.step", "Simulation.step, no skin", "raw PyBullet")
    times: dict[str, list[float]] = {k: [] for k in names}
    skin_share = []
    for _ in range(args.repeats):
        times["env"].append(timed(run_env))
        skin_s[0] = 0.0
        times["Simulation.step"].append(timed(lambda: run_sim(sim)))
        skin_share.append(skin_s[0])
        times["Simulation.step, no skin"].append(timed(lambda: run_sim(bare)))
        times["raw PyBullet"].append(timed(lambda: raw.run(torques)))
    contacts = len(sim.client.getContactPoints(bodyA=sim.robot_id))
    for closing in (raw, sim, bare, wrapped):
        closing.close()

    simulated_s = args.steps * cfg.control_dt_s
    print(f"# {machine()}; {pinned}; physics {cfg.physics_hz:.0f} Hz, control {cfg.control_hz:.0f} Hz; "
          f"{args.steps} control steps x {args.repeats} repeats, medians; {args.clock} clock")
    print(f"# infant: {len(body.joint_names)} joints, {n_m} muscles, {body.skin.n_taxels} taxels; "
          f"{contacts} contact points at the end")
    print("| | x real time | us per control step |")
    print("|---|---|---|")
    for name in names:
        t = median(times[name])
        print(f"| {name} | {simulated_s / t:.1f} | {t / args.steps * 1e6:.0f} |")
    env_t, raw_t, sim_t = median(times["env"]), median(times["raw PyBullet"]), median(times["Simulation.step"])
    print(f"\nenv / raw PyBullet cost: {env_t / raw_t:.2f}; skin readout: {median(skin_share) / args.steps * 1e6:.0f} us "
          f"per step = {median(skin_share) / sim_t:.1%} of Simulation.step")

    before = rss_mb()
    envs = [gym.make("RobotTwitch/Limb-v0", body="infant", disable_env_checker=True) for _ in range(args.envs)]
    for e in envs:
        e.reset(seed=0)
        e.step(np.zeros(n_m, dtype=np.float32))
    after = rss_mb()
    for e in envs:
        e.close()
    print(f"memory: {(after - before) / args.envs:.1f} MB resident per env ({args.envs} envs, one process)")


if __name__ == "__main__":
    main()
