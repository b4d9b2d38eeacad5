"""The motor map: learned from each muscle's own command and what follows it."""

from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.evaluation import BodyTruth, score_action_map
from robot_twitch.learn import MotorMapLearner, TransitionBatch
from robot_twitch.learn.data import LinearBody, default_moment_arms_m, twitch_commands

from .conftest import assert_state_equal, feed

# A two-link limb whose inertia couples the joints (a shoulder twitch also swings the forearm)
# and whose joints differ in viscosity: the raw response to a command is not R.
NAMES, R = default_moment_arms_m()
INERTIA = np.array([[0.012, 0.005], [0.005, 0.004]])
TRUTH = BodyTruth(NAMES, ("joint0", "joint1"), R)


def coupled_body(**kwargs: float) -> LinearBody:
    return LinearBody(R, NAMES, inertia_kgm2=INERTIA, activation_tau_s=0.02, **kwargs)


def rollout(seed: int, n_steps: int = 6000, silent: tuple[int, ...] = ()) -> TransitionBatch:
    body = coupled_body()
    rng = np.random.default_rng(seed)
    cmd, onset = twitch_commands(n_steps, len(NAMES), rng, dt_s=body.dt_s)
    cmd[:, list(silent)] = 0.0
    return body.rollout(cmd, rng, twitch_onset=onset)


def learner(**kwargs: object) -> MotorMapLearner:
    return MotorMapLearner(activation_time_constant_s=0.02, deactivation_time_constant_s=0.02, **kwargs)


def test_recovers_a_known_map_and_removes_inertial_coupling() -> None:
    batch = rollout(0)
    lr = learner()
    feed(lr, batch)
    scores = score_action_map(lr.body_map()["motor_map"], TRUTH)
    assert scores["schema.sign_accuracy"] == 1.0
    assert scores["schema.cosine"] > 0.99 and scores["schema.coverage"] == 1.0
    # without the decoupling the response is M^-1 R^T: signs of the bi-articular rows go wrong
    raw = learner(decouple=False)
    feed(raw, batch)
    raw_scores = score_action_map(raw.body_map()["motor_map"], TRUTH)
    assert raw_scores["schema.cosine"] < scores["schema.cosine"] - 0.05
    np.testing.assert_allclose(raw.body_map()["motor_map"], lr.body_map()["motor_response"])


def test_a_muscle_never_commanded_has_no_row() -> None:
    lr = learner()
    feed(lr, rollout(1, silent=(2,)))
    est = lr.body_map()["motor_map"]
    assert np.all(np.isnan(est[2])) and np.all(np.isfinite(np.delete(est, 2, axis=0)))
    assert lr.body_map()["motor_commanded_steps"][2] == 0
    scores = score_action_map(est, TRUTH)
    assert scores["schema.coverage"] == pytest.approx(5 / 6)
    # the unknown row counts as wrong, not as right: at most 5 of 6 rows can agree
    assert scores["schema.cosine"] <= 5 / 6 + 1e-9 and scores["schema.cosine"] > 0.8
    assert scores["schema.sign_accuracy"] == pytest.approx(7 / 8)  # its one significant entry is wrong


def test_movement_without_commands_teaches_no_map() -> None:
    """The limb moves (twitch-driven), but the learner is shown no command: nothing to credit."""
    moved = rollout(2)
    lr = learner()
    feed(lr, TransitionBatch(np.zeros_like(moved.command), moved.sensors, moved.next_sensors, moved.layout))
    est = lr.body_map()["motor_map"]
    assert np.all(np.isnan(est))
    scores = score_action_map(est, TRUTH)
    assert scores["schema.coverage"] == 0.0 and np.isnan(scores["schema.cosine"])


def test_commands_unrelated_to_the_movement_teach_no_map() -> None:
    """Efference that did not cause the reafference (another run's commands) gives no map."""
    moved = rollout(3)
    cosines = []
    for seed in (4, 5, 6, 7):
        lr = learner()
        feed(lr, TransitionBatch(rollout(seed).command, moved.sensors, moved.next_sensors, moved.layout))
        cosines.append(score_action_map(lr.body_map()["motor_map"], TRUTH)["schema.cosine"])
    # a random 2-D row has cosine 0 +- 0.7 with the truth: chance, not a map
    assert abs(np.mean(cosines)) < 0.3 and max(cosines) < 0.7, cosines


def test_afferent_delay_is_compensated() -> None:
    batch = rollout(5)
    d = 2  # sensors report each step two control steps late
    readings = np.concatenate([batch.sensors[:1].repeat(d, axis=0), batch.sensors, batch.next_sensors[-1:]])[: len(batch) + 1]
    late = TransitionBatch(batch.command, readings[:-1], readings[1:], batch.layout)
    on_time = learner(delay_steps=d)
    feed(on_time, late, chunk=333)  # chunks that do not line up with the delay
    assert score_action_map(on_time.body_map()["motor_map"], TRUTH)["schema.cosine"] > 0.99


def test_round_trip_continues_bit_identically() -> None:
    batch = rollout(6, n_steps=1500)
    a = learner(delay_steps=1)
    feed(a, batch.slice(0, 1000))
    b = MotorMapLearner()
    b.load_state_dict(a.state_dict())
    assert_state_equal(b.state_dict(), a.state_dict())
    a.observe(batch.slice(1000, 1500))
    b.observe(batch.slice(1000, 1500))
    np.testing.assert_array_equal(a.body_map()["motor_map"], b.body_map()["motor_map"])


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="delay_steps"):
        MotorMapLearner(delay_steps=-1)
    with pytest.raises(ValueError, match="not enough data"):
        MotorMapLearner().body_map()
