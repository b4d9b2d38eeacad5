"""Sleep-wake cycle: state fractions, start/hold options, tone."""

from __future__ import annotations

import numpy as np
import pytest
from motor_fakes import FakeMuscle

from robot_twitch.motor import SleepConfig, SleepCycle
from robot_twitch.motor.base import ACTIVE_CODE, QUIET_CODE, WAKE_CODE
from robot_twitch.motor.sleep import mean_bout_s


def test_newborn_default_fractions() -> None:
    cfg = SleepConfig()
    expected = cfg.expected_time_fractions()
    assert expected["wake"] == pytest.approx(0.35, abs=0.01)
    assert expected["active"] / (expected["active"] + expected["quiet"]) == pytest.approx(0.5)
    # 60 simulated days at 1 s resolution.
    codes = SleepCycle(cfg, 1.0, np.random.default_rng(0)).state_codes(0, 60 * 86400)
    frac = np.bincount(codes, minlength=3) / codes.size
    assert frac[WAKE_CODE] == pytest.approx(0.35, abs=0.04)
    active_share = frac[ACTIVE_CODE] / (frac[ACTIVE_CODE] + frac[QUIET_CODE])
    assert active_share == pytest.approx(0.5, abs=0.04)
    assert mean_bout_s(codes, ACTIVE_CODE, 1.0) == pytest.approx(cfg.mean_active_bout_s, rel=0.1)
    assert mean_bout_s(codes, WAKE_CODE, 1.0) == pytest.approx(cfg.mean_wake_bout_s, rel=0.1)


@pytest.mark.parametrize("state", ["wake", "quiet", "active"])
def test_hold_state_forever(state: str) -> None:
    cycle = SleepCycle(SleepConfig(start_state=state, hold_state=True), 1.0,
                       np.random.default_rng(0))
    codes = cycle.state_codes(0, 86400)
    assert np.all(codes == ["wake", "quiet", "active"].index(state))


def test_start_state_and_first_bout() -> None:
    cfg = SleepConfig(start_state="active", first_bout_s=300.0)
    codes = SleepCycle(cfg, 0.01, np.random.default_rng(1)).state_codes(0, 40000)
    assert np.all(codes[:30000] == ACTIVE_CODE) and codes[30000] == QUIET_CODE


def test_tone_per_state_and_region() -> None:
    muscles = [FakeMuscle("n", "neck"), FakeMuscle("e", "elbow"), FakeMuscle("x", "unknown")]
    cfg = SleepConfig(active_tone_by_region={"neck": 0.02}, quiet_tone_by_region={"elbow": 0.1})
    tone = cfg.tone_matrix(muscles)
    assert tone.shape == (3, 3)
    np.testing.assert_allclose(tone[ACTIVE_CODE], [0.02, 0.0, 0.0])  # atonia except neck
    np.testing.assert_allclose(tone[QUIET_CODE], [0.05, 0.1, 0.05])
    np.testing.assert_allclose(tone[WAKE_CODE], [0.1, 0.1, 0.1])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"start_state": "rem"}, "start_state"),
        ({"mean_active_bout_s": 0.0}, "mean_active_bout_s"),
        ({"p_quiet_to_wake": 1.5}, "p_quiet_to_wake"),
        ({"quiet_tone": -0.1}, "quiet_tone"),
        ({"active_tone_by_region": {"neck": 2.0}}, "active_tone_by_region"),
    ],
)
def test_bad_sleep_config(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field) as info:
        SleepConfig(**kwargs)
    assert "expected" in str(info.value)
