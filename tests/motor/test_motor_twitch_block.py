"""Unit tests of the parts of a twitch block (robot_twitch.motor.twitch_block), one by one."""

from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.motor.base import ACTIVE_CODE, QUIET_CODE, WAKE_CODE
from robot_twitch.motor.twitch_block import (
    add_mirrors,
    choose_muscles,
    gate_by_state,
    near_transition,
    twitch_event,
    twitch_polarity,
    write_pulses,
)


def _factors(wake: float, quiet: float) -> np.ndarray:
    f = np.zeros(3)
    f[WAKE_CODE], f[QUIET_CODE], f[ACTIVE_CODE] = wake, quiet, 1.0
    return f


def test_near_transition_measures_distance_to_the_closest_change():
    changes = np.array([100, 500])
    onsets = np.array([0, 90, 95, 300, 489, 495, 505, 611])
    near = near_transition(changes, onsets, control_dt_s=0.01, window_s=0.1)
    assert near.tolist() == [False, True, True, False, False, True, True, False]
    assert not near_transition(np.zeros(0, dtype=np.int64), onsets, 0.01, 1e9).any()


def test_gate_by_state_thins_by_state_factor_and_transition_window():
    codes = np.array([ACTIVE_CODE, QUIET_CODE, WAKE_CODE, WAKE_CODE])
    near = np.array([False, False, False, True])
    u = np.full(4, 0.3)
    # Active sleep always passes u < 1; quiet at 0.5 passes 0.3; wake at 0 blocks.
    assert gate_by_state(u, codes, near, _factors(0.0, 0.5), 0.0).tolist() == [True, True, False, False]
    # Near a change the transition factor lifts wake from 0 to 0.4 > 0.3.
    assert gate_by_state(u, codes, near, _factors(0.0, 0.5), 0.4).tolist() == [True, True, False, True]
    # The larger factor wins: a transition factor below the state's own does not lower it.
    assert gate_by_state(u, codes, ~near, _factors(0.0, 0.5), 0.1)[1]


def test_gate_by_state_keeps_the_expected_share():
    rng = np.random.default_rng(3)
    n = 200_000
    keep = gate_by_state(rng.random(n), np.full(n, QUIET_CODE), np.zeros(n, bool), _factors(0.0, 0.3), 0.0)
    assert keep.mean() == pytest.approx(0.3, abs=0.005)


def test_choose_muscles_follows_weights_and_never_repeats():
    rng = np.random.default_rng(0)
    n, w = 100_000, np.array([0.5, 0.3, 0.2, 0.0])
    chosen = choose_muscles(np.broadcast_to(w, (n, 4)), rng.gumbel(size=(n, 4)), 1)
    freq = np.bincount(chosen[:, 0], minlength=4) / n
    np.testing.assert_allclose(freq, w, atol=0.006)
    pairs = choose_muscles(np.broadcast_to(w, (1000, 4)), rng.gumbel(size=(1000, 4)), 2)
    assert (pairs[:, 0] != pairs[:, 1]).all() and not (pairs == 3).any()


def test_add_mirrors_couples_by_draw_and_skips_partners_already_in_the_twitch():
    mirror = np.array([1, 0, -1, 4, 3])
    assert add_mirrors([0], mirror, np.array([0.2]), 0.5) == ([0, 1], [0, 1])
    assert add_mirrors([0], mirror, np.array([0.7]), 0.5) == ([0], [0])
    assert add_mirrors([2], mirror, np.array([0.0]), 1.0) == ([2], [0])  # no mirror
    # 0 and 1 already twitch together: no duplicates; 3's mirror 4 takes slot k + 2.
    assert add_mirrors([0, 1, 3], mirror, np.zeros(3), 1.0) == ([0, 1, 3, 4], [0, 1, 2, 5])


def test_twitch_polarity_needs_tone_to_be_negative():
    assert twitch_polarity(0.0, 0.0, 0.8, 1.0, 1.0) == (False, 0.8)  # atonia: always positive
    assert twitch_polarity(0.2, 0.1, 0.8, 0.3, 0.5) == (True, 0.1)  # removes tone * depth
    assert twitch_polarity(0.2, 0.4, 0.8, 0.3, 0.5) == (False, 0.8)


def test_write_pulses_adds_positive_and_keeps_deepest_negative():
    add, mul = np.zeros((6, 2)), np.ones((6, 2))
    write_pulses(add, mul, rows=[1, 0, 2, 3], cols=[0, 0, 1, 1], lens=[2, 2, 3, 1],
                 amps=[0.5, 0.25, 0.0, 0.0], negative=[False, False, True, True],
                 shape="rectangular", negative_depth=0.6)
    np.testing.assert_allclose(add[:, 0], [0.25, 0.75, 0.5, 0, 0, 0])  # overlapping pulses add
    assert not add[:, 1].any() and (mul[:, 0] == 1).all()
    np.testing.assert_allclose(mul[:, 1], [1, 1, 0.4, 0.4, 0.4, 1])
    # A half-sine pulse of 4 steps, sampled at step midpoints, is symmetric and peaks inside.
    add2, mul2 = np.zeros((4, 1)), np.ones((4, 1))
    write_pulses(add2, mul2, [0], [0], [4], [1.0], [False], "half_sine", 1.0)
    np.testing.assert_allclose(add2[:, 0], np.sin(np.pi * (np.arange(4) + 0.5) / 4))
    write_pulses(add2, mul2, [], [], [], [], [], "alpha", 1.0)  # no events: nothing changes
    assert (mul2 == 1).all()


def test_twitch_event_records_times_in_control_steps():
    e = twitch_event(onset_step=250, control_dt_s=0.01, muscle_index=3, muscle="l_biceps",
                     region="elbow", negative=True, amplitude=0.05, n_steps=8, state_code=QUIET_CODE,
                     burst_index=-1, twitch_index=12, near=False)
    assert (e.onset_s, e.duration_s) == (250 * 0.01, 8 * 0.01)
    assert (e.polarity, e.sleep_state, e.muscle, e.muscle_index) == ("negative", "quiet", "l_biceps", 3)
    assert (e.twitch_index, e.burst_index, e.near_transition) == (12, -1, False)
