from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.learn.base import TransitionBatch
from robot_twitch.learn.forward import ForwardModel, LinearForwardModel, delta_scores

from .conftest import BodyBatch, assert_state_equal, feed

SMALL = {"hidden": (32, 32), "updates_per_batch": 40, "batch_size": 128}


def test_mlp_learns_and_is_deterministic(
    body_and_batch: BodyBatch, heldout: TransitionBatch
) -> None:
    _, b = body_and_batch
    a = ForwardModel(seed=3, **SMALL)
    c = ForwardModel(seed=3, **SMALL)
    feed(a, b)
    feed(c, b)
    assert a.r2(heldout) >= 0.9
    assert a.nrmse(heldout) < 0.35
    np.testing.assert_array_equal(a.predict(heldout.sensors, heldout.command),
                                  c.predict(heldout.sensors, heldout.command))
    other = ForwardModel(seed=4, **SMALL)
    other.observe(b.slice(0, 500))
    a0 = ForwardModel(seed=3, **SMALL)
    a0.observe(b.slice(0, 500))
    assert not np.array_equal(other.predict_delta(b.sensors[:5], b.command[:5]),
                              a0.predict_delta(b.sensors[:5], b.command[:5]))


def test_mlp_round_trip_continues_identically(body_and_batch: BodyBatch) -> None:
    _, b = body_and_batch
    a = ForwardModel(seed=0, buffer_size=700, **SMALL)
    feed(a, b.slice(0, 1000))
    c = ForwardModel()
    c.load_state_dict(a.state_dict())
    assert_state_equal(c.state_dict(), a.state_dict())
    a.observe(b.slice(1000, 1500))
    c.observe(b.slice(1000, 1500))
    assert_state_equal(c.state_dict(), a.state_dict())


def test_linear_baseline(body_and_batch: BodyBatch, heldout: TransitionBatch) -> None:
    _, b = body_and_batch
    lin = LinearForwardModel()
    feed(lin, b)
    assert lin.r2(heldout) >= 0.95
    clone = LinearForwardModel()
    clone.load_state_dict(lin.state_dict())
    np.testing.assert_array_equal(clone.predict(b.sensors[:3], b.command[:3]),
                                  lin.predict(b.sensors[:3], b.command[:3]))


def test_scores_and_bad_input(body_and_batch: BodyBatch) -> None:
    _, b = body_and_batch
    d = b.delta
    r2, nrmse = delta_scores(d, d)
    assert r2 == 1.0 and nrmse == 0.0
    r2_mean, _ = delta_scores(np.broadcast_to(d.mean(0), d.shape), d)
    assert abs(r2_mean) < 1e-9
    with pytest.raises(ValueError, match="both be"):
        delta_scores(d[:, :3], d)
    with pytest.raises(ValueError, match="device"):
        ForwardModel(device="tpu")
    f = ForwardModel(**SMALL)
    f.observe(b.slice(0, 100))
    with pytest.raises(ValueError, match="predict expects"):
        f.predict(b.sensors[:2, :4], b.command[:2])


def test_mlp_input_constant_in_training_does_not_blow_up(body_and_batch: BodyBatch) -> None:
    # A muscle that has not twitched yet has a constant (zero) command in training; its first
    # twitch in a held-out batch must not be amplified by the SD floor into a huge prediction.
    _, b = body_and_batch
    silent = b.command.copy()
    silent[:, 0] = 0.0
    train = TransitionBatch(silent, b.sensors, b.next_sensors, b.layout)
    a = ForwardModel(seed=0, **SMALL)
    a.observe(train.slice(0, 1000))
    probe = b.command[:50].copy()
    probe[:, 0] = 1.0
    pred = a.predict_delta(b.sensors[:50], probe)
    assert np.all(np.isfinite(pred))
    assert np.abs(pred).max() < 100 * np.abs(b.delta).max()


def test_blas_thread_setting_is_restored(body_and_batch: BodyBatch) -> None:
    from threadpoolctl import threadpool_info

    from robot_twitch.threads import one_blas_thread

    def blas_threads() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    _, b = body_and_batch
    before = blas_threads()
    with one_blas_thread():
        assert set(blas_threads()) <= {1}
    a = ForwardModel(seed=0, **SMALL)
    a.observe(b.slice(0, 200))
    a.predict_delta(b.sensors[:5], b.command[:5])
    assert blas_threads() == before
