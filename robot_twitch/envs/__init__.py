"""Gymnasium environments and their registry (ids are registered when robot_twitch is imported).

Every env id is a registered task (robot_twitch.envs.tasks.TASK_REGISTRY): its ``env_id``, its
env class and its ``max_episode_steps`` come from the task's entry.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from robot_twitch.envs.tasks import TASK_REGISTRY

# Every env variant is one entry: id -> (entry point, default kwargs, max_episode_steps).
ENV_REGISTRY: dict[str, tuple[str, dict[str, Any], int]] = {
    entry.meta["env_id"]: (entry.meta["entry_point"], {"task": name}, entry.meta["max_episode_steps"])
    for name, entry in TASK_REGISTRY.items()}


def register_envs() -> None:
    """Register every id in ENV_REGISTRY with gymnasium (idempotent)."""
    for entry in TASK_REGISTRY.values():
        env_id = entry.meta["env_id"]
        if env_id not in gym.registry:
            entry_point, kwargs, max_steps = ENV_REGISTRY[env_id]
            gym.register(id=env_id, entry_point=entry_point, kwargs=kwargs, max_episode_steps=max_steps,
                         vector_entry_point=entry.meta.get("vector_entry_point"))
