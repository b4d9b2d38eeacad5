"""Sensors: what the limb feels after each control step.

Groups (J joints, M muscles, L links), with the receptor each one stands for:
    joint_pos (J,)  [rad]      joint angle (joint receptors / the sum of proprioception)
    joint_vel (J,)  [rad/s]    joint angular velocity
    spindle_length (M,)        normalised fibre length l/l_opt (spindle group II and Ia static)
    spindle_velocity (M,)      normalised fibre velocity v/(v_max l_opt) (spindle group Ia dynamic)
    tendon_force (M,)          normalised tendon force F/F_max (Golgi tendon organ, group Ib)
    touch (L,)  [N]            normal contact force per link, from the ground and self-contact
    skin (T,)  [N]             normal contact force per taxel (bodies with skin; body/skin.py)

Each group carries Gaussian noise (standard deviation in the group's units) and a delay in
control steps, as afferent conduction delays do. By default (``SensorConfig(preset="realistic")``)
every group has the noise and delay of docs/sensors.md; ``preset="ideal"`` is noise-free.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robot_twitch.errors import ConfigError
from robot_twitch.sensors_layout import SENSOR_GROUPS, SensorLayout
from robot_twitch.sim import LimbState

#: Groups carried by a muscle's own receptors (one channel per muscle).
MUSCLE_RECEPTOR_GROUPS: tuple[str, ...] = ("spindle_length", "spindle_velocity", "tendon_force")

__all__ = ["MUSCLE_RECEPTOR_GROUPS", "SENSOR_GROUPS", "SensorConfig", "SensorLayout", "SensorModel", "sensor_groups"]


#: Realistic sensing (docs/sensors.md has the sources): Gaussian noise per group, in the group's
#: units. Forearm position matching has an SD of ~4 deg in adults, ~10 deg in young children
#: (Holst-Wolf, Yeh & Konczak 2016); spindle primaries fire less regularly than secondaries
#: (Matthews & Stein 1969); a tendon organ responds to the force of single motor units (Jami 1992); touch
#: thresholds are ~1 mN on the fingertip and higher elsewhere (Johansson & Vallbo 1979).
REALISTIC_NOISE_STD: dict[str, float] = {
    "joint_pos": 0.01,  # rad (~0.6 deg)
    "joint_vel": 0.05,  # rad/s
    "spindle_length": 0.005,  # l_opt
    "spindle_velocity": 0.002,  # v_max l_opt
    "tendon_force": 0.01,  # F_max
    "touch": 0.01,  # N
    "skin": 0.002,  # N per taxel
}
#: Afferent conduction delay in 10 ms control steps: newborn peripheral nerves conduct at about
#: half the adult speed, ~25-30 m/s (Thomas & Lambert 1960), so an infant limb's 0.15-0.3 m of
#: nerve takes 5-12 ms: one control step for every group.
REALISTIC_DELAY_STEPS: dict[str, int] = {g: 1 for g in REALISTIC_NOISE_STD}
PRESETS: tuple[str, ...] = ("realistic", "ideal")


@dataclass(frozen=True)
class SensorConfig:
    """Noise and delay per sensor group: a preset, with per-group overrides."""

    preset: str = "realistic"
    """realistic: the literature's noise and afferent delay for every group (docs/sensors.md);
    ideal: noise-free and without delay. Entries of noise_std and delay_steps override it."""
    noise_std: dict[str, float] = field(default_factory=dict)
    """Gaussian noise standard deviation per group, in the group's units (overrides the preset)."""
    delay_steps: dict[str, int] = field(default_factory=dict)
    """Delay per group in control steps (overrides the preset)."""

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ConfigError(None, "sensors.preset", f"{self.preset!r} is invalid: expected one of {PRESETS}")
        for key, table in (("noise_std", self.noise_std), ("delay_steps", self.delay_steps)):
            for group, value in table.items():
                if group not in SENSOR_GROUPS:
                    raise ConfigError(None, f"sensors.{key}.{group}",
                                      f"unknown sensor group; expected one of {SENSOR_GROUPS}")
                if not value >= 0:
                    raise ConfigError(None, f"sensors.{key}.{group}", f"{value!r} must be >= 0")
                if key == "delay_steps" and int(value) != value:
                    raise ConfigError(None, f"sensors.{key}.{group}", f"{value!r} must be an integer")
        if self.preset == "realistic":  # the fields hold what is applied: preset, then overrides
            object.__setattr__(self, "noise_std", {**REALISTIC_NOISE_STD, **self.noise_std})
            object.__setattr__(self, "delay_steps", {**REALISTIC_DELAY_STEPS, **self.delay_steps})


def sensor_groups(state: Any, max_isometric_force_n: np.ndarray) -> dict[str, np.ndarray]:
    """The noiseless sensor groups of a limb state (or of a batch of them: arrays (..., n)).

    `state` is a LimbState or anything with its field names (VectorSimulation). The skin group is
    there only for a body with taxels.
    """
    groups = {
        "joint_pos": state.joint_pos_rad,
        "joint_vel": state.joint_vel_rad_s,
        "spindle_length": state.fiber_length_norm,
        "spindle_velocity": state.fiber_velocity_norm,
        "tendon_force": state.force_n / max_isometric_force_n,
        "touch": state.touch_n,
    }
    if state.skin_n.shape[-1]:
        groups["skin"] = state.skin_n
    return groups


class SensorModel:
    """Turns limb states into sensor readings, adding noise and delay as configured."""

    def __init__(self, layout: SensorLayout, max_isometric_force_n: np.ndarray,
                 config: SensorConfig | None = None) -> None:
        self.layout = layout
        self.config = config or SensorConfig()
        self._max_force_n = max_isometric_force_n
        present = set(layout.slices)  # e.g. no skin group on a body without taxels
        self._noisy = {g: s for g, s in self.config.noise_std.items() if s > 0 and g in present}
        self._delays = {g: int(d) for g, d in self.config.delay_steps.items() if d > 0 and g in present}
        self._buffers: dict[str, deque[np.ndarray]] = {}

    def reset(self, state: LimbState) -> None:
        """Fill the delay lines with the first reading."""
        reading = self._raw(state)
        self._buffers = {g: deque([reading[g]] * (d + 1), maxlen=d + 1) for g, d in self._delays.items()}

    def state_dict(self) -> dict[str, np.ndarray]:
        """The delay lines as plain arrays: group -> (delay + 1, n) oldest first."""
        return {g: np.stack(list(buffer)) for g, buffer in self._buffers.items()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Restore the delay lines saved by :meth:`state_dict` (groups and lengths must match)."""
        if set(state) != set(self._delays):
            raise ValueError(f"sensor delay lines {sorted(state)} do not match the config's {sorted(self._delays)}")
        buffers = {}
        for g, d in self._delays.items():
            rows = np.asarray(state[g], dtype=np.float64)
            if rows.ndim != 2 or rows.shape[0] != d + 1:
                raise ValueError(f"sensor delay line {g!r} has shape {rows.shape}, expected ({d + 1}, n)")
            buffers[g] = deque(list(rows), maxlen=d + 1)
        self._buffers = buffers

    def _raw(self, state: LimbState) -> dict[str, np.ndarray]:
        return sensor_groups(state, self._max_force_n)

    def read(self, state: LimbState, rng: np.random.Generator,
             silent: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The sensor reading for this state: groups as float64 arrays (copies).

        silent: optional (M,) bool, muscles whose receptors are gone (a lost muscle takes its
        spindle and tendon organ with it): their spindle and tendon channels read 0, noise-free.
        """
        reading = self._raw(state)
        for group, buffer in self._buffers.items():
            buffer.append(reading[group])
            reading[group] = buffer[0]
        for group, std in self._noisy.items():
            reading[group] = reading[group] + rng.normal(0.0, std, size=reading[group].shape)
        if silent is not None and np.any(silent):
            for group in MUSCLE_RECEPTOR_GROUPS:
                reading[group] = np.where(silent, 0.0, reading[group])
        return reading
