"""Self-touch: distinct body parts each hand touches over a run (summary.json "selftouch")."""

from __future__ import annotations

import json

import numpy as np
import yaml

from robot_twitch.config import load_config
from robot_twitch.experiment import run_experiment
from robot_twitch.selftouch import SelfTouch, hands_of
from robot_twitch.sim import Simulation
from tests.conftest import hand_to_head_excitation


def test_hands_are_the_hand_links_with_their_digits(bodies):
    hands = hands_of(bodies["infant"])
    assert set(hands) == {"r_hand", "l_hand"}
    assert set(hands["r_hand"]) == {"r_hand", "r_finger_index", "r_finger_little", "r_thumb"}
    assert hands_of(bodies["leg"]) == {}


def test_a_hand_on_the_face_counts_the_parts_it_touched(bodies):
    body = bodies["infant"]
    q, flex = hand_to_head_excitation(body)
    touch = SelfTouch(body)
    with Simulation(body) as sim:
        sim.reset(q)
        for _ in range(50):
            touch.record(sim.step(flex).contacts)
    summary = touch.summary()
    assert summary["parts"]["l_hand"] == 0 and summary["touched"]["l_hand"] == []
    assert 1 <= summary["parts"]["r_hand"] == len(summary["touched"]["r_hand"])
    assert set(summary["touched"]["r_hand"]) <= {"head", "torso", "r_upper_arm", "r_forearm"}
    # The hand's own links are not parts it touches; the mattress is not a body part.
    assert not set(summary["touched"]["r_hand"]) & {"r_hand", "r_finger_index", "r_finger_little", "r_thumb"}


def test_summary_reports_selftouch_for_the_infant_only(tmp_path):
    base = {"name": "touch", "seed": 2, "duration_s": 2.0,
            "drive": {"kind": "white_noise", "match_energy": False},
            "learners": {"names": ["hebbian"], "batch_steps": 50},
            "evaluation": {"every_s": 2.0, "reach_trials": 0}, "outputs": {"plots": False}}
    for body, expected in (("infant", True), ("planar_arm", False)):
        path = tmp_path / f"{body}.yaml"
        path.write_text(yaml.safe_dump({**base, "body": body}))
        result = run_experiment(load_config(path), out=tmp_path / body, progress_bar=False)
        summary = json.loads((result.run_dir / "summary.json").read_text())
        assert ("selftouch" in summary) == expected
        if expected:
            parts = summary["selftouch"]["parts"]
            assert set(parts) == {"r_hand", "l_hand"} and all(isinstance(v, int) for v in parts.values())


def test_selftouch_survives_a_checkpoint(tmp_path):
    from robot_twitch.experiment import ExperimentRun

    path = tmp_path / "touch.yaml"
    path.write_text(yaml.safe_dump({"name": "touch", "seed": 2, "duration_s": 1.0, "body": "infant",
                                    "drive": {"kind": "white_noise", "match_energy": False},
                                    "learners": {"names": ["hebbian"], "batch_steps": 50},
                                    "evaluation": {"every_s": 1.0, "reach_trials": 0}, "outputs": {"plots": False}}))
    config = load_config(path)
    first = ExperimentRun(config)
    first.advance()
    first.selftouch.record([("r_hand", "head", 0.5), ("l_finger_index", "l_foot", 0.1)])
    first.save_checkpoint(tmp_path / "checkpoint.npz")
    second = ExperimentRun(config)
    second.load_checkpoint(tmp_path / "checkpoint.npz")
    assert np.array_equal(second.selftouch.touched, first.selftouch.touched)
    touched = second.selftouch.summary()["touched"]
    assert touched == first.selftouch.summary()["touched"]
    assert "head" in touched["r_hand"] and "l_foot" in touched["l_hand"]
    for runner in (first, second):
        runner.close()
