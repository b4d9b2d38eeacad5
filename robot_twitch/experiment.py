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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from robot_twitch.body.changes import apply_change
from robot_twitch.body.spec import Body, load_body
from robot_twitch.checkpoint import checkpoint_time_s, load_checkpoint, save_checkpoint
from robot_twitch.config import SKIN_LEARNERS, BodyChange, ExperimentConfig, dump_config, load_config
from robot_twitch.datasets.stream import StreamRecorder, stream_meta
from robot_twitch.errors import ConfigError, SimulationDiverged
from robot_twitch.evaluation import BodyTruth, body_truth, score_all, undefined_reason
from robot_twitch.evaluation.forward import HELDOUT_BATCHES_KEPT
from robot_twitch.evaluation.reach import reach_scores
from robot_twitch.evaluation.realign import for_summary, realignment
from robot_twitch.evaluation.touch import ProbeSetup, touch_scores
from robot_twitch.evaluation.withdrawal import LOADED_N
from robot_twitch.learn import TransitionBatch, concat_batches
from robot_twitch.learn.gate import ReafferenceGate
from robot_twitch.learn.registry import make_learners
from robot_twitch.motor import DRIVE_REGISTRY, generate, make_drive, match_energy, save_events
from robot_twitch.outputs import write_outputs
from robot_twitch.rollout import Rollout
from robot_twitch.run_record import RunRecord
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
from robot_twitch.sim import LimbState, SimSnapshot, Simulation
from robot_twitch.threads import one_blas_thread
from robot_twitch.video import DemoResult, VideoFrames, choose_panel, n_video_frames, video_format

CHECKPOINT_FILE = "checkpoint.npz"
__all__ = ["CHECKPOINT_FILE", "INCOMPLETE_SUFFIX", "STATUS_FILE", "ExperimentRun", "RunInterrupted", "RunResult",
           "RunSession", "film", "run_experiment", "stop_on_signals"]


class RunInterrupted(Exception):
    """Raised when SIGINT/SIGTERM stopped a run; the run directory holds a checkpoint."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(f"interrupted; resume with: robot-twitch run --resume {run_dir}")
        self.run_dir = run_dir


@dataclass
class RunResult:
    run_dir: Path
    summary: dict[str, Any]


def apply_body_change(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """A new Body with the change applied by its registered kind (robot_twitch/body/changes.py);
    force_scale (M,) is updated in place, workdir receives the grown URDF of a scale_segment change."""
    return apply_change(body, change, force_scale, workdir)


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
    skin_load_steps: np.ndarray | None = None  # (T,) int: control steps each taxel bore load (withdrawal test)


class ExperimentRun:
    """One experiment in one process: builds the run's Rollout from the config and puts the run's
    hooks on it (body changes, bookkeeping, learners, scoring; checkpoints and progress are
    added by run_experiment, video frames by robot_twitch.video).

    Args:
        config: the experiment.
        hooks: extra rollout hooks, hooked on after the run's own.
    """

    def __init__(self, config: ExperimentConfig, hooks: Iterable[Any] = ()) -> None:
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
        drive = self._make_drive(dt)
        # The skin group joins the learners' readings only when a learner reads it (thousands of taxels).
        needs_skin = any(name in SKIN_LEARNERS for name in config.learners.names)
        if needs_skin and not self.body.skin.n_taxels:
            raise ConfigError(None, "learners.names", f"{[n for n in config.learners.names if n in SKIN_LEARNERS]} "
                                                      f"need a body with skin; {self.body.name} has no taxels")
        self.layout = SensorLayout.for_body(self.body, skin=needs_skin)
        sensors = SensorModel(self.layout, self.body.muscle_params.max_isometric_force_n, config.sensors)
        self.learners = make_learners(config, dt)
        self.gate = ReafferenceGate(config.learners.gate, dt) if config.learners.gate.mode != "none" else None
        self.progress = _Progress(force_scale=np.ones(len(self.body.muscle_names)),
                                  next_score_s=config.evaluation.every_s,
                                  next_checkpoint_s=config.outputs.checkpoint_every_s)
        self.rollout = Rollout(Simulation(self.body, self.sim_config), drive, sensors, self.sensor_rng)
        self.rollout.force_scale = self.progress.force_scale
        if config.body_changes:
            self.rollout.add_hook(_BodyChanges(self))
        if config.drive.stop_at_s is not None:
            self.rollout.add_hook(_DriveStop(config.drive.stop_at_s))
        # Self-touch by the hands (summary.json "selftouch"), for bodies whose hands can touch the body.
        can_self_touch = self.sim_config.self_collision and self.body.spec.self_collision and hands_of(self.body)
        self.selftouch = SelfTouch(self.body) if can_self_touch else None
        if self.selftouch is not None:
            self.rollout.add_hook(_SelfTouchHook(self.selftouch))
        if "withdrawal" in config.learners.names:  # skin that bore load: where the reflex is tested
            self.progress.skin_load_steps = np.zeros(self.body.skin.n_taxels, dtype=np.int64)
            self.rollout.add_hook(_SkinLoaded(self.progress))
        self.recorder: StreamRecorder | None = None  # outputs.dataset (a _DatasetStream hook records into it)
        self.tensorboard: Any = None  # outputs.tensorboard: a TensorBoardLog
        self.last_batch_heldout = False
        self.batch_states: list[int] = []  # sleep state per step of the batch (the gate reads it)
        if self.gate is not None:
            self.rollout.add_hook(_SleepStates(self))
        for hook in (_Bookkeeping(self), _LearnerFeed(self), _Scoring(self), *hooks):
            if isinstance(hook, _OnBatch):
                hook.run = self
            self.rollout.add_hook(hook)
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

    @property
    def sim(self) -> Simulation:
        return self.rollout.sim

    @property
    def drive(self) -> Any:
        return self.rollout.drive

    @property
    def sensors(self) -> SensorModel:
        return self.rollout.sensors  # type: ignore[return-value]

    @property
    def reading(self) -> np.ndarray:
        """The last flat sensor reading (S,): the next batch's first."""
        return self.rollout.reading  # type: ignore[return-value]

    @reading.setter
    def reading(self, reading: np.ndarray) -> None:
        self.rollout.reading = reading

    def delivered_events(self) -> list:
        """Twitch events that reached the muscles so far (none from `drive.stop_at_s` on)."""
        stop = self.config.drive.stop_at_s
        events = self.drive.events
        return events if stop is None else [e for e in events if e.onset_s < stop - 1e-9]

    # -- the loop ----------------------------------------------------------------------
    @property
    def total_steps(self) -> int:
        return int(round(self.config.duration_s * self.sim_config.control_hz))

    @property
    def done(self) -> bool:
        return self.progress.step >= self.total_steps

    def request_stop(self, *_: object) -> None:
        self.rollout.request_stop()

    def advance(self) -> TransitionBatch:
        """One batch of control steps through the rollout (its hooks learn, score, ...)."""
        n = min(self.config.learners.batch_steps, self.total_steps - self.progress.step)
        return self.rollout.run_batch(n)

    def apply_change(self, change: BodyChange) -> None:
        """Change the body now; the truth restarts from here."""
        p = self.progress
        self.body = apply_body_change(self.body, change, p.force_scale, self.workdir)
        if change.kind == "scale_segment":
            self.rebuild_world()  # Bullet must load the grown skeleton
        self.sim.body = self.body
        self.sim.params = self._muscle_params(self.sim.params)
        self.rollout.refresh_force_scale()
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
        scores = score_all(self.learners, self.truth(), heldout_batch=heldout)
        scores.update(self.touch_scores())
        return scores

    def touch_scores(self) -> dict[str, float]:
        """The touch scores (evaluation/touch.py: skinmap.*, withdrawal.*, reflex.touch_*) at the
        current posture; the reflex test's stimuli are drawn from (seed, test number); the reflex
        probe runs in a copy of the world (the run's Simulation is only read)."""
        probe = ProbeSetup(self.sim, self.rollout.force_scale > 0, self.config.evaluation.withdrawal_probe_sites)
        return touch_scores(self.learners, self.config.learners.names, self.body, self.layout.link_names,
                            self.sim.state.joint_pos_rad, self.progress.skin_load_steps, self.sim_config.control_dt_s,
                            self.config.seed, len(self.progress.metrics_rows), probe)

    def record(self, run_dir: Path) -> RunRecord:
        """The finished run as plain data for robot_twitch.outputs, with its final scores: the last
        scoring's, the reach check (which steps the Simulation) and re-alignment after a change."""
        p, config = self.progress, self.config
        rows = p.metrics_rows
        maps = self.learners.body_map()
        truth = self.truth()
        states = {learner.name: learner.state_dict() for learner in self.learners}
        motor_map = maps.get("motor_map/motor_map")
        final = dict(rows[-1]) if rows else {}
        ev = config.evaluation
        final.update(reach_scores(self.sim, p.force_scale, truth.moment_arms, motor_map, self.reach_rng, config.seed,
                                  ev.reach_trials, ev.reach_steps))
        if config.body_changes:
            final.update(realignment(rows, config.body_changes[0].at_s, ev.realign_tolerance))
        reason = undefined_reason(motor_map, "schema") if motor_map is not None else None
        return RunRecord(
            config=config, body=self.body, run_dir=run_dir, metrics_rows=rows,
            metrics=for_summary({k: v for k, v in final.items() if k not in ("time_s", "twitches", "energy")}),
            undefined={"schema": reason} if reason else {}, events=self.delivered_events(), maps=maps,
            true_moment_arms=truth.moment_arms, learner_states=states,
            simulated_s=self.sim_config.control_dt_s * p.step, energy=p.energy, wall_s=p.wall_s,
            pushes=len(self.drive.pushes) if hasattr(self.drive, "pushes") else None,
            selftouch=self.selftouch.summary() if self.selftouch is not None else None)

    # -- checkpoints -------------------------------------------------------------------
    def checkpoint_due(self) -> bool:
        return self.sim.time_s + 1e-9 >= self.progress.next_checkpoint_s and not self.done

    def rebuild_world(self) -> None:
        """Rebuild the Bullet world at the current joint state (see the module docstring)."""
        snapshot = self.sim.snapshot()
        params = self.sim.params
        self.sim.close()
        self.rollout.sim = Simulation(self.body, self.sim_config)
        self.sim.params = params
        self.sim.restore(snapshot)

    def save_checkpoint(self, path: Path | None) -> None:
        """Advance the next checkpoint time past now and write the checkpoint (None: write nothing)."""
        if self.recorder is not None:
            self.recorder.flush()  # the stream's rows up to this checkpoint, before the checkpoint itself
        while self.progress.next_checkpoint_s <= self.sim.time_s + 1e-9:
            self.progress.next_checkpoint_s += self.config.outputs.checkpoint_every_s
        if path is not None:
            save_checkpoint(self, path)

    def load_checkpoint(self, path: Path) -> None:
        """Continue from the checkpoint at ``path`` (robot_twitch.checkpoint)."""
        sim = load_checkpoint(self, path)
        # Re-apply the changes made so far to the base body (deterministic; force scales are saved).
        self.body = self.base_body
        for change in self.config.body_changes[: self.progress.changes_applied]:
            self.body = apply_body_change(self.body, change, np.ones(len(self.body.muscle_names)), self.workdir)
        self.sim.close()
        rollout = self.rollout
        rollout.sim = Simulation(self.body, self.sim_config)
        rollout.sim.params = self._muscle_params(rollout.sim.params)
        rollout.sim.restore(SimSnapshot(sim["time_s"], sim["joint_pos_rad"], sim["joint_vel_rad_s"],
                                        sim["activation"], sim["excitation"]))
        rollout.sensor_rng = self.sensor_rng
        rollout.force_scale = self.progress.force_scale

    def close(self) -> None:
        if self.tensorboard is not None:
            self.tensorboard.close()
        self.sim.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


# -- the run's hooks -------------------------------------------------------------------------
class _BodyChanges:
    """Applies the config's body changes when their time has come (before the step)."""

    def __init__(self, run: ExperimentRun) -> None:
        self.run = run
        self.changes = run.config.body_changes

    def before_step(self, rollout: Rollout) -> None:
        p = self.run.progress
        while p.changes_applied < len(self.changes) and self.changes[p.changes_applied].at_s <= rollout.sim.time_s + 1e-9:
            self.run.apply_change(self.changes[p.changes_applied])


class _DriveStop:
    """Silences the drive from ``stop_at_s`` on (experiment 6's control): the drive keeps running,
    the muscles get nothing."""

    def __init__(self, stop_at_s: float) -> None:
        self.stop_at_s = stop_at_s

    def before_step(self, rollout: Rollout) -> None:
        rollout.drive_muted = rollout.sim.time_s + 1e-9 >= self.stop_at_s


class _SleepStates:
    """Keeps the drive's sleep state of every step of the batch, for the reafference gate."""

    def __init__(self, run: ExperimentRun) -> None:
        self.run = run

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state: LimbState) -> None:
        self.run.batch_states.append(rollout.drive.sleep_state.code)


class _OnBatch:
    """A hook that calls ``callback(runner)`` after every batch (run_experiment's on_batch)."""

    def __init__(self, callback: Callable[[ExperimentRun], Any]) -> None:
        self.callback = callback
        self.run: ExperimentRun | None = None

    def after_batch(self, rollout: Rollout, batch: TransitionBatch) -> None:
        self.callback(self.run)


class _SelfTouchHook:
    """Counts the hands' touches of the body (robot_twitch.selftouch)."""

    def __init__(self, selftouch: SelfTouch) -> None:
        self.selftouch = selftouch

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state: LimbState) -> None:
        if state.contacts:
            self.selftouch.record(state.contacts)


class _SkinLoaded:
    """Counts the steps each taxel bears load (the withdrawal test stimulates skin that has)."""

    def __init__(self, progress: _Progress) -> None:
        self.progress = progress

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state: LimbState) -> None:
        self.progress.skin_load_steps += state.skin_n > LOADED_N


class _DatasetStream:
    """Records every step into the run's dataset stream (outputs.dataset), and after each batch
    its index, whether it was held out and its twitches (hooked on after the learner feed)."""

    def __init__(self, run: ExperimentRun) -> None:
        self.run = run

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state: LimbState) -> None:
        run = self.run
        if run.recorder is not None:
            spent = rollout.last_actuation  # a passive drive's push is recorded as such
            run.recorder.record_step(excitation, state, rollout.reading, rollout.drive.sleep_state.code,
                                     run.progress.changes_applied, run.progress.force_scale,
                                     push=None if spent is excitation else spent)

    def after_batch(self, rollout: Rollout, batch: TransitionBatch) -> None:
        # After the learner feed: the batch's index and whether it was held out are decided.
        run = self.run
        if run.recorder is not None:
            run.recorder.end_batch(run.progress.batch_index - 1, run.last_batch_heldout, run.delivered_events())


class _TensorBoard:
    """Logs each new metrics row, with the maps beside the truth, as TensorBoard events (outputs.tensorboard)."""

    def __init__(self, run: ExperimentRun) -> None:
        self.run = run
        self.rows_logged = len(run.progress.metrics_rows)  # a resumed run logged those before

    def after_batch(self, rollout: Rollout, batch: TransitionBatch) -> None:
        run = self.run
        rows = run.progress.metrics_rows
        if run.tensorboard is not None and len(rows) > self.rows_logged:
            maps, truth = run.learners.body_map(), run.truth().moment_arms
            for row in rows[self.rows_logged:]:
                run.tensorboard.scores(row, maps, truth)
            self.rows_logged = len(rows)


class _Bookkeeping:
    """Counts steps and actuation energy, and sums R(q) over the visited postures (the truth)."""

    def __init__(self, run: ExperimentRun) -> None:
        self.run = run

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state: LimbState) -> None:
        p = self.run.progress
        p.step += 1
        spent = rollout.last_actuation  # the excitation, or a passive drive's push
        p.energy += float(spent @ spent) * rollout.sim.config.control_dt_s
        p.moment_arm_sum = state.moment_arms_m if p.moment_arm_sum is None else p.moment_arm_sum + state.moment_arms_m
        p.moment_arm_count += 1


class _LearnerFeed:
    """Hands each batch to the learners, or holds it out for scoring the forward model."""

    def __init__(self, run: ExperimentRun) -> None:
        self.run = run

    def after_batch(self, rollout: Rollout, batch: TransitionBatch) -> None:
        run = self.run
        if run.gate is not None:  # experiment 5: the learners see gated feedback
            batch = run.gate.apply(batch, np.array(run.batch_states, dtype=np.int8))
            run.batch_states.clear()
        heldout = run.heldout_rng.random() < run.config.evaluation.heldout_fraction
        if heldout:
            run.progress.heldout.append(batch)
        else:
            run.learners.observe(batch)
        run.last_batch_heldout = heldout
        run.progress.batch_index += 1


class _Scoring:
    """Scores the learned maps against the truth at every scoring interval and at the end."""

    def __init__(self, run: ExperimentRun) -> None:
        self.run = run

    def after_batch(self, rollout: Rollout, batch: TransitionBatch) -> None:
        run = self.run
        p = run.progress
        now_s = rollout.sim.time_s
        if now_s + 1e-9 >= p.next_score_s or run.done:
            row = {"time_s": round(now_s, 6), "twitches": len(run.delivered_events()), "energy": p.energy,
                   **run.score()}
            p.metrics_rows.append(row)
            while p.next_score_s <= now_s + 1e-9:
                p.next_score_s += run.config.evaluation.every_s


class _Checkpoints:
    """At the checkpoint times: rebuild the Bullet world and write the checkpoint file."""

    def __init__(self, run: ExperimentRun, path: Path | None, clock: _WallClock) -> None:
        self.run, self.path, self.clock = run, path, clock

    def after_batch(self, rollout: Rollout, batch: TransitionBatch) -> None:
        run = self.run
        if run.checkpoint_due():
            run.progress.wall_s = self.clock.total_s()
            run.rebuild_world()
            run.save_checkpoint(self.path)  # a film (path None) rebuilds the world where its run does


class _ProgressBar:
    """A tqdm bar over simulated seconds, with the twitch count and two headline scores."""

    def __init__(self, run: ExperimentRun, enabled: bool) -> None:
        from tqdm import tqdm

        self.run = run
        self.bar = tqdm(total=run.config.duration_s, initial=round(run.sim.time_s, 2), unit="sim s",
                        disable=not enabled,
                        bar_format="{l_bar}{bar}| {n:.1f}/{total:.0f} sim s [{elapsed}<{remaining}{postfix}]")
        self.shown_s = run.sim.time_s

    def after_batch(self, rollout: Rollout, batch: TransitionBatch) -> None:
        now_s = rollout.sim.time_s
        self.bar.update(now_s - self.shown_s)
        self.shown_s = now_s
        rows = self.run.progress.metrics_rows
        post = {"twitches": len(self.run.delivered_events())}
        if rows:
            post.update({k.split(".")[-1]: f"{v:.2f}" for k, v in rows[-1].items()
                         if k in ("schema.cosine", "forward.r2")})
        self.bar.set_postfix(post, refresh=False)

    def close(self) -> None:
        self.bar.close()


class _Heartbeat:
    """Rewrites status.json ("running") every HEARTBEAT_S of wall time, so that a run whose
    process died can be told from a live one (robot_twitch.rundir)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.next_beat = time.perf_counter() + HEARTBEAT_S

    def after_batch(self, rollout: Rollout, batch: TransitionBatch) -> None:
        if time.perf_counter() >= self.next_beat:
            write_status(self.run_dir, "running")
            self.next_beat = time.perf_counter() + HEARTBEAT_S


class _WallClock:
    """Wall time spent on a run over all its sessions (resumes add up). A run stepped beside others
    in one process (robot_twitch.seeds) pauses its clock while the others step."""

    def __init__(self, before_s: float) -> None:
        self.before_s = before_s
        self.start: float | None = time.perf_counter()

    def total_s(self) -> float:
        return self.before_s + (time.perf_counter() - self.start if self.start is not None else 0.0)

    def pause(self) -> None:
        self.before_s, self.start = self.total_s(), None

    def resume(self) -> None:
        if self.start is None:
            self.start = time.perf_counter()


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
                   progress_bar: bool = True, hooks: Iterable[Any] = (), label: str = "",
                   on_batch: Callable[[ExperimentRun], Any] | None = None) -> RunResult:
    """Run (or resume) an experiment; returns the finished run directory and summary.

    ``hooks`` are extra rollout hooks (robot_twitch.rollout), e.g. one that calls
    ``rollout.request_stop()``; ``on_batch(runner)`` is the short form of a hook called with the
    runner after every batch. ``label`` goes into the run directory's name (a sweep names its
    runs after their condition).

    Raises ConfigError (bad input, an output folder that cannot be written, a run that is live
    elsewhere), StateFileError (an unreadable checkpoint), SimulationDiverged (status.json then
    says "diverged") and RunInterrupted (SIGINT/SIGTERM; status.json says "interrupted").
    """
    with RunSession(config, out, resume, progress_bar, hooks, label, on_batch) as session:
        with stop_on_signals([session]):
            while not session.done:
                session.advance()
        return session.finish()


class RunSession:
    """One run's life in a run directory: opened (checks, a new or resumed run directory, status
    "running"), advanced batch by batch, finished (outputs, status "complete", the directory renamed
    without .incomplete). ``run_experiment`` drives one session to its end; robot_twitch.seeds steps
    the sessions of several seeds in turn in one process. A session is a context manager: leaving it
    closes the Bullet world whatever happened.

    Arguments as run_experiment's. ``advance`` writes status.json "interrupted" (after a stop
    request: RunInterrupted), "diverged" or "failed" when the batch ends that way, and re-raises.
    """

    def __init__(self, config: ExperimentConfig | None, out: Path = Path("runs"), resume: Path | None = None,
                 progress_bar: bool = True, hooks: Iterable[Any] = (), label: str = "",
                 on_batch: Callable[[ExperimentRun], Any] | None = None) -> None:
        if resume is not None:
            config = _check_resumable(resume)
            run_dir = resume
        else:
            assert config is not None
            _require_extras(config)  # before anything is written
            check_writable_folder(out)  # before the world is built
            mark_dead_runs(out)
        if on_batch is not None:
            hooks = [*hooks, _OnBatch(on_batch)]
        self.runner = runner = ExperimentRun(config, hooks)
        self.frames: VideoFrames | None = None
        self.bar: _ProgressBar | None = None
        self.resumed = resume is not None
        self._closed = False
        try:
            if resume is None:
                run_dir = new_run_dir(config, out, label)
                dump_config(config, run_dir / "config.yaml")
                if config.outputs.dataset:
                    runner.recorder = StreamRecorder.create(
                        run_dir, stream_meta(config, runner.body, runner.layout, HELDOUT_BATCHES_KEPT),
                        runner.sim.state, runner.reading, runner.drive.sleep_state.code, runner.progress.force_scale)
                runner.save_checkpoint(run_dir / CHECKPOINT_FILE)
            else:
                runner.load_checkpoint(run_dir / CHECKPOINT_FILE)
                if config.outputs.dataset:
                    runner.recorder = StreamRecorder.reopen(run_dir, runner.progress.step + 1)
            self.run_dir = run_dir
            if runner.recorder is not None:
                runner.rollout.add_hook(_DatasetStream(runner))
            if config.outputs.tensorboard:
                from robot_twitch.tensorboard_log import TensorBoardLog, step_ms

                runner.tensorboard = TensorBoardLog(run_dir, purge_step=step_ms(runner.sim.time_s) + 1
                                                    if resume is not None else None)
                runner.rollout.add_hook(_TensorBoard(runner))  # after the scoring hook
            video = config.outputs.video
            if video.enabled and resume is None:  # the run films its own first seconds
                self.frames = _film_hooks(runner, run_dir / f"video.{video.format}", video.seconds,
                                          (video.width, video.height), video.fps, "tiny", video.every_s)
            write_status(run_dir, "running")
            # Progress, heartbeat and checkpoints come last: a checkpoint saves what the others did.
            self.clock = _WallClock(runner.progress.wall_s)
            self.bar = _ProgressBar(runner, progress_bar)
            self._loop_hooks = (self.bar, _Heartbeat(run_dir), _Checkpoints(runner, run_dir / CHECKPOINT_FILE,
                                                                            self.clock))
            for hook in self._loop_hooks:
                runner.rollout.add_hook(hook)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> RunSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def done(self) -> bool:
        return self.runner.done

    def request_stop(self, *_: object) -> None:
        self.runner.request_stop()

    def advance(self) -> None:
        """One batch (robot_twitch.rollout), or RunInterrupted when a stop was requested."""
        runner, run_dir = self.runner, self.run_dir
        if runner.rollout.stop_requested:
            write_status(run_dir, "interrupted", resume_from_s=checkpoint_time_s(run_dir / CHECKPOINT_FILE))
            raise RunInterrupted(run_dir)
        try:
            runner.advance()
        except SimulationDiverged as exc:
            write_status(run_dir, "diverged", time_s=round(exc.time_s, 6), quantity=exc.quantity)
            raise
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            write_status(run_dir, "failed", error=f"{type(exc).__name__}: {exc}")
            raise

    def finish(self) -> RunResult:
        """Write the finished run's outputs; the run directory loses its .incomplete suffix."""
        runner, run_dir, config = self.runner, self.run_dir, self.runner.config
        self._close_loop_hooks()
        runner.progress.wall_s = self.clock.total_s()
        if self.frames is not None:
            self.frames.finish(runner.rollout)
        elif config.outputs.video.enabled:  # resumed: film the start again (identical, same seed)
            film(config, run_dir / f"video.{config.outputs.video.format}")
        summary = finish_run(runner, run_dir)
        self.close()
        final = run_dir.with_name(run_dir.name.removesuffix(INCOMPLETE_SUFFIX))
        run_dir.rename(final)
        return RunResult(final, summary)

    def _close_loop_hooks(self) -> None:
        if self.bar is not None:
            self.bar.close()
            for hook in self._loop_hooks:
                self.runner.rollout.remove_hook(hook)
            self.bar = None

    def close(self) -> None:
        """Release the Bullet world, the video writer and the progress bar (idempotent)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.frames is not None:
            self.frames.close()
            self.frames = None
        if not self._closed:
            self._closed = True
            self.runner.close()


@contextmanager
def stop_on_signals(sessions: Iterable[RunSession]) -> Iterator[None]:
    """SIGINT and SIGTERM ask every session to stop at its next batch (each then writes a
    checkpoint-backed "interrupted" status); the previous handlers come back on exit."""
    sessions = list(sessions)

    def stop(*_: object) -> None:
        for session in sessions:
            session.request_stop()

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in previous:
        signal.signal(s, stop)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _check_resumable(resume: Path) -> ExperimentConfig:
    """The config of an interrupted run directory that may be resumed here, or ConfigError /
    StateFileError saying why not (before any world is built)."""
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
    return config


def _require_extras(config: ExperimentConfig) -> None:
    """One line (RobotTwitchError) if an output the config asks for needs a package not installed."""
    if config.outputs.tensorboard:
        from robot_twitch.tensorboard_log import require_tensorboard

        require_tensorboard()


def _film_hooks(runner: ExperimentRun, out_path: Path, seconds: float, size: tuple[int, int], fps: float,
                renderer: str, every_s: float | None = None) -> VideoFrames:
    """Hook video frames (and the side panel that outputs.video.panel picks, video.choose_panel)
    onto a run's rollout, after the learners' hook."""
    config = runner.config
    last_k = int(config.duration_s * fps + 1e-9) if every_s is None else int(config.duration_s / every_s + 1e-9)
    n_frames = min(n_video_frames(seconds, fps, every_s), last_k + 1)
    try:
        panel = choose_panel(config.outputs.video.panel, runner.learners, runner.body)
    except ValueError as exc:
        raise ConfigError(None, "outputs.video.panel", str(exc)) from None
    frames = VideoFrames(out_path, n_frames, fps, size, renderer=renderer, panel=panel,
                         caption={"age_weeks": float(config.drive.twitch.age_weeks)}, every_s=every_s)
    for hook in (panel, frames):
        if hook is not None:
            runner.rollout.add_hook(hook)
    return frames


@one_blas_thread()  # small matrices only: see robot_twitch/threads.py
def film(config: ExperimentConfig, out_path: str | Path, seconds: float | None = None,
         size: tuple[int, int] | None = None, fps: float | None = None, renderer: str = "tiny",
         hooks: Iterable[Any] = (), every_s: float | None = None) -> DemoResult:
    """The video of a run's first seconds (``robot-twitch video CONFIG``): the run's own rollout
    (drive with energy matching, body changes, learners, scoring, world rebuilds at the checkpoint
    times) with frames on, so it shows exactly what the run does; nothing else is written.

    ``seconds``, ``size`` (width, height), ``fps`` and ``every_s`` (a time-lapse: simulated
    seconds between frames) default to the config's ``outputs.video``; the format follows
    ``out_path``'s suffix. ``hooks`` are extra rollout hooks. ConfigError for values out of range.
    """
    t_wall = time.perf_counter()
    video = config.outputs.video
    seconds = float(video.seconds if seconds is None else seconds)
    size = (int(video.width), int(video.height)) if size is None else size
    fps = float(video.fps if fps is None else fps)
    every_s = video.every_s if every_s is None else float(every_s)
    replace(video, seconds=seconds, every_s=every_s)  # ConfigError if out of range
    out_path = Path(out_path)
    video_format(out_path)
    runner = ExperimentRun(config, hooks)
    frames = None
    try:
        frames = _film_hooks(runner, out_path, seconds, size, fps, renderer, every_s)
        runner.rollout.add_hook(_Checkpoints(runner, None, _WallClock(0.0)))
        while runner.sim.time_s + 1e-9 < frames.last_frame_s and not runner.done:
            runner.advance()
        path = frames.finish(runner.rollout)
    except SimulationDiverged:  # nothing worth filming follows; no partial file is left
        if frames is not None:
            frames.close()
        out_path.unlink(missing_ok=True)
        raise
    finally:
        if frames is not None:
            frames.close()
        runner.close()
    return DemoResult(path, frames.n_frames, seconds, size, fps, frames.twitches,
                      time.perf_counter() - t_wall, frames.renderer_name)


def finish_run(runner: ExperimentRun, run_dir: Path) -> dict[str, Any]:
    """Write every artifact of a finished run into run_dir (still named *.incomplete)."""
    if runner.recorder is not None:
        runner.recorder.finish()
    record = runner.record(run_dir)
    summary = write_outputs(record)
    if runner.tensorboard is not None:
        from robot_twitch.plots import maps_figure

        figure = maps_figure(record.body, record.maps, record.true_moment_arms)
        end_s = runner.progress.step * runner.sim_config.control_dt_s  # (the reach check has moved the sim's clock)
        runner.tensorboard.finish(runner.config.to_dict(), end_s, summary["metrics"], figure)
        runner.tensorboard = None
    (run_dir / CHECKPOINT_FILE).unlink(missing_ok=True)
    write_status(run_dir, "complete")
    return summary


def save_event_log(runner: ExperimentRun, path: Path) -> None:
    save_events(runner.delivered_events(), path)
