"""Reflexes read out of the body schema (motor map x proprioceptive map)."""

from __future__ import annotations

import numpy as np

from robot_twitch.evaluation import score_reflex
from robot_twitch.learn import SchemaReflexLearner

from .conftest import assert_state_equal, feed
from .test_learn_motor_map import TRUTH, rollout


def test_textbook_reflexes_from_the_schema() -> None:
    schema = SchemaReflexLearner(activation_time_constant_s=0.02, deactivation_time_constant_s=0.02)
    feed(schema, rollout(0))
    w = schema.body_map()["schema_reflex_spindle"]
    s = score_reflex(w, None, TRUTH, prefix="schema_reflex")
    assert s["schema_reflex.pattern_accuracy"] == 1.0 and s["schema_reflex.synergist"] == 1.0
    assert s["schema_reflex.specificity"] == 1.0
    assert score_reflex(-w, None, TRUTH, prefix="schema_reflex")["schema_reflex.pattern_accuracy"] == 0.0


def test_no_reflex_row_for_a_muscle_never_commanded() -> None:
    learner = SchemaReflexLearner()
    feed(learner, rollout(1, silent=(3,)))
    w = learner.body_map()["schema_reflex_spindle"]
    assert np.all(np.isnan(w[3])) and np.all(np.isfinite(np.delete(w, 3, axis=0)))


def test_round_trip() -> None:
    batch = rollout(2, n_steps=1500)
    a = SchemaReflexLearner(decay=0.999, delay_steps=1)
    feed(a, batch.slice(0, 1000))
    b = SchemaReflexLearner()
    b.load_state_dict(a.state_dict())
    assert_state_equal(a.state_dict(), b.state_dict())
    a.observe(batch.slice(1000, 1500))
    b.observe(batch.slice(1000, 1500))
    np.testing.assert_array_equal(a.body_map()["schema_reflex_spindle"], b.body_map()["schema_reflex_spindle"])
