from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.evaluation import BodyTruth, score_action_map
from robot_twitch.learn import ProprioMapLearner, TransitionBatch

from .conftest import BodyBatch, assert_state_equal, feed


def test_recovers_moment_arms(body_and_batch: BodyBatch, truth: BodyTruth) -> None:
    _, b = body_and_batch
    lr = ProprioMapLearner()
    feed(lr, b)
    est = lr.body_map()["proprio_map"]
    scores = score_action_map(est, truth, "proprio")
    # tolerance: every significant sign right, rows within ~1.5 deg of the truth
    assert scores["proprio.sign_accuracy"] == 1.0
    assert scores["proprio.cosine"] > 0.999
    assert scores["proprio.rank_corr"] > 0.95
    # positive scale per muscle: row-normalised maps agree to 2% of the row max
    r = truth.moment_arms
    np.testing.assert_allclose(est / np.abs(est).max(1, keepdims=True),
                               r / np.abs(r).max(1, keepdims=True), atol=0.02)


def test_needs_no_command(body_and_batch: BodyBatch, truth: BodyTruth) -> None:
    """A proprioceptive map: movement alone teaches it (why it is not the body schema)."""
    _, b = body_and_batch
    lr = ProprioMapLearner()
    feed(lr, TransitionBatch(np.zeros_like(b.command), b.sensors, b.next_sensors, b.layout))
    assert score_action_map(lr.body_map()["proprio_map"], truth, "proprio")["proprio.cosine"] > 0.999


def test_round_trip(body_and_batch: BodyBatch) -> None:
    _, b = body_and_batch
    a = ProprioMapLearner(decay=0.999)
    feed(a, b.slice(0, 1000))
    c = ProprioMapLearner()
    c.load_state_dict(a.state_dict())
    assert_state_equal(c.state_dict(), a.state_dict())
    a.observe(b.slice(1000, 1500))
    c.observe(b.slice(1000, 1500))
    np.testing.assert_array_equal(a.body_map()["proprio_map"], c.body_map()["proprio_map"])


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="decay"):
        ProprioMapLearner(decay=0.0)
    with pytest.raises(ValueError, match="not enough data"):
        ProprioMapLearner().body_map()
