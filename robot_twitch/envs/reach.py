"""RobotTwitch/Reach-v0: reach a target posture (or fingertip position) with the muscles.

``ReachEnv`` is a LimbEnv whose task is a ``ReachTask`` (robot_twitch.envs.tasks: the registered
tasks "reach" and "reach_tip") and whose observation carries the target, so that a policy can be
conditioned on it:

    posture mode   target_joint_pos (J,) [rad]   the target posture q*
                   target_error (J,) [rad]        q* - q, q the observed (sensed) joint_pos
    fingertip mode target_tip_pos (3,) [m]        the target fingertip position x*
                   tip_error (3,) [m]             x* - FK(q), from the observed joint_pos

With ``flatten_observation=True`` these are appended, in that order, after the S sensor values.
``info`` gains ``is_success`` (the task was solved this episode), ``target_joint_pos`` and
``distance`` (posture: ||q - q*|| [rad]; fingertip: ||x - x*|| [m]).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from robot_twitch.body.spec import Body
from robot_twitch.envs.limb import LimbEnv
from robot_twitch.envs.tasks import ReachTask, Task
from robot_twitch.sensors import SensorConfig
from robot_twitch.sim import SimConfig


class ReachEnv(LimbEnv):
    """A LimbEnv with a ReachTask and the target in the observation.

    Args:
        body, render_mode, sim_config, sensor_config, flatten_observation, reset_noise_rad,
            render_size: as LimbEnv.
        task: "reach" (default: a target posture) or "reach_tip" (a fingertip position), or a
            ReachTask built for this body.
        task_config: the task's settings (ReachConfig / ReachTipConfig, or a mapping of their
            fields: mode, tolerance_rad, hold_steps, effort_weight, ...).

    ``reset(options={"target_joint_pos": q_star})`` fixes the target posture for that episode
    (clipped to the joint range) instead of drawing it; ``options["joint_pos"]`` sets the start.
    """

    default_task = "reach"
    task: ReachTask

    def __init__(
        self,
        body: str | Path | Body = "planar_arm",
        render_mode: str | None = None,
        sim_config: SimConfig | None = None,
        sensor_config: SensorConfig | None = None,
        task: str | ReachTask | None = None,
        flatten_observation: bool = False,
        reset_noise_rad: float = 0.0,
        render_size: tuple[int, int] = (320, 240),
        task_config: Any = None,
    ) -> None:
        super().__init__(body=body, render_mode=render_mode, sim_config=sim_config,
                         sensor_config=sensor_config, task=task, flatten_observation=flatten_observation,
                         reset_noise_rad=reset_noise_rad, render_size=render_size, task_config=task_config)
        self.target_spaces = self._target_spaces()
        if flatten_observation:
            n = self.layout.size + sum(int(np.prod(s.shape)) for s in self.target_spaces.values())
            self.observation_space = spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float64)
        else:
            assert isinstance(self.observation_space, spaces.Dict)
            self.observation_space = spaces.Dict({**self.observation_space.spaces, **self.target_spaces})

    def _target_spaces(self) -> dict[str, spaces.Box]:
        kin = self.body.kinematics
        n_j = kin.n_joints
        if self.task.mode == "fingertip":
            return {"target_tip_pos": spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float64),
                    "tip_error": spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float64)}
        return {"target_joint_pos": spaces.Box(kin.joint_lower, kin.joint_upper, shape=(n_j,), dtype=np.float64),
                "target_error": spaces.Box(-np.inf, np.inf, shape=(n_j,), dtype=np.float64)}

    def _make_task(self, task: str | Task | None, task_config: Any) -> Task:
        made = super()._make_task(task, task_config)
        if not isinstance(made, ReachTask):
            raise ValueError(f"ReachEnv needs a ReachTask, got {type(made).__name__}")
        return made

    # -- observation and info ------------------------------------------------------------------
    def target_observation(self, joint_pos: np.ndarray) -> dict[str, np.ndarray]:
        """The target keys for an observed joint_pos (J,)."""
        q_star = self.task.target_joint_pos
        if q_star is None:
            raise RuntimeError("ReachEnv: call reset() before reading observations")
        if self.task.mode == "fingertip":
            x_star = self.task.target_tip_pos
            assert x_star is not None
            return {"target_tip_pos": x_star.copy(),
                    "tip_error": x_star - self.task.tip_position(joint_pos)}
        return {"target_joint_pos": q_star.copy(), "target_error": q_star - np.asarray(joint_pos)}

    def _observation(self) -> dict[str, np.ndarray] | np.ndarray:
        obs = super()._observation()
        if self.flatten_observation:
            assert isinstance(obs, np.ndarray)
            extra = self.target_observation(self.layout.group(obs, "joint_pos"))
            return np.concatenate([obs, *[extra[k] for k in self.target_spaces]])
        assert isinstance(obs, dict)
        obs.update(self.target_observation(obs["joint_pos"]))
        return obs

    def _info(self, reward_terms: dict[str, float]) -> dict[str, Any]:
        info = super()._info(reward_terms)
        q_star = self.task.target_joint_pos
        info["is_success"] = bool(self.task.solved)
        info["target_joint_pos"] = None if q_star is None else q_star.copy()
        info["distance"] = self.task.error(self.limb_state.joint_pos_rad)[0] if q_star is not None \
            else float("nan")
        return info
