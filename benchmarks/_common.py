"""Shared helpers of the benchmarks: single-core pinning, timing, raw PyBullet baselines."""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import pybullet  # noqa: E402
from pybullet_utils import bullet_client  # noqa: E402


def pin_to_core(core: int | None) -> str:
    """Pin this process to one CPU core (Linux); returns a description."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    os.sched_setaffinity(0, {core})
    return f"pinned to core {core}"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical cores, Python {platform.python_version()}, " \
           f"numpy {np.__version__}, pybullet API {pybullet.getAPIVersion()}"


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


CLOCK: Callable[[], float] = time.perf_counter


def use_cpu_clock(enabled: bool) -> str:
    """Time with this process's CPU time instead of the wall clock (every measured path is
    single-threaded): on a machine shared with other jobs, waiting for the core is not counted."""
    global CLOCK
    CLOCK = time.process_time if enabled else time.perf_counter
    return "process CPU time" if enabled else "wall clock"


def timed(fn: Callable[[], None]) -> float:
    start = CLOCK()
    fn()
    return CLOCK() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


class RawLimbs:
    """N copies of a URDF stepped by raw PyBullet with precomputed torques: the cost floor.

    Same world settings as robot_twitch.sim (fixed step = control step, numSubSteps = substeps,
    motors off, no damping); limbs_per_world limbs share one Bullet world, spaced apart.
    """

    def __init__(self, urdf_path: str, fixed_base: bool, n: int, control_hz: float, physics_hz: float,
                 limbs_per_world: int = 1, spacing_m: float = 3.0, self_collision: bool = True) -> None:
        self.clients = []
        self.robots: list[tuple[int, int, list[int]]] = []  # (client id, robot id, joint indices)
        flags = pybullet.URDF_USE_INERTIA_FROM_FILE
        if self_collision:
            flags |= pybullet.URDF_USE_SELF_COLLISION | pybullet.URDF_USE_SELF_COLLISION_EXCLUDE_PARENT
        side = int(np.ceil(np.sqrt(limbs_per_world)))
        for i in range(n):
            slot = i % limbs_per_world
            if slot == 0:
                c = bullet_client.BulletClient(connection_mode=pybullet.DIRECT)
                c.setGravity(0, 0, -9.81)
                c.setPhysicsEngineParameter(fixedTimeStep=1.0 / control_hz,
                                            numSubSteps=int(round(physics_hz / control_hz)),
                                            deterministicOverlappingPairs=1)
                self.clients.append(c)
            offset = [(slot % side) * spacing_m, (slot // side) * spacing_m, 0.0]
            rid = c.loadURDF(urdf_path, basePosition=offset, useFixedBase=fixed_base, flags=flags)
            joints = [j for j in range(c.getNumJoints(rid))
                      if c.getJointInfo(rid, j)[2] != pybullet.JOINT_FIXED]
            all_joints = list(range(c.getNumJoints(rid)))
            c.setJointMotorControlArray(rid, all_joints, pybullet.VELOCITY_CONTROL,
                                        forces=[0.0] * len(all_joints))
            for j in [-1, *all_joints]:
                c.changeDynamics(rid, j, linearDamping=0.0, angularDamping=0.0, jointDamping=0.0)
            if limbs_per_world > 1:
                group = 1 << (slot % 30)
                for j in [-1, *all_joints]:
                    c.setCollisionFilterGroupMask(rid, j, group, group)
            self.robots.append((c._client, rid, joints))

    def run(self, torques: list[list[list[float]]]) -> None:
        """torques: steps x N x J nested lists (precomputed)."""
        set_array, step = pybullet.setJointMotorControlArray, pybullet.stepSimulation
        torque_mode = pybullet.TORQUE_CONTROL
        client_ids = [c._client for c in self.clients]
        robots = self.robots
        for per_limb in torques:
            for (cid, rid, joints), tau in zip(robots, per_limb, strict=True):
                set_array(rid, joints, torque_mode, forces=tau, physicsClientId=cid)
            for cid in client_ids:
                step(physicsClientId=cid)

    def close(self) -> None:
        for c in self.clients:
            c.disconnect()
        self.clients = []
