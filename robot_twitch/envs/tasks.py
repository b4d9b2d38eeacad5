"""Tasks: reward and termination, separate from the physics (dm_control's Task objects)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from robot_twitch.envs.limb import LimbEnv
    from robot_twitch.sim import LimbState


class Task(Protocol):
    """Reward and termination for a LimbEnv. Reward terms are named and returned in info."""

    def reset(self, env: LimbEnv, rng: np.random.Generator) -> None: ...

    def evaluate(self, env: LimbEnv, state: LimbState) -> tuple[float, dict[str, float], bool]:
        """(reward, named reward terms, task terminated)."""
        ...


class PlantTask:
    """The bare plant: zero reward, never terminates."""

    def reset(self, env: LimbEnv, rng: np.random.Generator) -> None:
        return None

    def evaluate(self, env: LimbEnv, state: LimbState) -> tuple[float, dict[str, float], bool]:
        return 0.0, {}, False
