"""Rendering: frames of a limb from a camera, headless (TinyRenderer)."""

from __future__ import annotations

import numpy as np

from robot_twitch.envs.camera import CameraSpec
from robot_twitch.sim import Simulation


def camera_matrices(sim: Simulation, camera: CameraSpec, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """View and projection matrices (4, 4), row-major, for a camera spec."""
    c = sim.client
    view = c.computeViewMatrixFromYawPitchRoll(camera.target_m, camera.distance_m, camera.yaw_deg,
                                               camera.pitch_deg, 0.0, 2)
    proj = c.computeProjectionMatrixFOV(camera.fov_deg, width / height, 0.01, 20.0)
    return np.asarray(view).reshape(4, 4, order="F"), np.asarray(proj).reshape(4, 4, order="F")


def render_limb(sim: Simulation, camera: CameraSpec, width: int, height: int) -> np.ndarray:
    """One RGB frame (height, width, 3) uint8 of the limb."""
    view, proj = camera_matrices(sim, camera, width, height)
    return sim.camera_image(width, height, view, proj)
