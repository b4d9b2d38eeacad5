"""The one place where a limb is stepped: drive -> Simulation -> sensor model -> transition batch.

A :class:`Rollout` owns one control step and nothing else::

    u = drive.step()            (M,) excitations, or an explicit command, or both (capped at 1)
    u = u * muscle_on           lost muscles (force scale 0) get no excitation
                                (a passive drive's output is a push on the joints instead)
    state = sim.step(u)         muscles -> torques -> Bullet -> joint state, R(q), touch
    drive.feed_lengths(...)     a closed-loop drive (DEP) is fed the muscle lengths
    reading = sensors.read()    (S,) flat sensor vector (noise, delay), when a sensor model is set

``run_batch(n)`` does this n times and hands the transitions (u, reading before, reading after)
as a TransitionBatch to the hooks. Everything else a run does is a hook on the rollout, never a
copy of the loop: body changes and video frames (before a step), energy and truth bookkeeping
(after a step), learners, scoring, progress and checkpoints (after a batch).

The experiment runner and its film (robot_twitch.experiment: ``robot-twitch run`` and
``robot-twitch video``), the demo videos (robot_twitch.video), the reach check and the
gymnasium env with its motor-drive wrapper (robot_twitch.envs) all step through a Rollout.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from robot_twitch.errors import SimulationDiverged
from robot_twitch.learn.base import TransitionBatch
from robot_twitch.sim import LimbState, Simulation

if TYPE_CHECKING:
    from robot_twitch.sensors import SensorModel


class Drive(Protocol):
    """What a rollout needs of a drive: the next step's excitations (M,) in [0, 1]."""

    def step(self) -> np.ndarray: ...


class RolloutHook(Protocol):
    """A hook on a rollout. Implement any of the three methods; the others are not called.

    - ``before_step(rollout)``: before the drive is asked (e.g. apply a body change that is due).
    - ``after_step(rollout, excitation, state)``: after the Simulation stepped; ``excitation`` (M,)
      is what the muscles received, ``state`` the new LimbState (read-only).
    - ``after_batch(rollout, batch)``: after ``run_batch`` with the batch's transitions.
    """


class Rollout:
    """Steps one Simulation with a drive, reads its sensors and batches the transitions.

    Args:
        sim: the Simulation stepped (replaceable: ``rollout.sim = ...`` after a world rebuild).
        drive: anything with ``step() -> (M,)``; None: every step needs an explicit command.
        sensors: the sensor model read after every step; None: no readings (and no batches).
        sensor_rng: the generator of the sensor noise.
        hooks: hooks, see :class:`RolloutHook`; called in the order given.
    """

    def __init__(self, sim: Simulation, drive: Drive | None = None, sensors: SensorModel | None = None,
                 sensor_rng: np.random.Generator | None = None, hooks: Iterable[Any] = ()) -> None:
        self.sim = sim
        self.drive = drive
        self.sensors = sensors
        self.sensor_rng = sensor_rng if sensor_rng is not None else np.random.default_rng(0)
        self.force_scale = np.ones(len(sim.body.muscle_names))
        self.last_excitation: np.ndarray | None = None
        self.last_drive_excitation: np.ndarray | None = None
        self.last_actuation: np.ndarray | None = None
        self.reading: np.ndarray | None = None
        self.stop_requested = False
        self.drive_muted = False  # True: the drive still runs, the muscles get none of it
        self._hooks: list[Any] = []
        self._before: list[Any] = []
        self._after: list[Any] = []
        self._after_batch: list[Any] = []
        for hook in hooks:
            self.add_hook(hook)
        if sensors is not None:
            self.start_sensing()
        if drive is not None:
            self.feed_drive()

    # -- hooks -------------------------------------------------------------------------
    def add_hook(self, hook: Any) -> None:
        """Hook ``hook`` on (after those already there)."""
        self._hooks.append(hook)
        self._bind()

    def remove_hook(self, hook: Any) -> None:
        self._hooks.remove(hook)
        self._bind()

    @property
    def hooks(self) -> tuple[Any, ...]:
        return tuple(self._hooks)

    def _bind(self) -> None:
        self._before = [o.before_step for o in self._hooks if hasattr(o, "before_step")]
        self._after = [o.after_step for o in self._hooks if hasattr(o, "after_step")]
        self._after_batch = [o.after_batch for o in self._hooks if hasattr(o, "after_batch")]

    def request_stop(self, *_: object) -> None:
        """Ask whoever drives this rollout in batches to stop at the next batch boundary (a hook
        or a signal handler may call it)."""
        self.stop_requested = True

    @property
    def drive(self) -> Drive | None:
        """What gives the excitations (None: the commands alone); replaceable."""
        return self._drive

    @drive.setter
    def drive(self, drive: Drive | None) -> None:
        self._drive = drive
        self._closed_loop = bool(getattr(drive, "closed_loop", False))
        self._external = bool(getattr(drive, "external", False))

    # -- muscles -----------------------------------------------------------------------------
    @property
    def force_scale(self) -> np.ndarray:
        """(M,) force of each muscle relative to the body file's (0: lost). Set a new array to change it."""
        return self._force_scale

    @force_scale.setter
    def force_scale(self, scale: np.ndarray) -> None:
        self._force_scale = scale
        self.refresh_force_scale()

    def refresh_force_scale(self) -> None:
        """Call after editing ``force_scale`` in place."""
        self._muscle_on = self._force_scale > 0
        self._all_on = bool(self._muscle_on.all())

    # -- stepping ----------------------------------------------------------------------------
    def start_sensing(self) -> None:
        """Fill the sensor model's delay lines from the current state and take the first reading."""
        if self.sensors is None:
            raise ValueError("this rollout has no sensor model")
        state = self.sim.state
        self.sensors.reset(state)
        self.reading = self.sensors.layout.flatten(self.sensors.read(state, self.sensor_rng))

    def feed_drive(self) -> None:
        """Give a closed-loop drive (one with ``closed_loop = True``, e.g. DEP) the current muscle
        state; step() does this after every step. Call it after resetting such a drive."""
        if self._closed_loop:
            self.drive.feed_lengths(self.sim.state.fiber_length_norm)  # type: ignore[union-attr]

    def reset(self, joint_pos_rad: np.ndarray | None = None) -> LimbState:
        """Put the limb at a posture at rest (see Simulation.reset)."""
        state = self.sim.reset(joint_pos_rad)
        if self.sensors is not None:
            self.start_sensing()
        return state

    def step(self, command: np.ndarray | None = None) -> LimbState:
        """One control step: before-step hooks, excitation, Simulation, sensors, after-step hooks.

        The excitation is the drive's, or ``command`` (M,) when there is no drive, or
        min(drive + command, 1) when both are there; lost muscles get zero, and so does every
        muscle from a muted drive (``drive_muted``).
        """
        for hook in self._before:
            hook(self)
        drive = self.drive
        push = None
        if drive is None:
            if command is None:
                raise ValueError("this rollout has no drive: step() needs a command")
            u = command
        else:
            drive_u = drive.step()  # a muted drive keeps running: its time and events go on
            self.last_drive_excitation = drive_u
            if self.drive_muted:
                drive_u = np.zeros_like(drive_u)
            if self._external:  # a passive drive pushes the limb; no muscle is commanded
                push, drive_u = drive_u, np.zeros_like(drive_u)
            u = drive_u if command is None else np.minimum(drive_u + command, 1.0)
        if not self._all_on:
            u = u * self._muscle_on
        if push is None:
            state = self.sim.step(u)
            self.last_actuation = u
        else:
            # The push acts as the joint torque the muscles would give at full force
            # (robot_twitch/motor/passive.py): R(q)^T (F_max * push).
            sim = self.sim
            push_nm = sim.state.moment_arms_m.T @ (sim.params.max_isometric_force_n * push)
            state = sim.step(u, external_torque_nm=push_nm)
            self.last_actuation = push
        self.last_excitation = u
        if self._closed_loop:
            drive.feed_lengths(state.fiber_length_norm)  # type: ignore[union-attr]
        if self.sensors is not None:
            # A lost muscle takes its spindle and tendon organ with it: those channels read 0.
            self.reading = self.sensors.layout.flatten(
                self.sensors.read(state, self.sensor_rng, silent=None if self._all_on else ~self._muscle_on))
        for hook in self._after:
            hook(self, u, state)
        return state

    def run_batch(self, n_steps: int) -> TransitionBatch:
        """``n_steps`` control steps; the after-batch hooks get the transitions, which are returned.

        Raises SimulationDiverged when the physics blows up.
        """
        if self.sensors is None or self.reading is None:
            raise ValueError("run_batch needs a sensor model")
        layout = self.sensors.layout
        commands = np.empty((n_steps, len(self._muscle_on)))
        readings = np.empty((n_steps + 1, layout.size))
        readings[0] = self.reading
        for t in range(n_steps):
            state = self.step()
            commands[t] = self.last_excitation
            readings[t + 1] = self.reading
            if state.blown_up:
                raise SimulationDiverged(self.sim.time_s, state.blown_up_reason or "NaN or runaway speed")
        self.reading = readings[-1]
        batch = TransitionBatch(commands, readings[:-1], readings[1:], layout)
        for hook in self._after_batch:
            hook(self, batch)
        return batch
