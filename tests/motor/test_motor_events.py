"""Event log storage and burst statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from motor_fakes import make_arm_body

from robot_twitch.motor import (
    SleepConfig,
    TwitchConfig,
    TwitchEvent,
    burst_stats,
    generate,
    load_events,
    make_drive,
    save_events,
)


def _events() -> list[TwitchEvent]:
    sleep = SleepConfig(hold_state=True, active_tone_by_region={"neck": 0.1})
    cfg = TwitchConfig(sleep=sleep, bilateral_coupling=0.3)
    drive = make_drive("twitch", make_arm_body(), 0.01, cfg, np.random.default_rng(3))
    return generate(drive, 300.0).events


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_event_log_round_trips_exactly(tmp_path: Path, suffix: str) -> None:
    events = _events()
    assert len(events) > 100 and {e.polarity for e in events} == {"positive", "negative"}
    path = save_events(events, tmp_path / f"events{suffix}")
    loaded = load_events(path)
    assert loaded == events
    assert all(type(a.amplitude) is float and type(a.muscle_index) is int for a in loaded)


def test_bad_suffix_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="suffix"):
        save_events([], tmp_path / "events.txt")


def test_empty_log_round_trip(tmp_path: Path) -> None:
    assert load_events(save_events([], tmp_path / "e.csv")) == []


def test_burst_stats_on_hand_made_train() -> None:
    def ev(t: float, i: int) -> TwitchEvent:
        return TwitchEvent(t, "m", 0, "neck", "positive", 0.8, 0.08, "active", twitch_index=i)

    onsets = [0.0, 0.1, 0.3, 5.0, 20.0, 20.2]
    stats = burst_stats([ev(t, i) for i, t in enumerate(onsets)], gap_s=0.9)
    assert stats.burst_sizes.tolist() == [3, 1, 2]
    np.testing.assert_allclose(stats.inter_burst_intervals_s, [4.7, 15.0])
    np.testing.assert_allclose(stats.within_burst_intervals_s, [0.1, 0.2, 0.2])
    assert stats.fraction_ibi_at_most(10.0) == 0.5
