"""Body changes that change the schema: tendon transfer, a lost muscle, and re-alignment after them
(the re-alignment scores alone: tests/evaluation/test_evaluation_realign.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.body.transfer import posture_grid, tendon_transfer
from robot_twitch.config import load_config
from robot_twitch.errors import ConfigError
from robot_twitch.evaluation.realign import NOT_WITHIN_RUN
from robot_twitch.experiment import run_experiment

# The biceps-to-triceps transfer of configs/exp6_body_change.yaml.
TRANSFER = {"kind": "tendon_transfer", "muscle": "biceps", "joint": "elbow",
            "via_m": [-0.07, 0.0, -0.12], "insertion_m": [-0.04, 0.0, 0.04]}


def _finite_difference_moment_arms(body, q: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """(B, M, J) R = -dl/dq by central differences of the muscle-tendon lengths."""
    out = np.zeros((len(q), len(body.muscle_names), len(body.joint_names)))
    for j in range(len(body.joint_names)):
        dq = np.zeros(len(body.joint_names))
        dq[j] = step
        hi, _, _ = body.paths.evaluate(q + dq, body.root_rotation, body.root_position_m)
        lo, _, _ = body.paths.evaluate(q - dq, body.root_rotation, body.root_position_m)
        out[:, :, j] = -(hi - lo) / (2 * step)
    return out


def test_tendon_transfer_flips_the_sign_of_one_moment_arm(bodies):
    body = bodies["planar_arm"]
    moved = tendon_transfer(body, "biceps", "elbow", TRANSFER["insertion_m"], TRANSFER["via_m"])
    m, elbow, shoulder = body.muscle_names.index("biceps"), 1, 0
    q = posture_grid(body, m)
    before = _finite_difference_moment_arms(body, q)
    after = _finite_difference_moment_arms(moved, q)
    # The analytic R (screw theory) matches finite differences of the path length, before and after.
    for b, fd in ((body, before), (moved, after)):
        _, analytic, _ = b.paths.evaluate(q, b.root_rotation, b.root_position_m)
        np.testing.assert_allclose(analytic, fd, atol=1e-6)
    assert np.all(before[:, m, elbow] > 0.01) and np.all(after[:, m, elbow] < -0.01)  # flexor -> extensor
    assert np.all(np.sign(after[:, m, shoulder]) == np.sign(before[:, m, shoulder]))  # still a shoulder flexor
    others = [k for k in range(len(body.muscle_names)) if k != m]
    np.testing.assert_array_equal(after[:, others], before[:, others])
    # Re-tensioned: over the joint ranges the fibre works within the calibrated 0.7..1.3 l_opt.
    lengths, _, _ = moved.paths.evaluate(q, moved.root_rotation, moved.root_position_m)
    p = moved.muscle_params
    fibre = (lengths[:, m] - p.tendon_slack_length_m[m]) / p.optimal_fiber_length_m[m]
    assert fibre.min() == pytest.approx(0.7) and fibre.max() == pytest.approx(1.3)


def test_a_transfer_that_flips_nothing_is_rejected(bodies, tmp_path):
    body = bodies["planar_arm"]
    with pytest.raises(ConfigError, match="does not flip the sign"):
        tendon_transfer(body, "biceps", "elbow", [0.03, 0.0, -0.08])  # still in front of the elbow
    bad = {**TRANSFER, "via_m": None}  # the straight path from the front crosses back at full flexion
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"body": "planar_arm", "duration_s": 10,
                                    "body_changes": [{"at_s": 5, **bad}]}))
    with pytest.raises(ConfigError, match=r"body_changes\[0\]\.insertion_m: .*does not flip"):
        load_config(path)


def _run(tmp_path: Path, name: str, **extra) -> dict:
    config = {"name": name, "seed": 3, "body": "planar_arm", "duration_s": 150.0,
              "drive": {"kind": "twitch", "twitch": {"inter_burst_median_s": 1.0}},
              "learners": {"names": ["motor_map", "proprio"],
                           "params": {"motor_map": {"decay": 0.9995}, "proprio": {"decay": 0.9995}}},
              "evaluation": {"every_s": 10.0, "reach_trials": 0, "heldout_fraction": 0.0},
              "outputs": {"plots": False, "checkpoint_every_s": 1000.0}, **extra}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return run_experiment(load_config(path), out=tmp_path / "runs", progress_bar=False).summary


@pytest.mark.slow
def test_realign_is_finite_with_twitches_and_not_within_the_run_without(tmp_path):
    changes = [{"at_s": 50.0, **TRANSFER}]
    going_run = _run(tmp_path, "going", body_changes=changes)
    going = going_run["metrics"]
    stopped = _run(tmp_path, "stopped", body_changes=changes, drive={
        "kind": "twitch", "stop_at_s": 50.0, "twitch": {"inter_burst_median_s": 1.0}})
    assert going["realign.schema.sign_accuracy_drop"] > 0.1  # the transfer did change the schema
    assert going["realign.schema.sign_accuracy_s"] <= 100.0
    # the motor map re-learns every sign; with a 20 s memory its cosine settles ~0.96, below the
    # 0.999 it had from 50 s of data, so the cosine's re-alignment is checked on the proprio map
    assert going["realign.proprio.cosine_realigned"] == 1.0
    assert stopped["metrics"]["realign.schema.sign_accuracy_s"] == NOT_WITHIN_RUN
    assert stopped["metrics"]["realign.schema.cosine_s"] == NOT_WITHIN_RUN
    assert 0 < stopped["budget"]["twitches"] < going_run["budget"]["twitches"]  # none after 50 s


@pytest.mark.slow
def test_a_lost_muscle_is_forgotten_only_by_a_forgetting_learner(tmp_path):
    changes = [{"at_s": 40.0, "kind": "lose_muscle", "muscle": "brachialis"}]
    forgetting = _run(tmp_path, "forgets", body_changes=changes)["metrics"]
    remembering = _run(tmp_path, "remembers", body_changes=changes,
                       learners={"names": ["motor_map", "proprio"]})["metrics"]
    # The truth row is zero and the muscle's receptors are silent; with forgetting (memory
    # 1 / (1 - 0.9995) = 20 s) its learned row fades, without forgetting it stays.
    assert forgetting["schema.lost_residual"] < 0.1  # the motor map: its row is NaN again
    assert remembering["schema.lost_residual"] > 0.15, remembering["schema.lost_residual"]
    assert forgetting["proprio.lost_residual"] < 0.1
    assert remembering["proprio.lost_residual"] > 0.3, remembering["proprio.lost_residual"]
