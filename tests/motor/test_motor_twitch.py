"""Statistics of the twitch drive on long generated trains (SCIENCE.md, "The phenomenon")."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest
from motor_fakes import FakeMuscle, make_arm_body

from robot_twitch.motor import (
    DriveTrace,
    SleepConfig,
    SleepState,
    TwitchConfig,
    TwitchDrive,
    burst_stats,
    generate,
    make_drive,
    mirror_indices,
    region_shares,
)
from robot_twitch.motor.base import ACTIVE_CODE, QUIET_CODE, WAKE_CODE

ACTIVE_ONLY = SleepConfig(start_state="active", hold_state=True)
# Short bouts so that one hour visits every state many times.
FAST_CYCLE = SleepConfig(
    start_state="active",
    mean_wake_bout_s=120.0,
    mean_quiet_bout_s=120.0,
    mean_active_bout_s=120.0,
)


@cache
def _train(config: TwitchConfig, duration_s: float, seed: int) -> DriveTrace:
    drive = TwitchDrive(make_arm_body(), 0.01, config, np.random.default_rng(seed))
    return generate(drive, duration_s)


def _distinct_twitches(trace: DriveTrace) -> dict[int, list]:
    groups: dict[int, list] = {}
    for e in trace.events:
        groups.setdefault(e.twitch_index, []).append(e)
    return groups


def test_default_inter_burst_intervals_mostly_within_10_s() -> None:
    cfg = TwitchConfig(sleep=ACTIVE_ONLY)
    assert cfg.fraction_ibi_at_most(10.0) >= 0.9
    stats = burst_stats(_train(cfg, 7200.0, 1).events, gap_s=0.9)
    assert stats.inter_burst_intervals_s.size > 1000
    frac = stats.fraction_ibi_at_most(10.0)
    assert frac >= 0.9  # Sokoloff et al.: bursts separated by <= 10 s
    assert frac == pytest.approx(cfg.fraction_ibi_at_most(10.0), abs=0.03)
    assert stats.burst_sizes.mean() == pytest.approx(cfg.burst_size_mean, rel=0.1)


def test_within_burst_intervals_are_tens_to_hundreds_of_ms() -> None:
    cfg = TwitchConfig(sleep=ACTIVE_ONLY)
    wbi = burst_stats(_train(cfg, 7200.0, 1).events, gap_s=0.9).within_burst_intervals_s
    assert wbi.size > 1000
    assert wbi.min() >= cfg.within_burst_min_s - 0.011  # onsets are quantised to 10 ms
    assert wbi.max() <= cfg.within_burst_max_s + 0.011
    assert 0.05 <= float(np.median(wbi)) <= 0.4


def test_rate_in_active_sleep_matches_config() -> None:
    cfg = TwitchConfig(sleep=ACTIVE_ONLY)
    trace = _train(cfg, 7200.0, 1)
    rate_hz = len(_distinct_twitches(trace)) / trace.duration_s
    assert rate_hz == pytest.approx(cfg.expected_rate_hz(), rel=0.1)


def test_poisson_control_has_same_mean_rate_but_no_bursts() -> None:
    bursty = TwitchConfig(sleep=ACTIVE_ONLY)
    poisson = replace(bursty, timing="poisson")
    assert poisson.expected_rate_hz() == pytest.approx(bursty.expected_rate_hz())
    trace = _train(poisson, 7200.0, 2)
    rate_hz = len(_distinct_twitches(trace)) / trace.duration_s
    assert rate_hz == pytest.approx(bursty.expected_rate_hz(), rel=0.1)
    assert all(e.burst_index == -1 for e in trace.events)
    # Exponential intervals: coefficient of variation ~1; bursty timing is far more irregular.
    def cv(t: DriveTrace) -> float:
        d = np.diff(sorted({e.onset_s for e in t.events}))
        return float(d.std() / d.mean())

    assert cv(trace) == pytest.approx(1.0, abs=0.15)
    assert cv(_train(bursty, 7200.0, 1)) > 1.3


def test_no_twitches_in_wake_or_quiet_sleep_by_default() -> None:
    trace = _train(TwitchConfig(sleep=FAST_CYCLE), 3600.0, 3)
    frac = trace.state_fractions()
    assert min(frac.values()) > 0.15  # every state visited
    states = {e.sleep_state for e in trace.events}
    assert states == {"active"}
    # Twitching stops at waking: rows in wake carry awake movement, never a twitch event.
    onset_rows = np.array([round(e.onset_s / trace.control_dt_s) for e in trace.events])
    assert np.all(trace.sleep_state[onset_rows] == ACTIVE_CODE)


def test_atonia_between_twitches_in_active_sleep() -> None:
    cfg = TwitchConfig(sleep=ACTIVE_ONLY, pulse_shape="rectangular")
    trace = _train(cfg, 600.0, 4)
    active_rows = np.count_nonzero(trace.excitation, axis=1) > 0
    pulse_steps = sum(round(e.duration_s / trace.control_dt_s) for e in trace.events)
    # Background is exactly 0 (atonia); only pulse rows are non-zero (overlaps make it fewer).
    assert 0 < active_rows.sum() <= pulse_steps
    assert trace.excitation.max() <= 1.0
    peak = trace.excitation.max(axis=0)
    assert np.all(peak[[e.muscle_index for e in trace.events]] >= cfg.amplitude_min)


def test_quiet_sleep_twitches_when_configured() -> None:
    cfg = TwitchConfig(sleep=FAST_CYCLE, quiet_rate_factor=0.5)
    trace = _train(cfg, 3600.0, 3)
    groups = _distinct_twitches(trace)
    quiet_n = sum(1 for g in groups.values() if g[0].sleep_state == "quiet")
    active_n = sum(1 for g in groups.values() if g[0].sleep_state == "active")
    quiet_s = np.count_nonzero(trace.sleep_state == QUIET_CODE) * trace.control_dt_s
    active_s = np.count_nonzero(trace.sleep_state == ACTIVE_CODE) * trace.control_dt_s
    assert quiet_n / quiet_s == pytest.approx(0.5 * cfg.expected_rate_hz(), rel=0.2)
    assert active_n / active_s == pytest.approx(cfg.expected_rate_hz(), rel=0.2)
    assert not any(e.sleep_state == "wake" for e in trace.events)


def test_wake_twitches_only_when_configured() -> None:
    trace = _train(TwitchConfig(sleep=FAST_CYCLE, wake_rate_factor=1.0), 3600.0, 3)
    assert any(e.sleep_state == "wake" for e in trace.events)


def test_negative_fraction_where_tone_exists() -> None:
    sleep = replace(ACTIVE_ONLY, active_tone_by_region={"neck": 0.3, "elbow": 0.2})
    cfg = TwitchConfig(sleep=sleep, negative_fraction=0.3, spatial_mode="uniform")
    trace = _train(cfg, 3600.0, 5)
    toned = [e for e in trace.events if e.region in ("neck", "elbow")]
    toneless = [e for e in trace.events if e.region not in ("neck", "elbow")]
    assert len(toned) > 500
    neg_frac = np.mean([e.polarity == "negative" for e in toned])
    assert neg_frac == pytest.approx(0.3, abs=0.05)
    assert all(e.polarity == "positive" for e in toneless)  # negative myoclonus needs tone
    # A negative twitch removes tone: excitation dips below the tonic level at its onset.
    neg = next(e for e in toned if e.polarity == "negative")
    row = round(neg.onset_s / trace.control_dt_s)
    tone = 0.3 if neg.region == "neck" else 0.2
    assert neg.amplitude == pytest.approx(tone)
    assert trace.excitation[row, neg.muscle_index] < tone
    # Default (atonia everywhere): no negative twitch at all.
    assert all(e.polarity == "positive" for e in _train(TwitchConfig(sleep=ACTIVE_ONLY), 7200.0, 1)
               .events)


def test_region_shares_shift_with_age() -> None:
    young = TwitchConfig(sleep=ACTIVE_ONLY, age_weeks=2.0)
    old = replace(young, age_weeks=30.0)
    s_young = region_shares(_train(young, 3600.0, 6).events)
    s_old = region_shares(_train(old, 3600.0, 6).events)
    # Neck falls off after head control; wrists and fingers rise around reaching onset.
    assert s_old["neck"] < 0.5 * s_young["neck"]
    distal_young = s_young["wrist"] + s_young["fingers"]
    distal_old = s_old["wrist"] + s_old["fingers"]
    assert distal_old > distal_young + 0.1
    # Shares agree with the configured weights (per-muscle weight x muscles in the region).
    for cfg, shares in ((young, s_young), (old, s_old)):
        drive = TwitchDrive(make_arm_body(), 0.01, cfg)
        for region in ("neck", "wrist", "fingers", "elbow"):
            idx = [i for i, m in enumerate(drive.muscles) if m.region == region]
            assert shares[region] == pytest.approx(drive.muscle_weights[idx].sum(), abs=0.03)


def test_hands_and_feet_twitch_more_than_proximal_at_all_ages() -> None:
    for age in (0.0, 8.0, 16.0, 24.0, 52.0):
        cfg = TwitchConfig(age_weeks=age)
        for distal in ("wrist", "fingers", "ankle"):
            for proximal in ("shoulder", "elbow", "hip", "knee"):
                assert cfg.region_weight(distal) > cfg.region_weight(proximal)


def test_uniform_spatial_mode_and_unknown_regions() -> None:
    muscles = [FakeMuscle("a", "tail"), FakeMuscle("b", "neck"), FakeMuscle("c", "fingers")]
    cfg = TwitchConfig(sleep=ACTIVE_ONLY)
    drive = TwitchDrive(muscles, 0.01, cfg, np.random.default_rng(0))
    assert cfg.region_weight("tail") == cfg.default_region_weight
    trace = generate(drive, 600.0)
    assert {e.region for e in trace.events} == {"tail", "neck", "fingers"}
    uni = TwitchDrive(muscles, 0.01, replace(cfg, spatial_mode="uniform"))
    np.testing.assert_allclose(uni.muscle_weights, 1.0 / 3.0)


@pytest.mark.parametrize("k", [1, 3])
def test_muscles_per_twitch(k: int) -> None:
    trace = _train(TwitchConfig(sleep=ACTIVE_ONLY, muscles_per_twitch=k), 600.0, 7)
    groups = _distinct_twitches(trace)
    assert len(groups) > 200
    for group in groups.values():
        assert len(group) == k
        assert len({e.muscle for e in group}) == k
        assert len({e.onset_s for e in group}) == 1


def test_bilateral_coupling() -> None:
    body = make_arm_body()
    mirror = mirror_indices(body)
    assert body[mirror[body.index(FakeMuscle("left_wrist_flex", "wrist", "left"))]].name == (
        "right_wrist_flex"
    )
    assert mirror[0] == -1  # neck has no side
    for coupling, expected in ((0.0, 0.0), (0.5, 0.5), (1.0, 1.0)):
        trace = _train(TwitchConfig(sleep=ACTIVE_ONLY, bilateral_coupling=coupling), 1800.0, 8)
        groups = _distinct_twitches(trace)
        sided = [g for g in groups.values() if mirror[g[0].muscle_index] >= 0]
        coupled = [len(g) == 2 and g[1].muscle_index == mirror[g[0].muscle_index] for g in sided]
        assert np.mean(coupled) == pytest.approx(expected, abs=0.05)
        unsided = [g for g in groups.values() if mirror[g[0].muscle_index] < 0]
        assert all(len(g) == 1 for g in unsided)


def test_mirror_matching_by_name_variants() -> None:
    body = [
        FakeMuscle("l_biceps", "elbow", "left"),
        FakeMuscle("r_biceps", "elbow", "right"),
        FakeMuscle("TricepsLeft", "elbow", "left"),
        FakeMuscle("TricepsRight", "elbow", "right"),
        FakeMuscle("neck_l", "neck", None),
        FakeMuscle("neck_r", "neck", None),
    ]
    assert mirror_indices(body).tolist() == [1, 0, 3, 2, -1, -1]


def test_excitation_always_in_unit_interval_under_extreme_settings() -> None:
    sleep = replace(FAST_CYCLE, quiet_tone=1.0, active_tone=0.9, wake_tone=1.0)
    cfg = TwitchConfig(
        sleep=sleep,
        amplitude_mean=1.0,
        amplitude_sd=0.5,
        duration_median_s=0.3,
        duration_max_s=2.0,
        within_burst_min_s=0.01,
        burst_size_mean=20.0,
        muscles_per_twitch=5,
        quiet_rate_factor=1.0,
        wake_rate_factor=1.0,
        negative_fraction=0.5,
        wake_movement=None,
    )
    trace = _train(cfg, 900.0, 9)
    assert trace.excitation.dtype == np.float64
    assert trace.excitation.min() >= 0.0 and trace.excitation.max() <= 1.0
    assert np.all(np.isfinite(trace.excitation))


def test_same_seed_same_train_and_different_seed_different_train(muscles: list) -> None:
    cfg = TwitchConfig(sleep=FAST_CYCLE)
    a = generate(TwitchDrive(muscles, 0.01, cfg, np.random.default_rng(42)), 900.0)
    b = generate(TwitchDrive(muscles, 0.01, cfg, np.random.default_rng(42)), 900.0)
    c = generate(TwitchDrive(muscles, 0.01, cfg, np.random.default_rng(43)), 900.0)
    assert np.array_equal(a.excitation, b.excitation)
    assert np.array_equal(a.sleep_state, b.sleep_state)
    assert a.events == b.events
    assert not np.array_equal(a.excitation, c.excitation)
    assert a.events != c.events


def test_step_by_step_equals_generate_and_reset_restarts(muscles: list) -> None:
    drive = make_drive("twitch", muscles, 0.01, TwitchConfig(sleep=FAST_CYCLE),
                       np.random.default_rng(5))
    assert drive.time_s == 0.0 and drive.sleep_state is SleepState.ACTIVE
    rows = np.stack([drive.step() for _ in range(2500)])
    assert drive.time_s == pytest.approx(25.0)
    events_stepped = drive.events
    assert all(e.onset_s < 25.0 for e in events_stepped)
    drive.reset(np.random.default_rng(5))
    assert drive.time_s == 0.0 and drive.events == []
    first = generate(drive, 12.34)
    rest = generate(drive, 25.0 - 12.34)
    assert np.array_equal(rows, np.concatenate([first.excitation, rest.excitation]))
    assert first.events + rest.events == events_stepped
    np.testing.assert_allclose(rest.time_s[0], 12.34)


def test_sleep_state_transitions_reported(muscles: list) -> None:
    trace = _train(TwitchConfig(sleep=FAST_CYCLE), 3600.0, 3)
    codes = set(np.unique(trace.sleep_state).tolist())
    assert codes == {WAKE_CODE, QUIET_CODE, ACTIVE_CODE}
    # Newborn default: sleep starts in active sleep, active is followed by quiet sleep.
    change = np.nonzero(np.diff(trace.sleep_state))[0]
    pairs = {(int(trace.sleep_state[i]), int(trace.sleep_state[i + 1])) for i in change}
    assert pairs <= {(WAKE_CODE, ACTIVE_CODE), (ACTIVE_CODE, QUIET_CODE),
                     (QUIET_CODE, ACTIVE_CODE), (QUIET_CODE, WAKE_CODE)}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"amplitude_mean": 1.5}, "amplitude_mean"),
        ({"timing": "regular"}, "timing"),
        ({"duration_min_s": -0.01}, "duration_min_s"),
        ({"within_burst_max_s": 2.0}, "within_burst_max_s"),
        ({"muscles_per_twitch": 0}, "muscles_per_twitch"),
        ({"bilateral_coupling": 1.2}, "bilateral_coupling"),
        ({"region_weights": {"neck": -1.0}}, "region_weights"),
        ({"age_weeks": float("nan")}, "age_weeks"),
        ({"pulse_shape": "square"}, "pulse_shape"),
    ],
)
def test_bad_config_raises_value_error_naming_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        TwitchConfig(**kwargs)


def test_too_many_muscles_per_twitch_rejected() -> None:
    with pytest.raises(ValueError, match="muscles_per_twitch"):
        TwitchDrive([FakeMuscle("a", "neck")], 0.01, TwitchConfig(muscles_per_twitch=2))


@pytest.mark.parametrize("shape", ["rectangular", "half_sine", "alpha"])
def test_pulse_shapes_peak_near_amplitude(shape: str) -> None:
    cfg = TwitchConfig(sleep=ACTIVE_ONLY, pulse_shape=shape, amplitude_sd=0.0,
                       burst_size_mean=1.0, duration_min_s=0.1, duration_median_s=0.1,
                       duration_max_s=0.1)
    trace = _train(cfg, 120.0, 10)
    e = trace.events[0]
    row = round(e.onset_s / trace.control_dt_s)
    pulse = trace.excitation[row : row + 10, e.muscle_index]
    assert e.duration_s == pytest.approx(0.1)
    assert pulse.max() == pytest.approx(0.8, abs=0.05)
    assert trace.excitation[row + 10, e.muscle_index] == 0.0 or len(trace.events) > 1
