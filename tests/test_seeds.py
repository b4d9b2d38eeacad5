"""Seeds batched in one process (robot_twitch.seeds): each seed equals its lone run bit for bit,
a batched sweep resumes, and one seed's failure leaves the others' run directories intact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.config import load_config
from robot_twitch.experiment import CHECKPOINT_FILE, run_experiment
from robot_twitch.seeds import run_seeds
from tests.test_cli import TINY, StopAt

# test_cli's tiny run, shorter, without plots, checkpointed every simulated second
SHORT = {**TINY, "name": "short", "duration_s": 4.0, "outputs": {"plots": False, "checkpoint_every_s": 1.0}}
SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def config_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("seeds") / "short.yaml"
    path.write_text(yaml.safe_dump(SHORT))
    return path


@pytest.fixture(scope="module")
def lone(config_path, tmp_path_factory) -> dict[int, Path]:
    """Each seed run alone, as `robot-twitch run` runs it."""
    out = tmp_path_factory.mktemp("lone")
    return {seed: run_experiment(load_config(config_path, [f"seed={seed}"]), out=out, progress_bar=False).run_dir
            for seed in SEEDS}


def _configs(path: Path, seeds=SEEDS):
    return [load_config(path, [f"seed={seed}"]) for seed in seeds]


def assert_same_run(a: Path, b: Path) -> None:
    """Two run directories hold the same results: summary.json (but its wall time), metrics.csv,
    the event log, the body map and every learner's state, bit for bit."""
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    for s in (sa, sb):
        s["budget"].pop("wall_s")
    assert sa == sb
    for name in ("metrics.csv", "events.csv", "config.yaml"):
        assert (a / name).read_text() == (b / name).read_text(), name
    npz = sorted(p.relative_to(a) for p in [a / "body_map.npz", *(a / "learners").glob("*.npz")])
    assert sorted(p.relative_to(b) for p in [b / "body_map.npz", *(b / "learners").glob("*.npz")]) == npz
    for rel in npz:
        with np.load(a / rel, allow_pickle=False) as fa, np.load(b / rel, allow_pickle=False) as fb:
            assert sorted(fa.files) == sorted(fb.files), rel
            for key in fa.files:
                np.testing.assert_array_equal(fa[key], fb[key], err_msg=f"{rel}:{key}")


class FailAt:
    """Rollout hook: raise after the batch that reaches ``time_s`` (a run that breaks mid-way)."""

    def __init__(self, time_s: float) -> None:
        self.time_s = time_s

    def after_batch(self, rollout, batch) -> None:
        if rollout.sim.time_s >= self.time_s:
            raise RuntimeError("broken on purpose")


def test_each_batched_seed_equals_its_lone_run(config_path, lone, tmp_path):
    records = run_seeds(_configs(config_path), out=tmp_path, label="base")
    assert [r["error"] for r in records] == [None] * len(SEEDS)
    for seed, record in zip(SEEDS, records, strict=True):
        run_dir = Path(record["run_dir"])
        assert run_dir.name.startswith(f"short-base-seed{seed}-") and run_dir.parent == tmp_path
        assert json.loads((run_dir / "status.json").read_text())["status"] == "complete"
        assert not (run_dir / CHECKPOINT_FILE).exists()
        assert_same_run(run_dir, lone[seed])
        assert 0 < record["summary"]["budget"]["wall_s"]


def test_interrupted_batch_resumes_to_the_lone_runs(config_path, lone, tmp_path):
    records = run_seeds(_configs(config_path), out=tmp_path, hooks=[[StopAt(t)] for t in (1.5, 2.0, 2.5)])
    assert all(r["error"].startswith("RunInterrupted") for r in records)
    run_dirs = sorted(tmp_path.iterdir())
    assert len(run_dirs) == 3 and all(d.name.endswith(".incomplete") for d in run_dirs)
    for d in run_dirs:
        assert json.loads((d / "status.json").read_text())["status"] == "interrupted"
    # Two resumed in one batched process, the third alone as `robot-twitch run --resume` does.
    resumed = run_seeds([None, None], resume=run_dirs[:2])
    alone = run_experiment(None, resume=run_dirs[2], progress_bar=False)  # type: ignore[arg-type]
    finished = [Path(r["run_dir"]) for r in resumed] + [alone.run_dir]
    for seed, run_dir in zip(SEEDS, finished, strict=True):
        assert_same_run(run_dir, lone[seed])


def test_a_failing_seed_leaves_the_others_intact(config_path, lone, tmp_path):
    records = run_seeds(_configs(config_path), out=tmp_path, hooks=[[], [FailAt(2.0)], []])
    assert records[0]["error"] is None and records[2]["error"] is None
    assert records[1]["error"] == "RuntimeError: broken on purpose" and records[1]["summary"] is None
    (failed,) = [d for d in tmp_path.iterdir() if d.name.endswith(".incomplete")]
    assert "seed2" in failed.name
    status = json.loads((failed / "status.json").read_text())
    assert status["status"] == "failed" and "broken on purpose" in status["error"]
    for k in (0, 2):
        assert_same_run(Path(records[k]["run_dir"]), lone[SEEDS[k]])


def test_a_bad_config_fails_alone(config_path, tmp_path):
    bad_out = tmp_path / "file"
    bad_out.write_text("not a folder")
    records = run_seeds(_configs(config_path, seeds=(1,)), out=bad_out)
    assert records[0]["summary"] is None and "ConfigError" in records[0]["error"]
    with pytest.raises(ValueError, match="2 configs but 1 resume"):
        run_seeds(_configs(config_path, seeds=(1, 2)), resume=[None])


def test_sweep_hands_out_batches_of_seeds(config_path, lone, tmp_path, capsys):
    from robot_twitch.sweep import run_sweep, seed_batches

    assert seed_batches(10, 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    sweep_dir = run_sweep(str(config_path), grid=[], seeds=3, out=tmp_path, workers=2, seeds_per_process=2)
    records = json.loads((sweep_dir / "sweep.json").read_text())
    assert [r["overrides"] for r in records] == [["seed=1"], ["seed=2"], ["seed=3"]]
    assert all(r["error"] is None for r in records)
    for seed, record in zip(SEEDS, records, strict=True):
        assert_same_run(Path(record["run_dir"]), lone[seed])
    assert "| base | 3 |" in (sweep_dir / "aggregate.md").read_text()
    err = capsys.readouterr().err
    assert "sweep: 2/3 runs done" in err and "sweep: 3/3 runs done" in err
