"""Age that advances within a run: the developmental schedule moves the region weights as it goes."""

from __future__ import annotations

import numpy as np
from motor_fakes import make_arm_body

from robot_twitch.motor import SleepConfig, TwitchConfig, TwitchDrive, generate, plot_twitch_raster

ACTIVE_ONLY = SleepConfig(start_state="active", hold_state=True)
NECK = {"neck"}
DISTAL = {"wrist", "fingers"}


def _shares(events, regions: set[str]) -> tuple[int, int]:
    return sum(e.region in regions for e in events), len(events)


def test_region_weights_follow_the_age_within_one_run():
    # 6 simulated hours from 5 to 35 weeks: through head control (15 w) and reaching onset (19.5 w).
    config = TwitchConfig(sleep=ACTIVE_ONLY, age_weeks=5.0, age_rate_weeks_per_h=5.0)
    muscles = make_arm_body()
    trace = generate(TwitchDrive(muscles, 0.01, config, np.random.default_rng(7)), 6 * 3600.0)
    early = [e for e in trace.events if e.onset_s < 3600.0]  # ages 5-10 weeks
    late = [e for e in trace.events if e.onset_s >= 5 * 3600.0]  # ages 30-35 weeks
    for events, t0 in ((early, 0.0), (late, 5 * 3600.0)):
        # Observed shares match the schedule's weights averaged over the window (binomial, 4 sd).
        ages = config.age_at(np.linspace(t0, t0 + 3600.0, 61))
        w = config.region_weights_at([m.region for m in muscles], ages)
        p = w / w.sum(axis=1, keepdims=True)
        for regions in (NECK, DISTAL):
            cols = [k for k, m in enumerate(muscles) if m.region in regions]
            expected = float(p[:, cols].sum(axis=1).mean())
            k, n = _shares(events, regions)
            assert abs(k / n - expected) < 4 * np.sqrt(expected * (1 - expected) / n), (regions, k / n, expected)
    # And the shift itself is significant within the run (two-proportion z > 5).
    for regions, sign in ((NECK, -1), (DISTAL, +1)):
        (k1, n1), (k2, n2) = _shares(early, regions), _shares(late, regions)
        pooled = (k1 + k2) / (n1 + n2)
        z = (k2 / n2 - k1 / n1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        assert sign * z > 5, (regions, z)


def test_a_fixed_age_keeps_the_shares_and_the_raster_shows_the_age(tmp_path):
    fixed = TwitchConfig(sleep=ACTIVE_ONLY, age_weeks=5.0)
    trace = generate(TwitchDrive(make_arm_body(), 0.01, fixed, np.random.default_rng(7)), 2 * 3600.0)
    first = [e for e in trace.events if e.onset_s < 3600.0]
    second = [e for e in trace.events if e.onset_s >= 3600.0]
    (k1, n1), (k2, n2) = _shares(first, NECK), _shares(second, NECK)
    pooled = (k1 + k2) / (n1 + n2)
    assert abs(k2 / n2 - k1 / n1) < 4 * np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    fig = plot_twitch_raster(trace.events, path_or_ax=tmp_path / "raster.png", age=(5.0, 5.0))
    labels = [ax.get_xlabel() for ax in fig.axes] + [a.get_xlabel() for ax in fig.axes for a in ax.child_axes]
    assert "age [weeks]" in labels
    assert (tmp_path / "raster.png").stat().st_size > 1000
