"""Body files: loading, validation messages, calibration and the moment-arm ground truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.body.spec import assets_dir, load_body
from robot_twitch.errors import BodyFileError
from tests.conftest import BUILTIN_BODIES


def test_builtin_bodies_are_shipped():
    assert {"planar_arm"} <= set(BUILTIN_BODIES)


@pytest.mark.parametrize("name", BUILTIN_BODIES)
def test_moment_arms_equal_minus_length_gradient(bodies, name):
    body = bodies[name]
    rng = np.random.default_rng(1)
    kin = body.kinematics
    for _ in range(3):
        q = rng.uniform(kin.joint_lower, kin.joint_upper)
        eps = 1e-6
        numeric = np.stack(
            [-(body.muscle_lengths(q + eps * e) - body.muscle_lengths(q - eps * e)) / (2 * eps)
             for e in np.eye(kin.n_joints)], axis=1)
        np.testing.assert_allclose(body.moment_arms(q), numeric, atol=1e-7)


@pytest.mark.parametrize("name", BUILTIN_BODIES)
def test_calibrated_fibres_stay_near_optimum_across_range(bodies, name):
    body = bodies[name]
    kin = body.kinematics
    q = np.random.default_rng(2).uniform(kin.joint_lower, kin.joint_upper, size=(4000, kin.n_joints))
    p = body.muscle_params
    fibre = (body.muscle_lengths(q) - p.tendon_slack_length_m) / p.optimal_fiber_length_m
    assert fibre.min() >= 0.5 and fibre.max() <= 1.5


@pytest.mark.parametrize("name", BUILTIN_BODIES)
def test_every_muscle_acts_on_some_joint(bodies, name):
    body = bodies[name]
    arms = body.moment_arms(body.initial_posture())
    assert np.all(np.abs(arms).max(axis=1) > 1e-3)


def _copy_arm(tmp_path: Path) -> tuple[Path, dict]:
    src = assets_dir() / "planar_arm"
    for f in src.iterdir():
        shutil.copy(f, tmp_path / f.name)
    path = tmp_path / "body.yaml"
    return path, yaml.safe_load(path.read_text())


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["muscles"][0]["path"][0].update(link="scapula"), "unknown link 'scapula'"),
        (lambda d: d["muscles"][0].update(path=d["muscles"][0]["path"][:1]), "at least 2"),
        (lambda d: d["muscles"][0].update(max_isometric_force_n=-5), "must be positive"),
        (lambda d: d["muscles"][1].update(name=d["muscles"][0]["name"]), "duplicate muscle name"),
        (lambda d: d["muscles"][0].update(path=[{"link": "upper_arm", "pos": [0, 0, 0]},
                                                 {"link": "upper_arm", "pos": [0, 0, -0.2]}]),
         "zero moment arm"),
        (lambda d: d["muscles"][0].update(path=[{"link": "torso", "pos": [0, 0, 0]},
                                                 {"link": "upper_arm", "pos": [0, 0, -0.2]}]),
         "moment arm is zero"),
        (lambda d: d.update(urdf="missing.urdf"), "URDF file not found"),
        (lambda d: d.update(muscels=[]), "did you mean 'muscles'"),
        (lambda d: d["muscles"][0].update(max_isometric_force_n="strong"), "is not a number"),
    ],
)
def test_bad_body_files_get_one_clear_message(tmp_path, mutate, expected):
    path, data = _copy_arm(tmp_path)
    mutate(data)
    with pytest.raises(BodyFileError) as info:
        load_body(_write(path, data))
    message = str(info.value)
    assert expected in message
    assert str(path) in message and "\n" not in message


def test_unknown_link_lists_existing_links(tmp_path):
    path, data = _copy_arm(tmp_path)
    data["muscles"][0]["path"][0]["link"] = "scapula"
    with pytest.raises(BodyFileError, match="forearm"):
        load_body(_write(path, data))


def test_missing_body_file_and_unknown_name():
    with pytest.raises(BodyFileError, match="not found"):
        load_body("/nonexistent/body.yaml")
    with pytest.raises(BodyFileError, match="did you mean 'planar_arm'"):
        load_body("planar_ram")


def test_explicit_lengths_are_kept(tmp_path):
    path, data = _copy_arm(tmp_path)
    data["muscles"][0]["optimal_fiber_length_m"] = 0.2
    data["muscles"][0]["tendon_slack_length_m"] = 0.05
    body = load_body(_write(path, data))
    assert body.muscle_params.optimal_fiber_length_m[0] == 0.2
    assert body.muscle_params.tendon_slack_length_m[0] == 0.05
