"""Common types of the motor drives: the drive protocol, sleep states, traces and validation.

A *motor drive* turns nothing but a random generator into a stream of muscle excitations, one
row of M values in [0, 1] per control step (the env calls ``step()`` once per control step).
Every drive in this package (sleep twitches and the babbling baselines) implements
:class:`MotorDrive`; :func:`generate` produces a whole train at once.

Implementation note: all built-in drives derive from :class:`BufferedDrive`, which generates the
excitation in fixed blocks of ``BLOCK_STEPS`` control steps with vectorised numpy code and hands
the rows out one by one.  Because the block size never depends on how the caller consumes the
stream, ``step()`` called T times and ``generate(drive, T * dt)`` give bit-identical output.
"""

from __future__ import annotations

import abc
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol, runtime_checkable

import numpy as np

from robot_twitch.errors import ConfigError
from robot_twitch.motor.events import TwitchEvent

#: Control steps generated per internal block (10 s at the default 100 Hz control rate).
BLOCK_STEPS: int = 1000


class SleepState(str, enum.Enum):
    """Behavioural state of the (simulated) infant.

    ``ACTIVE`` is active (REM) sleep: muscle atonia interrupted by twitches.  ``QUIET`` is quiet
    (non-REM) sleep with some tone.  ``WAKE`` is wakefulness with continuous, coordinated
    movement.
    """

    WAKE = "wake"
    QUIET = "quiet"
    ACTIVE = "active"

    @property
    def code(self) -> int:
        """Integer code used in :attr:`DriveTrace.sleep_state` (wake 0, quiet 1, active 2)."""
        return STATE_ORDER.index(self)

    @classmethod
    def from_code(cls, code: int) -> SleepState:
        """The state with integer code ``code`` (0 wake, 1 quiet, 2 active)."""
        return STATE_ORDER[int(code)]


#: States in code order: ``STATE_ORDER[code]`` is the state with that integer code.
STATE_ORDER: tuple[SleepState, ...] = (SleepState.WAKE, SleepState.QUIET, SleepState.ACTIVE)
WAKE_CODE, QUIET_CODE, ACTIVE_CODE = 0, 1, 2


@runtime_checkable
class MuscleLike(Protocol):
    """What a drive needs to know about a muscle (the body loader's muscle objects fit)."""

    name: str
    region: str
    side: str | None


@runtime_checkable
class MotorDrive(Protocol):
    """A source of muscle excitations, stepped once per control step."""

    muscle_names: tuple[str, ...]

    def reset(self, rng: np.random.Generator) -> None:
        """Restart at t = 0; all later randomness comes from ``rng``."""
        ...

    def step(self) -> np.ndarray:
        """Excitations for the next control step, shape (M,), float64 in [0, 1]."""
        ...

    @property
    def sleep_state(self) -> SleepState:
        """State during the most recently returned step (at t = 0: the starting state)."""
        ...

    @property
    def time_s(self) -> float:
        """Simulated time elapsed: number of steps returned times ``control_dt_s``."""
        ...

    @property
    def events(self) -> list[TwitchEvent]:
        """Events whose onset lies in the steps returned so far, in onset order."""
        ...


@dataclass
class DriveTrace:
    """A generated excitation train.

    Attributes:
        excitation: (T, M) float64 excitations in [0, 1], row k applies over
            [time_s[k], time_s[k] + control_dt_s).
        sleep_state: (T,) int8 state codes (0 wake, 1 quiet, 2 active; see ``STATE_ORDER``).
        time_s: (T,) float64 start time of each step [s].
        events: events with onset inside the trace, in onset order.
        muscle_names: the M muscle names, column order of ``excitation``.
        control_dt_s: control step [s].
    """

    excitation: np.ndarray
    sleep_state: np.ndarray
    time_s: np.ndarray
    events: list[TwitchEvent]
    muscle_names: tuple[str, ...]
    control_dt_s: float
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        """Length of the trace [s]."""
        return float(self.excitation.shape[0] * self.control_dt_s)

    def energy(self) -> float:
        """Actuation energy: sum over steps and muscles of excitation**2 * dt [s]."""
        return float(np.sum(np.square(self.excitation)) * self.control_dt_s)

    def state_fractions(self) -> dict[str, float]:
        """Fraction of steps spent in each state, keyed by the state's string value."""
        n = max(1, self.sleep_state.shape[0])
        counts = np.bincount(self.sleep_state.astype(np.int64), minlength=3)
        return {s.value: float(counts[s.code] / n) for s in STATE_ORDER}


# --------------------------------------------------------------------------------------------
# Validation helpers (shared by every config class).


def fail(owner: str, name: str, value: object, expected: str) -> NoReturn:
    """Raise ConfigError (a ValueError) naming the field, the bad value and what was expected."""
    raise ConfigError(None, f"{owner}.{name}", f"{value!r} is invalid: expected {expected}")


def check_range(
    owner: str,
    name: str,
    value: float,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> None:
    """Check lo <= value <= hi (open ends when ``lo_open``/``hi_open``); finite numbers only."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        fail(owner, name, value, "a real number")
    v = float(value)
    if not math.isfinite(v):
        fail(owner, name, value, "a finite number")
    bad_lo = lo is not None and (v <= lo if lo_open else v < lo)
    bad_hi = hi is not None and (v >= hi if hi_open else v > hi)
    if bad_lo or bad_hi:
        left = "-inf" if lo is None else f"{lo}"
        right = "inf" if hi is None else f"{hi}"
        brackets = ("(" if lo_open or lo is None else "[") + left + ", " + right
        brackets += ")" if hi_open or hi is None else "]"
        fail(owner, name, value, f"a number in {brackets}")


def check_choice(owner: str, name: str, value: object, choices: Sequence[str]) -> None:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        fail(owner, name, value, f"one of {tuple(choices)}")


def check_dt(control_dt_s: float) -> float:
    """Validate the control step and return it as float."""
    check_range("drive", "control_dt_s", control_dt_s, 0.0, 1.0, lo_open=True)
    return float(control_dt_s)


def child_rngs(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    """Split ``rng`` into ``n`` independent generators, deterministically.

    Each random stream of a drive (sleep cycle, twitch timing, muscle choice, ...) gets its own
    child, so changing one part of a config leaves the other streams unchanged (common random
    numbers across conditions).  Consumes one draw from ``rng``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    root = int(rng.integers(0, 2**62))
    return [np.random.default_rng([root, i]) for i in range(n)]


def lognormal_mu(median_or_mean: float, sigma: float, *, is_mean: bool) -> float:
    """Log-space location mu of a lognormal with the given median (or mean) and log-sd sigma."""
    if is_mean:
        return math.log(median_or_mean) - 0.5 * sigma * sigma
    return math.log(median_or_mean)


def _phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def clipped_lognormal_mean(mu: float, sigma: float, lo: float, hi: float) -> float:
    """Mean of clip(X, lo, hi) for X ~ lognormal(mu, sigma) (analytical)."""
    if sigma == 0.0:
        return min(max(math.exp(mu), lo), hi)
    a, b = math.log(lo), math.log(hi)
    p_lo = _phi((a - mu) / sigma)
    p_hi = 1.0 - _phi((b - mu) / sigma)
    mid = math.exp(mu + 0.5 * sigma * sigma) * (
        _phi((b - mu - sigma * sigma) / sigma) - _phi((a - mu - sigma * sigma) / sigma)
    )
    return lo * p_lo + hi * p_hi + mid


def clipped_lognormal_cdf(x: float, mu: float, sigma: float, lo: float, hi: float) -> float:
    """P(clip(X, lo, hi) <= x) for X ~ lognormal(mu, sigma)."""
    if x < lo:
        return 0.0
    if x >= hi:
        return 1.0
    if sigma == 0.0:
        return 1.0 if math.exp(mu) <= x else 0.0
    return _phi((math.log(x) - mu) / sigma)


# --------------------------------------------------------------------------------------------
# Buffered drive, generated block by block.


class BufferedDrive(abc.ABC):
    """Base class: generates excitation in fixed blocks, hands rows out one step at a time.

    Subclasses implement :meth:`_reset_streams` (draw everything that depends on the rng) and
    :meth:`_excitation_block` (the next ``BLOCK_STEPS`` rows).  Events are appended by the subclass
    to ``self._event_log`` with their onset step in ``self._event_steps`` (both in onset order).
    """

    def __init__(
        self,
        muscles: Sequence[MuscleLike],
        control_dt_s: float,
        rng: np.random.Generator | None = None,
    ) -> None:
        if len(muscles) == 0:
            raise ValueError("muscles is empty: expected at least one muscle")
        self.muscles: tuple[MuscleLike, ...] = tuple(muscles)
        self.muscle_names: tuple[str, ...] = tuple(str(m.name) for m in self.muscles)
        if len(set(self.muscle_names)) != len(self.muscle_names):
            raise ValueError(f"muscle names must be unique, got {self.muscle_names}")
        self.control_dt_s: float = check_dt(control_dt_s)
        self.n_muscles: int = len(self.muscles)
        self.reset(np.random.default_rng(0) if rng is None else rng)

    # -- subclass hooks ---------------------------------------------------------------------

    @abc.abstractmethod
    def _reset_streams(self, rng: np.random.Generator) -> None:
        """Restart the generative process at t = 0 from ``rng``."""

    @abc.abstractmethod
    def _excitation_block(self, start_step: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Excitation and state codes of steps [start_step, start_step + n_steps).

        Returns:
            excitation (n_steps, M) float64 in [0, 1] and state codes (n_steps,) int8.
        """

    # -- protocol ----------------------------------------------------------------------------

    def reset(self, rng: np.random.Generator) -> None:
        """Restart at t = 0; all randomness from now on comes from ``rng``."""
        self._steps_taken = 0
        self._generated_steps = 0
        self._buf_exc = np.zeros((0, self.n_muscles))
        self._buf_state = np.zeros(0, dtype=np.int8)
        self._buf_pos = 0
        self._last_state_code = 0
        self._event_log: list[TwitchEvent] = []
        self._event_steps: list[int] = []
        self._reset_streams(rng)
        self._last_state_code = int(self._initial_state_code())

    def _initial_state_code(self) -> int:
        """State code reported before the first step (default: first generated step)."""
        self._fill()
        return int(self._buf_state[0])

    def _fill(self) -> None:
        """Generate the next block into the buffer (keeping unread rows)."""
        exc, codes = self._excitation_block(self._generated_steps, BLOCK_STEPS)
        if self._buf_pos < self._buf_exc.shape[0]:
            exc = np.concatenate([self._buf_exc[self._buf_pos :], exc])
            codes = np.concatenate([self._buf_state[self._buf_pos :], codes])
        self._buf_exc, self._buf_state, self._buf_pos = exc, codes, 0
        self._generated_steps += BLOCK_STEPS

    def step(self) -> np.ndarray:
        """Excitations for the next control step, shape (M,), float64 in [0, 1]."""
        if self._buf_pos >= self._buf_exc.shape[0]:
            self._fill()
        row = self._buf_exc[self._buf_pos].copy()
        self._last_state_code = int(self._buf_state[self._buf_pos])
        self._buf_pos += 1
        self._steps_taken += 1
        return row

    def step_many(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``n_steps`` rows at once: excitation (n, M) and state codes (n,) int8."""
        n = int(n_steps)
        if n < 0:
            raise ValueError(f"n_steps = {n_steps!r} is invalid: expected >= 0")
        exc_parts = [self._buf_exc[self._buf_pos : self._buf_pos + n]]
        code_parts = [self._buf_state[self._buf_pos : self._buf_pos + n]]
        got = exc_parts[0].shape[0]
        self._buf_pos += got
        while got < n:
            # Generate whole blocks; the last one becomes the buffer for later calls.
            exc, codes = self._excitation_block(self._generated_steps, BLOCK_STEPS)
            self._generated_steps += BLOCK_STEPS
            take = min(BLOCK_STEPS, n - got)
            exc_parts.append(exc[:take])
            code_parts.append(codes[:take])
            self._buf_exc, self._buf_state, self._buf_pos = exc, codes, take
            got += take
        out_exc = np.concatenate(exc_parts) if len(exc_parts) > 1 else exc_parts[0].copy()
        out_codes = np.concatenate(code_parts) if len(code_parts) > 1 else code_parts[0].copy()
        self._steps_taken += n
        if n > 0:
            self._last_state_code = int(out_codes[-1])
        return out_exc, out_codes

    @property
    def sleep_state(self) -> SleepState:
        """State during the most recently returned step (at t = 0: the starting state)."""
        return SleepState.from_code(self._last_state_code)

    @property
    def time_s(self) -> float:
        """Simulated time elapsed [s]."""
        return self._steps_taken * self.control_dt_s

    @property
    def steps_taken(self) -> int:
        """Number of control steps returned since the last reset."""
        return self._steps_taken

    @property
    def events(self) -> list[TwitchEvent]:
        """Events with onset in the steps returned so far, in onset order."""
        import bisect

        k = bisect.bisect_left(self._event_steps, self._steps_taken)
        return list(self._event_log[:k])


def generate(drive: MotorDrive, duration_s: float) -> DriveTrace:
    """Generate ``duration_s`` of excitation from the drive's current time onwards.

    Uses the drive's vectorised ``step_many`` when it has one (all built-in drives), otherwise
    calls ``step()`` once per control step.  A 1-hour, 20-muscle train at 100 Hz takes about a
    second with the built-in drives.

    Returns:
        DriveTrace with T = round(duration_s / control_dt_s) rows.
    """
    check_range("generate", "duration_s", duration_s, 0.0)
    dt = float(drive.control_dt_s)  # type: ignore[attr-defined]
    n = int(round(duration_s / dt))
    t0_steps = int(round(drive.time_s / dt))
    if hasattr(drive, "step_many"):
        exc, codes = drive.step_many(n)  # type: ignore[attr-defined]
    else:
        exc = np.zeros((n, len(drive.muscle_names)))
        codes = np.zeros(n, dtype=np.int8)
        for k in range(n):
            exc[k] = drive.step()
            codes[k] = drive.sleep_state.code
    t0 = t0_steps * dt
    events = [e for e in drive.events if e.onset_s >= t0 - 0.5 * dt]
    return DriveTrace(
        excitation=exc,
        sleep_state=codes.astype(np.int8),
        time_s=(t0_steps + np.arange(n)) * dt,
        events=events,
        muscle_names=tuple(drive.muscle_names),
        control_dt_s=dt,
        meta={"drive": type(drive).__name__},
    )
