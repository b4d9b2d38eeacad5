"""Camera placement that frames a limb well, from its geometry alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robot_twitch.body.spec import Body


@dataclass(frozen=True)
class CameraSpec:
    """A look-at camera: target point, distance and angles in degrees (Bullet conventions)."""

    target_m: tuple[float, float, float]
    distance_m: float
    yaw_deg: float = 0.0
    pitch_deg: float = -10.0
    fov_deg: float = 45.0


def default_camera(body: Body, samples: int = 256) -> CameraSpec:
    """Frame the volume swept by the path points over random postures in the joint ranges.

    The camera looks along +y (the plane of planar limbs is x-z) from slightly above.
    """
    rng = np.random.default_rng(0)
    kin = body.kinematics
    q = rng.uniform(kin.joint_lower, kin.joint_upper, size=(samples, kin.n_joints))
    q = np.vstack([q, body.initial_posture()[None]])
    rot, pos = kin.link_frames(q, body.root_rotation, body.root_position_m)
    points = np.concatenate([pos.reshape(-1, 3), body.paths.points_world(rot, pos).reshape(-1, 3)])
    low, high = np.percentile(points, 2, axis=0), np.percentile(points, 98, axis=0)
    centre = 0.5 * (low + high)
    extent = float(np.max(high - low))
    fov = 45.0
    distance = 0.65 * extent / np.tan(np.radians(fov / 2)) + 0.2
    return CameraSpec(tuple(float(v) for v in centre), distance, yaw_deg=0.0, pitch_deg=-5.0, fov_deg=fov)
