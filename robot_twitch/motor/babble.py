"""Baseline drives behind the same interface: motor babbling and awake-style movement.

These are the control conditions of SCIENCE.md experiment 1 ("twitches during atonia vs
continuous motor babbling vs awake-style movement, matched on simulated time and energy").
Every config has a ``gain`` (overall scale of the excitation, applied before clipping to
[0, 1]) that :func:`robot_twitch.motor.energy.match_energy` calibrates, and a
``reported_state`` (the sleep state the drive reports; "wake" by default).  Baselines log no
events: they have no discrete twitches.

* White noise: i.i.d. uniform excitation per step (optionally held for ``hold_s``).
* Ornstein-Uhlenbeck: temporally correlated noise, the usual continuous babbling baseline.
* Sine: one sine per muscle with random period and phase, as LPZRobots' MotorBabbler
  (Der & Martius, "The Playful Machine", 2012).
* Awake: continuous, smooth, co-activated movement: a few slowly varying synergy drives
  (Ornstein-Uhlenbeck, low-pass filtered) spread over all muscles by random non-negative
  weights, on top of some tone.  Awake infant movement is continuous and coordinated, unlike
  twitches (SCIENCE.md; Tiriac, Del Rio-Bermudez & Blumberg 2014, Curr Biol), and its
  reafference is gated (Tiriac & Blumberg 2016, eLife).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from robot_twitch.motor.base import (
    STATE_ORDER,
    BufferedDrive,
    MuscleLike,
    SleepState,
    check_choice,
    check_range,
    child_rngs,
    fail,
)

_STATES = [s.value for s in STATE_ORDER]


def ar1_filter(innovations: np.ndarray, a: float, x0: np.ndarray) -> np.ndarray:
    """Run x[k] = a * x[k-1] + innovations[k] over time, vectorised.

    Args:
        innovations: (n, M) input per step.
        a: feedback coefficient in [0, 1).
        x0: (M,) state before the first step.

    Returns:
        (n, M) states x[1..n].  Uses x[k] = a^k (x0 + sum_j a^-j e_j) in chunks short enough
        that a^-k stays below 1e6 (no overflow, negligible rounding error).
    """
    e = np.asarray(innovations, dtype=float)
    n = e.shape[0]
    out = np.empty_like(e)
    if n == 0:
        return out
    if a <= 1e-6:
        return e.copy()
    chunk = max(1, min(n, int(math.log(1e6) / -math.log(a)))) if a < 1.0 else n
    x = np.asarray(x0, dtype=float)
    for c in range(0, n, chunk):
        blk = e[c : c + chunk]
        pw = a ** np.arange(1, blk.shape[0] + 1, dtype=float)
        s = np.cumsum(blk / pw[:, None], axis=0)
        out[c : c + chunk] = pw[:, None] * (x + s)
        x = out[c + blk.shape[0] - 1]
    return out


def _check_common(owner: str, gain: float, reported_state: str) -> None:
    check_range(owner, "gain", gain, 0.0)
    check_choice(owner, "reported_state", reported_state, _STATES)


@dataclass(frozen=True)
class WhiteNoiseConfig:
    """White-noise babbling: excitation = clip(gain * U(low, high), 0, 1), i.i.d. per muscle."""

    low: float = 0.0
    """Lower bound of the uniform draw (before gain)."""
    high: float = 1.0
    """Upper bound of the uniform draw (before gain)."""
    hold_s: float = 0.0
    """Hold each draw this long [s]; 0 draws anew every control step (true white noise, which
    the ~40 ms activation filter largely averages out: raise it to move the limb more)."""
    gain: float = 1.0
    """Overall scale (calibrated by energy matching)."""
    reported_state: str = "wake"
    """Sleep state the drive reports."""

    def __post_init__(self) -> None:
        o = "WhiteNoiseConfig"
        check_range(o, "low", self.low, 0.0, 1.0)
        check_range(o, "high", self.high, 0.0, 1.0)
        if self.high < self.low:
            fail(o, "high", self.high, f">= low ({self.low})")
        check_range(o, "hold_s", self.hold_s, 0.0)
        _check_common(o, self.gain, self.reported_state)


@dataclass(frozen=True)
class OUConfig:
    """Ornstein-Uhlenbeck babbling: stationary mean ``mean``, sd ``sd``, time constant ``tau_s``."""

    mean: float = 0.3
    """Stationary mean excitation (before gain)."""
    sd: float = 0.15
    """Stationary standard deviation (before gain)."""
    tau_s: float = 0.2
    """Correlation time [s]."""
    gain: float = 1.0
    """Overall scale (calibrated by energy matching)."""
    reported_state: str = "wake"
    """Sleep state the drive reports."""

    def __post_init__(self) -> None:
        o = "OUConfig"
        check_range(o, "mean", self.mean, 0.0, 1.0)
        check_range(o, "sd", self.sd, 0.0)
        check_range(o, "tau_s", self.tau_s, 0.0, lo_open=True)
        _check_common(o, self.gain, self.reported_state)


@dataclass(frozen=True)
class SineConfig:
    """Sine babbling: offset + amplitude * sin(2 pi t / period + phase), random per muscle."""

    offset: float = 0.5
    """Mean excitation (before gain)."""
    amplitude: float = 0.5
    """Sine amplitude (before gain)."""
    min_period_s: float = 0.5
    """Shortest period [s]; periods are uniform in [min_period_s, max_period_s]."""
    max_period_s: float = 5.0
    """Longest period [s]."""
    gain: float = 1.0
    """Overall scale (calibrated by energy matching)."""
    reported_state: str = "wake"
    """Sleep state the drive reports."""

    def __post_init__(self) -> None:
        o = "SineConfig"
        check_range(o, "offset", self.offset, 0.0, 1.0)
        check_range(o, "amplitude", self.amplitude, 0.0, 1.0)
        check_range(o, "min_period_s", self.min_period_s, 0.0, lo_open=True)
        check_range(o, "max_period_s", self.max_period_s, 0.0, lo_open=True)
        if self.max_period_s < self.min_period_s:
            fail(o, "max_period_s", self.max_period_s, f">= min_period_s ({self.min_period_s})")
        _check_common(o, self.gain, self.reported_state)


@dataclass(frozen=True)
class AwakeConfig:
    """Awake-style movement: smooth, continuous, co-activated synergies on top of tone."""

    n_synergies: int = 3
    """Number of shared drives; each muscle mixes them with random non-negative weights."""
    synergy_mean: float = 0.2
    """Stationary mean of each synergy's Ornstein-Uhlenbeck drive (rectified at 0)."""
    synergy_sd: float = 0.5
    """Stationary sd of each synergy's drive."""
    synergy_tau_s: float = 0.8
    """Correlation time of the synergy drives [s] (movements last about a second)."""
    smoothing_tau_s: float = 0.15
    """Time constant of the low-pass that makes the excitation smooth [s]."""
    tone: float = 0.1
    """Tonic excitation under the movement (awake muscles keep tone)."""
    amplitude: float = 0.5
    """Scale of the synergy contribution."""
    gain: float = 1.0
    """Overall scale (calibrated by energy matching)."""
    reported_state: str = "wake"
    """Sleep state the drive reports."""

    def __post_init__(self) -> None:
        o = "AwakeConfig"
        if isinstance(self.n_synergies, bool) or not isinstance(self.n_synergies, int):
            fail(o, "n_synergies", self.n_synergies, "an int >= 1")
        check_range(o, "n_synergies", self.n_synergies, 1)
        check_range(o, "synergy_mean", self.synergy_mean, -1.0, 1.0)
        check_range(o, "synergy_sd", self.synergy_sd, 0.0)
        check_range(o, "synergy_tau_s", self.synergy_tau_s, 0.0, lo_open=True)
        check_range(o, "smoothing_tau_s", self.smoothing_tau_s, 0.0)
        check_range(o, "tone", self.tone, 0.0, 1.0)
        check_range(o, "amplitude", self.amplitude, 0.0)
        _check_common(o, self.gain, self.reported_state)


class AwakeMovement:
    """Stateful generator of awake-style excitation rows (used by AwakeDrive and TwitchDrive)."""

    def __init__(
        self, n_muscles: int, control_dt_s: float, config: AwakeConfig, rng: np.random.Generator
    ) -> None:
        self.config = config
        self._rng = rng
        k = config.n_synergies
        # Random non-negative mixing: every muscle loads on every synergy, so agonists and
        # antagonists co-activate (awake movement is co-ordinated, not single-muscle).
        w = rng.dirichlet(np.ones(k), size=n_muscles)
        self.weights: np.ndarray = w
        """(M, K) synergy weights, rows sum to 1."""
        self._a = math.exp(-control_dt_s / config.synergy_tau_s)
        self._b = (
            math.exp(-control_dt_s / config.smoothing_tau_s) if config.smoothing_tau_s else 0.0
        )
        self._z = config.synergy_mean + config.synergy_sd * rng.standard_normal(k)
        raw0 = config.tone + config.amplitude * (w @ np.maximum(self._z, 0.0))
        self._y = raw0

    def excitation(self, n_steps: int) -> np.ndarray:
        """(n_steps, M) excitations in [0, 1], continuing from the previous call."""
        c = self.config
        m = self.weights.shape[0]
        if n_steps == 0:
            return np.zeros((0, m))
        noise = self._rng.standard_normal((n_steps, self._z.shape[0]))
        innov = c.synergy_sd * math.sqrt(1.0 - self._a**2) * noise
        dz = ar1_filter(innov, self._a, self._z - c.synergy_mean)
        z = c.synergy_mean + dz
        self._z = z[-1].copy()
        raw = c.tone + c.amplitude * (np.maximum(z, 0.0) @ self.weights.T)
        y = ar1_filter((1.0 - self._b) * raw, self._b, self._y)
        self._y = y[-1].copy()
        return np.clip(c.gain * y, 0.0, 1.0)


class _BaselineDrive(BufferedDrive):
    """Shared plumbing: fixed reported state, no events."""

    config: WhiteNoiseConfig | OUConfig | SineConfig | AwakeConfig

    def _codes(self, n: int) -> np.ndarray:
        return np.full(n, SleepState(self.config.reported_state).code, dtype=np.int8)

    def _initial_state_code(self) -> int:
        return SleepState(self.config.reported_state).code


class WhiteNoiseDrive(_BaselineDrive):
    """White-noise motor babbling (see :class:`WhiteNoiseConfig`)."""

    def __init__(
        self,
        muscles: Sequence[MuscleLike],
        control_dt_s: float = 0.01,
        config: WhiteNoiseConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.config = config or WhiteNoiseConfig()
        super().__init__(muscles, control_dt_s, rng)

    def _reset_streams(self, rng: np.random.Generator) -> None:
        (self._rng,) = child_rngs(rng, 1)
        self._hold_steps = max(1, int(round(self.config.hold_s / self.control_dt_s)))
        self._held = np.zeros(self.n_muscles)

    def _excitation_block(self, start_step: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        c, h = self.config, self._hold_steps
        steps = start_step + np.arange(n_steps)
        groups = steps // h
        first = start_step // h
        n_new = int(groups[-1] - first) + (1 if start_step % h == 0 else 0)
        draws = self._rng.uniform(c.low, c.high, size=(n_new, self.n_muscles))
        vals = draws if start_step % h == 0 else np.concatenate([self._held[None], draws])
        out = vals[groups - first]
        self._held = out[-1].copy()
        return np.clip(c.gain * out, 0.0, 1.0), self._codes(n_steps)


class OUDrive(_BaselineDrive):
    """Ornstein-Uhlenbeck motor babbling (see :class:`OUConfig`); exact discretisation."""

    def __init__(
        self,
        muscles: Sequence[MuscleLike],
        control_dt_s: float = 0.01,
        config: OUConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.config = config or OUConfig()
        super().__init__(muscles, control_dt_s, rng)

    def _reset_streams(self, rng: np.random.Generator) -> None:
        (self._rng,) = child_rngs(rng, 1)
        self._a = math.exp(-self.control_dt_s / self.config.tau_s)
        self._x = self.config.sd * self._rng.standard_normal(self.n_muscles)  # stationary start

    def _excitation_block(self, start_step: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        innov = c.sd * math.sqrt(1.0 - self._a**2) * self._rng.standard_normal(
            (n_steps, self.n_muscles)
        )
        dx = ar1_filter(innov, self._a, self._x)
        self._x = dx[-1].copy()
        return np.clip(c.gain * (c.mean + dx), 0.0, 1.0), self._codes(n_steps)


class SineDrive(_BaselineDrive):
    """Sine motor babbling with random periods and phases (see :class:`SineConfig`)."""

    def __init__(
        self,
        muscles: Sequence[MuscleLike],
        control_dt_s: float = 0.01,
        config: SineConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.config = config or SineConfig()
        super().__init__(muscles, control_dt_s, rng)

    def _reset_streams(self, rng: np.random.Generator) -> None:
        (r,) = child_rngs(rng, 1)
        c = self.config
        self.periods_s: np.ndarray = r.uniform(c.min_period_s, c.max_period_s, self.n_muscles)
        """(M,) period of each muscle's sine [s]."""
        self.phases_rad: np.ndarray = r.uniform(0.0, 2.0 * math.pi, self.n_muscles)
        """(M,) phase of each muscle's sine [rad]."""

    def _excitation_block(self, start_step: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        t = (start_step + np.arange(n_steps)) * self.control_dt_s
        arg = 2.0 * math.pi * t[:, None] / self.periods_s[None, :] + self.phases_rad[None, :]
        raw = c.offset + c.amplitude * np.sin(arg)
        return np.clip(c.gain * raw, 0.0, 1.0), self._codes(n_steps)


class AwakeDrive(_BaselineDrive):
    """Awake-style movement: continuous, co-activated, smooth (see :class:`AwakeConfig`)."""

    def __init__(
        self,
        muscles: Sequence[MuscleLike],
        control_dt_s: float = 0.01,
        config: AwakeConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.config = config or AwakeConfig()
        super().__init__(muscles, control_dt_s, rng)

    def _reset_streams(self, rng: np.random.Generator) -> None:
        (r,) = child_rngs(rng, 1)
        self.movement = AwakeMovement(self.n_muscles, self.control_dt_s, self.config, r)

    def _excitation_block(self, start_step: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        return self.movement.excitation(n_steps), self._codes(n_steps)
