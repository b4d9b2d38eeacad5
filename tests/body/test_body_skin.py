"""Skin: taxel layout on collision shapes, the contact -> taxel rule, the skin sensor group."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pybullet
import pytest

from robot_twitch.body.skin import MAX_TAXELS, shape_taxels, skin_part
from robot_twitch.body.spec import load_body
from robot_twitch.errors import BodyFileError
from robot_twitch.sim import SimConfig, Simulation

SLAB_URDF = """<?xml version="1.0"?>
<robot name="slab">
  <link name="slab">
    <inertial><mass value="0"/><inertia ixx="0" iyy="0" izz="0" ixy="0" ixz="0" iyz="0"/></inertial>
    <collision><geometry><box size="0.2 0.2 0.02"/></geometry></collision>
  </link>
  <link name="arm">
    <inertial><origin xyz="0 0 -0.05"/><mass value="0.1"/>
      <inertia ixx="1e-4" iyy="1e-4" izz="1e-4" ixy="0" ixz="0" iyz="0"/></inertial>
  </link>
  <joint name="hinge" type="revolute">
    <parent link="slab"/><child link="arm"/><origin xyz="0 0 -0.1"/><axis xyz="0 1 0"/>
    <limit lower="-0.5" upper="0.5" effort="10" velocity="10"/>
  </joint>
</robot>
"""

SLAB_YAML = """name: slab
urdf: slab.urdf
base_position: [0, 0, 0.5]
skin: {{spacing_m: {spacing}}}
muscles:
  - name: pull
    region: hinge
    max_isometric_force_n: 5
    path:
      - {{link: slab, pos: [0.05, 0, -0.02]}}
      - {{link: arm, pos: [0.02, 0, -0.05]}}
"""


def _slab(tmp_path, spacing="0.02"):
    (tmp_path / "slab.urdf").write_text(SLAB_URDF)
    path = tmp_path / "body.yaml"
    path.write_text(SLAB_YAML.format(spacing=spacing))
    return path


def _press_box(sim, centre_xy, half_xy, mass_kg, steps=100):
    """Drop a box of the given footprint on the slab's top face and let it settle."""
    c = sim.client
    half = [half_xy[0], half_xy[1], 0.01]
    shape = c.createCollisionShape(pybullet.GEOM_BOX, halfExtents=half)
    c.createMultiBody(mass_kg, shape, -1, basePosition=[centre_xy[0], centre_xy[1], 0.5 + 0.01 + 0.0101])
    state = sim.state
    for _ in range(steps):
        state = sim.step(np.zeros(1))
    return state


def test_taxels_cover_each_shape_at_the_spacing():
    for xml, area in (('<box size="0.1 0.06 0.02"/>', 2 * (0.006 + 0.0012 + 0.002)),
                      ('<sphere radius="0.05"/>', 4 * math.pi * 0.0025),
                      ('<cylinder radius="0.02" length="0.1"/>', 2 * math.pi * 0.02 * 0.1 + 2 * math.pi * 4e-4),
                      ('<capsule radius="0.02" length="0.1"/>', 2 * math.pi * 0.02 * 0.1 + 4 * math.pi * 4e-4)):
        geometry = ET.fromstring(f"<geometry>{xml}</geometry>")
        pos, normal, total = shape_taxels(geometry, 0.01)
        assert total == pytest.approx(area)
        assert len(pos) == pytest.approx(area / 0.01**2, rel=0.35), xml  # about one taxel per s^2
        assert np.allclose(np.linalg.norm(normal, axis=1), 1.0)
        # Nearest-neighbour distances stay near the spacing: no clumps, no holes.
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1) + np.eye(len(pos))
        assert 0.004 < np.median(d.min(axis=1)) <= 0.0101, xml


def test_skin_parts_follow_link_names():
    assert skin_part("r_finger_index") == "fingers"
    assert skin_part("l_thumb") == "fingers"
    assert skin_part("r_hand") == "hands"
    assert skin_part("head") == "head"
    assert skin_part("torso") == "trunk"
    assert skin_part("l_upper_arm") == "limbs"


def test_a_box_pressed_on_a_link_lights_exactly_the_taxels_under_it(tmp_path):
    body = load_body(_slab(tmp_path))
    layout = body.skin
    top = np.flatnonzero(layout.normal[:, 2] > 0.99)
    assert len(top) == 100  # a 10 x 10 grid on the 0.2 x 0.2 m top face
    config = SimConfig(drop_unused_collision_shapes=False)
    for centre, half in (((0.0, 0.0), (0.04, 0.02)), ((-0.05, 0.05), (0.03, 0.03))):
        with Simulation(body, config) as sim:
            mass = 2.0
            state = _press_box(sim, centre, half, mass)
            xy = layout.position_m[:, :2]
            under = (np.abs(xy[:, 0] - centre[0]) < half[0]) & (np.abs(xy[:, 1] - centre[1]) < half[1]) \
                & (layout.normal[:, 2] > 0.99)
            lit = state.skin_n > 0
            assert under.sum() == round(4 * half[0] * half[1] / 0.02**2)
            assert np.array_equal(lit, under)
            contact_n = state.touch_n[body.link_names.index("slab")]
            assert state.skin_n.sum() == pytest.approx(contact_n, rel=1e-9)
            assert state.skin_n.sum() == pytest.approx(mass * 9.81, rel=0.01)
            # Uniform pressure under a flat box: every lit taxel carries about the same force.
            assert state.skin_n[lit].std() < 0.25 * state.skin_n[lit].mean()


def test_a_point_contact_between_taxels_goes_to_the_nearest_facing_one(tmp_path):
    body = load_body(_slab(tmp_path, spacing="0.05"))
    with Simulation(body, SimConfig(drop_unused_collision_shapes=False)) as sim:
        c = sim.client
        ball = c.createCollisionShape(pybullet.GEOM_SPHERE, radius=0.01)
        c.createMultiBody(0.3, ball, -1, basePosition=[0.005, 0.012, 0.5 + 0.01 + 0.0101])
        for _ in range(60):
            state = sim.step(np.zeros(1))
        lit = np.flatnonzero(state.skin_n > 0)
        assert len(lit) == 1
        assert body.skin.normal[lit[0], 2] > 0.99
        assert state.skin_n.sum() == pytest.approx(0.3 * 9.81, rel=0.01)


@pytest.mark.parametrize("spacing, problem", [("0", "must be a distance"), ("-0.01", "must be a distance"),
                                              ("0.0005", f"more than {MAX_TAXELS} taxels"),
                                              ("{slab: x}", "must be a distance"),
                                              ("{hand: 0.01}", "unknown link or part")])
def test_bad_spacing_is_one_clear_error(tmp_path, spacing, problem):
    path = _slab(tmp_path, spacing)
    with pytest.raises(BodyFileError, match=problem) as err:
        load_body(path)
    assert str(path) in str(err.value) and "skin.spacing_m" in str(err.value)


def test_links_without_collision_shapes_have_no_taxels(tmp_path):
    body = load_body(_slab(tmp_path))
    assert body.skin.taxels_of("arm") == slice(2 * 100 + 4 * 10, 2 * 100 + 4 * 10)  # empty, after the slab's
    assert np.all(body.skin.taxel_link == body.link_names.index("slab"))
    assert np.isnan(body.skin.spacing_m[body.link_names.index("arm")])


def test_bodies_without_a_skin_key_have_no_skin_group(bodies):
    import gymnasium as gym

    assert bodies["planar_arm"].skin.n_taxels == 0
    env = gym.make("RobotTwitch/Limb-v0", body="planar_arm")
    obs, _ = env.reset(seed=0)
    assert "skin" not in obs
    env.close()


def test_infant_skin_conserves_each_links_contact_force_and_matches_the_reference(bodies):
    """Over random movement on the mattress (ground and self-contact): per link, the taxels sum to
    the link's touch reading; the compiled rule equals its numpy reference."""
    from robot_twitch.body.skin import contact_sides, spread_contacts, spread_contacts_reference

    body = bodies["infant"]
    assert body.skin.n_taxels > 0
    n = len(body.muscle_names)
    rng = np.random.default_rng(3)
    checked = 0
    with Simulation(body) as sim:
        u = np.zeros(n)
        for k in range(150):
            if k % 10 == 0:
                u = rng.uniform(size=n) * (rng.uniform(size=n) < 0.3)
            state = sim.step(u)
            per_link = np.bincount(body.skin.taxel_link, state.skin_n, len(body.link_names))
            shaped = body.skin.link_stop > body.skin.link_start
            assert np.allclose(per_link[shaped], state.touch_n[shaped], rtol=1e-9, atol=1e-12)
            assert np.all(state.skin_n >= 0)
            if k % 15 == 0:
                points = sim.client.getContactPoints(bodyA=sim.robot_id)
                sides = contact_sides(points, sim.robot_id, sim._link_slot, sim.config.substeps)
                rot, pos = body.kinematics.link_frames(state.joint_pos_rad[None], body.root_rotation,
                                                       body.root_position_m)
                fast = spread_contacts(body.skin, sides, rot[0], pos[0])
                assert np.allclose(fast, spread_contacts_reference(body.skin, sides, rot[0], pos[0]), atol=1e-12)
                assert np.allclose(fast, state.skin_n, atol=1e-12)
                checked += 1
    assert checked == 10


def test_skin_is_a_sensor_group_with_noise_and_delay(bodies):
    import gymnasium as gym

    from robot_twitch.sensors import SensorConfig

    body = bodies["infant"]
    env = gym.make("RobotTwitch/Limb-v0", body=body)
    obs, _ = env.reset(seed=0)
    assert obs["skin"].shape == (body.skin.n_taxels,)
    layout = env.unwrapped.layout
    assert layout.groups[-1] == "skin" and layout.channel_names()[-1].startswith("skin/")
    for _ in range(20):
        obs, *_ = env.step(np.zeros(len(body.muscle_names), dtype=np.float32))
    assert obs["skin"].sum() > 0
    env.close()
    delayed = gym.make("RobotTwitch/Limb-v0", body=body, flatten_observation=True,
                       sensor_config=SensorConfig(noise_std={"skin": 0.01}, delay_steps={"skin": 3}))
    flat, _ = delayed.reset(seed=0)
    skin_slice = delayed.unwrapped.layout.slices["skin"]
    assert flat.shape == (delayed.unwrapped.layout.size,) and skin_slice.stop == flat.shape[0]
    readings = [delayed.step(np.zeros(len(body.muscle_names), dtype=np.float32))[0][skin_slice] for _ in range(3)]
    assert all(np.abs(r).max() < 0.1 for r in readings)  # the delay line still holds the first reading: noise only
    delayed.close()


def test_infant_rollouts_with_skin_are_bit_identical(bodies):
    """Same excitations, two Simulations: identical joints and skin (deterministic contacts and kernel)."""
    body = bodies["infant"]
    n = len(body.muscle_names)
    u = np.random.default_rng(5).uniform(size=(60, n)) * (np.random.default_rng(6).uniform(size=(60, n)) < 0.2)
    runs = []
    for _ in range(2):
        with Simulation(body) as sim:
            states = [sim.step(row) for row in u]
            runs.append((np.array([s.joint_pos_rad for s in states]), np.array([s.skin_n for s in states])))
    assert np.array_equal(runs[0][0], runs[1][0]) and np.array_equal(runs[0][1], runs[1][1])
    assert runs[0][1].sum() > 0
