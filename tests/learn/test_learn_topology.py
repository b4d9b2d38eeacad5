from __future__ import annotations

from itertools import pairwise

import numpy as np

from robot_twitch.evaluation import BodyTruth, score_topology
from robot_twitch.learn import TopologyLearner, chow_liu_tree
from robot_twitch.learn.data import LinearBody, chain_moment_arms_m, twitch_commands
from robot_twitch.learn.topology import gaussian_mutual_information, muscle_joint_topology

from .conftest import assert_state_equal, feed


def test_chow_liu_recovers_gaussian_chain() -> None:
    rng = np.random.default_rng(0)
    n, order = 6, np.array([3, 0, 5, 1, 4, 2])  # a chain in a scrambled order
    x = np.zeros((5000, n))
    x[:, order[0]] = rng.standard_normal(5000)
    for a, b in pairwise(order):
        x[:, b] = 0.8 * x[:, a] + 0.6 * rng.standard_normal(5000)
    adj = chow_liu_tree(gaussian_mutual_information(np.corrcoef(x.T)))
    expected = np.zeros((n, n), dtype=bool)
    for a, b in pairwise(order):
        expected[a, b] = expected[b, a] = True
    np.testing.assert_array_equal(adj, expected)


def test_muscle_joint_threshold() -> None:
    a = np.array([[1.0, 0.05], [-0.5, 0.4]])
    np.testing.assert_array_equal(muscle_joint_topology(a), [[True, False], [True, True]])


def test_topology_learner_on_a_chain() -> None:
    n_j = 4
    names, r = chain_moment_arms_m(n_j)
    inertia = 0.01 * np.eye(n_j) + 0.004 * (np.eye(n_j, k=1) + np.eye(n_j, k=-1))
    body = LinearBody(r, names, inertia_kgm2=inertia)
    rng = np.random.default_rng(0)
    cmd, _ = twitch_commands(6000, len(names), rng, rate_hz=3.0)
    batch = body.rollout(cmd, rng)
    topo = TopologyLearner(seed=0)
    feed(topo, batch)
    maps = topo.body_map()
    truth = BodyTruth(tuple(names), body.joint_names, r, joint_edges=body.joint_edges)
    scores = score_topology(maps, truth)
    assert scores["topology.f1"] == 1.0
    assert scores["topology.link_f1"] == 1.0
    assert scores["topology.somatotopy_rho"] > 0.5
    assert maps["som_joint_xy"].shape == (n_j, 2)
    clone = TopologyLearner()
    clone.load_state_dict(topo.state_dict())
    assert_state_equal(clone.state_dict(), topo.state_dict())
    for key, val in clone.body_map().items():
        np.testing.assert_array_equal(val, maps[key])
