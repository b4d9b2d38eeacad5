"""Baseline drives, the factory and batching."""

from __future__ import annotations

import numpy as np
import pytest
from motor_fakes import make_arm_body

from robot_twitch.motor import (
    DRIVE_REGISTRY,
    AwakeConfig,
    BatchDrive,
    MotorDrive,
    OUConfig,
    SineConfig,
    SleepState,
    TwitchConfig,
    WhiteNoiseConfig,
    generate,
    make_drive,
)

BASELINES = ["white_noise", "ou", "sine", "awake"]


@pytest.mark.parametrize("name", list(DRIVE_REGISTRY))
def test_every_drive_implements_protocol_and_stays_in_unit_interval(name: str) -> None:
    drive = make_drive(name, make_arm_body(), 0.01, rng=np.random.default_rng(0))
    assert isinstance(drive, MotorDrive)
    row = drive.step()
    assert row.shape == (20,) and row.dtype == np.float64
    trace = generate(drive, 600.0)
    assert trace.excitation.shape == (60000, 20)
    assert trace.excitation.min() >= 0.0 and trace.excitation.max() <= 1.0
    np.testing.assert_allclose(trace.time_s[:2], [0.01, 0.02])


@pytest.mark.parametrize("name", list(DRIVE_REGISTRY))
def test_every_drive_is_deterministic_and_step_equals_generate(name: str) -> None:
    def rows(seed: int, stepwise: bool) -> np.ndarray:
        d = make_drive(name, make_arm_body(), 0.01, rng=np.random.default_rng(seed))
        if stepwise:
            return np.stack([d.step() for _ in range(2100)])
        return generate(d, 21.0).excitation

    a = rows(3, True)
    assert np.array_equal(a, rows(3, False))
    assert not np.array_equal(a, rows(4, False))


@pytest.mark.parametrize("name", BASELINES)
def test_baselines_report_wake_and_log_no_events(name: str) -> None:
    drive = make_drive(name, make_arm_body(), 0.01, rng=np.random.default_rng(1))
    trace = generate(drive, 60.0)
    assert drive.sleep_state is SleepState.WAKE
    assert trace.events == [] and drive.events == []
    assert np.all(trace.sleep_state == SleepState.WAKE.code)


def test_reported_state_is_configurable() -> None:
    drive = make_drive("ou", make_arm_body(), 0.01, OUConfig(reported_state="active"))
    drive.step()
    assert drive.sleep_state is SleepState.ACTIVE


def test_white_noise_statistics_and_hold() -> None:
    trace = generate(make_drive("white_noise", make_arm_body(), 0.01), 100.0)
    assert trace.excitation.mean() == pytest.approx(0.5, abs=0.01)
    assert np.abs(np.corrcoef(trace.excitation[:-1, 0], trace.excitation[1:, 0])[0, 1]) < 0.05
    held = generate(make_drive("white_noise", make_arm_body(), 0.01,
                               WhiteNoiseConfig(hold_s=0.1)), 100.0)
    changes = np.count_nonzero(np.diff(held.excitation[:, 0]))
    assert changes == pytest.approx(999, abs=2)  # a new value every 10 steps


def test_ou_statistics() -> None:
    cfg = OUConfig(mean=0.4, sd=0.1, tau_s=0.2)
    e = generate(make_drive("ou", make_arm_body(), 0.01, cfg), 600.0).excitation
    assert e.mean() == pytest.approx(0.4, abs=0.01)
    assert e.std() == pytest.approx(0.1, rel=0.05)
    lag = round(0.2 / 0.01)
    r = np.mean([np.corrcoef(e[:-lag, m], e[lag:, m])[0, 1] for m in range(e.shape[1])])
    assert r == pytest.approx(np.exp(-1.0), abs=0.05)  # autocorrelation at one tau


def test_sine_babbling_has_random_periods_and_phases() -> None:
    cfg = SineConfig(min_period_s=1.0, max_period_s=4.0)
    drive = make_drive("sine", make_arm_body(), 0.01, cfg, np.random.default_rng(2))
    assert np.all((drive.periods_s >= 1.0) & (drive.periods_s <= 4.0))
    assert len(np.unique(drive.phases_rad)) == 20
    e = generate(drive, 20.0).excitation
    p0 = round(drive.periods_s[0] / 0.01)
    t = np.arange(2000) * 0.01
    np.testing.assert_allclose(e[:, 0], 0.5 + 0.5 * np.sin(2 * np.pi * t / drive.periods_s[0]
                                                          + drive.phases_rad[0]))
    assert p0 >= 100


def test_awake_movement_is_smooth_continuous_and_coactivated() -> None:
    awake = generate(make_drive("awake", make_arm_body(), 0.01, AwakeConfig()), 300.0).excitation
    noise = generate(make_drive("white_noise", make_arm_body(), 0.01), 300.0).excitation
    assert awake.min() >= AwakeConfig().tone - 1e-9  # continuous: never silent
    rough_awake = np.abs(np.diff(awake, axis=0)).mean() / awake.std()
    rough_noise = np.abs(np.diff(noise, axis=0)).mean() / noise.std()
    assert rough_awake < 0.05 * rough_noise
    corr = np.corrcoef(awake.T)
    off_diag = corr[~np.eye(20, dtype=bool)]
    assert off_diag.mean() > 0.2  # muscles co-activate (shared synergies)


def test_twitch_drive_wake_uses_awake_movement() -> None:
    from robot_twitch.motor import SleepConfig

    cfg = TwitchConfig(sleep=SleepConfig(start_state="wake", hold_state=True))
    trace = generate(make_drive("twitch", make_arm_body(), 0.01, cfg), 60.0)
    assert trace.events == []
    assert trace.excitation.min() > 0.0  # continuous movement, not atonia
    still = TwitchConfig(sleep=SleepConfig(start_state="wake", hold_state=True, wake_tone=0.1),
                         wake_movement=None)
    e = generate(make_drive("twitch", make_arm_body(), 0.01, still), 10.0).excitation
    assert np.all(e == 0.1)


def test_factory_errors() -> None:
    with pytest.raises(ValueError, match="drive name"):
        make_drive("random", make_arm_body())
    with pytest.raises(ValueError, match="OUConfig"):
        make_drive("ou", make_arm_body(), 0.01, SineConfig())
    with pytest.raises(ValueError, match="control_dt_s"):
        make_drive("ou", make_arm_body(), 0.0)
    with pytest.raises(ValueError, match="gain"):
        OUConfig(gain=-1.0)


def test_batch_of_seeds_matches_individual_drives() -> None:
    seeds = [0, 1, 2]
    batch = BatchDrive.from_seeds("twitch", make_arm_body(), seeds, 0.01)
    assert batch.batch_size == 3
    first = batch.step()
    assert first.shape == (3, 20)
    exc, codes = batch.step_many(1499)
    assert exc.shape == (3, 1499, 20) and codes.shape == (3, 1499)
    for b, s in enumerate(seeds):
        ref = generate(make_drive("twitch", make_arm_body(), 0.01,
                                  rng=np.random.default_rng(s)), 15.0)
        assert np.array_equal(ref.excitation[0], first[b])
        assert np.array_equal(ref.excitation[1:], exc[b])
    assert not np.array_equal(exc[0], exc[1])
    batch.reset([np.random.default_rng(s) for s in seeds])
    assert batch.time_s == 0.0
    assert np.array_equal(batch.step(), first)
