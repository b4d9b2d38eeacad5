"""Artifacts of a finished run: metrics.csv, summary.json, events.csv, body_map.npz,
learners/NAME.npz (each learner's state_dict in the robot_twitch.runstate format: arrays and JSON,
never pickle), plots/. Everything is written into the run directory before it is renamed."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from robot_twitch.evaluate import undefined_reason
from robot_twitch.motor import save_events
from robot_twitch.realign import for_summary, realignment
from robot_twitch.rollout import Rollout
from robot_twitch.runstate import save_state

if TYPE_CHECKING:
    from robot_twitch.experiment import ExperimentRun

# Downstream check: reach a target posture with the learned action map (Function, SCIENCE.md 6).
REACH_TOLERANCE_RAD = 0.15
#: Kind of the saved learner states: ``load_state(run_dir / "learners/NAME.npz", LEARNER_KIND)``.
LEARNER_KIND = "learner"


class SimulationPlant:
    """The Plant protocol (learn/control.py) over a Rollout of the run's Simulation without a drive
    (the controller's command is the excitation): reset to a random posture."""

    def __init__(self, runner: ExperimentRun) -> None:
        self.rollout = Rollout(runner.sim)
        self.rollout.force_scale = runner.progress.force_scale
        self.body = runner.body

    def reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        kin = self.body.kinematics
        q = rng.uniform(kin.joint_lower + 0.2 * (kin.joint_upper - kin.joint_lower),
                        kin.joint_upper - 0.2 * (kin.joint_upper - kin.joint_lower))
        state = self.rollout.reset(q)
        return state.joint_pos_rad, state.joint_vel_rad_s

    def step(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        state = self.rollout.step(np.clip(u, 0, 1))
        return state.joint_pos_rad, state.joint_vel_rad_s


def reach_scores(runner: ExperimentRun, action_map: np.ndarray | None) -> dict[str, float]:
    """Success rate of posture reaching with the learned map, the true R, and random commands."""
    from robot_twitch.learn import PostureController, random_policy, reach_success_rate

    ev = runner.config.evaluation
    if ev.reach_trials == 0:
        return {}
    kin = runner.body.kinematics
    rng = runner.reach_rng
    lo = kin.joint_lower + 0.2 * (kin.joint_upper - kin.joint_lower)
    hi = kin.joint_upper - 0.2 * (kin.joint_upper - kin.joint_lower)
    targets = rng.uniform(lo, hi, size=(ev.reach_trials, kin.n_joints))
    truth = runner.truth().moment_arms
    policies = {"true_map": PostureController(truth), "random": random_policy(len(truth), rng)}
    if action_map is not None and np.any(np.all(np.isfinite(action_map), axis=1)):
        # a muscle whose action is unknown (NaN row: never commanded) is not used
        known = np.where(np.all(np.isfinite(action_map), axis=1, keepdims=True), action_map, 0.0)
        if np.abs(known).max() > 0:
            policies["learned_map"] = PostureController(known)
    out = {}
    plant = SimulationPlant(runner)
    for name, policy in policies.items():
        rate, _ = reach_success_rate(plant, policy, targets, np.random.default_rng(runner.config.seed),
                                     n_steps=ev.reach_steps, tol_rad=REACH_TOLERANCE_RAD)
        out[f"reach.success_{name}"] = rate
    return out


def write_outputs(runner: ExperimentRun, run_dir: Path) -> dict[str, Any]:
    p = runner.progress
    rows = p.metrics_rows
    if rows:
        keys = list(dict.fromkeys(k for row in rows for k in row))
        with open(run_dir / "metrics.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)
    save_events(runner.delivered_events(), run_dir / "events.csv")
    maps = runner.learners.body_map()
    truth = runner.truth()
    np.savez_compressed(run_dir / "body_map.npz", **{k: np.asarray(v) for k, v in maps.items()},
                        **{"truth/moment_arms": truth.moment_arms})
    (run_dir / "learners").mkdir(exist_ok=True)
    for learner in runner.learners:
        save_state(run_dir / "learners" / f"{learner.name}.npz", learner.state_dict(), LEARNER_KIND)
    motor_map = maps.get("motor_map/motor_map")
    final = dict(rows[-1]) if rows else {}
    final.update(reach_scores(runner, motor_map))
    changes = runner.config.body_changes
    if changes:
        final.update(realignment(rows, changes[0].at_s, runner.config.evaluation.realign_tolerance))
    notes = {}
    if motor_map is not None:
        reason = undefined_reason(motor_map, "schema")
        if reason:
            notes["schema"] = reason
    summary = {
        "name": runner.config.name,
        "seed": runner.config.seed,
        "body": runner.body.name,
        "drive": runner.config.drive.kind,
        "budget": {
            "simulated_s": round(runner.sim_config.control_dt_s * p.step, 6),
            "twitches": len(runner.delivered_events()),
            **({"pushes": len(runner.drive.pushes)} if hasattr(runner.drive, "pushes") else {}),
            "energy": p.energy,
            "wall_s": round(p.wall_s, 3),
        },
        "metrics": for_summary({k: v for k, v in final.items() if k not in ("time_s", "twitches", "energy")}),
    }
    if runner.selftouch is not None:
        summary["selftouch"] = runner.selftouch.summary()
    if notes:
        summary["undefined"] = notes
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    if runner.config.outputs.plots:
        from robot_twitch.plots import write_run_plots

        twitch = runner.config.drive.twitch
        age = (twitch.age_weeks, twitch.age_rate_weeks_per_h) if runner.config.drive.kind == "twitch" else None
        write_run_plots(run_dir, runner.body, maps, truth.moment_arms, rows, runner.delivered_events(), age)
        if rows and "withdrawal.error_rate" in rows[-1]:
            from robot_twitch.withdrawal import plot_error_curve

            plot_error_curve(rows, run_dir / "plots" / "withdrawal_error.png")
        if "skinmap" in runner.config.learners.names:
            from robot_twitch.learn.skinmap import plot_skinmap_of

            plot_skinmap_of(maps, runner.body.skin, run_dir / "plots" / "skinmap.png")
    return summary
