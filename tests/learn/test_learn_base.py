from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.learn import (
    HebbianReflexLearner,
    LearnerGroup,
    MotorMapLearner,
    RunningMoments,
    TransitionBatch,
    concat_batches,
)
from robot_twitch.learn.base import Learner

from .conftest import BodyBatch, assert_state_equal, feed


def test_batch_validation(body_and_batch: BodyBatch) -> None:
    _, b = body_and_batch
    with pytest.raises(ValueError, match="command"):
        TransitionBatch(b.command[:, :3], b.sensors, b.next_sensors, b.layout)
    with pytest.raises(ValueError, match="next_sensors"):
        TransitionBatch(b.command, b.sensors, b.next_sensors[:-1], b.layout)
    bad = b.sensors.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        TransitionBatch(b.command, bad, b.next_sensors, b.layout)
    with pytest.raises(ValueError, match="time_s"):
        TransitionBatch(b.command, b.sensors, b.next_sensors, b.layout, time_s=np.zeros(len(b)))
    joined = concat_batches([b.slice(0, 10), b.slice(10, 30)])
    np.testing.assert_array_equal(joined.command, b.command[:30])


@pytest.mark.parametrize("decay", [1.0, 0.99])
def test_running_moments_match_numpy(decay: float) -> None:
    rng = np.random.default_rng(0)
    z = rng.standard_normal((300, 4)) @ rng.standard_normal((4, 4)) + 3.0
    rm = RunningMoments(4, decay)
    for part in np.array_split(z, 7):
        rm.update(part)
    w = decay ** np.arange(len(z) - 1, -1, -1)
    mean = w @ z / w.sum()
    cov = ((z - mean) * w[:, None]).T @ (z - mean) / w.sum()
    np.testing.assert_allclose(rm.mean, mean, rtol=1e-10)
    np.testing.assert_allclose(rm.cov, cov, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        rm.update(z[:, :3])


def test_group_fans_out_and_round_trips(body_and_batch: BodyBatch) -> None:
    _, b = body_and_batch
    group = LearnerGroup([HebbianReflexLearner(), MotorMapLearner()])
    assert all(isinstance(lr, Learner) for lr in group)
    feed(group, b.slice(0, 1000))
    maps = group.body_map()
    assert "hebbian/reflex_spindle_length" in maps and "motor_map/motor_map" in maps
    clone = LearnerGroup([HebbianReflexLearner(), MotorMapLearner()])
    clone.load_state_dict(group.state_dict())
    assert_state_equal(clone.state_dict(), group.state_dict())
    with pytest.raises(ValueError, match="unique"):
        LearnerGroup([MotorMapLearner(), MotorMapLearner()])


def test_spearman_rho_matches_scipy() -> None:
    from scipy.stats import spearmanr

    from robot_twitch.learn.base import average_ranks, spearman_rho

    rng = np.random.default_rng(0)
    for n in (3, 30, 200):
        a = rng.normal(size=n)
        b = a + rng.normal(size=n)
        for x, y in ((a, b), (np.round(a), np.round(2 * b))):  # without and with ties
            assert spearman_rho(x, y) == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
    np.testing.assert_array_equal(average_ranks(np.array([3.0, 1.0, 3.0, 2.0])), [3.5, 1.0, 3.5, 2.0])


def test_first_order_filter_equals_lfilter() -> None:
    from scipy.signal import lfilter

    from robot_twitch.learn.filters import first_order_filter

    rng = np.random.default_rng(1)
    x = rng.random((50, 4))
    y_prev = rng.random(4)
    for keep, gain in ((0.7, 1.0), (0.3, 0.7)):
        ref, _ = lfilter([gain], [1.0, -keep], x, axis=0, zi=keep * y_prev[None, :])
        np.testing.assert_array_equal(first_order_filter(x, keep, gain, y_prev), ref)
    with pytest.raises(ValueError, match="must be"):
        first_order_filter(x, 0.5, 1.0, y_prev[:2])
