"""Camera placement that frames a limb well, from its geometry alone.

``default_camera`` sweeps the body's joint ranges (random postures plus every corner of the
joint box when there are few joints), collects the link origins and the muscle path points,
pads them by a margin for the link radii, chooses a viewing direction from the shape of the
swept volume, and sets the distance so that every point falls inside the image with a margin.
The fit is exact for a pinhole camera: camera-frame coordinates are computed with Bullet's own
view matrix, so what is in frame here is in frame in the rendered image.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pybullet

from robot_twitch.body.spec import Body

MAX_CORNER_JOINTS = 10  # enumerate the 2^J corners of the joint box up to this many joints


@dataclass(frozen=True)
class CameraSpec:
    """A look-at camera: target point, distance and angles in degrees (Bullet conventions).

    yaw_deg = 0 looks along +y with +x to the right of the image; yaw_deg = 90 looks along -x
    with +y to the right. pitch_deg < 0 looks down. fov_deg is the vertical field of view.
    """

    target_m: tuple[float, float, float]
    distance_m: float
    yaw_deg: float = 0.0
    pitch_deg: float = -10.0
    fov_deg: float = 45.0

    def view_matrix(self) -> np.ndarray:
        """Bullet view matrix (4, 4), acting on column vectors (camera looks along -z)."""
        view = pybullet.computeViewMatrixFromYawPitchRoll(
            list(self.target_m), float(self.distance_m), float(self.yaw_deg), float(self.pitch_deg), 0.0, 2
        )
        return np.asarray(view, dtype=float).reshape(4, 4, order="F")


def swept_points(body: Body, samples: int = 256, seed: int = 0) -> np.ndarray:
    """World points (N, 3) [m] that the limb reaches over its joint ranges.

    Link frame origins and muscle path points at the initial posture, ``samples`` uniform random
    postures and (for J <= MAX_CORNER_JOINTS) every corner of the joint-range box.
    """
    rng = np.random.default_rng(seed)
    kin = body.kinematics
    lower, upper = np.asarray(kin.joint_lower, float), np.asarray(kin.joint_upper, float)
    lower = np.where(np.isfinite(lower), lower, -np.pi)
    upper = np.where(np.isfinite(upper), upper, np.pi)
    postures = [body.initial_posture()[None], rng.uniform(lower, upper, size=(samples, kin.n_joints))]
    if 0 < kin.n_joints <= MAX_CORNER_JOINTS:
        corners = np.array(list(itertools.product(*zip(lower, upper, strict=True))), dtype=float)
        postures.append(corners)
    q = np.vstack(postures)
    rot, pos = kin.link_frames(q, body.root_rotation, body.root_position_m)
    return np.concatenate([pos.reshape(-1, 3), body.paths.points_world(rot, pos).reshape(-1, 3)])


def fit_camera(points_m: np.ndarray, yaw_deg: float, pitch_deg: float, fov_deg: float = 45.0,
               aspect: float = 4.0 / 3.0, fill: float = 0.88) -> CameraSpec:
    """The camera with the given angles that shows every point (N, 3) [m], centred.

    ``fill`` is the fraction of the half-width/height the points may use (1 - fill is margin).
    The distance is exact for a pinhole camera; the target is re-centred twice on the points'
    image-plane extent.
    """
    points = np.asarray(points_m, dtype=float).reshape(-1, 3)
    tan_v = np.tan(np.radians(fov_deg) / 2) * fill
    tan_h = tan_v * aspect
    target = 0.5 * (points.min(axis=0) + points.max(axis=0))
    distance = 1.0
    for _ in range(3):
        spec = CameraSpec(tuple(float(v) for v in target), distance, yaw_deg, pitch_deg, fov_deg)
        view = spec.view_matrix()
        cam = points @ view[:3, :3].T + view[:3, 3]  # camera frame: x right, y up, -z forward
        depth_offset = -cam[:, 2] - distance  # distance behind the target plane
        need = np.maximum(np.abs(cam[:, 0]) / tan_h, np.abs(cam[:, 1]) / tan_v) - depth_offset
        distance = float(max(np.max(need), 0.05 + np.max(-depth_offset)))
        # Re-centre: move the target within the image plane to the middle of the angular extent.
        depth = depth_offset + distance
        ang_x, ang_y = cam[:, 0] / depth, cam[:, 1] / depth
        shift_x = 0.5 * (ang_x.min() + ang_x.max()) * distance
        shift_y = 0.5 * (ang_y.min() + ang_y.max()) * distance
        right, up = view[0, :3], view[1, :3]  # rows of the rotation: camera axes in world
        target = target + shift_x * right + shift_y * up
    return CameraSpec(tuple(float(v) for v in target), distance, yaw_deg, pitch_deg, fov_deg)


def default_camera(body: Body, samples: int = 256, aspect: float = 4.0 / 3.0,
                   margin_m: float | None = None) -> CameraSpec:
    """A camera that keeps the whole limb in frame over its joint ranges.

    The view direction follows the shape of the swept volume: a limb that moves in a vertical
    plane (planar_arm: x-z) is seen face-on along the plane's normal from slightly above; a body
    lying flat (an infant in a crib) is seen from its left side and above (70 degrees down), with
    x (head to feet, the convention of the built-in bodies) across the image. ``margin_m`` pads every point for the link radii (default: 6 cm or
    8 % of the largest extent, whichever is larger). ``aspect`` is image width / height.
    """
    points = swept_points(body, samples)
    low, high = points.min(axis=0), points.max(axis=0)
    extent = high - low
    pad = max(0.06, 0.08 * float(extent.max())) if margin_m is None else float(margin_m)
    offsets = np.array(list(itertools.product((-pad, pad), repeat=3)))
    padded = (points[:, None, :] + offsets[None]).reshape(-1, 3)
    if extent[2] < 0.5 * max(extent[0], extent[1]):
        # Lying flat: from the side (x, head to feet by the bodies' convention, across the image)
        # and above.
        yaw, pitch = 0.0, -70.0
    else:
        # Upright or hanging: face-on to the thinner horizontal axis, from slightly above.
        yaw = 0.0 if extent[1] <= extent[0] else 90.0
        pitch = -10.0
    return fit_camera(padded, yaw, pitch, 45.0, aspect)
