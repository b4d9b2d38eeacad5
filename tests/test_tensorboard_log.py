"""outputs.tensorboard: metrics.csv's scalars and the map figures as TensorBoard event files."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.cli import main
from robot_twitch.config import load_config
from robot_twitch.experiment import run_experiment
from robot_twitch.tensorboard_log import TENSORBOARD_DIR, config_hparams, heatmap_image, metric_tag, step_ms
from tests.conftest import interrupted_run

pytest.importorskip("tensorboard")

LOGGED = {
    "name": "logged",
    "seed": 2,
    "body": "planar_arm",
    "duration_s": 3.0,
    "drive": {"kind": "twitch", "twitch": {"inter_burst_median_s": 1.0}},
    "learners": {"names": ["hebbian", "motor_map", "proprio"], "batch_steps": 50},
    "evaluation": {"every_s": 1.0, "reach_trials": 2, "reach_steps": 20, "heldout_fraction": 0.0},
    "outputs": {"plots": False, "checkpoint_every_s": 1.0, "tensorboard": True},
}


def _config_file(tmp: Path, data: dict) -> Path:
    path = tmp / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _events(log_dir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    acc.Reload()
    return acc


def _session_hparams(content: dict[str, bytes]):
    """The hparams of a run's session-start record (TensorBoard's HParams tab)."""
    from tensorboard.plugins.hparams import plugin_data_pb2

    for raw in content.values():
        data = plugin_data_pb2.HParamsPluginData.FromString(raw)
        if data.HasField("session_start_info"):
            return data.session_start_info.hparams
    raise AssertionError("no hparams session in the event file")


def _metrics_rows(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "metrics.csv", newline="") as f:
        return list(csv.DictReader(f))


def _assert_scalars_are_the_metrics(run_dir: Path) -> None:
    acc = _events(run_dir / TENSORBOARD_DIR)
    rows = _metrics_rows(run_dir)
    for key in rows[0]:
        if key == "time_s":
            continue
        logged = acc.Scalars(metric_tag(key))
        assert [e.step for e in logged] == [step_ms(float(r["time_s"])) for r in rows], key
        np.testing.assert_array_equal([e.value for e in logged], np.float32([float(r[key]) for r in rows]), key)


def test_a_run_logs_its_metrics_maps_and_config(tmp_path):
    run_dir = run_experiment(load_config(_config_file(tmp_path, LOGGED)), out=tmp_path / "runs",
                             progress_bar=False).run_dir
    _assert_scalars_are_the_metrics(run_dir)
    acc = _events(run_dir / TENSORBOARD_DIR)
    for tag, shape in (("maps/true_moment_arms", (6, 2)), ("maps/motor_map", (6, 2)), ("maps/proprio_map", (6, 2)),
                       ("maps/hebbian_reflex", (6, 6))):
        images = acc.Images(tag)
        assert [e.step for e in images] == [1000, 2000, 3000], tag
        assert (images[0].height, images[0].width) == (16 * shape[0], 16 * shape[1]), tag
    assert [e.step for e in acc.Images("maps/figure")] == [3000]
    assert "reach/success_true_map" in acc.Tags()["scalars"]
    hparams = _session_hparams(acc.PluginTagToContent("hparams"))
    assert hparams["seed"].number_value == 2 and hparams["body"].string_value == "planar_arm"


def test_a_resumed_run_logs_each_step_once(tmp_path):
    config = load_config(_config_file(tmp_path, LOGGED))

    run_dir = interrupted_run(config, tmp_path / "runs", stop_at_s=1.5)
    resumed = run_experiment(None, resume=run_dir, progress_bar=False)  # type: ignore[arg-type]
    _assert_scalars_are_the_metrics(resumed.run_dir)


def test_missing_tensorboard_exits_2_before_a_run_dir_exists(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    out = tmp_path / "runs"
    assert main(["run", str(_config_file(tmp_path, LOGGED)), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "robot_twitch[tensorboard]" in err
    assert not out.exists()


def test_heatmap_image_colours_signs_and_scales_to_the_largest_magnitude():
    image = heatmap_image(np.array([[0.02, -0.02], [0.0, 0.01]]), cell_px=4)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    red, blue, white = image[0, 0], image[0, 4], image[4, 0]
    assert red[0] > red[2] and blue[2] > blue[0] and white.min() > 200
    np.testing.assert_array_equal(image[:4, :4], np.broadcast_to(red, (4, 4, 3)))  # one colour per cell


def test_config_hparams_are_flat_scalars():
    flat = config_hparams(load_config("quickstart").to_dict())
    assert flat["seed"] == 0 and flat["drive.kind"] == "twitch" and flat["outputs.video.fps"] == 30
    assert all(isinstance(v, (bool, int, float, str)) for v in flat.values())


@pytest.mark.slow
def test_a_sweep_lands_in_one_log_directory(tmp_path):
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    from robot_twitch.sweep import run_sweep

    sweep_dir = run_sweep(str(_config_file(tmp_path, LOGGED)), grid=["drive.twitch.amplitude_mean=0.5,0.9"], seeds=1,
                          overrides=["duration_s=1", "evaluation.reach_trials=0"], out=tmp_path, workers=1)
    mux = EventMultiplexer().AddRunsFromDirectory(str(sweep_dir))
    mux.Reload()
    runs = mux.Runs()
    assert len(runs) == 2
    amplitudes = set()
    for run in runs:
        assert "schema/cosine" in runs[run]["scalars"]
        hparams = _session_hparams(mux.PluginRunToTagToContent("hparams")[run])
        amplitudes.add(hparams["drive.twitch.amplitude_mean"].number_value)
    assert amplitudes == {0.5, 0.9}
