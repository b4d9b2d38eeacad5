"""Experiment 1, scored on common test sets: every trained forward model on every drive's data.

    python benchmarks/results_exp1_cross.py SWEEP_DIR [SWEEP_DIR ...] [--test-seed 100] [--duration 300]

A sweep scores each run's forward model on held-out batches of its *own* drive, so forward.r2
compares different prediction problems (a limb jittering under white noise is easy to predict one
step ahead; the rare, fast twitch movements with joint-limit impacts are not). Here every
forward model saved by the sweeps (runs/*/learners/forward.npz) is scored on the same test
streams: one unseen rollout (seed --test-seed, never used for training) of each drive of
configs/exp1_twitch_vs_babbling.yaml, energy-matched as in the sweep, every control step.
R^2 is pooled over channels, each channel weighted by the test stream's own spread
(delta_scores with scale=None), so that the weighting does not depend on the model scored.
Prints a Markdown table: rows = training drive, columns = test drive, mean ± 95% CI over seeds.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml
from scipy import stats

from robot_twitch.config import load_config
from robot_twitch.experiment import ExperimentRun
from robot_twitch.learn import concat_batches
from robot_twitch.learn.forward import ForwardModel, delta_scores
from robot_twitch.outputs import LEARNER_KIND
from robot_twitch.runstate import load_state

CONFIG = "configs/exp1_twitch_vs_babbling.yaml"
TESTS = {
    "twitch": ["drive.kind=twitch"],
    "white_noise": ["drive.kind=white_noise"],
    "white_noise hold 0.2 s": ["drive.kind=white_noise", "drive.white_noise.hold_s=0.2"],
    "ou": ["drive.kind=ou"],
    "sine": ["drive.kind=sine"],
    "awake": ["drive.kind=awake"],
}


def test_stream(overrides: list[str], duration: float, seed: int):
    cfg = load_config(CONFIG, [*overrides, f"duration_s={duration}", f"seed={seed}", "learners.names=[]"])
    run = ExperimentRun(cfg)
    try:
        batches = []
        while run.progress.step < run.total_steps:
            batches.append(run.advance())
        return concat_batches(batches)
    finally:
        run.close()


def condition_of(run_dir: Path) -> str:
    cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
    drive = cfg["drive"]
    name = drive["kind"]
    if name == "white_noise" and float(drive.get("white_noise", {}).get("hold_s", 0.0)) > 0:
        name += f" hold {float(drive['white_noise']['hold_s']):g} s"
    return name


def ci(xs: list[float]) -> str:
    a = np.asarray(xs)
    h = stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else float("nan")
    return f"{a.mean():.3f} ± {h:.3f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("sweeps", nargs="+")
    ap.add_argument("--test-seed", type=int, default=100)
    ap.add_argument("--duration", type=float, default=300.0)
    args = ap.parse_args()
    tests = {k: test_stream(v, args.duration, args.test_seed) for k, v in TESTS.items()}
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for sweep in args.sweeps:
        for run_dir in sorted(Path(sweep).glob("runs/*")):
            f = run_dir / "learners" / "forward.npz"
            if not f.is_file():
                continue
            model = ForwardModel()
            model.load_state_dict(load_state(f, LEARNER_KIND))
            cond = condition_of(run_dir)
            for name, b in tests.items():
                pred = model.predict_delta(b.sensors, b.command)
                scores[cond][name].append(delta_scores(pred, b.delta)[0])
    print("| trained on \\ tested on | " + " | ".join(TESTS) + " |")
    print("|---|" + "---|" * len(TESTS))
    for cond, row in scores.items():
        n = len(next(iter(row.values())))
        print(f"| {cond} (n={n}) | " + " | ".join(ci(row[t]) for t in TESTS) + " |")


if __name__ == "__main__":
    main()
