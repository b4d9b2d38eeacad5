"""Motor drives: infant-like sleep twitches and babbling baselines (pure numpy).

Quick start::

    import numpy as np
    from robot_twitch.motor import make_drive, generate, TwitchConfig

    drive = make_drive("twitch", body.muscles, control_dt_s=0.01,
                       config=TwitchConfig(age_weeks=8), rng=np.random.default_rng(1))
    e = drive.step()                 # (M,) excitations in [0, 1] for the next control step
    trace = generate(drive, 600.0)   # DriveTrace: (T, M) excitation, hypnogram, events

See docs/motor.md for the model and every config field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from robot_twitch.motor.base import (
    STATE_ORDER,
    BufferedDrive,
    DriveTrace,
    MotorDrive,
    MuscleLike,
    SleepState,
    generate,
)
from robot_twitch.motor.batch import BatchDrive
from robot_twitch.motor.dep import DEPConfig, DEPDrive
from robot_twitch.motor.energy import (
    ENERGY_MATCH_RTOL,
    actuation_energy,
    match_energy,
    match_trace_energy,
)
from robot_twitch.motor.events import (
    BurstStats,
    TwitchEvent,
    burst_stats,
    load_events,
    region_shares,
    save_events,
)
from robot_twitch.motor.factory import DRIVE_REGISTRY, make_drive
from robot_twitch.motor.passive import PassiveConfig, PassiveDrive
from robot_twitch.motor.sleep import SleepConfig, SleepCycle
from robot_twitch.motor.twitch import TwitchConfig, TwitchDrive, mirror_indices

if TYPE_CHECKING:
    from robot_twitch.motor.plot import plot_twitch_raster

__all__ = [
    "DRIVE_REGISTRY",
    "ENERGY_MATCH_RTOL",
    "STATE_ORDER",
    "AwakeConfig",
    "AwakeDrive",
    "BatchDrive",
    "BufferedDrive",
    "BurstStats",
    "DEPConfig",
    "DEPDrive",
    "DriveTrace",
    "MotorDrive",
    "MuscleLike",
    "OUConfig",
    "OUDrive",
    "PassiveConfig",
    "PassiveDrive",
    "SineConfig",
    "SineDrive",
    "SleepConfig",
    "SleepCycle",
    "SleepState",
    "TwitchConfig",
    "TwitchDrive",
    "TwitchEvent",
    "WhiteNoiseConfig",
    "WhiteNoiseDrive",
    "actuation_energy",
    "burst_stats",
    "generate",
    "load_events",
    "make_drive",
    "match_energy",
    "match_trace_energy",
    "mirror_indices",
    "plot_twitch_raster",
    "region_shares",
    "save_events",
]


def __getattr__(name: str) -> Any:
    # matplotlib is imported only when the plot is asked for.
    if name == "plot_twitch_raster":
        from robot_twitch.motor.plot import plot_twitch_raster

        return plot_twitch_raster
    raise AttributeError(f"module 'robot_twitch.motor' has no attribute {name!r}")
