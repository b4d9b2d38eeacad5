"""LimbVectorEnv: N RobotTwitch/Limb-v0 limbs in one process, batched (gymnasium VectorEnv).

Created by ``gymnasium.make_vec("RobotTwitch/Limb-v0", num_envs=N,
vectorization_mode="vector_entry_point")``. Sub-env i behaves like ``gym.make("RobotTwitch/Limb-v0")``
reset with seed ``seed + i``: same observations (to floating-point tolerance; bit-identical with
``limbs_per_world=1``, one Bullet client per limb; see robot_twitch.vector_sim), same truncation
after ``max_episode_steps``, same errors for bad actions.

Gymnasium 1.x conventions: Dict observations batched along a leading axis N, next-step autoreset
(the step after a sub-env terminates or truncates resets it and returns its reset observation
with reward 0), info batched with ``_key`` masks. Only the plant task (zero reward) is supported.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from robot_twitch.body.spec import Body, load_body
from robot_twitch.envs.limb import refuse_non_numbers
from robot_twitch.sensors import SensorConfig, sensor_groups
from robot_twitch.sensors_layout import SensorLayout
from robot_twitch.sim import SimConfig
from robot_twitch.vector_sim import DEFAULT_LIMBS_PER_WORLD, VectorSimulation


class LimbVectorEnv(VectorEnv):
    """N muscle-driven limbs of one body. Action (N, M) excitations; observation Dict of (N, n) groups."""

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        body: str | Path | Body = "planar_arm",
        sim_config: SimConfig | None = None,
        sensor_config: SensorConfig | None = None,
        flatten_observation: bool = False,
        reset_noise_rad: float = 0.0,
        max_episode_steps: int | None = None,
        limbs_per_world: int | str = DEFAULT_LIMBS_PER_WORLD,
        render_mode: str | None = None,
        task: Any = None,
        **unused: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError("LimbVectorEnv does not render; use gym.make('RobotTwitch/Limb-v0', "
                             "render_mode=...)")
        if task not in (None, "plant"):
            raise ValueError(f"LimbVectorEnv supports only the plant task (task='plant'), got {task!r}")
        self.body = body if isinstance(body, Body) else load_body(body)
        self.num_envs = int(num_envs)
        self.sim = VectorSimulation(self.body, self.num_envs, sim_config, limbs_per_world=limbs_per_world)
        self.sim_config = self.sim.config
        self.dt = self.sim_config.control_dt_s  # simulated time per step [s]
        self.layout = SensorLayout.for_body(self.body)
        self.sensor_config = sensor_config or SensorConfig(preset="ideal")  # as LimbEnv
        self.flatten_observation = flatten_observation
        self.reset_noise_rad = float(reset_noise_rad)
        self.max_episode_steps = max_episode_steps
        self.render_mode = None
        n_muscles = len(self.body.muscle_names)
        self.single_action_space = spaces.Box(0.0, 1.0, shape=(n_muscles,), dtype=np.float32)
        sizes = {g: self.layout.slices[g].stop - self.layout.slices[g].start for g in self.layout.groups}
        if flatten_observation:
            self.single_observation_space = spaces.Box(-np.inf, np.inf, shape=(self.layout.size,),
                                                       dtype=np.float64)
        else:
            self.single_observation_space = spaces.Dict(
                {g: spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float64) for g, n in sizes.items()}
            )
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._max_force_n = self.body.muscle_params.max_isometric_force_n
        present = set(self.layout.slices)  # e.g. no skin group on a body without taxels
        self._noisy = {g: s for g, s in self.sensor_config.noise_std.items() if s > 0 and g in present}
        self._delays = {g: int(d) for g, d in self.sensor_config.delay_steps.items() if d > 0 and g in present}
        self._buffers: dict[str, np.ndarray] = {}  # group -> (d + 1, N, n) ring of raw readings
        self._rngs: list[np.random.Generator] = [np.random.default_rng(0)] * self.num_envs
        self._rng_seeded = np.zeros(self.num_envs, dtype=bool)
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)

    # -- gymnasium API -------------------------------------------------------------------
    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        """Reset all sub-envs (or options["reset_mask"]); seed int -> seed + i, or one per sub-env."""
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, (int, np.integer)):
            seeds = [int(seed) + i for i in range(n)]
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(f"seed list has {len(seeds)} entries, expected num_envs = {n}")
        options = dict(options or {})
        mask = np.ones(n, dtype=bool) if options.get("reset_mask") is None else \
            np.asarray(options["reset_mask"], dtype=bool)
        if mask.shape != (n,):
            raise ValueError(f"options['reset_mask'] has shape {mask.shape}, expected ({n},)")
        for i in np.flatnonzero(mask):  # as gym.Env.reset: seed given, or first reset
            if seeds[i] is not None or not self._rng_seeded[i]:
                self._rngs[i], _ = seeding.np_random(seeds[i])
                self._rng_seeded[i] = True
        self._reset_rows(mask, options.get("joint_pos"))
        self._autoreset[mask] = False
        return self._observation(), self._info(mask)

    def step(self, actions: Any):
        excitation = self._validate(actions)
        reset_rows = self._autoreset.copy()
        any_reset = bool(reset_rows.any())
        self.sim.step(excitation, skip=reset_rows if any_reset else None)
        self._elapsed += 1
        if any_reset:
            self._reset_rows(reset_rows, None)
        terminated = self.sim.blown_up.copy()
        truncated = np.zeros(self.num_envs, dtype=bool)
        if self.max_episode_steps is not None:
            truncated = self._elapsed >= self.max_episode_steps
        if any_reset:
            terminated[reset_rows] = False
            truncated[reset_rows] = False
        self._autoreset = terminated | truncated
        reward = np.zeros(self.num_envs)
        return self._observation(), reward, terminated, truncated, self._info(np.ones(self.num_envs, bool))

    def close_extras(self, **kwargs: Any) -> None:
        self.sim.close()

    # -- helpers -------------------------------------------------------------------------
    def _reset_rows(self, mask: np.ndarray, joint_pos: Any) -> None:
        n, body = self.num_envs, self.body
        if joint_pos is None:
            q0 = np.tile(body.initial_posture(), (n, 1))
            if self.reset_noise_rad > 0:
                r = self.reset_noise_rad
                for i in np.flatnonzero(mask):
                    q0[i] = q0[i] + self._rngs[i].uniform(-r, r, q0[i].shape)
            q0 = np.clip(q0, body.kinematics.joint_lower, body.kinematics.joint_upper)
        else:
            q0 = np.broadcast_to(np.asarray(joint_pos, dtype=float), (n, len(body.joint_names)))
        self.sim.reset(q0, mask)
        self._elapsed[mask] = 0
        raw = self._raw()
        for group, d in self._delays.items():
            if group not in self._buffers:
                self._buffers[group] = np.repeat(raw[group][None], d + 1, axis=0)
            else:
                self._buffers[group][:, mask] = raw[group][mask]

    def _validate(self, actions: Any) -> np.ndarray:
        """Excitations float64 (N, M) clipped to [0, 1]; ValueError for a wrong shape or NaN/inf."""
        n, m = self.num_envs, self.single_action_space.shape[0]
        if not isinstance(actions, np.ndarray) or actions.dtype.kind not in "fiub":
            refuse_non_numbers(actions, self.body.muscle_names, "actions")
        try:
            u = np.asarray(actions, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"actions {actions!r} are not numeric; expected ({n}, {m}) excitations") \
                from None
        if u.shape != (n, m):
            raise ValueError(f"actions have shape {u.shape}, expected ({n}, {m}): one excitation per muscle "
                             f"{list(self.body.muscle_names)} for each of {n} envs")
        # NaN/inf propagate into the sum; locate them only then (a sum of huge finite values may
        # overflow: no culprit is found, and clipping handles them).
        culprits = np.argwhere(~np.isfinite(u)) if not math.isfinite(u.sum()) else ()
        if len(culprits):
            env, muscle = culprits[0]
            raise ValueError(f"actions contain NaN or inf (env {env}, muscle "
                             f"{self.body.muscle_names[muscle]!r}); expected values in [0, 1]")
        return np.clip(u, 0.0, 1.0)

    def _raw(self) -> dict[str, np.ndarray]:
        return sensor_groups(self.sim, self._max_force_n)

    def _observation(self) -> dict[str, np.ndarray] | np.ndarray:
        reading = self._raw()
        if not (self._delays or self._noisy or self.flatten_observation):
            # Arrays VectorSimulation allocated in this step (never written or read again): no copies.
            return reading
        if self._delays:
            for group, buffer in self._buffers.items():
                buffer[:-1] = buffer[1:]  # shift the delay line; oldest first
                buffer[-1] = reading[group]
                reading[group] = buffer[0].copy()
        for group, std in self._noisy.items():
            noisy = np.array(reading[group], dtype=np.float64)
            for i, rng in enumerate(self._rngs):
                noisy[i] += rng.normal(0.0, std, size=noisy.shape[1:])
            reading[group] = noisy
        if self.flatten_observation:
            return self.layout.flatten(reading)
        return {g: np.array(reading[g], dtype=np.float64) for g in self.layout.groups}

    def _info(self, mask: np.ndarray) -> dict[str, Any]:
        s, n = self.sim, self.num_envs
        contacts = np.empty(n, dtype=object)
        contacts[:] = [list(c) for c in s.contacts]
        values = {
            "time_s": s.time_s.copy(),
            "moment_arms": s.moment_arms_m.copy(),
            "joint_pos": s.joint_pos_rad.copy(),
            "joint_vel": s.joint_vel_rad_s.copy(),
            "activation": s.activation.copy(),
            "muscle_force_n": s.force_n.copy(),
            "contacts": contacts,
            "blown_up": s.blown_up.copy(),
        }
        info: dict[str, Any] = {}
        for key, value in values.items():
            info[key] = value
            info[f"_{key}"] = mask.copy()
        info["reward_terms"] = {}
        info["_reward_terms"] = mask.copy()
        return info
