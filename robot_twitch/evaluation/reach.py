"""reach.*: the downstream check of a learned action map (Function, SCIENCE.md 6).

At the end of a run the limb reaches target postures with a posture controller (learn/control.py)
built on the learned motor map, on the true moment arms R (the upper reference) and with random
commands (the floor): reach.success_learned_map, reach.success_true_map, reach.success_random.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from robot_twitch.learn.control import PostureController, random_policy, reach_success_rate
from robot_twitch.rollout import Rollout
from robot_twitch.sim import Simulation

if TYPE_CHECKING:
    from robot_twitch.body.kinematics import Kinematics

#: A reach succeeds when every joint ends within this of its target [rad].
REACH_TOLERANCE_RAD = 0.15
#: Targets and start postures are drawn from the inner 1 - 2 * margin of each joint's range.
REACH_MARGIN = 0.2


class SimulationPlant:
    """The Plant protocol (learn/control.py) over a Rollout of a Simulation without a drive (the
    controller's command is the excitation); lost muscles (``force_scale`` 0, (M,)) stay silent.
    Each reach starts at a random posture."""

    def __init__(self, sim: Simulation, force_scale: np.ndarray) -> None:
        self.rollout = Rollout(sim)
        self.rollout.force_scale = force_scale
        self.body = sim.body

    def reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = inner_range(self.body.kinematics)
        state = self.rollout.reset(rng.uniform(lo, hi))
        return state.joint_pos_rad, state.joint_vel_rad_s

    def step(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        state = self.rollout.step(np.clip(u, 0, 1))
        return state.joint_pos_rad, state.joint_vel_rad_s


def inner_range(kinematics: Kinematics) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) (J,) [rad]: each joint's range without REACH_MARGIN of it at either end."""
    lower, upper = kinematics.joint_lower, kinematics.joint_upper
    span = upper - lower
    return lower + REACH_MARGIN * span, upper - REACH_MARGIN * span


def reach_scores(sim: Simulation, force_scale: np.ndarray, true_moment_arms: np.ndarray,
                 action_map: np.ndarray | None, target_rng: np.random.Generator, start_seed: int,
                 n_trials: int, n_steps: int) -> dict[str, float]:
    """Success rate of posture reaching with the learned map, the true R and random commands.

    Args:
        sim: the run's Simulation (its body is the body reached with); it is stepped.
        force_scale: (M,) the muscles' force scales (0: lost).
        true_moment_arms: (M, J) the truth's R [m].
        action_map: (M, J) the learned motor map (NaN rows: never commanded), or None.
        target_rng: draws the (n_trials, J) targets, then the random policy's commands.
        start_seed: seeds the generator of every policy's start postures (the same for each).
        n_trials: targets (0: no check, empty result); n_steps: control steps per reach.
    """
    if n_trials == 0:
        return {}
    kin = sim.body.kinematics
    lo, hi = inner_range(kin)
    targets = target_rng.uniform(lo, hi, size=(n_trials, kin.n_joints))
    policies = {"true_map": PostureController(true_moment_arms),
                "random": random_policy(len(true_moment_arms), target_rng)}
    if action_map is not None and np.any(np.all(np.isfinite(action_map), axis=1)):
        # a muscle whose action is unknown (NaN row: never commanded) is not used
        known = np.where(np.all(np.isfinite(action_map), axis=1, keepdims=True), action_map, 0.0)
        if np.abs(known).max() > 0:
            policies["learned_map"] = PostureController(known)
    out = {}
    plant = SimulationPlant(sim, force_scale)
    for name, policy in policies.items():
        rate, _ = reach_success_rate(plant, policy, targets, np.random.default_rng(start_seed),
                                     n_steps=n_steps, tol_rad=REACH_TOLERANCE_RAD)
        out[f"reach.success_{name}"] = rate
    return out
