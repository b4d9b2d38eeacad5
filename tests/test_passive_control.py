"""The control condition of the body schema: a limb moved only from outside teaches no motor map."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from robot_twitch.body.spec import load_body
from robot_twitch.config import ExperimentConfig, load_config
from robot_twitch.experiment import run_experiment
from robot_twitch.sim import Simulation


def test_external_torque_moves_the_limb_for_one_step_without_muscles() -> None:
    body = load_body("planar_arm")
    with Simulation(body) as pushed, Simulation(body) as still:
        n_m, n_j = len(body.muscle_names), len(body.joint_names)
        a = pushed.step(np.zeros(n_m), external_torque_nm=np.array([0.0, 2.0]))  # flex the elbow
        b = still.step(np.zeros(n_m))
        assert a.joint_vel_rad_s[1] > b.joint_vel_rad_s[1] + 0.5
        assert np.all(a.activation == 0.0)  # moved, not contracted
        with pytest.raises(ValueError, match="external_torque_nm"):
            pushed.step(np.zeros(n_m), external_torque_nm=np.ones(n_j + 1))


def _config(kind: str) -> ExperimentConfig:
    return load_config("quickstart", [f"drive.kind={kind}", "duration_s=30", "learners.names=[motor_map, proprio]",
                                      "evaluation.every_s=30", "evaluation.reach_trials=0", "outputs.plots=false",
                                      "drive.twitch.inter_burst_median_s=1.0"])


@pytest.mark.parametrize("kind", ["passive", "twitch"])
def test_being_moved_teaches_proprioception_but_no_motor_map(kind, tmp_path) -> None:
    result = run_experiment(_config(kind), out=tmp_path, progress_bar=False)
    metrics = result.summary["metrics"]
    assert metrics["proprio.cosine"] > 0.95  # the limb moved in both conditions
    if kind == "passive":
        assert result.summary["budget"]["twitches"] == 0 and result.summary["budget"]["energy"] > 0
        assert metrics["schema.coverage"] == 0.0 and math.isnan(metrics["schema.cosine"])
        summary = json.loads((result.run_dir / "summary.json").read_text())
        assert "never commanded" in summary["undefined"]["schema"] or "no muscle" in summary["undefined"]["schema"]
    else:
        assert metrics["schema.coverage"] == 1.0 and metrics["schema.sign_accuracy"] == 1.0
        assert "undefined" not in result.summary
