"""The withdrawal reflex probed in a copy of the world (evaluation/withdrawal_probe.py)."""

import numpy as np
import pytest

from robot_twitch.body.spec import load_body
from robot_twitch.evaluation.withdrawal import reflex_errors, withdrawable_sites, withdrawal_field
from robot_twitch.evaluation.withdrawal_probe import PROBE_THRESHOLD_M, ReflexProbe, probe_subset
from robot_twitch.sim import Simulation


@pytest.fixture(scope="module")
def infant():
    return load_body("infant")


def _settled(body, steps: int = 60, seed: int = 0) -> Simulation:
    """The infant on its mattress after `steps` control steps with a few sparse twitches."""
    sim = Simulation(body)
    rng = np.random.default_rng(seed)
    n = len(body.muscle_names)
    for k in range(steps):
        sim.step(0.3 * (rng.random(n) < 0.05) if k >= steps // 2 else np.zeros(n))
    return sim


def _state(sim: Simulation) -> list[np.ndarray]:
    s = sim.state
    return [s.joint_pos_rad, s.joint_vel_rad_s, s.activation, s.force_n, s.skin_n, s.touch_n, np.array([sim.time_s])]


def test_probe_leaves_the_run_bit_identical(infant):
    """A run's Simulation continues exactly as it would have without the probe."""
    probed, plain = _settled(infant), _settled(infant)
    for a, b in zip(_state(probed), _state(plain), strict=True):
        np.testing.assert_array_equal(a, b)
    field = withdrawal_field(infant, probed.state.joint_pos_rad)
    with ReflexProbe(probed) as probe:
        probe.errors(np.maximum(field, 0), np.arange(0, field.shape[0], 400))
        probe.displacement_m(np.ones(len(infant.muscle_names)))
        assert probe.rollouts >= 3
    rng = np.random.default_rng(5)
    for _ in range(40):
        u = 0.5 * (rng.random(len(infant.muscle_names)) < 0.1)
        probed.step(u)
        plain.step(u)
    for a, b in zip(_state(probed), _state(plain), strict=True):
        np.testing.assert_array_equal(a, b)


def test_probe_agrees_with_the_jacobian_on_free_skin(infant):
    """On skin touching nothing, the pattern the Jacobian truth says withdraws a site (its row's
    excitatory part) moves it away in the copy of the world and the sign-flipped pattern does
    not; a zero row errs; every rollout starts from the same state (order does not matter)."""
    sim = _settled(infant)
    field = withdrawal_field(infant, sim.state.joint_pos_rad)
    free = np.flatnonzero(withdrawable_sites(field) & (sim.state.skin_n == 0))
    sites = np.sort(np.random.default_rng(0).choice(free, 20, replace=False))
    true, flipped = np.maximum(field, 0), np.maximum(-field, 0)
    assert not reflex_errors(true, field, sites).any() and reflex_errors(flipped, field, sites).all()
    with ReflexProbe(sim) as probe:
        moved = probe.reflex_displacement_m(true, sites)
        # the Jacobian's B^-1 is the diagonal of the inertial response: the full dynamics can differ
        # at a few sites (200 free sites: 0.5 % and 91.5 % errors for the true and flipped patterns)
        assert probe.errors(true, sites).mean() <= 0.1 and np.median(moved) > 10 * PROBE_THRESHOLD_M
        assert probe.errors(flipped, sites).mean() >= 0.8
        assert np.median(probe.reflex_displacement_m(flipped, sites)) < -10 * PROBE_THRESHOLD_M
        assert probe.errors(np.zeros_like(field), sites).all()
        assert probe.reflex_displacement_m(np.zeros_like(field), sites).tolist() == [0.0] * len(sites)
        # scaled to a peak of 1: the same verdicts for any positive gain
        np.testing.assert_allclose(probe.reflex_displacement_m(7.0 * true, sites), moved, atol=1e-6)
        np.testing.assert_array_equal(probe.errors(7.0 * true, sites), probe.errors(true, sites))
        # order independence: the first rollout again, after others, from a cleared cache
        first = probe.displacement_m(true[sites[0]] / true[sites[0]].max()).copy()
        probe.displacement_m(np.ones(len(infant.muscle_names)))
        probe._cache.clear()
        np.testing.assert_array_equal(probe.displacement_m(true[sites[0]] / true[sites[0]].max()), first)


def test_lost_muscles_stay_off_in_the_probe(infant):
    """A muscle lost in a body change (force scale 0) gets no excitation: a pattern of lost
    muscles alone moves nothing beyond the baseline."""
    sim = _settled(infant, steps=20)
    n = len(infant.muscle_names)
    pattern = np.zeros(n)
    pattern[:5] = 1.0
    with ReflexProbe(sim) as probe:
        assert np.abs(probe.displacement_m(pattern)).max() > 10 * PROBE_THRESHOLD_M
    lost = np.ones(n, dtype=bool)
    lost[:5] = False
    with ReflexProbe(sim, muscle_on=lost) as probe:
        assert np.abs(probe.displacement_m(pattern)).max() == 0.0


def test_probe_subset_is_even_and_bounded():
    sites = np.arange(100, 300, 2)
    assert probe_subset(sites, 500) is sites
    sub = probe_subset(sites, 10)
    assert sub.size == 10 and sub[0] == 100 and sub[-1] == 298 and np.all(np.diff(sub) > 0)
    assert probe_subset(sites, 0).size == 0


def test_probe_needs_a_fixed_root():
    """A snapshot holds joints, not a floating root's pose: such a body is refused, by name."""
    from dataclasses import replace
    from types import SimpleNamespace

    arm = load_body("planar_arm")
    floating = replace(arm, spec=replace(arm.spec, fixed_base=False))
    with pytest.raises(ValueError, match="planar_arm.*fixed root|fixed root.*planar_arm"):
        ReflexProbe(SimpleNamespace(body=floating))  # refused before anything is read or built
