"""Auto-calibration of optimal fibre length and tendon slack length.

Like MuJoCo's `lengthrange` computation, the muscle-tendon length l(q) is swept over the range
of every joint a muscle crosses. With a rigid tendon the normalised fibre length is
(l - l_slack) / l_opt, so choosing

    l_opt   = (l_max - l_min) / (FIBRE_RANGE[1] - FIBRE_RANGE[0])
    l_slack = l_min - FIBRE_RANGE[0] * l_opt

maps the whole joint range onto FIBRE_RANGE around the optimum, where the active
force-length curve stays above ~0.8 (Thelen 2003) and passive force stays small.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

from robot_twitch.body.muscle import MuscleParameters
from robot_twitch.errors import BodyFileError

if TYPE_CHECKING:
    from robot_twitch.body.kinematics import MusclePathModel
    from robot_twitch.body.spec import BodySpec

FIBRE_RANGE = (0.7, 1.3)  # normalised fibre length at the shortest and longest muscle length
GRID_POINTS_PER_JOINT = 9
MIN_MOMENT_ARM_M = 1e-4
MIN_TENDON_FRACTION = 0.05  # shortest tendon slack length, as a fraction of l_min  # below this on every joint and posture, a muscle moves nothing


def crossed_joints(spec: BodySpec, paths: MusclePathModel) -> list[np.ndarray]:
    """Per muscle, the indices of the movable joints its path crosses."""
    segment_muscle = paths.geometry.segment_muscle  # (M, G)
    touches = (segment_muscle @ np.abs(paths.geometry.segment_crossing)) > 0  # (M, J)
    return [np.flatnonzero(row) for row in touches]


def joint_range_grid(paths: MusclePathModel, joints: np.ndarray) -> np.ndarray:
    """Postures (B, J): a grid over the ranges of `joints`, other joints at mid-range."""
    kin = paths.kinematics
    lower, upper = kin.joint_lower, kin.joint_upper
    base = np.clip(0.0, lower, upper)
    n = GRID_POINTS_PER_JOINT if len(joints) <= 4 else 4
    axes = [np.linspace(lower[j], upper[j], n) for j in joints]
    grid = np.array(list(itertools.product(*axes))) if len(joints) else np.zeros((1, 0))
    q = np.tile(base, (len(grid), 1))
    q[:, joints] = grid
    return q


def fit_lengths(l_min: float, l_max: float) -> tuple[float, float]:
    """(l_opt, l_slack) [m] mapping the muscle-tendon length range [l_min, l_max] onto FIBRE_RANGE."""
    span = FIBRE_RANGE[1] - FIBRE_RANGE[0]
    lopt = max(l_max - l_min, 1e-6) / span
    lslack = l_min - FIBRE_RANGE[0] * lopt
    if lslack < MIN_TENDON_FRACTION * l_min:
        # Long excursion for the path length: keep a short tendon and centre the fibre
        # range on the optimum instead; the range then widens beyond FIBRE_RANGE.
        lslack = MIN_TENDON_FRACTION * l_min
        lopt = 0.5 * (l_min + l_max) - lslack
    return lopt, lslack


def calibrate_lengths(
    spec: BodySpec, paths: MusclePathModel, root_rot: np.ndarray, root_pos_m: np.ndarray
) -> MuscleParameters:
    """Muscle parameters with missing lengths derived from the length range over joint ranges."""
    n = len(spec.muscles)
    lopt, lslack = np.zeros(n), np.zeros(n)
    joints_per_muscle = crossed_joints(spec, paths)
    for m, muscle in enumerate(spec.muscles):
        key = f"muscles[{m}] ({muscle.name})"
        joints = joints_per_muscle[m]
        if len(joints) == 0:
            raise BodyFileError(
                spec.source, f"{key}.path",
                "the path crosses no movable joint (all points on links that move together), so the "
                "muscle has zero moment arm everywhere; attach it to links on both sides of a joint",
            )
        q = joint_range_grid(paths, joints)
        lengths, arms, _ = paths.evaluate(q, root_rot, root_pos_m)
        if np.max(np.abs(arms[:, m, :])) < MIN_MOMENT_ARM_M:
            names = [paths.kinematics.joint_names[j] for j in joints]
            raise BodyFileError(
                spec.source, f"{key}.path",
                f"moment arm is zero on every joint it crosses ({names}) across their range: the path "
                "passes through the joint axes; offset a path point from the axis",
            )
        l_min, l_max = float(lengths[:, m].min()), float(lengths[:, m].max())
        given_opt, given_slack = muscle.optimal_fiber_length_m, muscle.tendon_slack_length_m
        if given_opt is not None and given_slack is not None:
            lopt[m], lslack[m] = given_opt, given_slack
            continue
        if given_opt is not None:
            lopt[m] = given_opt
            lslack[m] = 0.5 * (l_min + l_max) - given_opt
        elif given_slack is not None:
            lslack[m] = given_slack
            lopt[m] = (0.5 * (l_min + l_max) - given_slack)
        else:
            lopt[m], lslack[m] = fit_lengths(l_min, l_max)
        fibre_min = (l_min - lslack[m]) / lopt[m] if lopt[m] > 0 else -1.0
        fibre_max = (l_max - lslack[m]) / lopt[m] if lopt[m] > 0 else -1.0
        if lslack[m] <= 0 or lopt[m] <= 0 or fibre_min < 0.5 or fibre_max > 1.5:
            raise BodyFileError(
                spec.source, key,
                f"cannot calibrate: muscle-tendon length spans {l_min:.4f}..{l_max:.4f} m over the joint "
                "range, too wide a ratio to keep fibres within 0.5..1.5 optimal lengths; give "
                "optimal_fiber_length_m and tendon_slack_length_m explicitly, lengthen the path or "
                "narrow the joint range",
            )
    return MuscleParameters(
        max_isometric_force_n=np.array([m.max_isometric_force_n for m in spec.muscles]),
        optimal_fiber_length_m=lopt,
        tendon_slack_length_m=lslack,
        max_contraction_velocity_lopt_per_s=np.array(
            [m.max_contraction_velocity_lopt_per_s for m in spec.muscles]
        ),
    )
