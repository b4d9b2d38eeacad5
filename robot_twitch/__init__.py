"""robot_twitch: a testbed for body-schema learning from infant-like sleep twitches.

Importing the package registers the gymnasium ids (see robot_twitch.envs.ENV_REGISTRY). The body
API (Body, builtin_bodies, load_body) is imported on first use, so that `robot-twitch --help`
and modules that need no body start quickly.
"""

from __future__ import annotations

from typing import Any

from robot_twitch._quiet import import_pybullet_quietly

import_pybullet_quietly()  # before any module below imports pybullet

from robot_twitch.envs import ENV_REGISTRY, register_envs  # noqa: E402
from robot_twitch.errors import BodyFileError, ConfigError, RobotTwitchError  # noqa: E402

__version__ = "0.1.0"

register_envs()

_LAZY = {"Body", "builtin_bodies", "load_body"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from robot_twitch.body import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'robot_twitch' has no attribute {name!r}")

__all__ = [
    "ENV_REGISTRY",
    "Body",
    "BodyFileError",
    "ConfigError",
    "RobotTwitchError",
    "builtin_bodies",
    "load_body",
]
