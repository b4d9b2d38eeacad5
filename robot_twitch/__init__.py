"""robot_twitch: a testbed for body-schema learning from infant-like sleep twitches.

Importing the package registers the gymnasium ids (see robot_twitch.envs.ENV_REGISTRY).
"""

from __future__ import annotations

from robot_twitch._quiet import import_pybullet_quietly

import_pybullet_quietly()  # before any module below imports pybullet

from robot_twitch.body.spec import Body, builtin_bodies, load_body  # noqa: E402
from robot_twitch.envs import ENV_REGISTRY, register_envs  # noqa: E402
from robot_twitch.errors import BodyFileError, ConfigError, RobotTwitchError  # noqa: E402

__version__ = "0.1.0"

register_envs()

__all__ = [
    "ENV_REGISTRY",
    "Body",
    "BodyFileError",
    "ConfigError",
    "RobotTwitchError",
    "builtin_bodies",
    "load_body",
]
