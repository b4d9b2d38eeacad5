"""Sleep-wake cycle (hypnogram) and tonic excitation per state.

Model: a semi-Markov chain over wake, quiet (non-REM) sleep and active (REM) sleep.  Each bout
lasts a lognormal time with a configurable mean; at its end the next state is drawn from the
transition probabilities.  Defaults describe a newborn:

* about half of sleep is active sleep (Roffwarg, Muzio & Dement 1966, Science; SCIENCE.md),
  so active and quiet bouts have the same mean (25 min, a ~50 min infant sleep cycle);
* infants sleep 14-17 h a day, i.e. ~35% of time awake: on average 3 sleep cycles per sleep
  period (``p_quiet_to_wake`` = 1/3) and 80 min wake bouts give 1600 / (1600 + 3000) = 34.8%;
* newborns fall asleep into active sleep (sleep-onset REM), so ``p_wake_to_active`` = 1.

Tone: active sleep is (almost) atonic, so twitches stand out against a silent background
(SCIENCE.md, "Why twitches teach"); quiet sleep keeps some tone, which is where negative
myoclonus (a brief loss of tone) can show.  Both are configurable per body region.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from robot_twitch.motor.base import (
    ACTIVE_CODE,
    QUIET_CODE,
    STATE_ORDER,
    WAKE_CODE,
    MuscleLike,
    SleepState,
    check_choice,
    check_range,
    fail,
)

_OWNER = "SleepConfig"


def _frozen_map(value: Mapping[str, float] | None) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in dict(value or {}).items()})


@dataclass(frozen=True)
class SleepConfig:
    """Sleep-wake cycle and tone per state (defaults: a newborn)."""

    start_state: str = "active"
    """State at t = 0 ("wake", "quiet", "active").  Short experiments start in active sleep."""
    hold_state: bool = False
    """Stay in ``start_state`` forever (e.g. an experiment that is all active sleep)."""
    first_bout_s: float | None = None
    """Length of the first bout [s]; None draws it like any other bout."""
    mean_wake_bout_s: float = 4800.0
    """Mean wake bout [s] (80 min: gives ~35% wake with the other defaults)."""
    mean_quiet_bout_s: float = 1500.0
    """Mean quiet-sleep bout [s] (25 min, half of a ~50 min infant sleep cycle)."""
    mean_active_bout_s: float = 1500.0
    """Mean active-sleep bout [s] (25 min: equal to quiet, so ~50% of sleep is active)."""
    bout_sigma: float = 0.5
    """Log-space standard deviation of the lognormal bout durations (0 = fixed durations)."""
    min_bout_s: float = 10.0
    """Shortest bout [s]; shorter draws are clipped up."""
    p_wake_to_active: float = 1.0
    """Probability that sleep starts in active sleep (newborn sleep-onset REM); else quiet."""
    p_quiet_to_wake: float = 1.0 / 3.0
    """Probability that a quiet bout ends in waking (else active): 1/3 = 3 cycles per sleep."""
    p_active_to_wake: float = 0.0
    """Probability that an active bout ends in waking (else quiet)."""
    wake_tone: float = 0.1
    """Tonic excitation in wake when the drive has no wake movement model [0..1]."""
    quiet_tone: float = 0.05
    """Tonic excitation in quiet sleep [0..1]: some tone remains in non-REM sleep."""
    active_tone: float = 0.0
    """Tonic excitation in active sleep [0..1]: 0 = atonia."""
    quiet_tone_by_region: Mapping[str, float] = field(
        default_factory=lambda: _frozen_map({}), hash=False
    )
    """Per-region override of ``quiet_tone`` (region name -> excitation)."""
    active_tone_by_region: Mapping[str, float] = field(
        default_factory=lambda: _frozen_map({}), hash=False
    )
    """Per-region override of ``active_tone`` (e.g. residual neck tone)."""

    def __post_init__(self) -> None:
        check_choice(_OWNER, "start_state", self.start_state, [s.value for s in STATE_ORDER])
        if not isinstance(self.hold_state, bool):
            fail(_OWNER, "hold_state", self.hold_state, "a bool")
        if self.first_bout_s is not None:
            check_range(_OWNER, "first_bout_s", self.first_bout_s, 0.0, lo_open=True)
        for name in ("mean_wake_bout_s", "mean_quiet_bout_s", "mean_active_bout_s"):
            check_range(_OWNER, name, getattr(self, name), 0.0, lo_open=True)
        check_range(_OWNER, "bout_sigma", self.bout_sigma, 0.0, 3.0)
        check_range(_OWNER, "min_bout_s", self.min_bout_s, 0.0)
        for name in ("p_wake_to_active", "p_quiet_to_wake", "p_active_to_wake"):
            check_range(_OWNER, name, getattr(self, name), 0.0, 1.0)
        for name in ("wake_tone", "quiet_tone", "active_tone"):
            check_range(_OWNER, name, getattr(self, name), 0.0, 1.0)
        for name in ("quiet_tone_by_region", "active_tone_by_region"):
            value = getattr(self, name)
            if not isinstance(value, Mapping):
                fail(_OWNER, name, value, "a mapping region -> tone")
            for region, tone in value.items():
                check_range(_OWNER, f"{name}[{region!r}]", tone, 0.0, 1.0)
            object.__setattr__(self, name, _frozen_map(value))

    def transition_matrix(self) -> np.ndarray:
        """(3, 3) probabilities P[i, j] that a bout in state i is followed by state j.

        Rows and columns are state codes (0 wake, 1 quiet, 2 active).
        """
        p = np.zeros((3, 3))
        p[WAKE_CODE, ACTIVE_CODE] = self.p_wake_to_active
        p[WAKE_CODE, QUIET_CODE] = 1.0 - self.p_wake_to_active
        p[QUIET_CODE, WAKE_CODE] = self.p_quiet_to_wake
        p[QUIET_CODE, ACTIVE_CODE] = 1.0 - self.p_quiet_to_wake
        p[ACTIVE_CODE, WAKE_CODE] = self.p_active_to_wake
        p[ACTIVE_CODE, QUIET_CODE] = 1.0 - self.p_active_to_wake
        return p

    def mean_bouts_s(self) -> np.ndarray:
        """(3,) mean bout durations [s] in code order (wake, quiet, active)."""
        return np.array([self.mean_wake_bout_s, self.mean_quiet_bout_s, self.mean_active_bout_s])

    def expected_time_fractions(self) -> dict[str, float]:
        """Long-run fraction of time in each state (ignores ``min_bout_s`` clipping).

        Stationary distribution of the embedded jump chain, weighted by mean bout durations.
        """
        if self.hold_state:
            return {s.value: float(s.value == self.start_state) for s in STATE_ORDER}
        p = self.transition_matrix()
        w, v = np.linalg.eig(p.T)
        pi = np.real(v[:, int(np.argmin(np.abs(w - 1.0)))])
        pi = pi / pi.sum()
        t = pi * self.mean_bouts_s()
        t = t / t.sum()
        return {s.value: float(t[s.code]) for s in STATE_ORDER}

    def tone_matrix(self, muscles: Sequence[MuscleLike]) -> np.ndarray:
        """(3, M) tonic excitation per state code (rows wake, quiet, active) and muscle."""
        tone = np.zeros((3, len(muscles)))
        for m, muscle in enumerate(muscles):
            tone[WAKE_CODE, m] = self.wake_tone
            tone[QUIET_CODE, m] = self.quiet_tone_by_region.get(muscle.region, self.quiet_tone)
            tone[ACTIVE_CODE, m] = self.active_tone_by_region.get(
                muscle.region, self.active_tone
            )
        return tone


class SleepCycle:
    """Generates the hypnogram: one state code per control step, bout by bout."""

    def __init__(self, config: SleepConfig, control_dt_s: float, rng: np.random.Generator):
        self.config = config
        self.control_dt_s = control_dt_s
        self._rng = rng
        self._p = config.transition_matrix()
        self._mu = np.log(config.mean_bouts_s()) - 0.5 * config.bout_sigma**2
        self._state = SleepState(config.start_state).code
        first = config.first_bout_s
        self._bout_end_step = self._to_steps(first) if first is not None else self._draw_bout()
        self.bouts: list[tuple[int, int, int]] = []
        """Bouts generated so far: (state code, start step, end step exclusive)."""
        self._bout_start_step = 0

    def _to_steps(self, duration_s: float) -> int:
        return max(1, int(round(duration_s / self.control_dt_s)))

    def _draw_bout(self) -> int:
        """Duration of a bout in the current state, in steps (lognormal, clipped below)."""
        mu = float(self._mu[self._state])
        d = float(np.exp(mu + self.config.bout_sigma * self._rng.standard_normal()))
        return self._to_steps(max(d, self.config.min_bout_s))

    def state_codes(self, start_step: int, n_steps: int) -> np.ndarray:
        """(n_steps,) int8 state codes for steps [start_step, start_step + n_steps)."""
        codes = np.empty(n_steps, dtype=np.int8)
        if self.config.hold_state:
            codes[:] = self._state
            return codes
        pos = start_step
        end = start_step + n_steps
        while pos < end:
            stop = min(end, self._bout_end_step)
            codes[pos - start_step : stop - start_step] = self._state
            pos = stop
            if pos == self._bout_end_step:
                self.bouts.append((self._state, self._bout_start_step, self._bout_end_step))
                u = self._rng.random()
                self._state = int(np.searchsorted(np.cumsum(self._p[self._state]), u, "right"))
                self._state = min(self._state, 2)
                self._bout_start_step = pos
                self._bout_end_step = pos + self._draw_bout()
        return codes

    def change_steps(self) -> np.ndarray:
        """(K,) steps at which the state changes, as far as drawn: the ends of the completed
        bouts and of the current one (none when ``hold_state``)."""
        if self.config.hold_state:
            return np.zeros(0, dtype=np.int64)
        return np.array([end for _, _, end in self.bouts] + [self._bout_end_step], dtype=np.int64)


def hypnogram_segments(codes: np.ndarray) -> list[tuple[int, int, int]]:
    """Runs of equal state in a (T,) code array: list of (code, start index, end index excl.)."""
    c = np.asarray(codes)
    if c.size == 0:
        return []
    change = np.nonzero(np.diff(c) != 0)[0] + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [c.size]])
    return [(int(c[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def mean_bout_s(codes: np.ndarray, code: int, control_dt_s: float) -> float:
    """Mean length [s] of complete runs of ``code`` in a (T,) code array (first/last excluded)."""
    segs = hypnogram_segments(codes)[1:-1]
    lens = [e - s for c, s, e in segs if c == code]
    return float(np.mean(lens) * control_dt_s) if lens else math.nan
