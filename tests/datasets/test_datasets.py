"""Recorded streams (outputs.dataset), their Minari export, the offline example, and bad input."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.cli import main
from robot_twitch.config import load_config
from robot_twitch.datasets.stream import STREAM_DIR, read_stream
from robot_twitch.errors import DatasetError
from robot_twitch.experiment import run_experiment
from robot_twitch.motor.events import load_events
from tests.conftest import interrupted_run

ROOT = Path(__file__).resolve().parents[2]
RECORDED = {
    "name": "recorded",
    "seed": 3,
    "body": "planar_arm",
    "duration_s": 8.0,
    "drive": {"kind": "twitch", "twitch": {"age_weeks": 8, "inter_burst_median_s": 0.5}},
    "learners": {"names": ["hebbian", "motor_map", "proprio", "forward", "topology"], "batch_steps": 40,
                 "params": {"forward": {"hidden": [8], "updates_per_batch": 1}}},
    "evaluation": {"every_s": 1.0, "reach_trials": 0, "heldout_fraction": 0.25},
    # The truth restarts at a body change: the offline truth must follow it.
    "body_changes": [{"at_s": 6.0, "kind": "lose_muscle", "muscle": "triceps_lateral"}],
    "outputs": {"plots": False, "checkpoint_every_s": 1.0, "dataset": True},
}


def _config_file(tmp: Path, data: dict) -> Path:
    path = tmp / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """A finished run with a recorded stream."""
    tmp = tmp_path_factory.mktemp("recorded")
    return run_experiment(load_config(_config_file(tmp, RECORDED)), out=tmp / "runs", progress_bar=False).run_dir


@pytest.fixture()
def minari_root(tmp_path, monkeypatch) -> Path:
    pytest.importorskip("minari")
    root = tmp_path / "minari"
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(root))
    return root


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _load_example():
    spec = importlib.util.spec_from_file_location("offline_learner", ROOT / "examples" / "offline_learner.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the stream ---------------------------------------------------------------------------------
def test_stream_holds_every_step_and_the_truth_the_run_scored_against(recorded):
    stream = read_stream(recorded)
    dt = stream.control_dt_s
    assert stream.n_steps == 800
    np.testing.assert_allclose(stream.rows["time_s"], dt * np.arange(801), atol=1e-9)
    # The truth averaged from the stream is bit-identical to the one the run saved.
    with np.load(recorded / "body_map.npz") as saved:
        np.testing.assert_array_equal(stream.truth().moment_arms, saved["truth/moment_arms"])
    # ... and R(q) per step is the body's moment arms at the recorded posture.
    from robot_twitch.body.spec import load_body

    body = load_body("planar_arm")
    np.testing.assert_allclose(stream.rows["moment_arms"][::50], body.moment_arms(stream.rows["joint_pos"][::50]),
                               atol=1e-12)
    # The lost muscle: excitation zero from the change on, force scale zero, a new body version.
    lost = stream.layout.muscle_names.index("triceps_lateral")
    after = stream.rows["time_s"] > 6.0 + dt
    assert np.all(stream.rows["command"][after, lost] == 0) and np.all(stream.rows["force_scale"][after, lost] == 0)
    assert set(np.unique(stream.rows["body_version"])) == {0, 1}
    # Observations are the sensor readings the learners saw: the last held-out batches equal those recorded.
    batches = stream.batches()
    assert len(batches) == 20 and sum(len(b) for b, _ in batches) == 800
    assert {h for _, h in batches} == {True, False}


def test_twitch_labels_are_the_drive_event_log(recorded):
    stream = read_stream(recorded)
    events = load_events(recorded / "events.csv")
    assert events, "the run should twitch"
    labels = stream.rows["twitch"]
    expected = np.zeros_like(labels)
    for e in events:
        expected[int(round(e.onset_s / stream.control_dt_s)) + 1, e.muscle_index] = 1 if e.polarity == "positive" else -1
    np.testing.assert_array_equal(labels, expected)
    codes = {"wake": 0, "quiet": 1, "active": 2}
    for e in events:
        assert stream.rows["sleep_state"][int(round(e.onset_s / stream.control_dt_s)) + 1] == codes[e.sleep_state]


def test_resumed_run_records_the_stream_of_the_uninterrupted_one(recorded, tmp_path):
    config = load_config(_config_file(tmp_path, RECORDED))

    run_dir = interrupted_run(config, tmp_path / "b", stop_at_s=1.5)
    parts = sorted((run_dir / STREAM_DIR).glob("rows-*.npz"))
    assert parts, "the interrupted run keeps the stream up to its checkpoint"
    resumed = run_experiment(None, resume=run_dir, progress_bar=False)  # type: ignore[arg-type]
    a, b = read_stream(recorded), read_stream(resumed.run_dir)
    assert a.rows.keys() == b.rows.keys()
    for name in a.rows:
        np.testing.assert_array_equal(a.rows[name], b.rows[name], err_msg=name)


def test_stream_parts_are_plain_arrays_and_a_pickled_part_is_refused(recorded, tmp_path):
    import shutil

    copy = tmp_path / recorded.name
    shutil.copytree(recorded, copy)
    part = sorted((copy / STREAM_DIR).glob("rows-*.npz"))[-1]
    with np.load(part) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["time_s"] = np.array([object()] * len(arrays["time_s"]), dtype=object)
    np.savez(part.with_suffix(""), **arrays)  # np.savez appends .npz
    with pytest.raises(DatasetError, match="not plain arrays"):
        read_stream(copy)


# -- Minari ------------------------------------------------------------------------------------
def test_export_writes_a_minari_dataset_whose_env_can_be_recovered(recorded, minari_root, capsys):
    import minari

    assert main(["export", str(recorded), "--minari", "robot_twitch/recorded-v0"]) == 0
    assert str(minari_root / "robot_twitch" / "recorded-v0") in capsys.readouterr().out
    dataset = minari.load_dataset("robot_twitch/recorded-v0")
    assert dataset.total_episodes == 1 and dataset.total_steps == 800
    episode = dataset[0]
    stream = read_stream(recorded)
    np.testing.assert_array_equal(episode.actions, stream.actions)
    np.testing.assert_array_equal(episode.observations["spindle_length"], stream.observations["spindle_length"])
    np.testing.assert_array_equal(episode.infos["twitch"], stream.rows["twitch"])
    np.testing.assert_array_equal(episode.infos["moment_arms"], stream.rows["moment_arms"])
    assert episode.truncations[-1] and not episode.terminations.any()
    meta = dataset.storage.metadata["robot_twitch"]
    assert meta["stream"]["body"]["name"] == "planar_arm" and meta["stream"]["config"]["seed"] == 3
    assert meta["summary"]["metrics"] == json.loads((recorded / "summary.json").read_text())["metrics"]
    env = dataset.recover_environment()
    try:
        assert env.unwrapped.body.name == "planar_arm"
        assert env.observation_space == dataset.observation_space
        assert env.action_space.shape == episode.actions.shape[1:]
        obs, _ = env.reset(seed=0)
        _, _, _, _, info = env.step(env.action_space.sample())
        assert info["moment_arms"].shape == episode.infos["moment_arms"].shape[1:]
    finally:
        env.close()


def test_offline_example_reproduces_the_live_scores(recorded, minari_root):
    assert main(["export", str(recorded), "--minari", "recorded-v1"]) == 0
    live = json.loads((recorded / "summary.json").read_text())["metrics"]
    example = _load_example()
    for learner in ("motor_map", "proprio", "hebbian", "forward"):
        scores = example.fit_offline("recorded-v1", learner)
        assert scores and all(scores[k] == live[k] for k in scores), (learner, scores)


def test_offline_fit_applies_the_runs_reafference_gate(tmp_path):
    # Experiment 5: the learners saw gated feedback; the stream holds the raw feedback, and the
    # offline fit gates it as the run did, so the scores are again the run's own.
    from robot_twitch.datasets.offline import fit, fit_and_score, make_learner

    data = {**RECORDED, "name": "gated", "duration_s": 4.0, "body_changes": [],
            "learners": {**RECORDED["learners"], "names": ["motor_map", "hebbian"],
                         "gate": {"mode": "all", "warmup_steps": 100}},
            "evaluation": {"every_s": 2.0, "reach_trials": 0, "heldout_fraction": 0.0}}
    run_dir = run_experiment(load_config(_config_file(tmp_path, data)), out=tmp_path / "runs", progress_bar=False).run_dir
    live = json.loads((run_dir / "summary.json").read_text())["metrics"]
    stream = read_stream(run_dir)
    for name in ("motor_map", "hebbian"):
        scores = fit_and_score(stream, name)
        assert all(scores[k] == live[k] for k in scores), (name, scores)
    raw = make_learner(stream, "motor_map")
    fit(stream, raw, gated=False)
    gated = make_learner(stream, "motor_map")
    fit(stream, gated)
    assert not np.array_equal(raw.body_map()["motor_map"], gated.body_map()["motor_map"])


def test_offline_scores_need_the_commands_and_muscles_as_recorded(recorded):
    # Controls on the same stream: each muscle's command credited to its neighbour (the motor map
    # learns from efference -> reafference), and each muscle's spindle credited to its neighbour
    # (the proprioceptive map). Both then learn wrong schemas: the scores come from the recording.
    from robot_twitch.datasets.offline import fit_and_score
    from robot_twitch.datasets.stream import RunStream

    stream = read_stream(recorded)
    live = json.loads((recorded / "summary.json").read_text())["metrics"]
    assert fit_and_score(stream, "motor_map")["schema.cosine"] == live["schema.cosine"] > 0.5
    assert fit_and_score(stream, "proprio")["proprio.cosine"] == live["proprio.cosine"] > 0.9
    commands = np.roll(stream.rows["command"], 1, axis=1)
    control = fit_and_score(RunStream(stream.meta, stream.layout, {**stream.rows, "command": commands}), "motor_map")
    assert control["schema.sign_accuracy"] < 0.5 and control["schema.cosine"] < 0.0
    sensors = stream.rows["sensors"].copy()
    spindles = stream.layout.slices["spindle_length"]
    sensors[:, spindles] = np.roll(sensors[:, spindles], 1, axis=1)
    control = fit_and_score(RunStream(stream.meta, stream.layout, {**stream.rows, "sensors": sensors}), "proprio")
    assert control["proprio.sign_accuracy"] < 0.5 and control["proprio.cosine"] < 0.0


# -- bad input ---------------------------------------------------------------------------------
def test_exporting_an_interrupted_run_exits_2_and_writes_nothing(tmp_path, minari_root, capsys):
    config = load_config(_config_file(tmp_path, RECORDED))

    run_dir = interrupted_run(config, tmp_path / "runs", stop_at_s=0.0)
    assert main(["export", str(run_dir), "--minari", "ns/interrupted-v0"]) == 2
    assert "incomplete" in _one_line_error(capsys)
    assert not minari_root.exists() or not any(minari_root.iterdir())


def test_exporting_to_an_existing_id_exits_2_and_keeps_the_dataset(recorded, minari_root, capsys):
    assert main(["export", str(recorded), "--minari", "taken-v0"]) == 0
    capsys.readouterr()
    before = {p: p.stat().st_mtime_ns for p in minari_root.rglob("*")}
    assert main(["export", str(recorded), "--minari", "taken-v0"]) == 2
    assert "already exists" in _one_line_error(capsys)
    assert {p: p.stat().st_mtime_ns for p in minari_root.rglob("*")} == before


def test_export_bad_id_and_run_without_stream_exit_2(recorded, tmp_path, minari_root, capsys):
    assert main(["export", str(recorded), "--minari", "not a valid id!"]) == 2
    assert "dataset id" in _one_line_error(capsys)
    plain = tmp_path / "plain"
    data = {**RECORDED, "name": "plain", "duration_s": 0.5, "body_changes": [],
            "learners": {"names": ["proprio"]}, "evaluation": {"reach_trials": 0, "heldout_fraction": 0.0},
            "outputs": {"plots": False, "dataset": False}}
    run_dir = run_experiment(load_config(_config_file(tmp_path, data)), out=plain, progress_bar=False).run_dir
    assert main(["export", str(run_dir), "--minari", "plain-v0"]) == 2
    assert "outputs.dataset" in _one_line_error(capsys)
    assert not (minari_root / "plain-v0").exists()


def test_export_without_the_datasets_extra_exits_2(recorded, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    monkeypatch.setitem(sys.modules, "minari", None)  # import minari now raises ImportError
    assert main(["export", str(recorded), "--minari", "extra-v0"]) == 2
    assert "robot_twitch[datasets]" in _one_line_error(capsys)
    assert not (tmp_path / "minari").exists()


def test_a_failed_export_leaves_nothing_behind(recorded, minari_root, monkeypatch, capsys):
    from robot_twitch.datasets import minari_io

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(minari_io, "_move_new_parts", broken)
    with pytest.raises(OSError):
        minari_io.export_minari(recorded, "ns/half-v0")
    assert [p.name for p in minari_root.iterdir()] == []


def test_a_passive_run_records_its_pushes_and_no_excitation(tmp_path):
    data = {**RECORDED, "name": "pushed", "duration_s": 1.0, "body_changes": [], "drive": {"kind": "passive"},
            "learners": {"names": ["proprio"]}, "evaluation": {"reach_trials": 0, "heldout_fraction": 0.0}}
    run_dir = run_experiment(load_config(_config_file(tmp_path, data)), out=tmp_path / "runs", progress_bar=False).run_dir
    stream = read_stream(run_dir)
    assert not stream.actions.any() and not stream.rows["activation"].any()
    assert stream.rows["push"][1:].any() and not stream.rows["push"][0].any()
    assert np.ptp(stream.rows["joint_pos"], axis=0).max() > 1e-3  # moved from outside
