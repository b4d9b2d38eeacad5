"""Gymnasium environments and their registry (ids are registered when robot_twitch is imported)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

# Every env variant is one entry: id -> (entry point, default kwargs, max_episode_steps).
ENV_REGISTRY: dict[str, tuple[str, dict[str, Any], int]] = {
    "RobotTwitch/Limb-v0": ("robot_twitch.envs.limb:LimbEnv", {}, 1000),
    "RobotTwitch/Reach-v0": ("robot_twitch.envs.reach:ReachEnv", {}, 300),
    "RobotTwitch/ReachTip-v0": ("robot_twitch.envs.reach:ReachEnv", {"mode": "fingertip"}, 300),
}


def register_envs() -> None:
    """Register every id in ENV_REGISTRY with gymnasium (idempotent)."""
    for env_id, (entry_point, kwargs, max_steps) in ENV_REGISTRY.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, kwargs=kwargs, max_episode_steps=max_steps,
                         vector_entry_point={"RobotTwitch/Limb-v0":
                                             "robot_twitch.envs.vector:LimbVectorEnv"}.get(env_id))
