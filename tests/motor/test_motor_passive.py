"""The passive drive: pushes on the twitch schedule, no muscle command, energy matchable."""

from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.errors import ConfigError
from robot_twitch.motor import PassiveConfig, TwitchConfig, generate, make_drive, match_energy


def test_pushes_follow_the_twitch_schedule_of_the_same_seed(muscles) -> None:
    """Yoked control: with the same seed the limb is pushed exactly where and when it would twitch."""
    cfg = TwitchConfig(inter_burst_median_s=1.0)
    twitch = generate(make_drive("twitch", muscles, 0.01, cfg, np.random.default_rng(3)), 60.0)
    passive_drive = make_drive("passive", muscles, 0.01, PassiveConfig(pattern=cfg), np.random.default_rng(3))
    passive = generate(passive_drive, 60.0)
    np.testing.assert_array_equal(passive.excitation, twitch.excitation)
    assert passive_drive.external and passive.events == []  # pushes, not twitches
    assert len(passive_drive.pushes) == len(twitch.events) > 0
    half = generate(make_drive("passive", muscles, 0.01, PassiveConfig(pattern=cfg, gain=0.5),
                               np.random.default_rng(3)), 60.0)
    assert half.energy() == pytest.approx(0.25 * twitch.energy(), rel=1e-9)


def test_energy_matching_calibrates_the_gain(muscles) -> None:
    cfg = PassiveConfig(pattern=TwitchConfig(inter_burst_median_s=1.0))
    matched = match_energy(cfg, 2.0, 60.0, muscles, 0.01, calibration_seeds=4)
    energy = generate(make_drive("passive", muscles, 0.01, matched, np.random.default_rng(4)), 60.0).energy()
    assert energy == pytest.approx(2.0, rel=0.01)


def test_bad_config() -> None:
    with pytest.raises(ConfigError, match="gain"):
        PassiveConfig(gain=-1.0)
    with pytest.raises(ConfigError, match="pattern"):
        PassiveConfig(pattern="twitch")  # type: ignore[arg-type]
