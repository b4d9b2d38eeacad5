"""The twitch raster with hypnogram writes a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from motor_fakes import make_arm_body

from robot_twitch.motor import SleepConfig, TwitchConfig, generate, make_drive
from robot_twitch.motor.plot import plot_twitch_raster


def _trace():  # noqa: ANN202
    sleep = SleepConfig(mean_wake_bout_s=30, mean_quiet_bout_s=30, mean_active_bout_s=30,
                        quiet_tone=0.1)
    cfg = TwitchConfig(sleep=sleep, quiet_rate_factor=1.0)
    return generate(make_drive("twitch", make_arm_body(), 0.01, cfg, np.random.default_rng(0)),
                    240.0)


def test_raster_writes_png(tmp_path: Path) -> None:
    trace = _trace()
    path = tmp_path / "raster.png"
    fig = plot_twitch_raster(trace, trace.muscle_names, path, title="twitches")
    assert isinstance(fig, Figure)
    assert path.stat().st_size > 5000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_raster_from_events_and_into_axes(tmp_path: Path) -> None:
    trace = _trace()
    fig = plot_twitch_raster(trace.events, None, tmp_path / "events.png", t_range_s=(0, 120))
    assert (tmp_path / "events.png").exists() and isinstance(fig, Figure)
    fig2 = Figure()
    ax = fig2.add_subplot()
    assert plot_twitch_raster(trace, None, ax) is fig2
