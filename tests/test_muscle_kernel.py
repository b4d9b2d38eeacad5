"""The compiled per-step muscle kernel against the numpy reference implementation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from robot_twitch.body.kinematics import homogeneous, root_rows
from robot_twitch.body.muscle import HillConstants, activation_step, hill_force_split
from robot_twitch.body.muscle_kernel import MuscleKernel
from robot_twitch.body.spec import load_body
from robot_twitch.sim import Simulation

FINGER = "examples/bodies/finger/body.yaml"


def _kernel(body, dt_s=0.01):
    params = body.muscle_params
    damping = np.linspace(0.05, 0.2, len(body.joint_names))
    return MuscleKernel(body.paths, HillConstants.from_params(params), damping,
                        params.activation_time_constant_s, params.deactivation_time_constant_s, dt_s), damping


def _inputs(body, batch, seed=0):
    rng = np.random.default_rng(seed)
    kin = body.kinematics
    q = rng.uniform(kin.joint_lower, kin.joint_upper, (batch, len(body.joint_names)))
    qd = rng.normal(0.0, 3.0, q.shape)
    activation = rng.uniform(0.0, 1.0, (batch, len(body.muscle_names)))
    return q, qd, activation


@pytest.mark.parametrize("name", ["planar_arm", "leg", "infant", FINGER])
def test_kernel_matches_the_numpy_reference(name):
    body = load_body(name)
    kernel, damping = _kernel(body)
    q, qd, activation = _inputs(body, 16)
    root = homogeneous(body.root_rotation, body.root_position_m)
    (lengths, arms, points, velocity, l_norm, v_norm, active_unit, passive, force,
     damping_torque) = kernel.observe(q, qd, root[None], activation)
    ref_lengths, ref_arms, ref_points = body.paths.evaluate_rows(q, root_rows(root))
    ref_velocity = -np.einsum("bmj,bj->bm", ref_arms, qd)
    hill = HillConstants.from_params(body.muscle_params)
    ref_l, ref_v, ref_active, ref_passive = hill_force_split(ref_lengths.copy(), ref_velocity.copy(), hill)
    np.testing.assert_allclose(lengths, ref_lengths, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(arms, ref_arms, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(points, ref_points, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(velocity, ref_velocity, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(l_norm, ref_l, rtol=1e-12)
    np.testing.assert_allclose(v_norm, ref_v, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(active_unit, ref_active, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(passive, ref_passive, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(force, np.maximum(activation * ref_active + ref_passive, 0.0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(damping_torque, -damping * qd, rtol=1e-15)
    # The drive step: activation dynamics and R^T F + damping.
    excitation = np.random.default_rng(1).uniform(0.0, 1.0, activation.shape)
    new_activation, torque = kernel.drive(excitation, activation, active_unit, passive, arms, damping_torque)
    ref_activation = activation_step(excitation, activation, 0.01, body.muscle_params)
    np.testing.assert_allclose(new_activation, ref_activation, rtol=1e-14)
    ref_force = np.maximum(ref_activation * active_unit + passive, 0.0)
    np.testing.assert_allclose(torque, np.einsum("bm,bmj->bj", ref_force, arms) + damping_torque,
                               rtol=1e-12, atol=1e-12)


def test_a_batch_gives_exactly_what_single_limbs_give(bodies):
    body = bodies["infant"]
    kernel, _ = _kernel(body)
    q, qd, activation = _inputs(body, 5, seed=2)
    roots = homogeneous(body.root_rotation, body.root_position_m + np.arange(15.0).reshape(5, 3))
    batched = kernel.observe(q, qd, roots, activation)
    for i in range(5):
        single = kernel.observe(q[i:i + 1], qd[i:i + 1], roots[i:i + 1], activation[i:i + 1])
        for whole, one in zip(batched, single, strict=True):
            np.testing.assert_array_equal(whole[i], one[0])


def test_changed_muscle_constants_act_from_the_next_step(bodies):
    """Setting Simulation.params (as a weakening body change does) changes the force."""
    body = bodies["planar_arm"]
    with Simulation(body) as sim, Simulation(body) as twin:
        for s in (sim, twin):
            s.step(np.full(6, 0.5))
        weaker = replace(sim.params, max_isometric_force_n=sim.params.max_isometric_force_n * 0.5)
        sim.params = weaker
        assert np.allclose(sim.state.force_n, 0.5 * twin.state.force_n)
        # The next step's torque is R^T F + damping, with F from the new constants at once.
        damping = -twin._damping_nms * twin.state.joint_vel_rad_s  # same joint state in both
        before, after = twin.step(np.full(6, 0.5)), sim.step(np.full(6, 0.5))
    expected = 0.5 * (before.joint_torque_nm - damping) + damping
    assert np.all(np.abs(before.joint_torque_nm) > 0.1)
    np.testing.assert_allclose(after.joint_torque_nm, expected, rtol=1e-9)


def test_wrong_excitation_shapes_are_rejected(bodies):
    from robot_twitch.vector_sim import VectorSimulation
    body = bodies["planar_arm"]
    with Simulation(body) as sim:
        for bad in (np.ones(5), np.ones(7), np.ones((2, 6))):
            with pytest.raises(ValueError, match="one value per muscle"):
                sim.step(bad)
        sim.step(0.3)  # a scalar is every muscle's excitation
        np.testing.assert_allclose(sim.state.excitation, 0.3)
    with VectorSimulation(body, 3) as vec:
        for bad in (np.ones((2, 6)), np.ones((3, 5)), np.ones((4, 6))):
            with pytest.raises(ValueError, match="limbs, muscles"):
                vec.step(bad)
        vec.step(np.full(6, 0.2))  # one row for every limb
        np.testing.assert_allclose(vec.excitation, 0.2)
