from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.evaluation import BodyTruth, score_reflex
from robot_twitch.learn import HebbianReflexLearner

from .conftest import BodyBatch, assert_state_equal, feed


def test_reflex_reproduces_textbook_pattern(body_and_batch: BodyBatch, truth: BodyTruth) -> None:
    _, b = body_and_batch
    heb = HebbianReflexLearner()
    feed(heb, b)
    maps = heb.body_map()
    w = maps["reflex_spindle_length"]
    t = maps["reflex_tendon_force"]
    assert w.shape == (6, 6) and maps["hebbian_correlation"].shape == (6, b.layout.size)
    # stretch reflex: own spindle excites; reverse myotatic: own tendon organ inhibits
    assert np.all(np.diag(w) > 0.2)
    assert np.all(np.diag(t) < -0.5)
    scores = score_reflex(w, t, truth)
    assert scores["reflex.pattern_accuracy"] == 1.0
    assert scores["reflex.reciprocal_inhibition"] == 1.0
    # spindle velocity carries the same pattern
    velocity = score_reflex(maps["reflex_spindle_velocity"], t, truth)
    assert velocity["reflex.stretch"] == 1.0


def test_round_trip_continues_identically(body_and_batch: BodyBatch) -> None:
    _, b = body_and_batch
    a = HebbianReflexLearner(decay=0.999)
    feed(a, b.slice(0, 1500))
    c = HebbianReflexLearner()
    c.load_state_dict(a.state_dict())
    assert_state_equal(c.state_dict(), a.state_dict())
    a.observe(b.slice(1500, 2000))
    c.observe(b.slice(1500, 2000))
    np.testing.assert_array_equal(a.correlation(), c.correlation())


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="trace_tau_s"):
        HebbianReflexLearner(trace_tau_s=-1.0)
    with pytest.raises(ValueError, match="no data"):
        HebbianReflexLearner().body_map()
    with pytest.raises(ValueError, match="TransitionBatch"):
        HebbianReflexLearner().observe(np.zeros((3, 3)))  # type: ignore[arg-type]
