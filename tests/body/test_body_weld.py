"""Welding fixed-joint links for Bullet: the same rigid bodies, fewer links to integrate."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pybullet
import pytest
from pybullet_utils import bullet_client

from robot_twitch.body.urdf import rpy_to_matrix
from robot_twitch.body.weld import (
    bullet_urdf_text,
    composite_inertia,
    matrix_to_rpy,
    read_urdf_tree,
    self_contact_possible,
)
from robot_twitch.sim import SimConfig, Simulation, touch_free

# A 2-joint chain whose second link carries a chain of two fixed-joint links, with rotated joint
# origins and rotated inertial frames (everything the composition has to get right), and a
# revolute joint hanging below a welded link.
_URDF = """<?xml version="1.0"?>
<robot name="welds">
  <link name="base"/>
  <link name="a"><inertial><origin xyz="0.01 0 -0.1" rpy="0.2 0 0"/><mass value="1.0"/>
    <inertia ixx="0.01" iyy="0.02" izz="0.003" ixy="0.001" ixz="0" iyz="0"/></inertial>
    <collision><origin xyz="0 0 -0.1"/><geometry><capsule radius="0.03" length="0.15"/></geometry></collision></link>
  <link name="b"><inertial><origin xyz="0 0.02 -0.12" rpy="0 0.3 0.1"/><mass value="0.8"/>
    <inertia ixx="0.008" iyy="0.007" izz="0.002" ixy="0" ixz="0.0005" iyz="0"/></inertial>
    <collision><origin xyz="0 0 -0.1"/><geometry><capsule radius="0.025" length="0.15"/></geometry></collision></link>
  <link name="c"><inertial><origin xyz="0.03 0 -0.02" rpy="0.4 0.1 0"/><mass value="0.3"/>
    <inertia ixx="0.001" iyy="0.0015" izz="0.0008" ixy="0" ixz="0" iyz="0.0001"/></inertial>
    <visual><geometry><sphere radius="0.03"/></geometry></visual></link>
  <link name="d"><inertial><mass value="0.2"/><inertia ixx="0.0004" iyy="0.0004" izz="0.0004" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <link name="e"><inertial><origin xyz="0 0 -0.05"/><mass value="0.25"/>
    <inertia ixx="0.0006" iyy="0.0006" izz="0.0002" ixy="0" ixz="0" iyz="0"/></inertial></link>
  <joint name="j1" type="revolute"><parent link="base"/><child link="a"/><axis xyz="0 1 0"/>
    <limit lower="-2" upper="2" effort="10" velocity="10"/></joint>
  <joint name="j2" type="revolute"><parent link="a"/><child link="b"/><origin xyz="0 0 -0.2" rpy="0.1 0 0.2"/>
    <axis xyz="1 0 0"/><limit lower="-2" upper="2" effort="10" velocity="10"/></joint>
  <joint name="f1" type="fixed"><parent link="b"/><child link="c"/><origin xyz="0.02 0.01 -0.22" rpy="0.3 -0.2 0.5"/></joint>
  <joint name="f2" type="fixed"><parent link="c"/><child link="d"/><origin xyz="0 0.05 -0.03" rpy="0 0.6 0"/></joint>
  <joint name="j3" type="revolute"><parent link="d"/><child link="e"/><origin xyz="0 0 -0.04" rpy="0.2 0 0"/>
    <axis xyz="0 1 0"/><limit lower="-2" upper="2" effort="10" velocity="10"/></joint>
</robot>
"""


def _dynamics(urdf: Path, qs: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Bullet's mass matrices and gravity torques at postures qs (K, 3)."""
    c = bullet_client.BulletClient(connection_mode=pybullet.DIRECT)
    try:
        c.setGravity(0, 0, -9.81)
        robot = c.loadURDF(str(urdf), useFixedBase=True, flags=pybullet.URDF_USE_INERTIA_FROM_FILE)
        mass = [np.array(c.calculateMassMatrix(robot, list(q))) for q in qs]
        zeros = [0.0] * qs.shape[1]
        gravity = [np.array(c.calculateInverseDynamics(robot, list(q), zeros, zeros)) for q in qs]
        return mass, gravity
    finally:
        c.disconnect()


def test_welded_skeleton_has_the_same_dynamics(tmp_path):
    original = tmp_path / "welds.urdf"
    original.write_text(_URDF)
    text, welded_into = bullet_urdf_text(original, weld=True, drop_collision_shapes=False)
    assert welded_into == {"c": "b", "d": "b"}
    welded = tmp_path / "welded.urdf"
    welded.write_text(text)
    root = ET.fromstring(text)
    assert [link.get("name") for link in root.findall("link")] == ["base", "a", "b", "e"]
    assert len(root.find("link[@name='b']").findall("visual")) == 1  # c's sphere moved onto b
    qs = np.random.default_rng(0).uniform(-1.5, 1.5, (6, 3))
    mass_a, gravity_a = _dynamics(original, qs)
    mass_b, gravity_b = _dynamics(welded, qs)
    for x, y in zip(mass_a, mass_b, strict=True):
        np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-14)
    for x, y in zip(gravity_a, gravity_b, strict=True):
        np.testing.assert_allclose(y, x, rtol=1e-12, atol=1e-13)


def test_composite_inertia_matches_a_rod_made_of_two_halves():
    # A thin rod of mass 2, length 2 along x: I_yy about its centre = m L^2 / 12 = 2/3.
    half = 1.0 * 1.0**2 / 12.0
    parts = [(1.0, np.array([-0.5, 0, 0]), np.diag([0.0, half, half])),
             (1.0, np.array([0.5, 0, 0]), np.diag([0.0, half, half]))]
    mass, com, tensor = composite_inertia(parts)
    assert mass == 2.0
    np.testing.assert_allclose(com, 0.0)
    np.testing.assert_allclose(tensor, np.diag([0.0, 2.0 / 3.0, 2.0 / 3.0]))


@pytest.mark.parametrize("rpy", [(0.3, -0.2, 0.5), (0.0, np.pi / 2, 0.4), (-2.0, 1.0, 3.0),
                                 (0.3, np.pi / 2 - 1e-6, 0.2), (0.1, -np.pi / 2, -0.7)])
def test_rpy_round_trip(rpy):
    rot = rpy_to_matrix(rpy)
    np.testing.assert_allclose(rpy_to_matrix(matrix_to_rpy(rot)), rot, atol=1e-14)


def test_planar_arm_is_loaded_welded_and_without_collision_shapes(bodies):
    body = bodies["planar_arm"]
    # Bullet would test upper arm vs hand, but the body file says they cannot meet (self_collision: false).
    assert self_contact_possible(read_urdf_tree(body.spec.urdf_path)) and not body.spec.self_collision
    assert touch_free(body, SimConfig()) and not touch_free(body, SimConfig(ground="plane"))
    rng = np.random.default_rng(3)
    u = np.repeat(rng.uniform(0, 1, (10, 6)), 10, axis=0)
    runs = {}
    for name, cfg in {"as written": SimConfig(weld_fixed_links=False, drop_unused_collision_shapes=False),
                      "default": SimConfig()}.items():
        with Simulation(body, cfg) as sim:
            c = sim.client
            n_links = c.getNumJoints(sim.robot_id)
            shapes = sum(len(c.getCollisionShapeData(sim.robot_id, i)) for i in range(n_links))
            runs[name] = (n_links, shapes, np.array([sim.step(x).joint_pos_rad for x in u]))
    assert runs["as written"][:2] == (3, 3) and runs["default"][:2] == (2, 0)
    # The same trajectory to rounding over 0.5 s, the elbow driven onto its limit included. (Later,
    # pressed against the shoulder's limit, the limit solver's iteration count amplifies rounding
    # differences to ~1e-3 rad, as any change of operation order does.)
    written = runs["as written"][2][:50]
    assert np.ptp(written[:, 0]) > 0.4 and written[:, 1].min() < 1e-6
    np.testing.assert_allclose(runs["default"][2][:50], written, atol=1e-12)


def _shapes(sim: Simulation) -> int:
    c = sim.client
    return sum(len(c.getCollisionShapeData(sim.robot_id, i)) for i in range(c.getNumJoints(sim.robot_id)))


def test_bodies_that_can_touch_keep_their_collision_shapes(bodies):
    for name in ("leg", "infant"):
        with Simulation(bodies[name]) as sim:
            assert _shapes(sim) > 0


def test_a_link_that_can_touch_is_not_welded(bodies):
    """On a floor the planar arm's hand keeps its shape, its Bullet link and its touch channel."""
    body = bodies["planar_arm"]
    with Simulation(body, SimConfig(ground="plane")) as sim:
        assert sim.client.getNumJoints(sim.robot_id) == 3 and _shapes(sim) == 3
        hand = body.link_names.index("hand")
        assert sim.link_bullet_index[hand] == 2


def test_links_without_inertia_or_with_shapes_are_not_welded(tmp_path):
    urdf = tmp_path / "arm.urdf"
    urdf.write_text(_URDF.replace('<link name="d"><inertial><mass value="0.2"/><inertia ixx="0.0004" iyy="0.0004" '
                                  'izz="0.0004" ixy="0" ixz="0" iyz="0"/></inertial></link>', '<link name="d"/>')
                    .replace('<visual><geometry><sphere radius="0.03"/></geometry></visual>',
                             '<collision><geometry><sphere radius="0.03"/></geometry></collision>'))
    _, welded_into = bullet_urdf_text(urdf, weld=True, drop_collision_shapes=False)
    assert welded_into == {}  # c has a shape; d has no inertial (Bullet would give it 1 kg)
    text, welded_into = bullet_urdf_text(urdf, weld=True, drop_collision_shapes=True)
    assert welded_into == {"c": "b"} and ET.fromstring(text).find("link[@name='c']") is None  # no shapes: c welds
    assert ET.fromstring(text).find("link[@name='d']") is not None
