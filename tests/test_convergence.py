"""The default configuration's twitch against muscles and physics at 2 kHz (a subset of
benchmarks/bench_twitch.py, which runs every muscle of every built-in body)."""

from __future__ import annotations

import numpy as np

from robot_twitch.convergence import REFERENCE_CONFIG, twitch_errors
from robot_twitch.sim import SimConfig


def test_default_twitch_is_within_five_percent_of_the_2khz_reference(bodies):
    """Muscles of the arm and of the leg (one biarticular: rectus femoris), each alone."""
    for name, muscles in (("planar_arm", [0, 3, 4]), ("leg", [0, 2])):
        body = bodies[name]
        for error in twitch_errors(body, SimConfig(), muscles):
            assert error.excursion_rad > 0.02, (name, error)  # a real twitch, not noise
            assert error.relative <= 0.05, (name, error)


def test_the_check_tells_a_coarse_step_from_a_fine_one(bodies):
    """The same check finds the error of a 30 ms control step larger, and 2 kHz exact."""
    body = bodies["planar_arm"]
    coarse = twitch_errors(body, SimConfig(control_hz=1000.0 / 30.0), [0])[0]
    default = twitch_errors(body, SimConfig(), [0])[0]
    exact = twitch_errors(body, REFERENCE_CONFIG, [0])[0]
    assert exact.relative == 0.0
    assert coarse.relative > 1.5 * default.relative
    assert np.isclose(coarse.excursion_rad, default.excursion_rad)
