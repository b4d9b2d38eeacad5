"""Failures a user can cause after validation: one line on stderr, a documented exit code, no
traceback, and a run directory (if any) whose status.json says what happened."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.cli import EXIT_BAD_INPUT, EXIT_DIVERGED, main
from robot_twitch.rundir import describe_status, is_live, read_status, write_status
from tests.test_cli import StopAt

ROOT = Path(__file__).resolve().parents[1]
TINY = {"name": "tiny", "seed": 1, "body": "planar_arm", "duration_s": 2.0,
        "learners": {"names": ["hebbian"], "batch_steps": 50},
        "evaluation": {"every_s": 1.0, "reach_trials": 0}, "outputs": {"plots": False, "checkpoint_every_s": 1.0}}


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(("argv", "expected"), [
    (["-o", "demo.avi"], "unknown extension 'avi'"),
    (["-o", "demo.gif", "--fps", "0"], "--fps 0"),
    (["-o", "demo.gif", "--fps", "-5"], "--fps -5"),
    (["-o", "demo.gif", "--seconds", "0"], "--seconds 0.0"),
    (["-o", "demo.gif", "--seconds", "inf"], "--seconds inf"),
    (["-o", "demo.gif", "--size", "10x10"], "--size"),
    (["-o", "demo.gif", "--every-s", "0"], "--every-s 0.0"),
    (["-o", "demo.gif", "--every-s", "nan"], "--every-s nan"),
    (["-o", "demo.gif", "--every-s", "5", "--seconds", "1"], "no frame in --seconds 1.0"),
])
def test_video_options_are_checked_first(tmp_path, capsys, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    assert main(["video", "quickstart", *argv]) == EXIT_BAD_INPUT
    assert expected in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_an_output_folder_that_cannot_be_created_is_refused_before_the_world_is_built(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("in the way")
    config = _write(tmp_path / "c.yaml", TINY)
    for argv in (["run", str(config), "--out", str(blocker / "runs"), "--quiet"],
                 ["sweep", str(config), "--out", str(blocker / "runs"), "--seeds", "1"],
                 ["video", str(config), "-o", str(blocker / "v.gif")]):
        assert main(argv) == EXIT_BAD_INPUT
        line = _one_error_line(capsys)
        assert "is a file, not a folder" in line and str(blocker) in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "c.yaml"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main(["run", str(_write(tmp_path / "c.yaml", TINY)), "--out", str(out), "--quiet"]) == EXIT_BAD_INPUT
        assert "permission denied" in _one_error_line(capsys)
    finally:
        out.chmod(0o700)


def test_binary_and_unreadable_config_files(tmp_path, capsys):
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(bytes(range(256)))
    assert main(["run", str(binary), "--quiet", "--out", str(tmp_path / "runs")]) == EXIT_BAD_INPUT
    assert "binary file" in _one_error_line(capsys)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert main(["run", str(latin), "--quiet", "--out", str(tmp_path / "runs")]) == EXIT_BAD_INPUT
    assert "not UTF-8 text" in _one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("override", "expected"), [
    ("duration_s=.inf", "expected a finite number"),
    ("duration_s=.nan", "expected a finite number"),
    ("duration_s=1e12", "beyond the limit of 864000 s"),
    ("evaluation.every_s=-1e3", "must be positive"),
    ("outputs.video.fps=0", "outputs.video.fps"),
    ("outputs.video.every_s=0", "outputs.video.every_s"),
    ("outputs.video.every_s=20", "outputs.video.every_s"),  # no frame in the 10 s filmed
    ("outputs.video.panel=skinmap", "outputs.video.panel"),  # the learner does not run
    ("outputs.video.panel=map", "outputs.video.panel"),
    ("outputs.checkpoint_every_s=0", "outputs.checkpoint_every_s"),
])
def test_non_finite_and_absurd_numbers(tmp_path, capsys, override, expected):
    config = _write(tmp_path / "c.yaml", TINY)
    assert main(["run", str(config), "--set", override, "--quiet", "--out", str(tmp_path / "runs")]) == EXIT_BAD_INPUT
    assert expected in _one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_numbers_in_the_forms_people_type(tmp_path):
    from robot_twitch.config import load_config

    path = tmp_path / "c.yaml"
    path.write_text("duration_s: 2e0\nevaluation: {every_s: 1E0, heldout_fraction: 5e-2}\n")
    config = load_config(path, ["drive.twitch.amplitude_mean=6e-1"])
    assert (config.duration_s, config.evaluation.every_s, config.evaluation.heldout_fraction) == (2.0, 1.0, 0.05)
    assert config.drive.twitch.amplitude_mean == 0.6


def _diverging_config(tmp_path: Path) -> Path:
    body = tmp_path / "strong"
    shutil.copytree(ROOT / "assets" / "planar_arm", body)
    text = (body / "body.yaml").read_text().replace("max_isometric_force_n: 500", "max_isometric_force_n: 1.0e7")
    (body / "body.yaml").write_text(text)
    return _write(tmp_path / "div.yaml", {**TINY, "duration_s": 4.0, "body": "strong/body.yaml"})


def test_a_diverging_simulation_exits_3_and_says_so(tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["run", str(_diverging_config(tmp_path)), "--out", str(out), "--quiet"]) == EXIT_DIVERGED
    line = _one_error_line(capsys)
    assert "the simulation diverged at t = " in line and "joint_" in line, line
    (run_dir,) = out.iterdir()
    status = read_status(run_dir)
    assert status["status"] == "diverged" and status["quantity"] in line and status["time_s"] > 0
    assert run_dir.name.endswith(".incomplete")
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == EXIT_BAD_INPUT  # resuming repeats it
    assert "diverge again" in _one_error_line(capsys)


def test_a_diverging_video_exits_3_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = _diverging_config(tmp_path)
    assert main(["video", str(config), "-o", "v.mp4", "--seconds", "4", "--size", "32x24", "--fps", "5"]) \
        == EXIT_DIVERGED
    assert "the simulation diverged at t = " in _one_error_line(capsys)
    assert not (tmp_path / "v.mp4").exists()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_run_is_told_from_a_live_one(tmp_path, capsys):
    from robot_twitch.config import load_config
    from robot_twitch.experiment import RunInterrupted, run_experiment

    out = tmp_path / "runs"
    with pytest.raises(RunInterrupted) as info:
        run_experiment(load_config(_write(tmp_path / "c.yaml", TINY)), out=out, progress_bar=False,
                       hooks=[StopAt(1.0)])
    run_dir = info.value.run_dir
    # As SIGKILL leaves it: "running", with the pid of a process that is gone.
    write_status(run_dir, "running")
    assert is_live(read_status(run_dir))
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == EXIT_BAD_INPUT
    assert "is running (pid" in _one_error_line(capsys)
    assert main(["report", str(run_dir)]) == EXIT_BAD_INPUT
    assert "is running" in _one_error_line(capsys)
    status = read_status(run_dir)
    status["pid"] = _dead_pid()
    (run_dir / "status.json").write_text(json.dumps(status))
    assert not is_live(read_status(run_dir)) and "killed or crashed" in describe_status(run_dir)
    assert main(["report", str(run_dir)]) == EXIT_BAD_INPUT
    assert "killed or crashed" in _one_error_line(capsys) and not (run_dir / "report.html").exists()
    # The next run in the same folder marks it, and it can be resumed.
    assert main(["run", str(tmp_path / "c.yaml"), "--out", str(out), "--quiet", "--set", "duration_s=1"]) == 0
    assert read_status(run_dir)["status"] == "killed"
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0


def test_actions_of_dtype_object_or_with_none_name_the_fault():
    import gymnasium as gym

    import robot_twitch.envs  # noqa: F401

    env = gym.make("RobotTwitch/Limb-v0")
    env.reset(seed=0)
    n = env.action_space.shape[0]
    with pytest.raises(ValueError, match="action has None .* at muscle 'deltoid_anterior'"):
        env.step([None] + [0.1] * (n - 1))
    with pytest.raises(ValueError, match="has 'x' .*expected numbers"):
        env.step(np.array([0.1] * (n - 1) + ["x"], dtype=object))
    env.step(np.full(n, 0.2, dtype=object))  # numbers in an object array are fine
    env.close()
    vec = gym.make_vec("RobotTwitch/Limb-v0", num_envs=2, vectorization_mode="vector_entry_point")
    vec.reset(seed=0)
    actions = np.full((2, n), 0.1, dtype=object)
    actions[1, 2] = None
    with pytest.raises(ValueError, match="actions has None .* at env 1, muscle 'brachialis'"):
        vec.step(actions)
    vec.close()
