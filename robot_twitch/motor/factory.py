"""Drive registry and factory: build any drive by name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from robot_twitch.motor.babble import (
    AwakeConfig,
    AwakeDrive,
    OUConfig,
    OUDrive,
    SineConfig,
    SineDrive,
    WhiteNoiseConfig,
    WhiteNoiseDrive,
)
from robot_twitch.motor.base import BufferedDrive, MuscleLike
from robot_twitch.motor.dep import DEPConfig, DEPDrive
from robot_twitch.motor.passive import PassiveConfig, PassiveDrive
from robot_twitch.motor.twitch import TwitchConfig, TwitchDrive

DRIVE_REGISTRY: dict[str, tuple[type[BufferedDrive] | type[DEPDrive], type[Any]]] = {
    "twitch": (TwitchDrive, TwitchConfig),
    "white_noise": (WhiteNoiseDrive, WhiteNoiseConfig),
    "ou": (OUDrive, OUConfig),
    "sine": (SineDrive, SineConfig),
    "awake": (AwakeDrive, AwakeConfig),
    "dep": (DEPDrive, DEPConfig),
    "passive": (PassiveDrive, PassiveConfig),
}
"""Drive name -> (drive class, config class)."""


def drive_name_for_config(config: object) -> str:
    """Registry name of the drive that takes ``config`` (by config class)."""
    for name, (_, cfg_cls) in DRIVE_REGISTRY.items():
        if type(config) is cfg_cls:
            return name
    raise ValueError(
        f"config of type {type(config).__name__} is invalid: expected one of "
        f"{tuple(c.__name__ for _, c in DRIVE_REGISTRY.values())}"
    )


def make_drive(
    name: str,
    muscles: Sequence[MuscleLike],
    control_dt_s: float = 0.01,
    config: Any | None = None,
    rng: np.random.Generator | None = None,
) -> BufferedDrive | DEPDrive:
    """Build the drive registered as ``name`` ("twitch", "white_noise", "ou", "sine", "awake", "dep",
    "passive").

    Args:
        name: registry key.
        muscles: objects with ``.name``, ``.region`` and ``.side``.
        control_dt_s: control step [s].
        config: the drive's config (None: defaults).
        rng: source of all randomness (None: ``np.random.default_rng(0)``).
    """
    if name not in DRIVE_REGISTRY:
        raise ValueError(f"drive name {name!r} is invalid: expected one of {tuple(DRIVE_REGISTRY)}")
    drive_cls, cfg_cls = DRIVE_REGISTRY[name]
    if config is not None and not isinstance(config, cfg_cls):
        raise ValueError(
            f"config for drive {name!r} is a {type(config).__name__}: expected {cfg_cls.__name__}"
        )
    return drive_cls(muscles, control_dt_s, config, rng)  # type: ignore[call-arg]
