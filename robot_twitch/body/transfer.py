"""Tendon transfer: move a muscle's insertion across a joint, so its action on that joint flips.

A tendon transfer re-attaches a muscle's distal tendon elsewhere, as surgeons do to restore a
lost function: in the biceps-to-triceps transfer (used after spinal cord injury to restore elbow
extension; Kuz, Van Heest & House 1999, J Hand Surg) the biceps tendon is routed round the
humerus to the olecranon, and the former elbow flexor extends the elbow. MyoSuite ships such a
transfer as a body-change task, and Marques et al. (2014, PLoS Comput Biol) re-aligned reflex
circuits after changes of the body. Unlike lengthening a segment or weakening a muscle, a
transfer changes the *sign* of one entry of the moment-arm matrix R = -dl/dq: the body schema
itself changes, not only its scale.

The transfer moves the insertion (the last path point) and, optionally, the via point before it
(the pulley round which the tendon is re-routed), each in its own link frame. It then re-tensions
the muscle as a surgeon does: optimal fibre length and tendon slack length are fitted to the new
length range over the joint ranges (the rule of body/calibrate.py), so the fibres work around
their optimum again. The transfer is checked, not assumed: on a grid over the ranges of the
joints the muscle crosses, the moment arm on ``joint`` must change sign at every posture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from robot_twitch.body.calibrate import crossed_joints, fit_lengths, joint_range_grid
from robot_twitch.body.kinematics import MusclePathModel
from robot_twitch.body.spec import Body
from robot_twitch.errors import ConfigError

KEY = "body_changes"


def muscle_points(paths: MusclePathModel, muscle: int) -> np.ndarray:
    """Path-point indices of one muscle in path order (origin first, insertion last)."""
    g = paths.geometry
    segments = np.flatnonzero(g.segment_muscle[muscle] > 0)
    return np.concatenate([g.segment_start[segments[:1]], g.segment_end[segments]]).astype(int)


def posture_grid(body: Body, muscle: int) -> np.ndarray:
    """(B, J) postures over the ranges of the joints that ``muscle`` crosses."""
    joints = crossed_joints(body.spec, body.paths)[muscle]
    return joint_range_grid(body.paths, joints)


def tendon_transfer(body: Body, muscle: str, joint: str, insertion_m: Sequence[float],
                    via_m: Sequence[float] | None = None) -> Body:
    """A new Body with ``muscle``'s insertion moved to ``insertion_m`` (and its last via point to
    ``via_m``), re-tensioned; raises ConfigError unless the moment arm on ``joint`` flips sign
    at every posture of the joint-range grid.

    Args:
        body: the body before the transfer.
        muscle: name of the transferred muscle.
        joint: name of the joint whose moment-arm sign must flip.
        insertion_m: (3,) new insertion in the insertion's link frame [m].
        via_m: (3,) new position of the path point before the insertion, in its link frame [m];
            None keeps it. A muscle with only two points has no via point to move.
    """
    if muscle not in body.muscle_names:
        raise ConfigError(None, f"{KEY}.muscle", f"{muscle!r} is not a muscle of {body.name}; "
                                                 f"muscles: {list(body.muscle_names)}")
    if joint not in body.joint_names:
        raise ConfigError(None, f"{KEY}.joint", f"{joint!r} is not a joint of {body.name}; "
                                                f"joints: {list(body.joint_names)}")
    m, j = body.muscle_names.index(muscle), body.joint_names.index(joint)
    points = muscle_points(body.paths, m)
    geometry = body.paths.geometry
    local = geometry.point_local_m.copy()
    local[points[-1]] = _xyz(insertion_m, "insertion_m")
    if via_m is not None:
        if len(points) < 3:
            raise ConfigError(None, f"{KEY}.via_m", f"{muscle} has no via point (its path has "
                                                    f"{len(points)} points): leave via_m unset")
        local[points[-2]] = _xyz(via_m, "via_m")
    paths = MusclePathModel(body.kinematics, replace(geometry, point_local_m=local))
    q = posture_grid(body, m)
    before_len, before, _ = body.paths.evaluate(q, body.root_rotation, body.root_position_m)
    after_len, after, _ = paths.evaluate(q, body.root_rotation, body.root_position_m)
    old_sign = np.sign(np.median(before[:, m, j]))
    flipped = np.sign(after[:, m, j]) == -old_sign
    if old_sign == 0 or not flipped.all():
        raise ConfigError(
            None, f"{KEY}.insertion_m",
            f"moving {muscle}'s insertion to {list(insertion_m)} does not flip the sign of its moment "
            f"arm on {joint} at every posture ({int((~flipped).sum())} of {len(q)} keep it: "
            f"R from {after[:, m, j].min():.4f} to {after[:, m, j].max():.4f} m); expected an "
            "insertion (and via point) on the other side of the joint axis")
    lopt, lslack = fit_lengths(float(after_len[:, m].min()), float(after_len[:, m].max()))
    params = body.muscle_params
    new_lopt = params.optimal_fiber_length_m.copy()
    new_slack = params.tendon_slack_length_m.copy()
    new_lopt[m], new_slack[m] = lopt, lslack
    params = replace(params, optimal_fiber_length_m=new_lopt, tendon_slack_length_m=new_slack)
    return replace(body, paths=paths, muscle_params=params)


def _xyz(value: Sequence[float], key: str) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.shape != (3,) or not np.all(np.isfinite(arr)):
        raise ConfigError(None, f"{KEY}.{key}", f"{value!r} is invalid: expected [x, y, z] in metres")
    return arr


__all__ = ["muscle_points", "posture_grid", "tendon_transfer"]
