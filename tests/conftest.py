"""Shared fixtures and checks."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from robot_twitch.body.spec import builtin_bodies, load_body

BUILTIN_BODIES = sorted(builtin_bodies())


@pytest.fixture(scope="session")
def bodies():
    """Every built-in body, loaded once."""
    return {name: load_body(name) for name in BUILTIN_BODIES}


def interrupted_run(config, out: Path, stop_at_s: float = 3.0) -> Path:
    """Run ``config`` into ``out`` and stop it at the first batch ending at or after
    ``stop_at_s`` (0: the first batch), as an interrupt would; the interrupted run's directory."""
    from robot_twitch.experiment import RunInterrupted, run_experiment

    def stop(runner) -> None:
        if runner.sim.time_s >= stop_at_s:
            runner.request_stop()

    with pytest.raises(RunInterrupted) as info:
        run_experiment(config, out=out, progress_bar=False, on_batch=stop)
    return info.value.run_dir


def assert_resumes_identically(config, rows: list[dict], out: Path, stop_at_s: float = 3.0) -> None:
    """Run ``config`` again into ``out``, stop it at the first batch ending at or after
    ``stop_at_s``, resume it, and assert that its metrics.csv rows equal ``rows`` (those of the
    same config run straight through)."""
    from robot_twitch.experiment import run_experiment

    resumed = run_experiment(config, resume=interrupted_run(config, out, stop_at_s), progress_bar=False)
    with open(resumed.run_dir / "metrics.csv", newline="") as f:
        assert list(csv.DictReader(f)) == rows


def hand_to_head_excitation(body) -> tuple[np.ndarray, np.ndarray]:
    """The infant's posture with the right arm swept up beside the head and the elbow bent, (J,)
    [rad], and the excitation (M,) that flexes the right wrist and fingers from it: the hand
    lands on the head or trunk (self-touch)."""
    q = body.initial_posture()
    q[body.joint_names.index("r_shoulder_abduction")] = 2.0
    q[body.joint_names.index("r_elbow")] = 2.4
    flex = np.zeros(len(body.muscle_names))
    for muscle in ("r_wrist_flexor", "r_index_flexor", "r_little_flexor", "r_thumb_flexor"):
        flex[body.muscle_names.index(muscle)] = 1.0
    return q, flex
