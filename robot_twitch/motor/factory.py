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
from robot_twitch.registry import Registry

DRIVE_REGISTRY = Registry("drive")
"""Drive name -> Entry(drive class, config class, doc). The config's ``drive.kind`` choices, its
``drive.NAME`` sections, docs/config.md and the CLI help are read from here.

Adding a drive: write its module (a class taking (muscles, control_dt_s, config, rng) with
``step() -> (M,)``, ``reset(rng)``, ``events``, ``sleep_state``, ``steps_taken``; set
``closed_loop = True`` to be given the muscle state after every step, ``external = True`` when its
output pushes the limb instead of exciting muscles) and its test, and add one line here."""
DRIVE_REGISTRY.add("twitch", TwitchDrive, TwitchConfig, "Sleep twitches: brief myoclonic twitches in active sleep, gated by the sleep-wake cycle.")
DRIVE_REGISTRY.add("white_noise", WhiteNoiseDrive, WhiteNoiseConfig)
DRIVE_REGISTRY.add("ou", OUDrive, OUConfig)
DRIVE_REGISTRY.add("sine", SineDrive, SineConfig)
DRIVE_REGISTRY.add("awake", AwakeDrive, AwakeConfig)
DRIVE_REGISTRY.add("dep", DEPDrive, DEPConfig)
DRIVE_REGISTRY.add("passive", PassiveDrive, PassiveConfig)


def drive_name_for_config(config: object) -> str:
    """Registry name of the drive that takes ``config`` (by config class)."""
    for name, entry in DRIVE_REGISTRY.items():
        if type(config) is entry.config:
            return name
    raise ValueError(
        f"config of type {type(config).__name__} is invalid: expected one of "
        f"{tuple(e.config.__name__ for e in DRIVE_REGISTRY.values() if e.config is not None)}"
    )


def make_drive(
    name: str,
    muscles: Sequence[MuscleLike],
    control_dt_s: float = 0.01,
    config: Any | None = None,
    rng: np.random.Generator | None = None,
) -> BufferedDrive | DEPDrive:
    """Build the drive registered as ``name`` in DRIVE_REGISTRY.

    Args:
        name: registry key.
        muscles: objects with ``.name``, ``.region`` and ``.side``.
        control_dt_s: control step [s].
        config: the drive's config (None: defaults).
        rng: source of all randomness (None: ``np.random.default_rng(0)``).
    """
    if name not in DRIVE_REGISTRY:
        raise ValueError(f"drive name {name!r} is invalid: expected one of {tuple(DRIVE_REGISTRY)}")
    drive_cls, cfg_cls = DRIVE_REGISTRY[name][:2]
    if config is not None and not isinstance(config, cfg_cls):
        raise ValueError(
            f"config for drive {name!r} is a {type(config).__name__}: expected {cfg_cls.__name__}"
        )
    return drive_cls(muscles, control_dt_s, config, rng)  # type: ignore[call-arg]
