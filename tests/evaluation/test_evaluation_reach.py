"""The reach check (robot_twitch.evaluation.reach): a map that knows the body's moment arms reaches
its targets; the same map with every sign flipped (the control) and random commands do not."""

from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.body.spec import load_body
from robot_twitch.evaluation.reach import inner_range, reach_scores
from robot_twitch.sim import Simulation


@pytest.fixture(scope="module")
def arm():
    body = load_body("planar_arm")
    lo, hi = inner_range(body.kinematics)
    return body, body.moment_arms(0.5 * (lo + hi))  # (M, J) R at the middle of the range


def _scores(body, truth, action_map, force_scale=None, n_trials=4):
    sim = Simulation(body)
    try:
        scale = np.ones(len(body.muscle_names)) if force_scale is None else force_scale
        return reach_scores(sim, scale, truth, action_map, np.random.default_rng(3), 7, n_trials, 150)
    finally:
        sim.close()


def test_the_true_map_reaches_and_random_commands_do_not(arm):
    body, truth = arm
    out = _scores(body, truth, truth)
    assert set(out) == {"reach.success_true_map", "reach.success_random", "reach.success_learned_map"}
    assert out["reach.success_true_map"] >= 0.75
    assert out["reach.success_learned_map"] == out["reach.success_true_map"]  # same map, same starts
    assert out["reach.success_random"] <= 0.25


def test_a_sign_flipped_map_fails_and_an_unknown_map_is_not_scored(arm):
    body, truth = arm
    flipped = _scores(body, truth, -truth)
    assert flipped["reach.success_learned_map"] <= 0.25 < flipped["reach.success_true_map"]
    never_commanded = np.full_like(truth, np.nan)
    assert "reach.success_learned_map" not in _scores(body, truth, never_commanded, n_trials=1)
    assert _scores(body, truth, truth, n_trials=0) == {}


def test_a_lost_muscle_gets_no_excitation(arm):
    """With every muscle lost (force scale 0) nothing moves the limb: no map reaches."""
    body, truth = arm
    out = _scores(body, truth, truth, force_scale=np.zeros(len(body.muscle_names)))
    assert out["reach.success_true_map"] <= 0.25 and out["reach.success_learned_map"] <= 0.25
