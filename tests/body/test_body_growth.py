"""Body changes: a grown segment, and runs that change the body mid-way (experiment 6)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.body.growth import scale_segment
from robot_twitch.config import load_config
from robot_twitch.errors import ConfigError
from robot_twitch.experiment import RunInterrupted, run_experiment
from robot_twitch.sim import SimConfig, Simulation
from tests.test_cli import TINY, StopAt


def test_scaled_segment_is_longer_and_heavier(bodies, tmp_path):
    body = bodies["planar_arm"]
    grown = scale_segment(body, "forearm", 1.5, tmp_path)
    q = np.array([[0.0, 0.0]])
    _, pos = body.kinematics.link_frames(q, body.root_rotation, body.root_position_m)
    _, grown_pos = grown.kinematics.link_frames(q, grown.root_rotation, grown.root_position_m)
    hand, elbow = body.link_names.index("hand"), body.link_names.index("forearm")
    np.testing.assert_allclose(np.linalg.norm(grown_pos[0, hand] - grown_pos[0, elbow]),
                               1.5 * np.linalg.norm(pos[0, hand] - pos[0, elbow]))
    # Muscles inserting on the forearm get longer moment arms about the elbow.
    m = body.muscle_names.index("brachialis")
    assert abs(grown.moment_arms(np.array([0.0, 1.0]))[m, 1]) > abs(body.moment_arms(np.array([0.0, 1.0]))[m, 1])
    unwelded = SimConfig(weld_fixed_links=False)  # Bullet's forearm alone, without the welded hand
    with Simulation(body, unwelded) as small, Simulation(grown, unwelded) as big:
        mass = [s.client.getDynamicsInfo(s.robot_id, s.joint_indices[1])[0] for s in (small, big)]
    assert mass[1] == pytest.approx(1.5**3 * mass[0])


def _config(tmp_path: Path, changes: list[dict]) -> Path:
    path = tmp_path / "change.yaml"
    path.write_text(yaml.safe_dump({**TINY, "body_changes": changes}))
    return path


def test_a_run_with_body_changes_resumes_exactly(tmp_path):
    changes = [{"at_s": 2.0, "kind": "scale_segment", "link": "forearm", "factor": 1.3},
               {"at_s": 3.5, "kind": "lose_muscle", "muscle": "brachialis"}]
    config = load_config(_config(tmp_path, changes))
    straight = run_experiment(config, out=tmp_path / "a", progress_bar=False)


    with pytest.raises(RunInterrupted) as info:
        run_experiment(config, out=tmp_path / "b", progress_bar=False, hooks=[StopAt(4.0)])
    resumed = run_experiment(None, resume=info.value.run_dir, progress_bar=False)  # type: ignore[arg-type]
    assert resumed.summary["metrics"] == straight.summary["metrics"]
    truth = np.load(straight.run_dir / "body_map.npz")["truth/moment_arms"]
    assert np.all(truth[2] == 0.0)  # the lost brachialis (muscle 2) has no action in the truth


def test_body_change_naming_an_unknown_muscle_or_link_is_rejected_at_load(tmp_path):
    with pytest.raises(ConfigError, match=r"body_changes\[0\].muscle: 'brachioradialis' is not a muscle"):
        load_config(_config(tmp_path, [{"at_s": 1.0, "kind": "lose_muscle", "muscle": "brachioradialis"}]))
    with pytest.raises(ConfigError, match=r"body_changes\[0\].link: 'tail' is not a link"):
        load_config(_config(tmp_path, [{"at_s": 1.0, "kind": "scale_segment", "link": "tail", "factor": 1.2}]))
