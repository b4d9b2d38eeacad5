"""The robot-twitch command end to end: exit codes, files, overrides, bad input, interrupt/resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from robot_twitch.cli import main
from robot_twitch.config import load_config
from robot_twitch.experiment import CHECKPOINT_FILE, RunInterrupted, run_experiment

TINY = {
    "name": "tiny",
    "seed": 1,
    "body": "planar_arm",
    "duration_s": 6.0,
    "drive": {"kind": "twitch", "twitch": {"inter_burst_median_s": 1.0}},
    "learners": {"names": ["hebbian", "motor_map", "proprio", "forward"], "batch_steps": 50,
                 "params": {"forward": {"hidden": [16], "updates_per_batch": 2}}},
    "evaluation": {"every_s": 2.0, "reach_trials": 1, "reach_steps": 20, "heldout_fraction": 0.25},
    "outputs": {"plots": True, "checkpoint_every_s": 2.0},
}


@pytest.fixture()
def tiny_config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path


def _run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir()) if out.exists() else []


def test_run_writes_a_complete_run_directory(tiny_config, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["run", str(tiny_config), "--out", str(out), "--quiet"]) == 0
    (run_dir,) = _run_dirs(out)
    assert str(run_dir) in capsys.readouterr().out
    for name in ("config.yaml", "metrics.csv", "summary.json", "events.csv", "body_map.npz", "status.json",
                 "plots/maps.png", "plots/learning_curves.png", "learners/forward.npz"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / CHECKPOINT_FILE).exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("schema.sign_accuracy", "schema.cosine", "reflex.pattern_accuracy", "forward.r2"):
        assert key in summary["metrics"]
    assert summary["budget"]["simulated_s"] == pytest.approx(6.0)
    assert json.loads((run_dir / "status.json").read_text())["status"] == "complete"
    # The resolved config reproduces the run.
    assert load_config(run_dir / "config.yaml").duration_s == 6.0
    assert main(["report", str(run_dir)]) == 0
    assert (run_dir / "report.html").stat().st_size > 10_000


def test_set_overrides_reach_nested_keys(tiny_config, tmp_path):
    out = tmp_path / "runs"
    code = main(["run", str(tiny_config), "--out", str(out), "--quiet", "--set", "duration_s=2",
                 "--set", "drive.twitch.amplitude_mean=0.6", "--set", "learners.names=[hebbian]"])
    assert code == 0
    (run_dir,) = _run_dirs(out)
    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert resolved["duration_s"] == 2.0
    assert resolved["drive"]["twitch"]["amplitude_mean"] == 0.6
    assert resolved["learners"]["names"] == ["hebbian"]


BAD_CONFIGS = [
    ({"duraton_s": 3}, "did you mean 'duration_s'"),
    ({"duration_s": "long"}, "duration_s: 'long' is invalid: expected a number"),
    ({"duration_s": -1}, "duration_s: -1.0 must be positive"),
    ({"drive": {"kind": "babble"}}, "drive.kind"),
    ({"drive": {"twitch": {"amplitude_mean": 2.0}}}, "drive.twitch.amplitude_mean"),
    ({"body": "octopus"}, "body: 'octopus' is neither a built-in body"),
    ({"body": "missing/body.yaml"}, "body"),
    ({"learners": {"names": ["oracle"]}}, "learners.names"),
    ({"sim": {"control_hz": 300}}, "integer multiple"),
]


@pytest.mark.parametrize(("patch", "expected"), BAD_CONFIGS)
def test_bad_configs_exit_2_with_one_line_and_no_run_dir(tmp_path, capsys, patch, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**TINY, **patch}))
    out = tmp_path / "runs"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and str(path) in err and "\n" not in err and "Traceback" not in err
    assert _run_dirs(out) == []


def test_bad_body_file_in_config_exits_2(tmp_path, capsys):
    body = tmp_path / "body.yaml"
    body.write_text(yaml.safe_dump({"name": "x", "urdf": "nowhere.urdf", "muscles": []}))
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump({**TINY, "body": "body.yaml"}))
    assert main(["run", str(path), "--out", str(tmp_path / "runs"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "URDF file not found" in err and str(body) in err
    assert _run_dirs(tmp_path / "runs") == []


def test_missing_config_and_bad_override(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    assert main(["run", "quickstart", "--set", "novalue"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err


class StopAt:
    """Rollout hook that asks the run to stop after a batch ending at or after ``time_s``."""

    def __init__(self, time_s: float) -> None:
        self.time_s = time_s

    def after_batch(self, rollout, batch) -> None:
        if rollout.sim.time_s >= self.time_s:
            rollout.request_stop()


def test_interrupt_then_resume_equals_uninterrupted(tiny_config, tmp_path):
    config = load_config(tiny_config)
    straight = run_experiment(config, out=tmp_path / "a", progress_bar=False)


    with pytest.raises(RunInterrupted) as info:
        run_experiment(config, out=tmp_path / "b", progress_bar=False, hooks=[StopAt(3.0)])
    run_dir = info.value.run_dir
    assert run_dir.name.endswith(".incomplete")
    assert json.loads((run_dir / "status.json").read_text())["status"] == "interrupted"
    resumed = run_experiment(None, resume=run_dir, progress_bar=False)  # type: ignore[arg-type]
    assert not run_dir.exists() and resumed.run_dir.is_dir()
    assert resumed.summary["metrics"] == straight.summary["metrics"]
    assert resumed.summary["budget"]["twitches"] == straight.summary["budget"]["twitches"]
    assert (resumed.run_dir / "metrics.csv").read_text() == (straight.run_dir / "metrics.csv").read_text()


def test_sigterm_exits_130_and_leaves_a_resumable_run(tiny_config, tmp_path):
    out = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "robot_twitch.cli", "run", str(tiny_config), "--out", str(out),
                             "--quiet", "--set", "duration_s=600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=Path(__file__).resolve().parents[1], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.time() + 60
    while time.time() < deadline and not any((d / "status.json").exists() for d in _run_dirs(out)):
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (run_dir,) = _run_dirs(out)
    assert run_dir.name.endswith(".incomplete") and (run_dir / CHECKPOINT_FILE).is_file()
    assert b"--resume" in err


def test_bodies_and_envs_commands(capsys):
    assert main(["bodies"]) == 0
    assert "planar_arm" in capsys.readouterr().out
    assert main(["envs"]) == 0
    assert "RobotTwitch/Limb-v0" in capsys.readouterr().out


def test_sweep_two_workers_aggregates_with_ci(tiny_config, tmp_path, capsys):
    from robot_twitch.sweep import run_sweep

    sweep_dir = run_sweep(str(tiny_config), grid=["drive.twitch.amplitude_mean=0.5,0.9"], seeds=2,
                          overrides=["duration_s=2", "evaluation.reach_trials=0"], out=tmp_path, workers=2)
    records = json.loads((sweep_dir / "sweep.json").read_text())
    assert len(records) == 4 and all(r["error"] is None for r in records)
    table = (sweep_dir / "aggregate.md").read_text()
    assert "drive.twitch.amplitude_mean=0.5" in table and "±" in table
    assert (sweep_dir / "aggregate.csv").is_file() and (sweep_dir / "plots" / "curves.png").is_file()
    # Progress after each run, run folders named after the condition, a report of real tables.
    err = capsys.readouterr().err
    assert "sweep: 1/4 runs done" in err and "sweep: 4/4 runs done" in err and "left" in err
    names = sorted(p.name for p in (sweep_dir / "runs").iterdir())
    assert [n.split("-seed")[0] for n in names] == ["tiny-amplitude_mean-0.5"] * 2 + ["tiny-amplitude_mean-0.9"] * 2
    assert main(["report", str(sweep_dir)]) == 0
    from test_report import check_sweep_report

    check_sweep_report(sweep_dir / "report.html")


def test_sweep_ray_backend_on_a_local_cluster(tiny_config, tmp_path):
    pytest.importorskip("ray")
    from robot_twitch.sweep import run_sweep

    sweep_dir = run_sweep(str(tiny_config), grid=[], seeds=2, overrides=["duration_s=2", "evaluation.reach_trials=0",
                          "learners.names=[hebbian]"], out=tmp_path, backend="ray", seeds_per_process=2)
    records = json.loads((sweep_dir / "sweep.json").read_text())
    assert len(records) == 2 and all(r["error"] is None for r in records)  # both seeds in one Ray task
    assert [r["overrides"][-1] for r in records] == ["seed=1", "seed=2"]


def test_config_reference_is_in_sync_with_the_code():
    from robot_twitch.config_doc import config_reference_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "config.md"
    assert doc.read_text() == config_reference_markdown(), "regenerate: python -m robot_twitch.config_doc > docs/config.md"


def test_every_shipped_config_validates():
    from robot_twitch.config import builtin_configs

    assert {"quickstart", "exp1_twitch_vs_babbling", "exp6_body_change", "planar_arm", "leg", "infant"} <= set(
        builtin_configs())
    for path in builtin_configs().values():
        load_config(path)


def test_summary_line_shows_the_touch_scores_with_their_controls():
    from robot_twitch.cli import summary_line

    summary = {"budget": {"twitches": 680, "simulated_s": 300.0, "wall_s": 44.7},
               "metrics": {"skinmap.adjacency": 0.853, "skinmap.adjacency_shuffled": 0.19, "skinmap.coverage": 0.27,
                           "skinmap.segregation": 0.75, "withdrawal.error_rate": 0.203,
                           "withdrawal.error_rate_shuffled": 0.576, "withdrawal.error_rate_resting_initial": 0.5,
                           "schema.cosine": 0.99, "schema.rank_corr": 0.9, "reach.success_learned_map": "n/a"}}
    line = summary_line(summary)
    assert line.startswith("680 twitches in 300 simulated s (44.7 s wall): ")
    for shown in ("skinmap.adjacency 0.853", "skinmap.adjacency_shuffled 0.190", "skinmap.coverage 0.270",
                  "withdrawal.error_rate 0.203", "withdrawal.error_rate_shuffled 0.576", "schema.cosine 0.990",
                  "reach.success_learned_map n/a"):
        assert shown in line
    for hidden in ("segregation", "resting_initial", "rank_corr"):
        assert hidden not in line
