from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.evaluate import (
    BodyTruth,
    score_action_map,
    score_all,
    score_reflex,
    score_topology,
)
from robot_twitch.learn import (
    ActionMapLearner,
    HebbianReflexLearner,
    LearnerGroup,
    LinearForwardModel,
    TopologyLearner,
)
from robot_twitch.learn.data import synthetic_twitch_batch

R = np.array([[0.03, 0.0], [-0.03, 0.0], [0.0, 0.02], [0.0, -0.02], [0.02, 0.015],
              [-0.02, -0.015]])
MUSCLES = tuple(f"m{i}" for i in range(6))
TRUTH = BodyTruth(MUSCLES, ("shoulder", "elbow"), R, joint_edges=(("shoulder", "elbow"),))


def textbook_reflex() -> tuple[np.ndarray, np.ndarray]:
    rel = TRUTH.muscle_relations()
    w = np.where(rel == -1, -1.0, 0.0) + np.eye(6)
    return w, -np.eye(6)


def test_truth_relations_and_validation() -> None:
    rel = TRUTH.muscle_relations()
    assert rel[0, 1] == -1 and rel[2, 3] == -1 and rel[4, 5] == -1  # agonist/antagonist pairs
    assert rel[0, 4] == 1 and rel[2, 4] == 1  # bi-articular flexor is a synergist of both
    assert rel[4, 3] == -1 and rel[0, 2] == 0  # no shared joint -> unrelated
    stacked = BodyTruth(MUSCLES, ("shoulder", "elbow"), np.stack([R * 0.5, R * 1.5]))
    np.testing.assert_allclose(stacked.moment_arms, R)
    with pytest.raises(ValueError, match="moment_arms"):
        BodyTruth(MUSCLES, ("shoulder",), R)
    with pytest.raises(ValueError, match="joint_edges"):
        BodyTruth(MUSCLES, ("shoulder", "elbow"), R, joint_edges=(("hip", "elbow"),))


def test_action_map_perfect_scaled_and_flipped() -> None:
    scales = np.array([1.0, 3.0, 0.2, 5.0, 1.0, 0.7])[:, None]
    for est in (R, R * scales):
        s = score_action_map(est, TRUTH)
        assert s == pytest.approx(
            {"schema.sign_accuracy": 1.0, "schema.cosine": 1.0, "schema.rank_corr": 1.0}
        )
    flipped = score_action_map(-R, TRUTH)
    assert flipped["schema.sign_accuracy"] == 0.0
    assert flipped["schema.cosine"] == pytest.approx(-1.0)
    assert flipped["schema.rank_corr"] <= 0.0
    with pytest.raises(ValueError, match="action_map"):
        score_action_map(R[:, :1], TRUTH)


def test_reflex_perfect_and_flipped() -> None:
    w, t = textbook_reflex()
    assert score_reflex(w, t, TRUTH)["reflex.pattern_accuracy"] == 1.0
    bad = score_reflex(-w, -t, TRUTH)
    assert bad["reflex.pattern_accuracy"] == 0.0
    assert score_reflex(w, None, TRUTH)["reflex.pattern_accuracy"] == 1.0


def test_topology_scores() -> None:
    maps = {
        "muscle_joint": np.abs(R) > 0,
        "joint_adjacency": np.array([[False, True], [True, False]]),
    }
    s = score_topology(maps, TRUTH)
    assert s["topology.f1"] == 1.0 and s["topology.link_f1"] == 1.0
    wrong = score_topology({"muscle_joint": np.abs(R) == 0,
                            "joint_adjacency": np.zeros((2, 2), bool)}, TRUTH)
    assert wrong["topology.f1"] == 0.0 and wrong["topology.link_f1"] == 0.0
    chain = BodyTruth(("a",), ("j0", "j1", "j2", "j3"), np.ones((1, 4)),
                      joint_edges=(("j0", "j1"), ("j1", "j2"), ("j2", "j3")))
    line = np.array([[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [0.0, 3.0]])
    assert score_topology({"som_joint_xy": line}, chain)["topology.somatotopy_rho"] == 1.0
    scrambled = line[[0, 2, 3, 1]]
    assert score_topology({"som_joint_xy": scrambled}, chain)["topology.somatotopy_rho"] < 0.5


def test_score_all_on_learners() -> None:
    body, batch = synthetic_twitch_batch(seed=0, n_steps=3000)
    _, heldout = synthetic_twitch_batch(seed=1, n_steps=1000, body=body)
    truth = BodyTruth(tuple(body.muscle_names), body.joint_names, body.moment_arms_m,
                      joint_edges=body.joint_edges)
    group = LearnerGroup([HebbianReflexLearner(), ActionMapLearner(), TopologyLearner(),
                          LinearForwardModel()])
    for start in range(0, len(batch), 500):
        group.observe(batch.slice(start, start + 500))
    scores = score_all(group, truth, heldout_batch=heldout)
    for name in ("schema.sign_accuracy", "schema.cosine", "schema.rank_corr",
                 "reflex.pattern_accuracy", "forward.r2", "forward.nrmse", "topology.f1",
                 "topology.link_f1"):
        assert isinstance(scores[name], float), name
    assert scores["schema.sign_accuracy"] == 1.0 and scores["reflex.pattern_accuracy"] == 1.0
    assert scores["forward.r2"] > 0.9 and scores["topology.f1"] == 1.0
    # the same maps, from a dict (e.g. a saved body_map.npz)
    from_maps = score_all(group.body_map(), truth)
    assert from_maps["schema.cosine"] == scores["schema.cosine"]
    two = [ActionMapLearner(), ActionMapLearner(method="dynamic", name="dyn")]
    for lr in two:
        lr.observe(batch)
    with pytest.raises(ValueError, match="by_learner"):
        score_all(two, truth)
    named = score_all(two, truth, by_learner=True)
    assert "schema.cosine/dyn" in named and "schema.cosine/action_map" in named
    with pytest.raises(ValueError, match="BodyTruth"):
        score_all(two, "truth")  # type: ignore[arg-type]
