"""The body-change registry: every kind of mid-run body change a config can name (experiment 6).

Each kind is one function ``apply(body, change, force_scale, workdir) -> Body`` that returns the
changed Body (a new object; the old one is untouched) and may scale ``force_scale`` (M,) in
place, the per-muscle force multiplier the simulation applies. ``workdir`` receives any file the
change writes (the grown URDF of scale_segment).

Adding a kind: write its apply function here with a one-line doc, add one
``BODY_CHANGE_REGISTRY.add`` line and a test; the config's allowed ``body_changes[].kind``,
its validation message, docs/config.md and ``robot-twitch run --help`` follow from the registry.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from robot_twitch.errors import ConfigError
from robot_twitch.registry import Registry

if TYPE_CHECKING:
    from robot_twitch.body.spec import Body
    from robot_twitch.config import BodyChange

BODY_CHANGE_REGISTRY = Registry("body-change kind")
"""Kind name -> Entry(apply(body, change, force_scale, workdir) -> Body, None, doc)."""


def apply_change(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """A new Body with ``change`` applied by its registered kind (force_scale (M,) updated in place)."""
    if change.kind not in BODY_CHANGE_REGISTRY:
        raise ConfigError(None, "body_changes.kind", BODY_CHANGE_REGISTRY.unknown(change.kind))
    return BODY_CHANGE_REGISTRY[change.kind].factory(body, change, force_scale, workdir)


def _muscle_index(body: Body, change: BodyChange) -> int:
    """Row of ``change.muscle`` in the body's muscles; a ConfigError naming the choices if absent."""
    if change.muscle not in body.muscle_names:
        raise ConfigError(None, "body_changes.muscle",
                          f"{change.muscle!r} is not a muscle of {body.name}; muscles: {list(body.muscle_names)}")
    return body.muscle_names.index(change.muscle)


def lose_muscle(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """The muscle is removed: no force, no command; its spindle and tendon organ fall silent."""
    force_scale[_muscle_index(body, change)] = 0.0
    return body


def weaken_muscle(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """Scale the muscle's force by `factor`."""
    force_scale[_muscle_index(body, change)] *= change.factor
    return body


def move_attachment(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """Shift path point `point` of the muscle by `offset_m` in its link frame."""
    from robot_twitch.body.kinematics import MusclePathModel

    m = _muscle_index(body, change)
    geometry = body.paths.geometry
    # The muscle's path points, in point order: the ends of the segments it runs along.
    on_path = geometry.segment_muscle[m] > 0
    points = np.flatnonzero(np.isin(np.arange(len(geometry.point_link)),
                                    np.unique(np.concatenate([geometry.segment_start[on_path],
                                                              geometry.segment_end[on_path]]))))
    local = geometry.point_local_m.copy()
    local[points[change.point]] += np.asarray(change.offset_m)
    new_geometry = replace(geometry, point_local_m=local)
    return replace(body, paths=MusclePathModel(body.kinematics, new_geometry))


def scale_segment(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """Grow link `link` by `factor` (lengths x factor, mass x factor^3; robot_twitch.body.growth)."""
    from robot_twitch.body.growth import scale_segment as grow

    return grow(body, change.link, change.factor, workdir)


def tendon_transfer(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """Move the muscle's insertion to `insertion_m` (and its last via point to `via_m`) so that its
    moment arm on `joint` changes sign at every posture (checked), and re-tension it."""
    from robot_twitch.body.transfer import tendon_transfer as transfer

    _muscle_index(body, change)
    return transfer(body, change.muscle, change.joint, change.insertion_m or (0.0, 0.0, 0.0), change.via_m)


BODY_CHANGE_REGISTRY.add("lose_muscle", lose_muscle)
BODY_CHANGE_REGISTRY.add("weaken_muscle", weaken_muscle)
BODY_CHANGE_REGISTRY.add("move_attachment", move_attachment)
BODY_CHANGE_REGISTRY.add("scale_segment", scale_segment)
BODY_CHANGE_REGISTRY.add("tendon_transfer", tendon_transfer,
                         doc="Move the muscle's insertion to `insertion_m` (and its last via point to `via_m`) so "
                             "that its moment arm on `joint` changes sign at every posture (checked), and re-tension "
                             "it (robot_twitch.body.transfer).")
