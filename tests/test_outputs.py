"""robot_twitch.outputs writes a RunRecord (plain data) into files and computes nothing."""

from __future__ import annotations

import csv
import json
from dataclasses import replace

import numpy as np

from robot_twitch.body.spec import load_body
from robot_twitch.config import ExperimentConfig, OutputSection
from robot_twitch.motor.events import TwitchEvent, load_events
from robot_twitch.outputs import LEARNER_KIND, write_outputs
from robot_twitch.run_record import RunRecord
from robot_twitch.runstate import load_state


def test_a_run_record_is_written_as_it_is(tmp_path):
    config = replace(ExperimentConfig(), outputs=OutputSection(plots=False))
    event = TwitchEvent(onset_s=0.5, muscle="biceps", muscle_index=2, region="elbow", polarity="positive",
                        amplitude=0.4, duration_s=0.03, sleep_state="active", burst_index=0, twitch_index=0,
                        near_transition=False)
    rows = [{"time_s": 1.0, "twitches": 1, "energy": 0.5, "schema.cosine": 0.25},
            {"time_s": 2.0, "twitches": 1, "energy": 0.75, "schema.cosine": 0.5, "forward.r2": 0.125}]
    truth = np.arange(12.0).reshape(6, 2)
    record = RunRecord(config=config, body=load_body("planar_arm"), run_dir=tmp_path, metrics_rows=rows,
                       metrics={"schema.cosine": 0.5, "realign.schema.cosine_s": "not within the run"},
                       undefined={"proprio": "why"}, events=[event], maps={"motor_map/motor_map": -truth},
                       true_moment_arms=truth, learner_states={"motor_map": {"w": np.ones(3), "n": 4}},
                       simulated_s=2.0000001, energy=0.75, wall_s=1.23456, pushes=None,
                       selftouch={"pairs": 0})
    summary = write_outputs(record)
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert summary["metrics"] == record.metrics and summary["undefined"] == {"proprio": "why"}
    assert summary["budget"] == {"simulated_s": 2.0, "twitches": 1, "energy": 0.75, "wall_s": 1.235}
    assert summary["selftouch"] == {"pairs": 0} and summary["body"] == "planar_arm"
    with open(tmp_path / "metrics.csv", newline="") as f:
        written = list(csv.DictReader(f))
    assert list(written[0]) == ["time_s", "twitches", "energy", "schema.cosine", "forward.r2"]
    assert written[0]["forward.r2"] == "" and float(written[1]["forward.r2"]) == 0.125
    assert load_events(tmp_path / "events.csv") == [event]
    with np.load(tmp_path / "body_map.npz") as saved:
        np.testing.assert_array_equal(saved["motor_map/motor_map"], -truth)
        np.testing.assert_array_equal(saved["truth/moment_arms"], truth)
    state = load_state(tmp_path / "learners" / "motor_map.npz", LEARNER_KIND)
    np.testing.assert_array_equal(state["w"], np.ones(3))
    assert state["n"] == 4
    assert not (tmp_path / "plots").exists()
