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


def _kernel(body, dt_s=0.01, substeps=10):
    params = body.muscle_params
    damping = np.linspace(0.05, 0.2, len(body.joint_names))
    return MuscleKernel(body.paths, HillConstants.from_params(params), damping,
                        params.activation_time_constant_s, params.deactivation_time_constant_s, dt_s,
                        substeps), damping


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
    kernel, _ = _kernel(body)
    q, qd, activation = _inputs(body, 16)
    qd_prev = qd - 0.01 * np.arange(q.shape[1])
    root = homogeneous(body.root_rotation, body.root_position_m)
    torque = np.zeros_like(q)
    muscles, carry = kernel.state_at(q, qd, qd_prev, activation, torque, root[None])
    lengths, arms, points, velocity, l_norm, v_norm, force = kernel.state_views(muscles)
    acceleration = carry[:, kernel.carry_slices()["acceleration"]]
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
    np.testing.assert_allclose(force, np.maximum(activation * ref_active + ref_passive, 0.0), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(acceleration, (qd - qd_prev) / 0.01, rtol=1e-12)


@pytest.mark.parametrize("name", ["planar_arm", "leg", "infant", FINGER])
def test_mass_matrix_and_gravity_equal_bullets(name):
    """The kernel's M(q) and gravity torques from the URDF's inertials equal Bullet's (which
    integrates the welded URDF) at random postures."""
    body = load_body(name)
    kernel, _ = _kernel(body)
    q, qd, activation = _inputs(body, 4, seed=3)
    root = homogeneous(body.root_rotation, body.root_position_m)
    with Simulation(body) as sim:
        c = sim.client
        movable = [i for i in range(c.getNumJoints(sim.robot_id)) if c.getJointInfo(sim.robot_id, i)[2] != 4]
        rows = [movable.index(i) for i in sim.joint_indices]
        offset = 0 if body.spec.fixed_base else 6
        for qq in q:
            q_bullet = np.zeros(len(movable))
            q_bullet[rows] = qq
            bullet_mass = np.array(c.calculateMassMatrix(sim.robot_id, q_bullet.tolist()))[offset:, offset:]
            bullet_gravity = np.array(c.calculateInverseDynamics(sim.robot_id, q_bullet.tolist(), [0.0] * len(movable),
                                                                [0.0] * len(movable)))[offset:] if body.spec.fixed_base \
                else None
            carry = kernel.state_at(qq[None], qd[:1], qd[:1], activation[:1], np.zeros((1, len(qq))), root[None])[1][0]
            slots = kernel.carry_slices()
            mass = carry[slots["mass"]].reshape(len(qq), len(qq))
            rest_acceleration, gravity = carry[slots["rest_acceleration"]], carry[slots["gravity_torque"]]
            np.testing.assert_allclose(mass, bullet_mass[np.ix_(rows, rows)], rtol=1e-9, atol=1e-12)
            if bullet_gravity is not None:  # inverse dynamics at rest: the torque that holds gravity
                np.testing.assert_allclose(gravity, -bullet_gravity[rows], rtol=1e-9, atol=1e-12)
                np.testing.assert_allclose(mass @ rest_acceleration, gravity, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["planar_arm", "infant"])
def test_drive_holds_the_mean_of_the_torque_law_over_the_step(name):
    """The held torque equals the muscle and viscosity torque at the step's predicted mean state,
    computed with the numpy reference (activation integrated in 1 ms pieces, mean geometry)."""
    body = load_body(name)
    kernel, damping = _kernel(body)
    q, qd, activation = _inputs(body, 3, seed=4)
    qd *= 0.3
    excitation = np.random.default_rng(5).uniform(0.0, 1.0, activation.shape)
    root = homogeneous(body.root_rotation, body.root_position_m)
    slots, n = kernel.carry_slices(), q.shape[1]
    carry = kernel.state_at(q, qd, qd, activation, np.zeros_like(q), root[None])[1]
    carry[:, slots["acceleration"]] = carry[:, slots["rest_acceleration"]]  # predict with gravity's
    mass, acceleration = carry[:, slots["mass"]].reshape(-1, n, n), carry[:, slots["acceleration"]]
    torque_prev = np.einsum("bjk,bk->bj", mass, acceleration) * 0.5
    carry[:, slots["torque"]] = torque_prev
    kernel.newton_iterations = 4  # converged: what one step (the default) approximates
    driven = kernel.drive(excitation, carry, root[None])
    new_activation, torque = driven[:, :activation.shape[1]], driven[:, activation.shape[1]:]
    # Activation: ten exact pieces of 1 ms each.
    a, total = activation.copy(), np.zeros_like(activation)
    params = body.muscle_params
    for _ in range(10):
        nxt = activation_step(excitation, a, 0.001, params)
        scale = 0.5 + 1.5 * a
        rate = np.where(excitation > a, -0.001 / params.activation_time_constant_s / scale,
                        -0.001 / params.deactivation_time_constant_s * scale)
        total += excitation + (a - excitation) * np.expm1(rate) / rate
        a = nxt
    np.testing.assert_allclose(new_activation, a, rtol=1e-12)
    mean_activation = total / 10
    # The torque law at the mean state implied by the held torque itself (to what the geometry held at
    # the first predicted position leaves out).
    acc = acceleration + np.linalg.solve(mass, (torque - torque_prev)[..., None])[..., 0]
    q_mean, qd_mean = q + 0.01 * (0.5 * qd + 0.01 / 6 * acc), qd + 0.005 * acc
    lengths, arms, _ = body.paths.evaluate_rows(q_mean, root_rows(root))
    velocity = -np.einsum("bmj,bj->bm", arms, qd_mean)
    _, _, active, passive = hill_force_split(lengths, velocity, HillConstants.from_params(params))
    law = np.einsum("bm,bmj->bj", np.maximum(mean_activation * active + passive, 0.0), arms) - damping * qd_mean
    scale = np.abs(law).max(axis=1, keepdims=True)
    assert np.all(np.abs(torque - law) <= 0.01 * scale), (torque, law)


def test_a_batch_gives_exactly_what_single_limbs_give(bodies):
    body = bodies["infant"]
    kernel, _ = _kernel(body)
    q, qd, activation = _inputs(body, 5, seed=2)
    roots = homogeneous(body.root_rotation, body.root_position_m + np.arange(15.0).reshape(5, 3))
    torque = np.random.default_rng(7).normal(0.0, 0.01, q.shape)
    batched = kernel.state_at(q, qd, qd * 0.9, activation, torque, roots)
    for i in range(5):
        single = kernel.state_at(q[i:i + 1], qd[i:i + 1], qd[i:i + 1] * 0.9, activation[i:i + 1], torque[i:i + 1],
                                roots[i:i + 1])
        for whole, one in zip(batched, single, strict=True):
            np.testing.assert_array_equal(whole[i], one[0])
    carry = batched[1]
    excitation = np.random.default_rng(6).uniform(0.0, 1.0, activation.shape)
    whole = kernel.drive(excitation, carry, roots)
    for i in range(5):
        np.testing.assert_array_equal(whole[i], kernel.drive(excitation[i:i + 1], carry[i:i + 1], roots[i:i + 1])[0])


def test_changed_muscle_constants_act_from_the_next_step(bodies):
    """Setting Simulation.params (as a weakening body change does) changes the force at once."""
    body = bodies["planar_arm"]
    with Simulation(body) as sim, Simulation(body) as twin:
        for s in (sim, twin):
            s.step(np.full(6, 0.5))
        weaker = replace(sim.params, max_isometric_force_n=sim.params.max_isometric_force_n * 0.5)
        sim.params = weaker
        assert np.allclose(sim.state.force_n, 0.5 * twin.state.force_n)
        before, after = twin.step(np.full(6, 0.5)), sim.step(np.full(6, 0.5))
    assert np.all(np.abs(before.joint_torque_nm) > 0.1)
    # Half the muscle force: the held torque moves towards half (the viscosity part stays).
    assert np.all(np.abs(after.joint_torque_nm) < 0.8 * np.abs(before.joint_torque_nm))


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
