"""Artifacts of a finished run: metrics.csv, summary.json, events.csv, body_map.npz,
learners/NAME.npz (each learner's state_dict in the robot_twitch.runstate format: arrays and JSON,
never pickle), plots/. Everything is written into the run directory before it is renamed."""

from __future__ import annotations

import csv
import json
from typing import Any

import numpy as np

from robot_twitch.motor import save_events
from robot_twitch.run_record import RunRecord
from robot_twitch.runstate import save_state

#: Kind of the saved learner states: ``load_state(run_dir / "learners/NAME.npz", LEARNER_KIND)``.
LEARNER_KIND = "learner"


def write_outputs(record: RunRecord) -> dict[str, Any]:
    """Write a finished run's files into ``record.run_dir``; returns summary.json's content."""
    run_dir, config, rows = record.run_dir, record.config, record.metrics_rows
    if rows:
        keys = list(dict.fromkeys(k for row in rows for k in row))
        with open(run_dir / "metrics.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
    save_events(record.events, run_dir / "events.csv")
    np.savez_compressed(run_dir / "body_map.npz", **{k: np.asarray(v) for k, v in record.maps.items()},
                        **{"truth/moment_arms": record.true_moment_arms})
    (run_dir / "learners").mkdir(exist_ok=True)
    for name, state in record.learner_states.items():
        save_state(run_dir / "learners" / f"{name}.npz", state, LEARNER_KIND)
    summary = {
        "name": config.name,
        "seed": config.seed,
        "body": record.body.name,
        "drive": config.drive.kind,
        "budget": {
            "simulated_s": round(record.simulated_s, 6),
            "twitches": len(record.events),
            **({"pushes": record.pushes} if record.pushes is not None else {}),
            "energy": record.energy,
            "wall_s": round(record.wall_s, 3),
        },
        "metrics": record.metrics,
    }
    if record.selftouch is not None:
        summary["selftouch"] = record.selftouch
    if record.undefined:
        summary["undefined"] = record.undefined
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    if config.outputs.plots:
        write_plots(record)
    return summary


def write_plots(record: RunRecord) -> None:
    """plots/: the maps beside the truth, learning curves, the twitch raster and, when their
    learners ran, the withdrawal error curve and the skin map."""
    from robot_twitch.plots import write_run_plots

    run_dir, config, rows = record.run_dir, record.config, record.metrics_rows
    twitch = config.drive.twitch
    age = (twitch.age_weeks, twitch.age_rate_weeks_per_h) if config.drive.kind == "twitch" else None
    write_run_plots(run_dir, record.body, record.maps, record.true_moment_arms, rows, record.events, age)
    if rows and "withdrawal.error_rate" in rows[-1]:
        from robot_twitch.evaluation.withdrawal import plot_error_curve

        plot_error_curve(rows, run_dir / "plots" / "withdrawal_error.png")
    if "skinmap" in config.learners.names:
        from robot_twitch.learn.skinmap import plot_skinmap_of

        plot_skinmap_of(record.maps, record.body.skin, run_dir / "plots" / "skinmap.png")
