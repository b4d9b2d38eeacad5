from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.evaluate import BodyTruth, score_action_map
from robot_twitch.learn import ActionMapLearner

from .conftest import BodyBatch, assert_state_equal, feed


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"method": "dynamic"}, {"method": "dynamic", "drive": "command"}],
)
def test_recovers_moment_arms(
    body_and_batch: BodyBatch, truth: BodyTruth, kwargs: dict[str, str]
) -> None:
    _, b = body_and_batch
    lr = ActionMapLearner(**kwargs)
    feed(lr, b)
    est = lr.body_map()["action_map"]
    scores = score_action_map(est, truth)
    # tolerance: every significant sign right, rows within ~1.5 deg of the truth
    assert scores["schema.sign_accuracy"] == 1.0
    assert scores["schema.cosine"] > 0.999
    assert scores["schema.rank_corr"] > 0.95
    # positive scale per muscle: row-normalised maps agree to 2% of the row max
    r = truth.moment_arms
    np.testing.assert_allclose(est / np.abs(est).max(1, keepdims=True),
                               r / np.abs(r).max(1, keepdims=True), atol=0.02)


def test_round_trip(body_and_batch: BodyBatch) -> None:
    _, b = body_and_batch
    a = ActionMapLearner(method="dynamic", drive="command")
    feed(a, b.slice(0, 1000))
    c = ActionMapLearner()
    c.load_state_dict(a.state_dict())
    assert_state_equal(c.state_dict(), a.state_dict())
    a.observe(b.slice(1000, 1500))
    c.observe(b.slice(1000, 1500))
    np.testing.assert_array_equal(a.body_map()["action_map"], c.body_map()["action_map"])


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="method"):
        ActionMapLearner(method="magic")
    with pytest.raises(ValueError, match="not enough data"):
        ActionMapLearner().body_map()
