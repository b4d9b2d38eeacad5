"""Polarity of sleep myoclonus: positive everywhere, negative only where there is tone to lose."""

from __future__ import annotations

import csv
from functools import cache

import numpy as np
import pytest

from robot_twitch.body.spec import load_body
from robot_twitch.config import load_config
from robot_twitch.motor import DriveTrace, generate, make_drive, save_events
from robot_twitch.motor.base import QUIET_CODE


@cache
def _sleep_cycle(duration_s: float, seed: int) -> tuple[DriveTrace, object]:
    """The shipped sleep_cycle config's twitch drive on the planar arm."""
    config = load_config("sleep_cycle").drive.twitch
    drive = make_drive("twitch", load_body("planar_arm").muscles, 0.01, config, np.random.default_rng(seed))
    return generate(drive, duration_s), config


def _within(k: int, n: int, p: float, z: float = 4.0) -> bool:
    """k successes in n trials agree with probability p (normal approximation, z sigmas)."""
    return abs(k / n - p) <= z * np.sqrt(p * (1 - p) / n)


def test_the_shipped_cycle_visits_every_state_and_shows_both_polarities():
    trace, _ = _sleep_cycle(600.0, 0)
    fractions = trace.state_fractions()
    assert all(f > 0.1 for f in fractions.values())  # wake, quiet and active sleep in 10 minutes
    polarities = {e.polarity for e in trace.events}
    assert polarities == {"positive", "negative"}


def test_polarity_shares_follow_the_tone_in_each_state():
    trace, config = _sleep_cycle(4 * 3600.0, 1)
    by_state: dict[str, list] = {"wake": [], "quiet": [], "active": []}
    for e in trace.events:
        by_state[e.sleep_state].append(e.polarity == "negative")
    # Active sleep is atonic: nothing to lose, every twitch is positive.
    assert len(by_state["active"]) > 1000 and not any(by_state["active"])
    # Quiet sleep keeps tone and wake has the awake movement's excitation: a share
    # negative_fraction of those twitches is negative myoclonus (binomial, 4 sigma).
    for state in ("quiet", "wake"):
        negatives, n = sum(by_state[state]), len(by_state[state])
        assert n > 50
        assert _within(negatives, n, config.negative_fraction), (state, negatives, n)


def test_twitches_cluster_around_changes_of_state():
    trace, config = _sleep_cycle(4 * 3600.0, 1)
    dt = trace.control_dt_s
    wake_steps = trace.sleep_state == 0
    codes = trace.sleep_state.astype(int)
    changes = np.flatnonzero(np.diff(codes) != 0) + 1
    steps = np.arange(codes.size)
    after = np.clip(np.searchsorted(changes, steps), 0, changes.size - 1)
    before = np.clip(after - 1, 0, changes.size - 1)
    distance = np.minimum(np.abs(steps - changes[after]), np.abs(steps - changes[before])) * dt
    near = distance <= config.transition_window_s
    wake_events = [e for e in trace.events if e.sleep_state == "wake"]
    assert all(e.near_transition == bool(near[round(e.onset_s / dt)]) for e in trace.events)
    rate_near = sum(e.near_transition for e in wake_events) / (np.count_nonzero(wake_steps & near) * dt)
    rate_far = sum(not e.near_transition for e in wake_events) / (np.count_nonzero(wake_steps & ~near) * dt)
    # Muscle events per second in drowsy windows vs the rest of wake: transition vs wake factor.
    expected = config.transition_rate_factor / config.wake_rate_factor
    assert rate_near / rate_far == pytest.approx(expected, rel=0.35)


def test_a_negative_twitch_takes_the_tone_away_and_is_logged(tmp_path):
    trace, config = _sleep_cycle(3600.0, 3)
    quiet_negatives = [e for e in trace.events if e.polarity == "negative" and e.sleep_state == "quiet"]
    assert quiet_negatives
    tone = config.sleep.quiet_tone
    for e in quiet_negatives[:50]:
        row = round(e.onset_s / trace.control_dt_s)
        mid = row + max(0, round(e.duration_s / trace.control_dt_s / 2) - 1)
        if trace.sleep_state[mid] == QUIET_CODE:
            assert e.amplitude == pytest.approx(tone)
            assert trace.excitation[mid, e.muscle_index] < tone
    path = save_events(trace.events, tmp_path / "events.csv")
    with path.open() as fh:
        header = next(csv.reader(fh))
    assert {"polarity", "sleep_state", "near_transition"} <= set(header)
