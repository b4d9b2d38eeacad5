"""A run's checkpoint as plain data: what a resumed run needs to continue bit for bit.

Saved with :mod:`robot_twitch.runstate` (arrays + JSON, no pickle), so resuming a run directory
received from someone else cannot run code. The drive is not saved as an object: every drive
is a pure function of its config and seed (no feedback from the body), so a resumed run builds
it afresh and fast-forwards it by the saved number of steps; the saved event count checks that
the replay matches.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from robot_twitch.evaluation.forward import HELDOUT_BATCHES_KEPT
from robot_twitch.learn.base import LearnerGroup, TransitionBatch
from robot_twitch.runstate import (
    StateFileError,
    generator_from_state,
    generator_state,
    load_state,
    require,
    save_state,
)

if TYPE_CHECKING:
    from robot_twitch.body.spec import Body
    from robot_twitch.learn.gate import ReafferenceGate
    from robot_twitch.selftouch import SelfTouch
    from robot_twitch.sensors import SensorModel
    from robot_twitch.sensors_layout import SensorLayout
    from robot_twitch.sim import Simulation

CHECKPOINT_KIND = "checkpoint"
RNG_NAMES = ("drive", "sensor", "heldout", "reach")
_SCALARS = ("step", "batch_index", "next_score_s", "next_checkpoint_s", "changes_applied", "energy",
            "moment_arm_count", "wall_s")


class Checkpointed(Protocol):
    """What a checkpoint is taken from and restored into (robot_twitch.experiment.ExperimentRun)."""

    progress: Any  # the run's progress: step, counters, truth sums, metrics rows, held-out batches
    body: Body
    layout: SensorLayout
    learners: LearnerGroup
    gate: ReafferenceGate | None
    selftouch: SelfTouch | None
    reading: np.ndarray
    drive_rng: np.random.Generator
    sensor_rng: np.random.Generator
    heldout_rng: np.random.Generator
    reach_rng: np.random.Generator

    @property
    def sim(self) -> Simulation: ...

    @property
    def drive(self) -> Any: ...

    @property
    def sensors(self) -> SensorModel: ...

    @property
    def total_steps(self) -> int: ...


def checkpoint_tree(runner: Checkpointed) -> dict[str, Any]:
    """Everything a resumed run needs, as plain data and numeric arrays."""
    p = runner.progress
    s = runner.sim.state
    return {
        "progress": {
            **{name: getattr(p, name) for name in _SCALARS},
            "moment_arm_sum": p.moment_arm_sum,
            "force_scale": p.force_scale,
            "metrics_rows": [dict(row) for row in p.metrics_rows],
            "heldout": [{"command": b.command, "sensors": b.sensors, "next_sensors": b.next_sensors}
                        for b in p.heldout],
            **({"selftouch": runner.selftouch.touched.astype(np.uint8)} if runner.selftouch is not None else {}),
            **({"skin_load_steps": p.skin_load_steps} if p.skin_load_steps is not None else {}),
        },
        "sim": {"joint_pos_rad": s.joint_pos_rad, "joint_vel_rad_s": s.joint_vel_rad_s,
                "activation": s.activation, "excitation": s.excitation, "time_s": runner.sim.time_s},
        "frame": runner.reading,  # the file key keeps its old name: checkpoints already written stay readable
        "drive": {"steps_taken": int(runner.drive.steps_taken), "n_events": len(runner.drive.events),
                  # A closed-loop drive cannot be replayed without the body: its state is saved.
                  **({"state": runner.drive.state_dict()} if hasattr(runner.drive, "state_dict") else {})},
        "sensors": runner.sensors.state_dict(),
        "rngs": {name: generator_state(getattr(runner, f"{name}_rng")) for name in RNG_NAMES},
        "learners": runner.learners.state_dict(),
        **({"gate": runner.gate.state_dict()} if runner.gate is not None else {}),
    }


def save_checkpoint(runner: Checkpointed, path: Path) -> None:
    save_state(path, checkpoint_tree(runner), CHECKPOINT_KIND)


def checkpoint_time_s(path: Path) -> float | None:
    """Simulated time of the checkpoint at `path`, or None if it cannot be read."""
    try:
        return float(load_state(path, CHECKPOINT_KIND)["sim"]["time_s"])
    except (StateFileError, KeyError, TypeError, ValueError):
        return None


def load_checkpoint(runner: Checkpointed, path: Path) -> dict[str, Any]:
    """Read `path` and restore the runner's progress, drive, sensors, generators and learners.

    Returns the saved simulator state {joint_pos_rad, joint_vel_rad_s, activation, excitation,
    time_s} for the caller to put into a fresh Simulation. Raises StateFileError (one line) for
    any file that is not a complete checkpoint of this run.
    """
    tree = load_state(path, CHECKPOINT_KIND)
    require(tree, path, {"progress": dict, "sim": dict, "frame": np.ndarray, "drive": dict, "sensors": dict,
                         "rngs": dict, "learners": dict})
    prog = tree["progress"]
    require(prog, path, {**{n: (int, float) for n in _SCALARS}, "force_scale": np.ndarray,
                         "metrics_rows": list, "heldout": list}, "progress")
    require(tree["sim"], path, {"joint_pos_rad": np.ndarray, "joint_vel_rad_s": np.ndarray,
                                "activation": np.ndarray, "excitation": np.ndarray, "time_s": float}, "sim")
    require(tree["drive"], path, {"steps_taken": int, "n_events": int}, "drive")
    require(tree["rngs"], path, {name: dict for name in RNG_NAMES}, "rngs")
    n_m, n_j = len(runner.body.muscle_names), len(runner.body.joint_names)
    shapes = {"progress.force_scale": (prog["force_scale"], (n_m,)), "frame": (tree["frame"], (runner.layout.size,)),
              "sim.joint_pos_rad": (tree["sim"]["joint_pos_rad"], (n_j,)),
              "sim.joint_vel_rad_s": (tree["sim"]["joint_vel_rad_s"], (n_j,)),
              "sim.activation": (tree["sim"]["activation"], (n_m,)),
              "sim.excitation": (tree["sim"]["excitation"], (n_m,))}
    for key, (array, shape) in shapes.items():
        if array.shape != shape:
            raise StateFileError(path, f"{key} has shape {array.shape}, expected {shape}: not a checkpoint of this run")
    steps = tree["drive"]["steps_taken"]
    if not 0 <= prog["step"] == steps <= runner.total_steps:
        raise StateFileError(path, f"corrupt: step {prog['step']} and drive steps {steps} disagree "
                                   f"(the run has {runner.total_steps} steps)")
    try:
        heldout = deque((TransitionBatch(b["command"], b["sensors"], b["next_sensors"], runner.layout)
                         for b in prog["heldout"]), maxlen=HELDOUT_BATCHES_KEPT)
        rngs = {name: generator_from_state(tree["rngs"][name], f"rngs.{name}") for name in RNG_NAMES}
        runner.sensors.load_state_dict(tree["sensors"])
        runner.learners.load_state_dict(tree["learners"])
        if runner.gate is not None:
            runner.gate.load_state_dict(tree["gate"])
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StateFileError(path, f"not a checkpoint of this run ({type(exc).__name__}: {problem})") from None
    if "state" in tree["drive"]:  # a closed-loop drive: restore its saved state
        try:
            runner.drive.load_state_dict(tree["drive"]["state"])
        except (KeyError, TypeError, ValueError) as exc:
            raise StateFileError(path, f"not a checkpoint of this run (drive state: {exc})") from None
    else:  # an open-loop drive is a pure function of config and seed: replay it to the saved step
        runner.drive.step_many(steps)
    if len(runner.drive.events) != tree["drive"]["n_events"]:
        raise StateFileError(path, f"the drive replayed to step {steps} has {len(runner.drive.events)} events, "
                                   f"the checkpoint says {tree['drive']['n_events']}: not a checkpoint of this config")
    p = runner.progress
    for name in _SCALARS:
        setattr(p, name, type(getattr(p, name))(prog[name]))
    p.moment_arm_sum = prog["moment_arm_sum"]
    p.force_scale = prog["force_scale"]
    p.metrics_rows = prog["metrics_rows"]
    p.heldout = heldout
    if runner.selftouch is not None:
        touched = prog.get("selftouch")
        if not isinstance(touched, np.ndarray) or touched.shape != runner.selftouch.touched.shape:
            raise StateFileError(path, "progress.selftouch is missing or has the wrong shape: not a checkpoint of this run")
        runner.selftouch.touched = touched.astype(bool)
    if p.skin_load_steps is not None:
        loaded = prog.get("skin_load_steps")
        if not isinstance(loaded, np.ndarray) or loaded.shape != p.skin_load_steps.shape:
            raise StateFileError(path, "progress.skin_load_steps is missing or has the wrong shape: "
                                       "not a checkpoint of this run")
        p.skin_load_steps = loaded.astype(np.int64)
    runner.reading = tree["frame"]
    runner.drive_rng, runner.sensor_rng, runner.heldout_rng, runner.reach_rng = (rngs[n] for n in RNG_NAMES)
    return tree["sim"]
