"""Layout of the flat sensor vector: which slice holds which sensor group.

Every sensor reading can be flattened into one vector of S values. The layout names the groups
and the channels inside them, so that learners and evaluation never hard-code offsets.

Groups, in order (J joints, M muscles, L links, T taxels):
    joint_pos          (J,)  joint angles [rad]
    joint_vel          (J,)  joint angular velocities [rad/s]
    spindle_length     (M,)  normalised fibre length l/l_opt (muscle spindle, group Ia/II)
    spindle_velocity   (M,)  normalised fibre velocity v/(v_max) (spindle, group Ia)
    tendon_force       (M,)  normalised tendon force F/F_max (Golgi tendon organ, group Ib)
    touch              (L,)  normal contact force per link [N]
    skin               (T,)  normal contact force per taxel [N] (robot_twitch.body.skin); only
                             in layouts made with taxel names (a body with skin)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SENSOR_GROUPS: tuple[str, ...] = (
    "joint_pos",
    "joint_vel",
    "spindle_length",
    "spindle_velocity",
    "tendon_force",
    "touch",
    "skin",
)


@dataclass(frozen=True)
class SensorLayout:
    """Names and slices of the flat sensor vector for one body."""

    joint_names: tuple[str, ...]
    muscle_names: tuple[str, ...]
    link_names: tuple[str, ...]
    taxel_names: tuple[str, ...] = ()  # (T,) skin channels, e.g. 'head:12'; () leaves skin out
    slices: dict[str, slice] = field(init=False)
    size: int = field(init=False)
    groups: tuple[str, ...] = field(init=False)
    """The groups of this layout, in order: SENSOR_GROUPS, without skin when there are no taxels."""

    @classmethod
    def for_body(cls, body: Any, skin: bool = True) -> SensorLayout:
        """The layout of a Body's sensors, with its taxels (if `skin` and it has any)."""
        taxels = tuple(body.skin.channel_names()) if skin else ()
        return cls(body.joint_names, body.muscle_names, body.link_names, taxels)

    def __post_init__(self) -> None:
        counts = {
            "joint_pos": len(self.joint_names),
            "joint_vel": len(self.joint_names),
            "spindle_length": len(self.muscle_names),
            "spindle_velocity": len(self.muscle_names),
            "tendon_force": len(self.muscle_names),
            "touch": len(self.link_names),
            "skin": len(self.taxel_names),
        }
        groups = tuple(g for g in SENSOR_GROUPS if g != "skin" or self.taxel_names)
        slices: dict[str, slice] = {}
        start = 0
        for name in groups:
            slices[name] = slice(start, start + counts[name])
            start += counts[name]
        object.__setattr__(self, "slices", slices)
        object.__setattr__(self, "size", start)
        object.__setattr__(self, "groups", groups)

    def group(self, flat: np.ndarray, name: str) -> np.ndarray:
        """View of one group in a flat array of shape (..., S) -> (..., n_group)."""
        if name not in self.slices:
            raise KeyError(f"unknown sensor group {name!r}; expected one of {self.groups}")
        return flat[..., self.slices[name]]

    def channel_names(self) -> list[str]:
        """One label per flat channel, e.g. 'spindle_length/biceps' (length S)."""
        per_group = {
            "joint_pos": self.joint_names,
            "joint_vel": self.joint_names,
            "spindle_length": self.muscle_names,
            "spindle_velocity": self.muscle_names,
            "tendon_force": self.muscle_names,
            "touch": self.link_names,
            "skin": self.taxel_names,
        }
        return [f"{g}/{n}" for g in self.groups for n in per_group[g]]

    def flatten(self, reading: dict[str, np.ndarray]) -> np.ndarray:
        """Concatenate a dict of group arrays (..., n_group) into (..., S)."""
        return np.concatenate([np.asarray(reading[g], dtype=np.float64) for g in self.groups], axis=-1)
