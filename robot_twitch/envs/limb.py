"""RobotTwitch/Limb-v0: the muscle-driven limb as a gymnasium environment.

A thin adapter (dm_control's separation of physics, task and observation): the physics lives in
Simulation, the sensors in SensorModel, the reward in a Task object; this class only maps them
onto gymnasium's API. The plant task gives zero reward.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from robot_twitch.body.spec import Body, load_body
from robot_twitch.envs.camera import CameraSpec, default_camera
from robot_twitch.envs.tasks import Task, make_task
from robot_twitch.rollout import Rollout
from robot_twitch.sensors import SensorConfig, SensorModel, sensor_groups
from robot_twitch.sensors_layout import SensorLayout
from robot_twitch.sim import LimbState, SimConfig, Simulation
from robot_twitch.typed import build


def refuse_non_numbers(action: Any, muscle_names: Sequence[str], what: str) -> None:
    """ValueError naming the first entry of `action` that is None or not a real number.

    numpy turns None into NaN when it converts to float, so without this check a None would be
    reported as "NaN or inf". Called off the fast path (float arrays skip it).
    """
    try:
        raw = np.asarray(action)
    except ValueError:  # ragged nesting: reported by the caller's shape check
        return
    if raw.dtype.kind not in "OUSV" or raw.ndim == 0:
        return  # numbers, or one value: the caller's conversion and shape checks report it
    for index, value in np.ndenumerate(raw):
        if value is None or isinstance(value, (str, bytes)) or not isinstance(value, (int, float, np.number)):
            where = muscle_names[index[-1]] if raw.ndim and index[-1] < len(muscle_names) else index
            env = f"env {index[0]}, " if raw.ndim == 2 else ""
            raise ValueError(f"{what} has {value!r} ({type(value).__name__}) at {env}muscle {where!r}; "
                             "expected numbers in [0, 1]")


class LimbEnv(gym.Env):
    """A limb actuated by Hill-type muscles.

    Action: muscle excitations, Box [0, 1]^M float32 (values outside are clipped; NaN, inf or a
    wrong shape raise ValueError). Observation: a Dict of sensor groups (see robot_twitch.sensors),
    or with ``flatten_observation=True`` one Box of S values in SensorLayout order.
    ``sim_config`` and ``sensor_config`` take the config objects or plain mappings of their keys
    (as JSON-serialisable env kwargs: a Minari dataset's recorded env spec holds them so).
    ``info`` carries the ground truth: moment_arms (M, J), joint_pos, activation, muscle_force_n,
    contacts, blown_up, time_s. Without sensor noise or delay, the observation arrays are the
    step's own state arrays (no copies; shared with ``limb_state``, never read by the physics
    again). An integration blow-up (NaN or runaway speed) terminates the
    episode with ``info["blown_up"] = True``.

    ``task`` names a registered task (robot_twitch.envs.tasks.TASK_REGISTRY; default "plant":
    zero reward, never terminates) built for this env's body with ``task_config`` (its settings
    class or a mapping of its fields), or is a task object already built for this body.
    ``reset(options={"target_joint_pos": q})`` passes a target posture to a task that has one.
    """

    # render_fps is the control rate (one frame per step, real time); to film at a video frame
    # rate use robot_twitch.envs.wrappers.RecordVideo, which keeps one frame per 1/fps s.
    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}
    default_task = "plant"  # the task when none is named

    def __init__(
        self,
        body: str | Path | Body = "planar_arm",
        render_mode: str | None = None,
        sim_config: SimConfig | Mapping[str, Any] | None = None,
        sensor_config: SensorConfig | Mapping[str, Any] | None = None,
        task: str | Task | None = None,
        flatten_observation: bool = False,
        reset_noise_rad: float = 0.0,
        render_size: tuple[int, int] = (320, 240),
        task_config: Any = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not supported; expected one of "
                             f"{self.metadata['render_modes']} or None")
        self.body = body if isinstance(body, Body) else load_body(body)
        if sim_config is not None:
            sim_config = build(SimConfig, sim_config, key="sim_config")
        if sensor_config is not None:
            sensor_config = build(SensorConfig, sensor_config, key="sensor_config")
        self.render_mode = render_mode
        self.render_size = render_size
        self.sim = Simulation(self.body, sim_config)
        self.rollout = Rollout(self.sim)  # steps the limb; MotorDriveWrapper puts a drive on it
        self.sim_config = self.sim.config
        self.layout = SensorLayout.for_body(self.body)
        # gym envs read ideal sensors unless given a SensorConfig (experiments default to realistic)
        self.sensors = SensorModel(self.layout, self.body.muscle_params.max_isometric_force_n,
                                   sensor_config or SensorConfig(preset="ideal"))
        self.task: Task = self._make_task(task, task_config)
        self.flatten_observation = flatten_observation
        self.reset_noise_rad = reset_noise_rad
        self.camera: CameraSpec = default_camera(self.body)
        self.metadata = {**self.metadata, "render_fps": int(round(self.sim_config.control_hz))}
        n_muscles = len(self.body.muscle_names)
        self.action_space = spaces.Box(0.0, 1.0, shape=(n_muscles,), dtype=np.float32)
        group_sizes = {g: self.layout.slices[g].stop - self.layout.slices[g].start for g in self.layout.groups}
        if flatten_observation:
            self.observation_space = spaces.Box(-np.inf, np.inf, shape=(self.layout.size,), dtype=np.float64)
        else:
            self.observation_space = spaces.Dict(
                {g: spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float64) for g, n in group_sizes.items()}
            )
        self._n_muscles = n_muscles
        self._max_force_n = self.body.muscle_params.max_isometric_force_n
        sensors_cfg = self.sensors.config
        self._direct_observation = not flatten_observation and not any(
            v > 0 for v in (*sensors_cfg.noise_std.values(), *sensors_cfg.delay_steps.values()))
        self._state: LimbState = self.sim.state

    # -- gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        q0 = options.get("joint_pos")
        if q0 is None:
            q0 = self.body.initial_posture()
            if self.reset_noise_rad > 0:
                q0 = q0 + self.np_random.uniform(-self.reset_noise_rad, self.reset_noise_rad, q0.shape)
            q0 = np.clip(q0, self.body.kinematics.joint_lower, self.body.kinematics.joint_upper)
        self._state = self.rollout.reset(np.asarray(q0, dtype=float))
        self.sensors.reset(self._state)
        self.task.reset(self.np_random, options.get("target_joint_pos"))
        return self._observation(), self._info({})

    def step(self, action: Any):
        excitation = self.validate_action(action)
        self._state = self.rollout.step(excitation)
        reward, terms, task_done = self.task.evaluate(self._state)
        terminated = bool(task_done or self._state.blown_up)
        return self._observation(), reward, terminated, False, self._info(terms)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        from robot_twitch.render import render_limb

        width, height = self.render_size
        return render_limb(self.sim, self.camera, width, height)

    def close(self) -> None:
        self.sim.close()
        super().close()

    # -- helpers -------------------------------------------------------------------------
    def _make_task(self, task: str | Task | None, task_config: Any) -> Task:
        """The registered task named ``task`` (default: ``default_task``) for this env's body, built
        with ``task_config``, or a task object already built for this body."""
        if task is None or isinstance(task, str):
            return make_task(task or self.default_task, self.body, task_config)
        if task_config is not None:
            raise ValueError("pass either a task object or task_config, not both")
        body = getattr(task, "body", None)
        if body is not self.body and (body is None or (body.name, body.joint_names, body.muscle_names)
                                      != (self.body.name, self.body.joint_names, self.body.muscle_names)):
            raise ValueError(f"the task was built for body {getattr(body, 'name', None)!r}, "
                             f"the env has body {self.body.name!r}")
        return task

    def validate_action(self, action: Any) -> np.ndarray:
        """Excitations as a new float64 (M,) array clipped to [0, 1]; ValueError for a wrong shape or NaN/inf."""
        n = self._n_muscles
        if not isinstance(action, np.ndarray) or action.dtype.kind not in "fiub":
            refuse_non_numbers(action, self.body.muscle_names, "action")
        try:
            u = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"action {action!r} is not numeric; expected {n} muscle excitations in [0, 1]") from None
        if u.shape != (n,):
            raise ValueError(f"action has shape {u.shape}, expected ({n},): one excitation per muscle "
                             f"{list(self.body.muscle_names)}")
        # The sum is finite iff every entry is (NaN and inf propagate); only an overflow of huge
        # finite values also gives inf, and then the element-wise test below finds nothing.
        if not math.isfinite(sum(u.tolist())):
            bad = ~np.isfinite(u)
            if bad.any():
                names = [self.body.muscle_names[i] for i in np.flatnonzero(bad)]
                raise ValueError(f"action contains NaN or inf for muscles {names}; expected values in [0, 1]")
        out = np.maximum(u, 0.0)
        return np.minimum(out, 1.0, out=out)

    @property
    def dt(self) -> float:
        """Simulated time per env step [s]: the control step (as gymnasium's MuJoCo envs' ``dt``)."""
        return self.sim_config.control_dt_s

    @property
    def limb_state(self) -> LimbState:
        return self._state

    def _observation(self) -> dict[str, np.ndarray] | np.ndarray:
        s = self._state
        if self._direct_observation:
            # No noise, no delay: the groups are arrays that Simulation allocated for this step and
            # never writes or reads again (the joint damping of the next step is computed privately),
            # so no copies. They are shared with limb_state: an in-place edit of the observation
            # changes that snapshot of the ground truth, never the physics.
            return sensor_groups(s, self._max_force_n)
        reading = self.sensors.read(s, self.np_random)
        if self.flatten_observation:
            return self.layout.flatten(reading)
        return {g: np.array(reading[g], dtype=np.float64) for g in self.layout.groups}

    def _info(self, reward_terms: dict[str, float]) -> dict[str, Any]:
        s = self._state
        # The state's arrays are new every step and Simulation never writes into them. It reads
        # activation and moment arms in the next step, and the observation shares joint_pos and
        # joint_vel: copies keep those independent of info; the muscle force is info's alone.
        return {
            "time_s": s.time_s,
            "moment_arms": s.moment_arms_m.copy(),
            "joint_pos": s.joint_pos_rad.copy(),
            "joint_vel": s.joint_vel_rad_s.copy(),
            "activation": s.activation.copy(),
            "muscle_force_n": s.force_n,
            "contacts": list(s.contacts),
            "blown_up": s.blown_up,
            "reward_terms": dict(reward_terms),
        }
