"""Reafference gating: the efference-copy prediction is removed from what the learners see."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from robot_twitch.config import load_config
from robot_twitch.errors import ConfigError
from robot_twitch.evaluation import score_all
from robot_twitch.experiment import run_experiment
from robot_twitch.learn.gate import GateConfig, ReafferenceGate
from robot_twitch.learn.motor_map import MotorMapLearner
from robot_twitch.learn.proprio_map import ProprioMapLearner
from tests.conftest import interrupted_run
from tests.learn.conftest import CHUNK
from tests.test_cli import TINY

ACTIVE, WAKE = 2, 0


def _learn(body_and_batch, truth, mode: str, state: int) -> dict[str, float]:
    """Motor and proprioceptive maps learned through a gate from the second half of the synthetic
    twitch stream; the gate's predictor has learned from the first half (a mature gate)."""
    body, batch = body_and_batch
    gate = ReafferenceGate(GateConfig(mode=mode, warmup_steps=CHUNK), body.dt_s)
    motor, proprio = MotorMapLearner(dt_s=body.dt_s), ProprioMapLearner()
    half = len(batch) // 2
    for start in range(0, len(batch), CHUNK):
        part = batch.slice(start, start + CHUNK)
        seen = gate.apply(part, np.full(len(part), state))
        if start >= half:
            motor.observe(seen)
            proprio.observe(seen)
    return {**score_all(motor, truth), **score_all(proprio, truth)}


def test_gated_feedback_teaches_no_motor_map_but_still_a_proprioceptive_one(body_and_batch, truth):
    raw = _learn(body_and_batch, truth, "none", ACTIVE)
    gated = _learn(body_and_batch, truth, "all", ACTIVE)
    assert raw["schema.cosine"] > 0.95
    # What the command explains is gone: the motor map falls far below the raw one...
    assert gated["schema.cosine"] < raw["schema.cosine"] - 0.3
    # ...while movement the prediction misses still obeys the kinematics: the proprio map stays.
    assert gated["proprio.cosine"] > 0.9


def test_the_wake_gate_leaves_twitches_in_active_sleep_alone(body_and_batch, truth):
    raw = _learn(body_and_batch, truth, "none", ACTIVE)
    assert _learn(body_and_batch, truth, "wake", ACTIVE) == raw  # no corollary discharge in sleep
    assert _learn(body_and_batch, truth, "wake", WAKE) == _learn(body_and_batch, truth, "all", WAKE)


def test_the_gate_removes_the_command_correlated_part(body_and_batch):
    body, batch = body_and_batch
    gate = ReafferenceGate(GateConfig(mode="all", warmup_steps=CHUNK), body.dt_s)
    first, second = batch.slice(0, 3000), batch.slice(3000, 4000)
    gate.apply(first, np.full(len(first), ACTIVE))  # the predictor learns from the raw stream
    state = gate.state_dict()
    efference = gate.efference(second.command)
    gate.load_state_dict(state)  # the same filter states again for the gated batch
    gated = gate.apply(second, np.full(len(second), ACTIVE))
    centred = efference - efference.mean(0)

    def explained(readings: np.ndarray) -> float:
        """Joint-angle and velocity variance that a linear map of the efference copy explains."""
        y = readings[:, : 2 * len(body.joint_names)]
        y = y - y.mean(0)
        coef, *_ = np.linalg.lstsq(centred, y, rcond=None)
        return float((centred @ coef).var())

    raw_angles = second.next_sensors[:, : 2 * len(body.joint_names)]
    assert explained(second.next_sensors) > 0.5 * raw_angles.var(axis=0).mean()
    assert explained(gated.next_sensors) < 0.2 * explained(second.next_sensors)  # measured 0.12


def test_gate_config_errors():
    with pytest.raises(ConfigError, match="learners.gate.mode"):
        GateConfig(mode="off")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="learners.gate.taus_s"):
        GateConfig(taus_s=(0.0,))


def test_a_gated_run_resumes_exactly(tmp_path):
    path = tmp_path / "gated.yaml"
    learners = {**TINY["learners"], "gate": {"mode": "all", "warmup_steps": 50}}
    path.write_text(yaml.safe_dump({**TINY, "learners": learners}))
    config = load_config(path)
    straight = run_experiment(config, out=tmp_path / "a", progress_bar=False)

    resumed = run_experiment(None, resume=interrupted_run(config, tmp_path / "b", stop_at_s=4.0),  # type: ignore[arg-type]
                             progress_bar=False)
    assert resumed.summary["metrics"] == straight.summary["metrics"]
