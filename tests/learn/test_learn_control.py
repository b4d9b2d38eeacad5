from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.learn import (
    LinearPlant,
    MotorMapLearner,
    PostureController,
    allocate_excitations,
    random_policy,
    reach_success_rate,
)
from robot_twitch.learn.control import Policy

from .conftest import BodyBatch, feed


def test_learned_map_reaches_targets(body_and_batch: BodyBatch) -> None:
    body, b = body_and_batch
    learner = MotorMapLearner(activation_time_constant_s=0.02, deactivation_time_constant_s=0.02)
    feed(learner, b)
    learned = learner.body_map()["motor_map"]
    plant = LinearPlant(body.moment_arms_m)
    targets = np.random.default_rng(5).uniform(-0.6, 0.6, (12, 2))

    def rate(policy: Policy) -> float:
        return reach_success_rate(plant, policy, targets, np.random.default_rng(6))[0]

    assert rate(PostureController(body.moment_arms_m)) >= 0.9
    assert rate(PostureController(learned)) >= 0.9
    assert rate(random_policy(6, np.random.default_rng(7))) <= 0.2
    assert rate(PostureController(-learned)) <= 0.1  # a sign-flipped map fails


def test_allocation_bounds_and_errors() -> None:
    a = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    u = allocate_excitations(a, np.array([0.5, -3.0]))
    assert np.all((u >= 0) & (u <= 1))
    np.testing.assert_allclose(a.T @ u, [0.5, -1.0], atol=1e-2)
    with pytest.raises(ValueError, match="disagree"):
        allocate_excitations(a, np.zeros(3))
    with pytest.raises(ValueError, match="non-zero"):
        PostureController(np.zeros((4, 2)))


def test_box_least_squares_matches_scipy_bvls() -> None:
    from scipy.optimize import lsq_linear

    from robot_twitch.learn.control import box_least_squares

    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 9))
        a = np.vstack([rng.normal(size=(int(rng.integers(1, 4)), n)), 0.03 * np.eye(n)])
        b = np.concatenate([rng.normal(scale=3.0, size=a.shape[0] - n), np.zeros(n)])
        ref = lsq_linear(a, b, bounds=(0.0, 1.0), method="bvls").x
        u = box_least_squares(a, b)
        assert np.all((u >= 0) & (u <= 1))
        np.testing.assert_allclose(u, ref, atol=1e-9, err_msg=f"trial {trial}")
