"""Saved state (checkpoints, learner states) round-trips exactly and never runs code on load."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.cli import main
from robot_twitch.runstate import (
    FORMAT_VERSION,
    MANIFEST_KEY,
    StateFileError,
    generator_from_state,
    generator_state,
    load_arrays,
    load_state,
    save_state,
)
from tests.test_cli import StopAt


def _tree() -> dict:
    rng = np.random.default_rng(7)
    rng.random(3)
    return {
        "ints": {0: {"step": np.float32(3.0), "exp_avg": np.arange(4, dtype=np.float32)}, 1: None},
        "groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "fused": None, "params": [0, 1]}],
        "big": 2**127 + 5,
        "nan": float("nan"), "inf": float("-inf"), "flag": True, "name": "forward",
        "empty": np.zeros((0, 3)), "matrix": rng.standard_normal((3, 2)), "int8": np.array([1, -2], np.int8),
        "rng": generator_state(rng),
        "$array": "a key that looks like a tag",
    }


def test_round_trip_is_exact(tmp_path):
    tree = _tree()
    save_state(tmp_path / "s.npz", tree, "test")
    back = load_state(tmp_path / "s.npz", "test")
    assert set(back) == set(tree)
    assert isinstance(back["ints"][0]["step"], np.float32) and back["ints"][0]["step"] == 3.0
    np.testing.assert_array_equal(back["ints"][0]["exp_avg"], tree["ints"][0]["exp_avg"])
    assert back["groups"][0]["betas"] == (0.9, 0.999) and back["groups"][0]["fused"] is None
    assert back["big"] == 2**127 + 5 and np.isnan(back["nan"]) and back["inf"] == float("-inf")
    assert back["matrix"].tobytes() == tree["matrix"].tobytes() and back["empty"].shape == (0, 3)
    assert back["int8"].dtype == np.int8 and back["$array"] == tree["$array"]
    a, b = generator_from_state(back["rng"]), generator_from_state(tree["rng"])
    assert a.random() == b.random()


def test_objects_are_refused_on_save(tmp_path):
    with pytest.raises(TypeError, match="test.x: a object cannot be saved"):
        save_state(tmp_path / "s.npz", {"x": object()}, "test")
    with pytest.raises(TypeError, match="dtype object"):
        save_state(tmp_path / "s.npz", {"x": np.array([None, 1])}, "test")


def _one_line(exc: pytest.ExceptionInfo, path: Path) -> str:
    text = str(exc.value)
    assert "\n" not in text and str(path) in text
    return text


def test_truncated_corrupt_foreign_newer_and_wrong_kind_files_give_one_line(tmp_path):
    good = tmp_path / "good.npz"
    save_state(good, _tree(), "test")
    raw = good.read_bytes()
    cases = {
        "truncated": (raw[: len(raw) // 2], "not a readable test file"),
        "garbage": (b"\x00\x01not a zip at all" * 10, "not a readable test file"),
        "empty": (b"", "not a readable test file"),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(data)
        with pytest.raises(StateFileError) as info:
            load_state(path, "test")
        assert expected in _one_line(info, path), name
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(StateFileError, match="no manifest"):
        load_state(foreign, "test")

    def with_manifest(path: Path, manifest: dict) -> Path:
        np.savez(path, **{MANIFEST_KEY: np.frombuffer(json.dumps(manifest).encode(), np.uint8)})
        return path

    newer = with_manifest(tmp_path / "newer.npz", {"format": "robot_twitch.state", "version": FORMAT_VERSION + 1,
                                                   "kind": "test", "tree": {}})
    with pytest.raises(StateFileError, match="newer robot_twitch"):
        load_state(newer, "test")
    other = with_manifest(tmp_path / "other.npz", {"format": "someone.else", "version": 1, "kind": "test", "tree": {}})
    with pytest.raises(StateFileError, match="not a robot_twitch test file"):
        load_state(other, "test")
    dangling = with_manifest(tmp_path / "dangling.npz", {"format": "robot_twitch.state", "version": 1, "kind": "test",
                                                         "tree": {"x": {"$array": "a9"}}})
    with pytest.raises(StateFileError, match="missing array"):
        load_state(dangling, "test")
    with pytest.raises(StateFileError, match="holds a 'test' state, expected a 'checkpoint' state"):
        load_state(good, "checkpoint")


class _WritesAFile:
    """A pickle payload: unpickling it calls Path.write_text(marker)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "the checkpoint ran code"))


def _malicious_files(tmp_path: Path, marker: Path) -> dict[str, bytes]:
    payload = pickle.dumps({"progress": _WritesAFile(marker)})
    # An .npz whose member is a pickled object array (np.save with allow_pickle=True writes one).
    npz = tmp_path / "evil.npz"
    np.savez(npz, **{MANIFEST_KEY: np.frombuffer(b"{}", np.uint8),
                     "a0": np.array([_WritesAFile(marker)], dtype=object)})
    # A .npy member that is a raw pickle inside a zip.
    zipped = tmp_path / "evil_zip.npz"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr(f"{MANIFEST_KEY}.npy", payload)
    return {"pickle": payload, "npz_object_array": npz.read_bytes(), "zip_of_pickle": zipped.read_bytes()}


def _tiny_config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump({
        "name": "tiny", "seed": 1, "body": "planar_arm", "duration_s": 4.0,
        "learners": {"names": ["hebbian", "forward"], "batch_steps": 50,
                     "params": {"forward": {"hidden": [8], "updates_per_batch": 1}}},
        "evaluation": {"every_s": 2.0, "reach_trials": 0},
        "outputs": {"plots": False, "checkpoint_every_s": 2.0}}))
    return path


def _incomplete_run(tmp_path: Path) -> Path:
    from robot_twitch.config import load_config
    from robot_twitch.experiment import RunInterrupted, run_experiment

    with pytest.raises(RunInterrupted) as info:
        run_experiment(load_config(_tiny_config(tmp_path)), out=tmp_path / "runs", progress_bar=False, hooks=[StopAt(2.0)])
    return info.value.run_dir


def test_a_malicious_checkpoint_runs_no_code_and_gives_one_line(tmp_path, capsys):
    from robot_twitch.experiment import CHECKPOINT_FILE

    run_dir = _incomplete_run(tmp_path)
    marker = tmp_path / "pwned.txt"
    for name, data in _malicious_files(tmp_path, marker).items():
        (run_dir / CHECKPOINT_FILE).write_bytes(data)
        assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2, name
        err = capsys.readouterr().err.strip()
        assert not marker.exists(), f"{name}: loading the checkpoint ran code"
        assert err.count("\n") == 0 and "Traceback" not in err and CHECKPOINT_FILE in err, (name, err)
        if name != "zip_of_pickle":
            assert "pickled Python objects, which robot_twitch never loads" in err, (name, err)
    # An old-style pickle checkpoint is never opened.
    (run_dir / CHECKPOINT_FILE).unlink()
    (run_dir / "checkpoint.pkl").write_bytes(pickle.dumps(_WritesAFile(marker)))
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
    assert "never read" in capsys.readouterr().err and not marker.exists()


def test_a_checkpoint_missing_a_key_or_of_another_run_gives_one_line(tmp_path, capsys):
    from robot_twitch.experiment import CHECKPOINT_FILE

    run_dir = _incomplete_run(tmp_path)
    tree = load_state(run_dir / CHECKPOINT_FILE, "checkpoint")
    broken = dict(tree)
    del broken["rngs"]
    save_state(run_dir / CHECKPOINT_FILE, broken, "checkpoint")
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "rngs is missing" in err and "\n" not in err
    other = dict(tree, frame=np.zeros(3))
    save_state(run_dir / CHECKPOINT_FILE, other, "checkpoint")
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
    assert "frame has shape (3,)" in capsys.readouterr().err
    learners = dict(tree, learners={"hebbian": tree["learners"]["hebbian"]})
    save_state(run_dir / CHECKPOINT_FILE, learners, "checkpoint")
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 2
    assert "not a checkpoint of this run" in capsys.readouterr().err
    save_state(run_dir / CHECKPOINT_FILE, tree, "checkpoint")  # the intact state still resumes
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0


def test_body_maps_with_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "body_map.npz"
    np.savez(path, **{"action_map/action_map": np.array([object()], dtype=object)})
    with pytest.raises(StateFileError, match="body_map.npz"):
        load_arrays(path)


def test_resume_with_every_kind_of_state_is_bit_identical(tmp_path):
    """Topology and action-map learners, sensor delay lines and noise, a body change before the cut."""
    from robot_twitch.config import load_config
    from robot_twitch.experiment import RunInterrupted, run_experiment

    path = tmp_path / "rich.yaml"
    path.write_text(yaml.safe_dump({
        "name": "rich", "seed": 3, "body": "planar_arm", "duration_s": 4.0,
        "drive": {"kind": "ou"},
        "sensors": {"delay_steps": {"spindle_length": 2}, "noise_std": {"joint_pos": 0.01}},
        "learners": {"names": ["motor_map", "proprio", "topology", "forward_linear"], "batch_steps": 50},
        "body_changes": [{"at_s": 1.0, "kind": "weaken_muscle", "muscle": "brachialis", "factor": 0.5}],
        "evaluation": {"every_s": 1.5, "reach_trials": 0, "heldout_fraction": 0.2},
        "outputs": {"plots": False, "checkpoint_every_s": 1.5}}))
    config = load_config(path)
    straight = run_experiment(config, out=tmp_path / "a", progress_bar=False)

    with pytest.raises(RunInterrupted) as info:
        run_experiment(config, out=tmp_path / "b", progress_bar=False, hooks=[StopAt(2.0)])
    resumed = run_experiment(None, resume=info.value.run_dir, progress_bar=False)  # type: ignore[arg-type]
    assert (resumed.run_dir / "metrics.csv").read_text() == (straight.run_dir / "metrics.csv").read_text()
    for name in ("motor_map", "proprio", "topology", "forward_linear"):
        a = load_arrays(straight.run_dir / "learners" / f"{name}.npz")
        b = load_arrays(resumed.run_dir / "learners" / f"{name}.npz")
        assert a.keys() == b.keys() and all(a[k].tobytes() == b[k].tobytes() for k in a), name
