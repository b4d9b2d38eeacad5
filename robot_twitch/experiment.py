"""run(config) -> a run directory with every artifact.

One run, following the data: the drive gives excitations u(t); the Simulation turns them into
motion; the SensorModel reads the consequences; every learner observes batches of
(u, sensors before, sensors after); at every scoring interval the learned maps are scored
against the truth (moment arms R(q) averaged over the postures visited since the last body
change, the URDF tree). Held-out batches, never shown to the learners, score the forward model.

Checkpoints are taken at fixed simulated times. At each checkpoint the Bullet world is rebuilt
from the saved joint state, in every run, so a run resumed from a checkpoint continues exactly
as the uninterrupted run does (Bullet keeps solver caches that a saved state cannot carry).
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from robot_twitch.body.kinematics import MusclePathModel
from robot_twitch.body.spec import Body, load_body
from robot_twitch.config import BodyChange, ExperimentConfig, dump_config, load_config
from robot_twitch.datasets.stream import StreamRecorder, stream_meta
from robot_twitch.errors import ConfigError, SimulationDiverged
from robot_twitch.evaluate import BodyTruth, score_all
from robot_twitch.learn import LearnerGroup, TransitionBatch, concat_batches
from robot_twitch.learn.gate import ReafferenceGate
from robot_twitch.motor import DRIVE_REGISTRY, generate, make_drive, match_energy, save_events
from robot_twitch.rundir import (
    HEARTBEAT_S,
    INCOMPLETE_SUFFIX,
    STATUS_FILE,
    check_writable_folder,
    describe_status,
    is_live,
    mark_dead_runs,
    read_status,
    write_status,
)
from robot_twitch.selftouch import SelfTouch, hands_of
from robot_twitch.sensors import SensorModel
from robot_twitch.sensors_layout import SensorLayout
from robot_twitch.sim import Simulation
from robot_twitch.threads import one_blas_thread

CHECKPOINT_FILE = "checkpoint.npz"
__all__ = ["CHECKPOINT_FILE", "INCOMPLETE_SUFFIX", "STATUS_FILE", "ExperimentRun", "RunInterrupted", "RunResult",
           "run_experiment"]
HELDOUT_BATCHES_KEPT = 20


class RunInterrupted(Exception):
    """Raised when SIGINT/SIGTERM stopped a run; the run directory holds a checkpoint."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(f"interrupted; resume with: robot-twitch run --resume {run_dir}")
        self.run_dir = run_dir


@dataclass
class RunResult:
    run_dir: Path
    summary: dict[str, Any]


def make_learners(config: ExperimentConfig, dt_s: float) -> LearnerGroup:
    """The learners named in the config, with their parameters."""
    from robot_twitch.learn import (
        HebbianReflexLearner,
        MotorMapLearner,
        ProprioMapLearner,
        SchemaReflexLearner,
        TopologyLearner,
    )
    from robot_twitch.learn.forward import ForwardModel, LinearForwardModel

    learners = []
    for name in config.learners.names:
        params = dict(config.learners.params.get(name, {}))
        if "hidden" in params:
            params["hidden"] = tuple(params["hidden"])
        if "som_grid" in params:
            params["som_grid"] = tuple(params["som_grid"])
        factories = {
            "hebbian": lambda p: HebbianReflexLearner(dt_s=dt_s, **p),
            "motor_map": lambda p: MotorMapLearner(**{**motor_map_defaults(config), **p}),
            "proprio": lambda p: ProprioMapLearner(**p),
            "schema_reflex": lambda p: SchemaReflexLearner(**{**motor_map_defaults(config), **p}),
            "forward": lambda p: ForwardModel(**{"seed": config.seed, **p}),
            "forward_linear": lambda p: LinearForwardModel(**p),
            "topology": lambda p: TopologyLearner(**{"seed": config.seed, **p}),
        }
        try:
            learners.append(factories[name](params))
        except (TypeError, ValueError) as exc:
            raise ConfigError(None, f"learners.params.{name}", str(exc)) from None
    return LearnerGroup(learners)


def motor_map_defaults(config: ExperimentConfig) -> dict[str, Any]:
    """The motor-map learner assumes the body's own activation dynamics and afferent delay (the
    developing circuits are tuned to their own muscles and nerves); learner params override."""
    return {"dt_s": config.sim.control_dt_s,
            "activation_time_constant_s": config.sim.activation_time_constant_s,
            "deactivation_time_constant_s": config.sim.deactivation_time_constant_s,
            "delay_steps": int(config.sensors.delay_steps.get("joint_vel", 0))}


def apply_body_change(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """A new Body with the change applied (force_scale (M,) is updated in place).

    workdir receives the grown URDF of a scale_segment change.
    """
    if change.kind == "scale_segment":
        from robot_twitch.body.growth import scale_segment

        return scale_segment(body, change.link, change.factor, workdir)
    if change.muscle not in body.muscle_names:
        raise ConfigError(None, "body_changes.muscle",
                          f"{change.muscle!r} is not a muscle of {body.name}; muscles: {list(body.muscle_names)}")
    if change.kind == "tendon_transfer":
        from robot_twitch.body.transfer import tendon_transfer

        return tendon_transfer(body, change.muscle, change.joint, change.insertion_m or (0.0, 0.0, 0.0),
                               change.via_m)
    m = body.muscle_names.index(change.muscle)
    if change.kind == "lose_muscle":
        force_scale[m] = 0.0
        return body
    if change.kind == "weaken_muscle":
        force_scale[m] *= change.factor
        return body
    geometry = body.paths.geometry
    points = np.flatnonzero(np.isin(np.arange(len(geometry.point_link)),
                                    np.unique(np.concatenate([geometry.segment_start[geometry.segment_muscle[m] > 0],
                                                              geometry.segment_end[geometry.segment_muscle[m] > 0]]))))
    local = geometry.point_local_m.copy()
    local[points[change.point]] += np.asarray(change.offset_m)
    new_geometry = replace(geometry, point_local_m=local)
    return replace(body, paths=MusclePathModel(body.kinematics, new_geometry))


def body_truth(body: Body, moment_arms_mean: np.ndarray, force_scale: np.ndarray) -> BodyTruth:
    """Truth for scoring: mean R over visited postures, zero rows for lost muscles."""
    return BodyTruth(body.muscle_names, body.joint_names, moment_arms_mean * (force_scale > 0)[:, None],
                     joint_edges=body.joint_edges(), link_edges=body.skeleton.link_edges())


@dataclass
class _Progress:
    """Everything that a checkpoint saves, except the Bullet world and the learners' objects."""

    step: int = 0
    batch_index: int = 0
    next_score_s: float = 0.0
    next_checkpoint_s: float = 0.0
    changes_applied: int = 0
    energy: float = 0.0
    moment_arm_sum: np.ndarray | None = None
    moment_arm_count: int = 0
    heldout: deque = field(default_factory=lambda: deque(maxlen=HELDOUT_BATCHES_KEPT))
    metrics_rows: list[dict[str, float]] = field(default_factory=list)
    force_scale: np.ndarray | None = None
    wall_s: float = 0.0


class ExperimentRun:
    """One experiment in one process: owns its Simulation, drive, sensors and learners."""

    def __init__(self, config: ExperimentConfig) -> None:
        self.config = config
        self.base_body = load_body(config.body)
        self.body = self.base_body
        self.sim_config = config.sim
        dt = self.sim_config.control_dt_s
        seeds = np.random.SeedSequence(config.seed).spawn(4)
        self.drive_rng = np.random.default_rng(seeds[0])
        self.sensor_rng = np.random.default_rng(seeds[1])
        self.heldout_rng = np.random.default_rng(seeds[2])
        self.reach_rng = np.random.default_rng(seeds[3])
        self.drive = self._make_drive(dt)
        self.layout = SensorLayout(self.body.joint_names, self.body.muscle_names, self.body.link_names)
        sensor_cfg = config.sensors
        self.sensors = SensorModel(self.layout, self.body.muscle_params.max_isometric_force_n, sensor_cfg)
        self.learners = make_learners(config, dt)
        self.gate = ReafferenceGate(config.learners.gate, dt) if config.learners.gate.mode != "none" else None
        self.progress = _Progress(force_scale=np.ones(len(self.body.muscle_names)),
                                  next_score_s=config.evaluation.every_s,
                                  next_checkpoint_s=config.outputs.checkpoint_every_s)
        self.sim = Simulation(self.body, self.sim_config)
        # Self-touch by the hands (summary.json "selftouch"), for bodies whose hands can touch the body.
        can_self_touch = self.sim_config.self_collision and self.body.spec.self_collision and hands_of(self.body)
        self.selftouch = SelfTouch(self.body) if can_self_touch else None
        self.frame = self.layout.flatten(self.sensors_reset())
        self._feed_drive(self.sim.state)
        self._stop_requested = False
        self.recorder: StreamRecorder | None = None  # outputs.dataset
        self.tensorboard: Any = None  # outputs.tensorboard: a TensorBoardLog
        self.workdir = Path(tempfile.mkdtemp(prefix="robot_twitch-"))  # grown URDFs of body changes

    # -- setup -------------------------------------------------------------------------
    def _make_drive(self, dt: float):
        cfg = self.config
        muscles = self.base_body.muscles
        drive_cfg = cfg.drive.selected()
        if cfg.drive.kind != "twitch" and cfg.drive.match_energy:
            reference = make_drive("twitch", muscles, dt, cfg.drive.twitch,
                                   np.random.default_rng(np.random.SeedSequence(cfg.seed).spawn(1)[0]))
            target = generate(reference, cfg.duration_s).energy()
            if getattr(DRIVE_REGISTRY[cfg.drive.kind][0], "closed_loop", False):
                from robot_twitch.drive_energy import match_closed_loop_energy

                drive_cfg = match_closed_loop_energy(self.base_body, self.sim_config, drive_cfg, target,
                                                     cfg.duration_s, self.drive_rng.bit_generator.state)
            else:
                drive_cfg = match_energy(drive_cfg, target, cfg.duration_s, muscles, dt, calibration_seeds=cfg.seed)
        return make_drive(cfg.drive.kind, muscles, dt, drive_cfg, self.drive_rng)

    def sensors_reset(self) -> dict[str, np.ndarray]:
        self.sensors.reset(self.sim.state)
        return self.sensors.read(self.sim.state, self.sensor_rng)

    # -- the loop ----------------------------------------------------------------------
    @property
    def total_steps(self) -> int:
        return int(round(self.config.duration_s * self.sim_config.control_hz))

    def request_stop(self, *_: object) -> None:
        self._stop_requested = True

    def run_batch(self) -> TransitionBatch:
        """Step one batch of control steps; returns the transitions."""
        cfg = self.config
        p = self.progress
        n = min(cfg.learners.batch_steps, self.total_steps - p.step)
        n_m = len(self.body.muscle_names)
        commands = np.empty((n, n_m))
        self.batch_states = np.empty(n, dtype=np.int8)  # sleep state per step (the gate reads it)
        frames = np.empty((n + 1, self.layout.size))
        frames[0] = self.frame
        changes = cfg.body_changes
        for t in range(n):
            while p.changes_applied < len(changes) and changes[p.changes_applied].at_s <= self.sim.time_s + 1e-9:
                self._apply_change(changes[p.changes_applied])
            row = self.drive.step()
            if self.drive_silent():
                row = np.zeros_like(row)
            spent = row  # actuation energy: the excitation, or the passive drive's push
            if getattr(self.drive, "external", False):
                # passive drive: the row is a push, applied as the torque the muscles would give
                # at full force (motor/passive.py); no muscle is commanded
                u = np.zeros(n_m)
                push_nm = self.sim.state.moment_arms_m.T @ (self.sim.params.max_isometric_force_n * row)
                state = self.sim.step(u, external_torque_nm=push_nm)
            else:
                u = spent = row * (p.force_scale > 0)
                state = self.sim.step(u)
            self._feed_drive(state)
            if self.selftouch is not None and state.contacts:
                self.selftouch.observe(state.contacts)
            self.batch_states[t] = self.drive.sleep_state.code
            commands[t] = u
            frames[t + 1] = self.layout.flatten(self.sensors.read(state, self.sensor_rng, silent=p.force_scale == 0))
            if self.recorder is not None:
                self.recorder.record_step(u, state, frames[t + 1], self.drive.sleep_state.code, p.changes_applied,
                                          p.force_scale, push=None if spent is u else spent)
            p.energy += float(spent @ spent) * self.sim_config.control_dt_s
            p.moment_arm_sum = state.moment_arms_m if p.moment_arm_sum is None else p.moment_arm_sum + state.moment_arms_m
            p.moment_arm_count += 1
            if state.blown_up:
                raise SimulationDiverged(self.sim.time_s, state.blown_up_reason or "NaN or runaway speed")
        p.step += n
        self.frame = frames[-1]
        return TransitionBatch(commands, frames[:-1], frames[1:], self.layout)

    def _feed_drive(self, state: Any) -> None:
        """A closed-loop drive (DEP) reads the muscle lengths after every step."""
        if getattr(self.drive, "closed_loop", False):
            self.drive.observe(state.fiber_length_norm)

    def drive_silent(self) -> bool:
        """True from `drive.stop_at_s` on: the drive is silenced (experiment 6's control)."""
        stop = self.config.drive.stop_at_s
        return stop is not None and self.sim.time_s + 1e-9 >= stop

    def delivered_events(self) -> list:
        """Twitch events that reached the muscles so far (none from `drive.stop_at_s` on)."""
        stop = self.config.drive.stop_at_s
        events = self.drive.events
        return events if stop is None else [e for e in events if e.onset_s < stop - 1e-9]

    def _apply_change(self, change: BodyChange) -> None:
        p = self.progress
        self.body = apply_body_change(self.body, change, p.force_scale, self.workdir)
        if change.kind == "scale_segment":
            self.rebuild_world()  # Bullet must load the grown skeleton
        self.sim.body = self.body
        self.sim.params = self._muscle_params(self.sim.params)
        p.moment_arm_sum, p.moment_arm_count = None, 0  # the truth restarts from the change
        p.changes_applied += 1

    def _muscle_params(self, params: Any) -> Any:
        """The Simulation's muscle parameters for the current body and force scales."""
        p, now = self.progress, self.body.muscle_params
        return replace(params, max_isometric_force_n=self.base_body.muscle_params.max_isometric_force_n * p.force_scale,
                       optimal_fiber_length_m=now.optimal_fiber_length_m, tendon_slack_length_m=now.tendon_slack_length_m)

    def truth(self) -> BodyTruth:
        p = self.progress
        mean = (p.moment_arm_sum / p.moment_arm_count if p.moment_arm_count
                else self.body.moment_arms(self.sim.state.joint_pos_rad))
        return body_truth(self.body, mean, p.force_scale)

    def score(self) -> dict[str, float]:
        heldout = concat_batches(list(self.progress.heldout)) if self.progress.heldout else None
        return score_all(self.learners, self.truth(), heldout_batch=heldout)

    def advance(self) -> TransitionBatch:
        """One batch: simulate, hand to learners or hold out, score when due."""
        batch = self.run_batch()
        if self.gate is not None:  # experiment 5: the learners see gated feedback
            batch = self.gate.apply(batch, self.batch_states)
        p = self.progress
        heldout = self.heldout_rng.random() < self.config.evaluation.heldout_fraction
        if heldout:
            p.heldout.append(batch)
        else:
            self.learners.observe(batch)
        if self.recorder is not None:
            self.recorder.end_batch(p.batch_index, heldout, self.delivered_events())
        p.batch_index += 1
        if self.sim.time_s + 1e-9 >= p.next_score_s or p.step >= self.total_steps:
            row = {"time_s": round(self.sim.time_s, 6), "twitches": len(self.delivered_events()),
                   "energy": p.energy, **self.score()}
            p.metrics_rows.append(row)
            if self.tensorboard is not None:
                self.tensorboard.scores(row, self.learners.body_map(), self.truth().moment_arms)
            while p.next_score_s <= self.sim.time_s + 1e-9:
                p.next_score_s += self.config.evaluation.every_s
        return batch

    # -- checkpoints -------------------------------------------------------------------
    def checkpoint_due(self) -> bool:
        return self.sim.time_s + 1e-9 >= self.progress.next_checkpoint_s and self.progress.step < self.total_steps

    def rebuild_world(self) -> None:
        """Rebuild the Bullet world at the current joint state (see the module docstring)."""
        s = self.sim.state
        q, qd, act, exc, t = s.joint_pos_rad.copy(), s.joint_vel_rad_s.copy(), s.activation.copy(), \
            s.excitation.copy(), self.sim.time_s
        params = self.sim.params
        self.sim.close()
        self.sim = Simulation(self.body, self.sim_config)
        self.sim.params = params
        restore_sim_state(self.sim, q, qd, act, exc, t)

    def save_checkpoint(self, path: Path) -> None:
        from robot_twitch.checkpoint import save_checkpoint

        if self.recorder is not None:
            self.recorder.flush()  # the stream's rows up to this checkpoint, before the checkpoint itself
        while self.progress.next_checkpoint_s <= self.sim.time_s + 1e-9:
            self.progress.next_checkpoint_s += self.config.outputs.checkpoint_every_s
        save_checkpoint(self, path)

    def load_checkpoint(self, path: Path) -> None:
        from robot_twitch.checkpoint import load_checkpoint

        sim = load_checkpoint(self, path)
        # Re-apply the changes made so far to the base body (deterministic; force scales are saved).
        self.body = self.base_body
        for change in self.config.body_changes[: self.progress.changes_applied]:
            self.body = apply_body_change(self.body, change, np.ones(len(self.body.muscle_names)), self.workdir)
        self.sim.close()
        self.sim = Simulation(self.body, self.sim_config)
        self.sim.params = self._muscle_params(self.sim.params)
        restore_sim_state(self.sim, sim["joint_pos_rad"], sim["joint_vel_rad_s"], sim["activation"],
                          sim["excitation"], sim["time_s"])

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
        self.sim.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def restore_sim_state(sim: Simulation, q: np.ndarray, qd: np.ndarray, activation: np.ndarray,
                      excitation: np.ndarray, time_s: float) -> None:
    """Put a fresh Simulation at a saved joint and activation state."""
    sim.reset(q, qd)
    sim.time_s = time_s
    sim.state = sim._observe(activation, excitation, np.zeros(len(q)))


# -- run directories ---------------------------------------------------------------------------
def new_run_dir(config: ExperimentConfig, out: Path, label: str = "") -> Path:
    """A new, empty OUT/NAME[-LABEL]-seedS-STAMP.incomplete (LABEL: e.g. a sweep's condition)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    stem = f"{config.name}-{label}" if label else config.name
    base = out / f"{stem}-seed{config.seed}-{stamp}"
    run_dir = base.with_name(base.name + INCOMPLETE_SUFFIX)
    k = 1
    while run_dir.exists() or base.exists():
        base = out / f"{stem}-seed{config.seed}-{stamp}-{k}"
        run_dir = base.with_name(base.name + INCOMPLETE_SUFFIX)
        k += 1
    run_dir.mkdir(parents=True)
    return run_dir


@one_blas_thread()  # small matrices only: see robot_twitch/threads.py
def run_experiment(config: ExperimentConfig, out: Path = Path("runs"), resume: Path | None = None,
                   progress_bar: bool = True, on_batch: Any = None, label: str = "") -> RunResult:
    """Run (or resume) an experiment; returns the finished run directory and summary.

    `label` goes into the run directory's name (a sweep names its runs after their condition).

    Raises ConfigError (bad input, an output folder that cannot be written, a run that is live
    elsewhere), StateFileError (an unreadable checkpoint), SimulationDiverged (status.json then
    says "diverged") and RunInterrupted (SIGINT/SIGTERM; status.json says "interrupted").
    """
    if resume is not None:
        if (resume / "checkpoint.pkl").is_file() and not (resume / CHECKPOINT_FILE).is_file():
            raise ConfigError(resume, None, "holds a checkpoint.pkl of an older robot_twitch, which is never read "
                                            "(unpickling a shared file can run code); rerun the config instead")
        if not (resume / CHECKPOINT_FILE).is_file():
            raise ConfigError(resume, None, f"not an incomplete run directory (no {CHECKPOINT_FILE}); "
                                            "finished runs cannot be resumed")
        status = read_status(resume) or {}
        if is_live(status):
            raise ConfigError(resume, None, f"cannot resume: the run {describe_status(resume)}")
        if status.get("status") == "diverged":
            raise ConfigError(resume, None, f"cannot resume: the run {describe_status(resume)}; "
                                            "resuming would diverge again (change the body or sim settings)")
        check_writable_folder(resume, "run directory")
        from robot_twitch.checkpoint import CHECKPOINT_KIND
        from robot_twitch.runstate import load_state

        load_state(resume / CHECKPOINT_FILE, CHECKPOINT_KIND)  # a damaged file fails before the world is built
        config = load_config(resume / "config.yaml")
        _require_extras(config)
        run_dir = resume
    else:
        _require_extras(config)  # before anything is written
        check_writable_folder(out)  # before the world is built
        mark_dead_runs(out)
    runner = ExperimentRun(config)
    try:
        if resume is None:
            run_dir = new_run_dir(config, out, label)
            dump_config(config, run_dir / "config.yaml")
            if config.outputs.dataset:
                runner.recorder = StreamRecorder.create(
                    run_dir, stream_meta(config, runner.body, runner.layout, HELDOUT_BATCHES_KEPT), runner.sim.state,
                    runner.frame, runner.drive.sleep_state.code, runner.progress.force_scale)
            runner.save_checkpoint(run_dir / CHECKPOINT_FILE)
        else:
            runner.load_checkpoint(run_dir / CHECKPOINT_FILE)
            if config.outputs.dataset:
                runner.recorder = StreamRecorder.reopen(run_dir, runner.progress.step + 1)
        if config.outputs.tensorboard:
            from robot_twitch.tensorboard_log import TensorBoardLog, step_ms

            runner.tensorboard = TensorBoardLog(run_dir, purge_step=step_ms(runner.sim.time_s) + 1
                                                if resume is not None else None)
        write_status(run_dir, "running")
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for s in previous:
            signal.signal(s, runner.request_stop)
        try:
            _loop(runner, run_dir, progress_bar, on_batch)
        except SimulationDiverged as exc:
            write_status(run_dir, "diverged", time_s=round(exc.time_s, 6), quantity=exc.quantity)
            raise
        except (RunInterrupted, KeyboardInterrupt):
            raise
        except Exception as exc:
            write_status(run_dir, "failed", error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        summary = finish_run(runner, run_dir)
    finally:
        runner.close()
    final = run_dir.with_name(run_dir.name.removesuffix(INCOMPLETE_SUFFIX))
    run_dir.rename(final)
    return RunResult(final, summary)


def _require_extras(config: ExperimentConfig) -> None:
    """One line (RobotTwitchError) if an output the config asks for needs a package not installed."""
    if config.outputs.tensorboard:
        from robot_twitch.tensorboard_log import require_tensorboard

        require_tensorboard()


def _loop(runner: ExperimentRun, run_dir: Path, progress_bar: bool, on_batch: Any) -> None:
    from tqdm import tqdm

    cfg = runner.config
    start = time.perf_counter()
    wall_before = runner.progress.wall_s
    next_beat = start + HEARTBEAT_S
    with tqdm(total=cfg.duration_s, initial=round(runner.sim.time_s, 2), unit="sim s", disable=not progress_bar,
              bar_format="{l_bar}{bar}| {n:.1f}/{total:.0f} sim s [{elapsed}<{remaining}{postfix}]") as bar:
        while runner.progress.step < runner.total_steps:
            if runner._stop_requested:
                write_status(run_dir, "interrupted", resume_from_s=_checkpoint_time(run_dir))
                raise RunInterrupted(run_dir)
            before = runner.sim.time_s
            runner.advance()
            if on_batch is not None:
                on_batch(runner)
            bar.update(runner.sim.time_s - before)
            rows = runner.progress.metrics_rows
            post = {"twitches": len(runner.delivered_events())}
            if rows:
                post.update({k.split(".")[-1]: f"{v:.2f}" for k, v in rows[-1].items()
                             if k in ("schema.cosine", "forward.r2")})
            bar.set_postfix(post, refresh=False)
            if time.perf_counter() >= next_beat:
                write_status(run_dir, "running")
                next_beat = time.perf_counter() + HEARTBEAT_S
            if runner.checkpoint_due():
                runner.progress.wall_s = wall_before + time.perf_counter() - start
                runner.rebuild_world()
                runner.save_checkpoint(run_dir / CHECKPOINT_FILE)
    runner.progress.wall_s = wall_before + time.perf_counter() - start


def _checkpoint_time(run_dir: Path) -> float | None:
    from robot_twitch.checkpoint import checkpoint_time_s

    return checkpoint_time_s(run_dir / CHECKPOINT_FILE)


def finish_run(runner: ExperimentRun, run_dir: Path) -> dict[str, Any]:
    """Write every artifact of a finished run into run_dir (still named *.incomplete)."""
    from robot_twitch.outputs import write_outputs

    if runner.recorder is not None:
        runner.recorder.finish()
    summary = write_outputs(runner, run_dir)
    if runner.tensorboard is not None:
        from robot_twitch.plots import maps_figure

        figure = maps_figure(runner.body, runner.learners.body_map(), runner.truth().moment_arms)
        end_s = runner.progress.step * runner.sim_config.control_dt_s  # (the reach check has moved the sim's clock)
        runner.tensorboard.finish(runner.config.to_dict(), end_s, summary["metrics"], figure)
        runner.tensorboard = None
    (run_dir / CHECKPOINT_FILE).unlink(missing_ok=True)
    write_status(run_dir, "complete")
    return summary


def save_event_log(runner: ExperimentRun, path: Path) -> None:
    save_events(runner.delivered_events(), path)
