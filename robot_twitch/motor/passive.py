"""Passive movement: the limb is moved from outside, no muscle is commanded.

The control condition of the body schema (SCIENCE.md, "A map must need the cause it claims"):
a caregiver moving an infant's limb produces proprioceptive feedback without any motor command,
so whatever a learner gets from it, it cannot be a map of what the muscles do. The reafference of
the infant's own twitches and the exafference of being moved are what the nervous system must
tell apart (Tiriac & Blumberg 2016, eLife; Dooley & Blumberg 2018, eLife).

Each control step the drive gives a non-negative *push* per muscle, p (M,) in [0, 1]; the run
applies it as an external joint torque tau_ext = R(q)^T (F_max * p): the torque that muscle would
produce at full isometric force, without any activation, fibre or command. The pushes follow the
twitch generator's timing and placement (by default the run's own ``drive.twitch`` settings and
seed, so the limb is moved on the very schedule the twitch condition twitches on: a yoked
control), scaled by ``gain``. Energy is that of the pushes, sum p^2 dt, in the units of the
excitation energy of the other drives, so ``drive.match_energy`` calibrates ``gain`` like any
baseline's. The drive's excitation output is always zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from robot_twitch.motor.base import BufferedDrive, MuscleLike, SleepState, check_choice, check_range, fail
from robot_twitch.motor.events import TwitchEvent
from robot_twitch.motor.twitch import TwitchConfig, TwitchDrive

_STATES = [s.value for s in SleepState]


@dataclass(frozen=True)
class PassiveConfig:
    """Passive movement: external pushes on the twitch generator's schedule, no muscle command."""

    pattern: TwitchConfig | None = None
    """Timing, placement and shape of the pushes (twitch-generator settings); None borrows the
    experiment's drive.twitch section, so the limb is moved when and where it would twitch."""
    gain: float = 1.0
    """Scale of the pushes (calibrated by energy matching)."""
    reported_state: str = "active"
    """Sleep state the drive reports (the infant sleeps while it is moved)."""

    def __post_init__(self) -> None:
        o = "PassiveConfig"
        if self.pattern is not None and not isinstance(self.pattern, TwitchConfig):
            fail(o, "pattern", self.pattern, "a TwitchConfig or None")
        check_range(o, "gain", self.gain, 0.0)
        check_choice(o, "reported_state", self.reported_state, _STATES)

    def resolved(self, section: Any) -> PassiveConfig:
        """The settings the drive runs with, given the config's whole `drive` section: without a
        pattern of its own it is yoked to the section's twitch settings."""
        return self if self.pattern is not None else replace(self, pattern=section.twitch)


class PassiveDrive(BufferedDrive):
    """External pushes (see the module doc). ``step()`` returns the push p (M,) in [0, 1];
    ``external`` tells the run to apply it as a joint torque instead of as excitation."""

    external: bool = True
    """The rows are external pushes, not muscle excitations."""

    def __init__(
        self,
        muscles: Sequence[MuscleLike],
        control_dt_s: float = 0.01,
        config: PassiveConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.config = config or PassiveConfig()
        super().__init__(muscles, control_dt_s, rng)

    def _reset_streams(self, rng: np.random.Generator) -> None:
        # The pattern generator consumes rng exactly as the twitch drive would: same seed, same
        # schedule (yoked control).
        self._pattern = TwitchDrive(self.muscles, self.control_dt_s, self.config.pattern or TwitchConfig(), rng)

    def _initial_state_code(self) -> int:
        return SleepState(self.config.reported_state).code

    def _excitation_block(self, start_step: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        push, _ = self._pattern.step_many(n_steps)
        codes = np.full(n_steps, SleepState(self.config.reported_state).code, dtype=np.int8)
        return np.clip(self.config.gain * push, 0.0, 1.0), codes

    @property
    def pushes(self) -> list[TwitchEvent]:
        """The pushes begun so far (as twitch events of the pattern; the drive has no twitches)."""
        t = self.time_s - 0.5 * self.control_dt_s
        return [e for e in self._pattern._event_log if e.onset_s < t]
