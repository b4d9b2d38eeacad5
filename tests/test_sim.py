"""The simulated limb obeys its muscles: each muscle moves its joints the way R(q) says."""

from __future__ import annotations

import numpy as np
import pybullet
import pytest

from robot_twitch.sim import SimConfig, Simulation
from tests.conftest import BUILTIN_BODIES


def _rollout(sim: Simulation, excitation: np.ndarray, steps: int, free_joint: int) -> np.ndarray:
    """Joint positions after `steps` with every joint but `free_joint` clamped by a stiff motor.

    Clamping isolates the muscle's own torque on the free joint from the interaction torques
    that a moving neighbour segment exerts (a biarticular flexor can otherwise extend the
    shoulder through the forearm's reaction), as in a physiologist's single-joint preparation.
    """
    sim.reset()
    c = sim.client
    for k, index in enumerate(sim.joint_indices):
        force = 0.0 if k == free_joint else 1e5
        c.setJointMotorControl2(sim.robot_id, index, pybullet.VELOCITY_CONTROL, targetVelocity=0.0, force=force)
    for _ in range(steps):
        state = sim.step(excitation)
    return state.joint_pos_rad.copy()


@pytest.mark.parametrize("name", BUILTIN_BODIES)
def test_each_muscle_moves_its_joints_as_moment_arm_sign_predicts(bodies, name):
    body = bodies[name]
    n = len(body.muscle_names)
    with Simulation(body) as sim:
        arms = body.moment_arms(body.initial_posture())
        for m in range(n):
            crossed = np.abs(arms[m]) > 0.1 * np.abs(arms[m]).max()
            for j in np.flatnonzero(crossed):
                passive = _rollout(sim, np.zeros(n), 8, j)
                moved = _rollout(sim, np.eye(n)[m], 8, j) - passive
                assert np.sign(moved[j]) == np.sign(arms[m, j]), (
                    f"{body.muscle_names[m]} moved {body.joint_names[j]} by {moved[j]:+.4f} rad, "
                    f"R = {arms[m, j]:+.4f} m")
                assert abs(moved[j]) > 1e-3


@pytest.mark.parametrize("name", BUILTIN_BODIES)
def test_zero_excitation_moves_only_passively(bodies, name):
    body = bodies[name]
    n = len(body.muscle_names)
    with Simulation(body) as sim:
        for _ in range(50):
            state = sim.step(np.zeros(n))
            assert np.all(state.activation == 0.0)
        # Only passive muscle force is present: it equals the force at zero activation.
        assert np.all(state.force_n <= body.muscle_params.max_isometric_force_n)
        assert not state.blown_up


def test_limb_falls_under_gravity_more_than_under_passive_forces_alone(bodies):
    body = bodies["planar_arm"]
    n = len(body.muscle_names)
    raised = np.array([1.2, 0.3])
    drops = {}
    for gravity in (9.81, 0.0):
        with Simulation(body, SimConfig(gravity_m_s2=gravity)) as sim:
            sim.reset(raised)
            for _ in range(30):
                state = sim.step(np.zeros(n))
            drops[gravity] = raised[0] - state.joint_pos_rad[0]
    # Passive muscle elasticity pulls a stretched limb back; gravity adds to it.
    assert drops[9.81] > drops[0.0] + 0.1


def test_force_rises_with_activation_in_the_simulator(bodies):
    body = bodies["planar_arm"]
    n = len(body.muscle_names)
    forces = []
    with Simulation(body) as sim:
        for level in (0.2, 0.5, 1.0):
            sim.reset()
            state = sim.step(np.full(n, level))
            forces.append(state.force_n.copy())
    forces = np.array(forces)
    assert np.all(np.diff(forces, axis=0) > 0)


def test_simulation_close_is_idempotent_and_final(bodies):
    sim = Simulation(bodies["planar_arm"])
    sim.close()
    sim.close()
    assert sim.closed
    with pytest.raises(RuntimeError, match="closed"):
        sim.step(np.zeros(6))


def test_bad_rates_are_rejected():
    from robot_twitch.errors import ConfigError

    with pytest.raises(ConfigError, match="integer multiple"):
        SimConfig(physics_hz=1000, control_hz=300)


def test_one_blow_up_check_for_one_limb_and_a_batch():
    from robot_twitch.sim import BLOWUP_JOINT_SPEED_RAD_S, contain_blowups, joints_calm

    q = np.array([[0.1, 0.2], [np.nan, 0.2], [0.1, 0.2], [0.3, -0.1], [np.inf, 0.0]])
    qd = np.array([[1.0, -2.0], [0.0, 0.0], [0.0, -np.inf], [0.0, -BLOWUP_JOINT_SPEED_RAD_S], [0.5, 0.5]])
    expected = [False, True, True, True, True]
    rows = [(q[i:i + 1].copy(), qd[i:i + 1].copy()) for i in range(len(q))]
    batch_q, batch_qd = q.copy(), qd.copy()
    assert contain_blowups(batch_q, batch_qd).tolist() == expected
    for i, (qi, qdi) in enumerate(rows):  # each limb alone (N = 1) is judged as in the batch
        assert joints_calm(q[i].tolist(), qd[i].tolist()) is not expected[i]
        assert contain_blowups(qi, qdi).tolist() == [expected[i]]
        assert np.array_equal(qi, batch_q[i:i + 1]) and np.array_equal(qdi, batch_qd[i:i + 1])
    # A blown limb's speeds are zeroed and its NaN angles made 0 (the muscle state stays finite);
    # the others are untouched.
    assert np.all(batch_qd[1:] == 0.0) and batch_q[1, 0] == 0.0 and np.isfinite(batch_q[1:4]).all()
    assert np.array_equal(batch_q[0], q[0]) and np.array_equal(batch_qd[0], qd[0])
