"""Hand a learned body schema to an agent: BodySchemaObservation.

The learners (robot_twitch.learn) build a body schema from twitches; the ``MotorMapLearner``'s
``motor_map`` (M, J) estimates the moment arms R up to positive scales. This
wrapper puts that knowledge into the observation of a Dict-observation env such as
RobotTwitch/Reach-v0, in one or both of two forms:

    schema_action_map (M*J,)  the learned map, scaled so that its largest |entry| is 1,
                              flattened row-major (muscle-major): entry [i * J + j] is muscle
                              i's action on joint j. Constant over an episode.
    schema_excitation (M,)    what a PostureController (robot_twitch.learn.control) using the
                              learned map would send toward the target posture: PD on the
                              observed joint_pos/joint_vel, muscle allocation by bounded least
                              squares. A "reflex" suggestion the agent may follow, correct or
                              ignore. Needs the observation key ``target_joint_pos``.

Sources of the map (``load_action_map``): a learner (anything with ``body_map()``, e.g.
``MotorMapLearner``), a body-map dict (``learner.body_map()`` or a loaded body_map.npz),
a run directory or its body_map.npz file (key ``motor_map/motor_map``), or an (M, J) array.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from robot_twitch.learn.control import PostureController
from robot_twitch.runstate import load_arrays

DEFAULT_MAP_KEY = "motor_map/motor_map"
SCHEMA_KEYS: tuple[str, ...] = ("schema_action_map", "schema_excitation")


def _map_from_dict(maps: Mapping[str, Any], key: str | None) -> np.ndarray:
    if key is not None:
        if key not in maps:
            raise ValueError(f"body map has no key {key!r}; keys: {sorted(maps)}")
        return np.asarray(maps[key], dtype=np.float64)
    for candidate in (DEFAULT_MAP_KEY, "motor_map"):
        if candidate in maps:
            return np.asarray(maps[candidate], dtype=np.float64)
    found = [k for k in maps if k.endswith("/motor_map") and not k.startswith("truth/")]
    if len(found) == 1:
        return np.asarray(maps[found[0]], dtype=np.float64)
    if found:
        raise ValueError(f"body map has several action maps {sorted(found)}; pass key=")
    raise ValueError(f"body map has no motor map (looked for {DEFAULT_MAP_KEY!r}, 'motor_map', "
                     f"'<learner>/motor_map'); keys: {sorted(maps)}")


def load_action_map(source: Any, key: str | None = None) -> np.ndarray:
    """The (M, J) action map of a learner, a body-map dict, a run directory, an .npz or an array.

    Args:
        source: an object with ``body_map()`` (e.g. MotorMapLearner); a mapping of map name
            -> array; a run directory (its ``body_map.npz`` is read) or an .npz path; an (M, J)
            array.
        key: which entry of a body map holds the action map; default ``motor_map/motor_map``,
            then ``motor_map``, then the only ``<learner>/motor_map``. Rows that are NaN (a
            muscle never commanded, so its action is unknown) become zero: the muscle is not used.

    Raises:
        ValueError: no (finite, non-zero, 2-D) action map could be found.
    """
    if hasattr(source, "body_map") and callable(source.body_map):
        arr = _map_from_dict(source.body_map(), key)
    elif isinstance(source, Mapping):
        arr = _map_from_dict(source, key)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            path = path / "body_map.npz"
        if not path.is_file():
            raise ValueError(f"no body map at {path} (expected a run directory or a body_map.npz file)")
        arr = _map_from_dict(load_arrays(path), key)
    else:
        arr = np.asarray(source, dtype=np.float64)
    if arr.ndim == 2:
        arr = np.where(np.all(np.isfinite(arr), axis=1, keepdims=True), arr, 0.0)
    if arr.ndim != 2 or not np.all(np.isfinite(arr)) or not np.abs(arr).max(initial=0.0) > 0:
        raise ValueError(f"the action map must be a finite, non-zero (M, J) array, got shape {arr.shape}")
    return arr


class BodySchemaObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Adds a learned action map and/or the excitation it suggests to a Dict observation.

    Args:
        env: an env with a Dict observation holding ``joint_pos`` and ``joint_vel`` (and
            ``target_joint_pos`` for the controller), e.g. RobotTwitch/Reach-v0. Flatten
            afterwards if needed (``gymnasium.wrappers.FlattenObservation``).
        schema: the map's source (see ``load_action_map``).
        include_map: add ``schema_action_map`` (M*J,).
        include_controller: add ``schema_excitation`` (M,).
        key: body-map key of the action map (see ``load_action_map``).
        gain_p, gain_d, reg: PostureController gains and ridge.
    """

    def __init__(
        self,
        env: gym.Env,
        schema: Any,
        include_map: bool = True,
        include_controller: bool = True,
        key: str | None = None,
        gain_p: float = 4.0,
        gain_d: float = 0.4,
        reg: float = 1e-3,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, schema=schema, include_map=include_map,
                                                 include_controller=include_controller, key=key,
                                                 gain_p=gain_p, gain_d=gain_d, reg=reg)
        gym.ObservationWrapper.__init__(self, env)
        if not (include_map or include_controller):
            raise ValueError("BodySchemaObservation: include_map or include_controller must be True")
        base = env.observation_space
        if not isinstance(base, spaces.Dict):
            raise ValueError("BodySchemaObservation needs a Dict observation space (do not pass "
                             "flatten_observation=True; flatten after this wrapper instead)")
        for needed in ("joint_pos", "joint_vel") + (("target_joint_pos",) if include_controller else ()):
            if needed not in base.spaces:
                hint = (" (a fingertip-mode or Limb-v0 env has no target posture; use include_controller=False)"
                        if needed == "target_joint_pos" else "")
                raise ValueError(f"BodySchemaObservation: the observation has no {needed!r} key{hint}")
        clash = [k for k in SCHEMA_KEYS if k in base.spaces]
        if clash:
            raise ValueError(f"the observation already has {clash}; wrap with BodySchemaObservation once")
        action_map = load_action_map(schema, key)
        assert isinstance(env.action_space, spaces.Box)
        n_m, n_j = int(env.action_space.shape[0]), int(base.spaces["joint_pos"].shape[0])
        if action_map.shape != (n_m, n_j):
            raise ValueError(f"the action map has shape {action_map.shape}, but the env has {n_m} muscles "
                             f"and {n_j} joints: expected ({n_m}, {n_j})")
        self.controller = PostureController(action_map, gain_p=gain_p, gain_d=gain_d, reg=reg)
        self.action_map = action_map / np.abs(action_map).max()  # largest |entry| 1, as the controller
        self.include_map, self.include_controller = include_map, include_controller
        extra: dict[str, spaces.Space] = {}
        if include_map:
            extra["schema_action_map"] = spaces.Box(-1.0, 1.0, shape=(n_m * n_j,), dtype=np.float64)
        if include_controller:
            extra["schema_excitation"] = spaces.Box(0.0, 1.0, shape=(n_m,), dtype=np.float64)
        self.observation_space = spaces.Dict({**base.spaces, **extra})
        self._flat_map = self.action_map.ravel().copy()

    @classmethod
    def from_learner(cls, env: gym.Env, learner: Any, **kwargs: Any) -> BodySchemaObservation:
        """From a learner with ``body_map()`` (e.g. a trained MotorMapLearner)."""
        if not hasattr(learner, "body_map"):
            raise ValueError(f"{type(learner).__name__} has no body_map() method")
        return cls(env, learner, **kwargs)

    @classmethod
    def from_body_map(cls, env: gym.Env, body_map: Mapping[str, Any], **kwargs: Any) -> BodySchemaObservation:
        """From a body-map dict (``learner.body_map()`` or a loaded body_map.npz)."""
        return cls(env, dict(body_map), **kwargs)

    @classmethod
    def from_run_dir(cls, env: gym.Env, run_dir: str | Path, **kwargs: Any) -> BodySchemaObservation:
        """From a run directory's body_map.npz (or the .npz file itself)."""
        return cls(env, Path(run_dir), **kwargs)

    def suggested_excitation(self, obs: Mapping[str, np.ndarray]) -> np.ndarray:
        """The controller's excitation (M,) in [0, 1] toward obs["target_joint_pos"]."""
        u = self.controller(np.asarray(obs["joint_pos"]), np.asarray(obs["joint_vel"]),
                            np.asarray(obs["target_joint_pos"]))
        return np.clip(u, 0.0, 1.0).astype(np.float64)

    def observation(self, observation: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = dict(observation)
        if self.include_map:
            out["schema_action_map"] = self._flat_map.copy()
        if self.include_controller:
            out["schema_excitation"] = self.suggested_excitation(observation)
        return out
