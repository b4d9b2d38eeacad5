"""The Hill-type muscle model's curves and activation dynamics."""

from __future__ import annotations

import numpy as np

from robot_twitch.body.muscle import (
    MuscleParameters,
    activation_step,
    active_force_length,
    force_velocity,
    muscle_force,
    passive_force_length,
)


def _params(n: int = 3) -> MuscleParameters:
    return MuscleParameters(np.full(n, 100.0), np.full(n, 0.1), np.full(n, 0.2), np.full(n, 10.0))


def test_force_length_curves():
    assert active_force_length(np.array(1.0)) == 1.0
    assert active_force_length(np.array(0.6)) < 0.8 and active_force_length(np.array(1.4)) < 0.8
    assert passive_force_length(np.array(0.9)) == 0.0
    assert abs(passive_force_length(np.array(1.6)) - 1.0) < 1e-12  # F_max at 60% strain
    assert np.all(np.diff(passive_force_length(np.linspace(1.0, 1.6, 20))) > 0)


def test_force_velocity_shape():
    assert abs(force_velocity(np.array(0.0)) - 1.0) < 0.01
    assert force_velocity(np.array(-1.0)) < 0.05  # no force at max shortening speed
    assert 1.6 < force_velocity(np.array(1.0)) < 1.9  # eccentric enhancement
    assert np.all(np.diff(force_velocity(np.linspace(-1, 1, 50))) > 0)


def test_force_rises_with_activation():
    p = _params(5)
    activation = np.linspace(0.0, 1.0, 5)
    state = muscle_force(activation, np.full(5, 0.3), np.zeros(5), p)
    assert np.all(np.diff(state.force_n) > 0)
    np.testing.assert_allclose(state.force_n[-1], 100.0)


def test_activation_dynamics_time_constants():
    p = _params(1)
    a = np.zeros(1)
    for _ in range(10):  # 10 ms of full excitation
        a = activation_step(np.ones(1), a, 0.001, p)
    assert 0.5 < a[0] < 0.95
    # Thelen (2003): tau = tau_deact / (0.5 + 1.5 a) = 20 ms when falling from a = 1.
    deactivated = activation_step(np.zeros(1), np.ones(1), 0.010, p)
    np.testing.assert_allclose(deactivated[0], np.exp(-0.5))
    # Rising from a = 0: tau = tau_act * 0.5 = 5 ms, so deactivation is the slower process.
    risen = activation_step(np.ones(1), np.zeros(1), 0.010, p)
    np.testing.assert_allclose(risen[0], 1 - np.exp(-2.0))
    assert activation_step(np.ones(1), np.zeros(1), 10.0, p)[0] > 0.999
