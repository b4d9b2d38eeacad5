"""Energy matching of baselines to a twitch condition (same simulated time, same energy)."""

from __future__ import annotations

import numpy as np
import pytest
from motor_fakes import make_arm_body

from robot_twitch.motor import (
    ENERGY_MATCH_RTOL,
    AwakeConfig,
    OUConfig,
    SineConfig,
    SleepConfig,
    TwitchConfig,
    WhiteNoiseConfig,
    actuation_energy,
    generate,
    make_drive,
    match_energy,
    match_trace_energy,
)
from robot_twitch.motor.factory import drive_name_for_config


def test_actuation_energy_definition() -> None:
    e = np.full((100, 3), 0.5)
    assert actuation_energy(e, 0.01) == pytest.approx(100 * 3 * 0.25 * 0.01)


def _twitch_trace(muscles: list, seed: int = 0, duration_s: float = 120.0):  # noqa: ANN202
    cfg = TwitchConfig(sleep=SleepConfig(hold_state=True))
    drive = make_drive("twitch", muscles, 0.01, cfg, np.random.default_rng(seed))
    return generate(drive, duration_s)


@pytest.mark.parametrize("baseline", [WhiteNoiseConfig(), OUConfig(), SineConfig(),
                                      WhiteNoiseConfig(hold_s=0.2)])
def test_one_matched_config_holds_across_seeds(baseline: object) -> None:
    muscles = make_arm_body()
    twitch = _twitch_trace(muscles)
    target = twitch.energy()
    matched = match_trace_energy(baseline, twitch, muscles)
    assert type(matched) is type(baseline) and matched.gain < 1.0
    name = drive_name_for_config(matched)
    for seed in (0, 1, 2):
        trace = generate(make_drive(name, muscles, 0.01, matched, np.random.default_rng(seed)),
                         twitch.duration_s)
        tol = 0.01 if seed == 0 else ENERGY_MATCH_RTOL  # calibration train: rtol; others: 5%
        assert trace.energy() == pytest.approx(target, rel=tol)
        assert trace.duration_s == twitch.duration_s


@pytest.mark.parametrize("baseline", [AwakeConfig(), OUConfig(), SineConfig()])
def test_per_seed_calibration_is_exact(baseline: object) -> None:
    muscles = make_arm_body()
    name = drive_name_for_config(baseline)
    for seed in (3, 4):
        twitch = _twitch_trace(muscles, seed)
        matched = match_trace_energy(baseline, twitch, muscles, calibration_seeds=seed)
        trace = generate(make_drive(name, muscles, 0.01, matched, np.random.default_rng(seed)),
                         twitch.duration_s)
        assert trace.energy() == pytest.approx(twitch.energy(), rel=0.01)


def test_match_energy_upwards_with_clipping() -> None:
    muscles = make_arm_body()[:4]
    e1 = generate(make_drive("ou", muscles, 0.01, OUConfig()), 60.0).energy()
    target = 3.0 * e1  # needs gain > sqrt(3) with some clipping at 1
    cfg = match_energy(OUConfig(), target, 60.0, muscles)
    assert cfg.gain > 1.7
    e = generate(make_drive("ou", muscles, 0.01, cfg), 60.0).energy()
    assert e == pytest.approx(target, rel=0.01)


def test_match_energy_rejects_unreachable_target() -> None:
    muscles = make_arm_body()[:2]
    with pytest.raises(ValueError, match="target_energy"):
        match_energy(OUConfig(), 2 * 10.0 + 1.0, 10.0, muscles)
    with pytest.raises(ValueError, match="target_energy"):
        match_energy(OUConfig(), 0.0, 10.0, muscles)
