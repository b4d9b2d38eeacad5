from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.evaluation import (
    BodyTruth,
    reflex_relations,
    score_action_map,
    score_all,
    score_reflex,
    score_topology,
    specificity,
    undefined_reason,
)
from robot_twitch.learn import (
    HebbianReflexLearner,
    LearnerGroup,
    LinearForwardModel,
    MotorMapLearner,
    ProprioMapLearner,
    TopologyLearner,
)
from robot_twitch.learn.data import synthetic_twitch_batch

R = np.array([[0.03, 0.0], [-0.03, 0.0], [0.0, 0.02], [0.0, -0.02], [0.02, 0.015],
              [-0.02, -0.015]])
MUSCLES = tuple(f"m{i}" for i in range(6))
TRUTH = BodyTruth(MUSCLES, ("shoulder", "elbow"), R, joint_edges=(("shoulder", "elbow"),))


def textbook_reflex() -> tuple[np.ndarray, np.ndarray]:
    rel = TRUTH.muscle_relations()
    w = np.where(rel == -1, -1.0, 0.0) + np.where(rel == 1, 0.5, 0.0) + np.eye(6)
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
        assert s == pytest.approx({"schema.sign_accuracy": 1.0, "schema.cosine": 1.0,
                                   "schema.rank_corr": 1.0, "schema.coverage": 1.0})
    # a positive scale per joint (each joint in its own units) is not an error either
    assert score_action_map(R * [[1.0, 7.0]], TRUTH)["schema.cosine"] == pytest.approx(1.0)
    flipped = score_action_map(-R, TRUTH)
    assert flipped["schema.sign_accuracy"] == 0.0
    assert flipped["schema.cosine"] == pytest.approx(-1.0)
    assert flipped["schema.rank_corr"] <= 0.0
    with pytest.raises(ValueError, match="action_map"):
        score_action_map(R[:, :1], TRUTH)


def test_undefined_rows_score_as_wrong_and_an_empty_map_as_nan() -> None:
    part = R.copy()
    part[[1, 4]] = np.nan
    s = score_action_map(part, TRUTH)
    assert s["schema.coverage"] == pytest.approx(4 / 6)
    assert s["schema.cosine"] == pytest.approx(4 / 6)  # unknown rows count 0, known rows 1
    assert s["schema.sign_accuracy"] == pytest.approx(5 / 8)
    empty = score_action_map(np.full_like(R, np.nan), TRUTH, "schema")
    assert empty["schema.coverage"] == 0.0
    assert all(np.isnan(v) for k, v in empty.items() if k != "schema.coverage")
    assert "was ever commanded" in undefined_reason(np.full_like(R, np.nan))
    assert undefined_reason(part) is None


def test_reflex_perfect_and_flipped() -> None:
    w, t = textbook_reflex()
    good = score_reflex(w, t, TRUTH, velocity_reflex=w)
    for key in ("pattern_accuracy", "stretch", "reciprocal_inhibition", "synergist", "reverse_myotatic",
                "velocity_pattern_accuracy", "velocity_synergist"):
        assert good[f"reflex.{key}"] == 1.0, key
    bad = score_reflex(-w, -t, TRUTH, velocity_reflex=-w)
    for key in ("pattern_accuracy", "synergist", "velocity_pattern_accuracy"):
        assert bad[f"reflex.{key}"] == 0.0, key
    assert score_reflex(w, None, TRUTH)["reflex.pattern_accuracy"] == 1.0
    assert "reflex.velocity_stretch" not in score_reflex(w, t, TRUTH)


def test_synergist_pairs_are_scored() -> None:
    """Synergists share a joint with the same sign (Marques et al. 2014): flipping only their
    weights takes reflex.synergist from 1 to 0 and leaves the other classes alone."""
    w, t = textbook_reflex()
    syn = reflex_relations(TRUTH)["synergist"]
    assert syn.sum() == 8  # m0-m4, m2-m4, m1-m5, m3-m5 in both directions
    flipped = np.where(syn, -w, w)
    s = score_reflex(flipped, t, TRUTH)
    assert s["reflex.synergist"] == 0.0
    assert s["reflex.stretch"] == 1.0 and s["reflex.reciprocal_inhibition"] == 1.0
    n_antagonist = int(reflex_relations(TRUTH)["antagonist"].sum())  # 14 ordered pairs
    assert s["reflex.pattern_accuracy"] == pytest.approx(1 - 8 / (6 + n_antagonist + 8 + 6))


def test_specificity() -> None:
    w, t = textbook_reflex()
    unrelated = reflex_relations(TRUTH)["unrelated"]
    assert unrelated[0, 2] and unrelated.sum() == 8
    assert score_reflex(w, t, TRUTH)["reflex.specificity"] == 1.0
    assert score_reflex(w + 0.7 * unrelated, t, TRUTH)["reflex.specificity"] < 1.0
    assert score_reflex(w + 5.0 * unrelated, t, TRUTH)["reflex.specificity"] == 0.0
    assert np.isnan(specificity(w, np.eye(6, dtype=bool), np.zeros((6, 6), bool)))


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
    group = LearnerGroup([HebbianReflexLearner(), MotorMapLearner(), ProprioMapLearner(), TopologyLearner(),
                          LinearForwardModel()])
    for start in range(0, len(batch), 500):
        group.observe(batch.slice(start, start + 500))
    scores = score_all(group, truth, heldout_batch=heldout)
    for name in ("schema.sign_accuracy", "schema.cosine", "schema.rank_corr", "proprio.cosine",
                 "reflex.pattern_accuracy", "reflex.synergist", "reflex.specificity", "forward.r2", "forward.nrmse", "topology.f1",
                 "topology.link_f1"):
        assert isinstance(scores[name], float), name
    assert scores["schema.sign_accuracy"] == 1.0 and scores["reflex.pattern_accuracy"] == 1.0
    assert scores["forward.r2"] > 0.9 and scores["topology.f1"] == 1.0
    # the same maps, from a dict (e.g. a saved body_map.npz)
    from_maps = score_all(group.body_map(), truth)
    assert from_maps["schema.cosine"] == scores["schema.cosine"]
    two = [MotorMapLearner(), MotorMapLearner(decouple=False, name="dyn")]
    for lr in two:
        lr.observe(batch)
    with pytest.raises(ValueError, match="by_learner"):
        score_all(two, truth)
    named = score_all(two, truth, by_learner=True)
    assert "schema.cosine/dyn" in named and "schema.cosine/motor_map" in named
    with pytest.raises(ValueError, match="BodyTruth"):
        score_all(two, "truth")  # type: ignore[arg-type]
