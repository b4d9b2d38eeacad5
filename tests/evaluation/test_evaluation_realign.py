"""Re-alignment after a body change (robot_twitch/evaluation/realign.py) from metric rows: when a
score is back within tolerance of its level before the change, and how far it dropped."""

from __future__ import annotations

import math

import pytest

from robot_twitch.evaluation.realign import realignment


def test_realignment_scores_from_metric_rows():
    rows = [{"time_s": 10.0, "twitches": 5, "schema.cosine": 0.98, "forward.nrmse": 0.3},
            {"time_s": 20.0, "twitches": 9, "schema.cosine": 0.99, "forward.nrmse": 0.3},
            {"time_s": 30.0, "twitches": 14, "schema.cosine": 0.70, "forward.nrmse": 0.5},
            {"time_s": 40.0, "twitches": 20, "schema.cosine": 0.98, "forward.nrmse": 0.45}]
    out = realignment(rows, change_s=20.0, tolerance=0.02)
    assert out["realign.schema.cosine_s"] == 20.0 and out["realign.schema.cosine_twitches"] == 11.0
    assert out["realign.schema.cosine_drop"] == pytest.approx(0.29)
    assert math.isinf(out["realign.forward.nrmse_s"]) and out["realign.forward.nrmse_realigned"] == 0.0
    assert realignment(rows, change_s=45.0) == {}  # nothing scored after the change
