"""Differential extrinsic plasticity (DEP): a closed-loop babbling baseline on muscle lengths.

Der & Martius (2015, PNAS 112:E6224) found that a controller whose weights follow the
*differential* correlation between successive sensor velocities gives spontaneous, body-
specific, state-covering exploration; Schumacher, Haeufle, Buechler, Schmitt & Martius (2023,
"DEP-RL", ICLR) applied it to muscle-driven bodies with muscle lengths as sensors, where it
explores within seconds. Unlike the other baselines it is closed-loop: each step it reads the
muscle lengths (``feed_lengths``) and its output depends on the body's own response.

With x_t the M normalised fibre lengths minus 1 (0 at the optimum), smoothed
x_t <- x_{t-1} + (x_t - x_{t-1}) / s, velocities v_t = x_t - x_{t-1}, and the inverse model
M = -I (contracting a muscle shortens its own fibre, DEP-RL's choice for muscles):

    C_t   = sum_{k=1..tau} (M v_{t-k+1}) v_{t-k+1-dt}^T          (M x M, the DEP rule)
    C^_t  = C_t with each row scaled to unit norm ("independent" normalisation)
    q_t   = C^_t x_t / (|C^_t x_t| + eps)
    y_t   = tanh(kappa q_t + h_t),   h_{t+1} = h_t - clip(b y_t, -0.05, 0.05) - 0.001 h_t
    u_t   = clip(gain (y_t + 1) / 2, 0, 1)                          (excitation in [0, 1])

tau, dt (``time_dist_steps``), s (``smoothing_steps``), kappa and b (``bias_rate``) follow DEP-RL's
parameters; ``gain`` scales the excitation as in the other baselines and is what energy matching
calibrates (robot_twitch/drive_energy.py runs the closed loop on the simulator to do so). The
only randomness is a small initial bias h_0 ~ N(0, initial_bias_sd^2) per muscle, so different
seeds start the loop differently; everything else is a deterministic function of the lengths.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_twitch.motor.base import (
    STATE_ORDER,
    MuscleLike,
    SleepState,
    check_choice,
    check_dt,
    check_range,
    fail,
)
from robot_twitch.motor.events import TwitchEvent

_OWNER = "DEPConfig"


@dataclass(frozen=True)
class DEPConfig:
    """Differential extrinsic plasticity on the muscle-length sensors (Der & Martius 2015)."""

    kappa: float = 5.0
    """Loop gain: y = tanh(kappa q + h) with q the unit-norm controller output."""
    tau_steps: int = 40
    """Recent transitions summed into the controller matrix C."""
    time_dist_steps: int = 5
    """Delay dt between the two velocities the DEP rule correlates [control steps]."""
    smoothing_steps: float = 2.0
    """Low-pass of the length sensors: x <- x + (x_new - x) / smoothing_steps (1 = none)."""
    bias_rate: float = 0.002
    """Rate b of the bias adaptation h <- h - clip(b y) - 0.001 h (keeps y centred)."""
    initial_bias_sd: float = 0.1
    """Standard deviation of the initial bias h_0 (the drive's only randomness)."""
    gain: float = 1.0
    """Overall scale of the excitation (calibrated by energy matching)."""
    reported_state: str = "wake"
    """Sleep state the drive reports."""

    def __post_init__(self) -> None:
        check_range(_OWNER, "kappa", self.kappa, 0.0, lo_open=True)
        for name in ("tau_steps", "time_dist_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                fail(_OWNER, name, value, "an integer")
        check_range(_OWNER, "tau_steps", self.tau_steps, 1.0)
        check_range(_OWNER, "time_dist_steps", self.time_dist_steps, 0.0)
        check_range(_OWNER, "smoothing_steps", self.smoothing_steps, 1.0)
        check_range(_OWNER, "bias_rate", self.bias_rate, 0.0)
        check_range(_OWNER, "initial_bias_sd", self.initial_bias_sd, 0.0)
        check_range(_OWNER, "gain", self.gain, 0.0)
        check_choice(_OWNER, "reported_state", self.reported_state, [s.value for s in STATE_ORDER])


class DEPDrive:
    """The DEP controller behind the motor-drive interface, plus ``feed_lengths(lengths)``.

    Call ``feed_lengths(fibre_length_norm)`` with the (M,) normalised fibre lengths after every
    simulator step (and once after reset); ``step()`` returns the next (M,) excitation.
    """

    closed_loop = True

    def __init__(self, muscles: Sequence[MuscleLike], control_dt_s: float = 0.01,
                 config: DEPConfig | None = None, rng: np.random.Generator | None = None) -> None:
        if len(muscles) == 0:
            raise ValueError("muscles is empty: expected at least one muscle")
        self.config = config or DEPConfig()
        self.muscle_names: tuple[str, ...] = tuple(str(m.name) for m in muscles)
        self.n_muscles = len(self.muscle_names)
        self.control_dt_s = check_dt(control_dt_s)
        self._state = SleepState(self.config.reported_state)
        self.reset(np.random.default_rng(0) if rng is None else rng)

    def reset(self, rng: np.random.Generator) -> None:
        """Restart at t = 0: empty history, zero controller, bias drawn from ``rng``."""
        c, m = self.config, self.n_muscles
        self._history = np.zeros((c.tau_steps + c.time_dist_steps + 1, m))  # smoothed x, newest last
        self._n_fed = 0
        self._x = np.zeros(m)
        self._controller = np.zeros((m, m))
        self._bias = c.initial_bias_sd * rng.standard_normal(m)
        self._y = np.zeros(m)
        self._steps_taken = 0

    # -- the loop ------------------------------------------------------------------------------
    def feed_lengths(self, fibre_length_norm: np.ndarray) -> None:
        """Take the (M,) normalised fibre lengths after a step; update the DEP controller."""
        x = np.asarray(fibre_length_norm, dtype=float) - 1.0
        if x.shape != (self.n_muscles,):
            raise ValueError(f"feed_lengths expects ({self.n_muscles},) fibre lengths, got {x.shape}")
        c = self.config
        self._x = x if self._n_fed == 0 else self._x + (x - self._x) / c.smoothing_steps
        self._history = np.roll(self._history, -1, axis=0)
        self._history[-1] = self._x
        self._n_fed += 1
        self._learn()

    def _learn(self) -> None:
        c = self.config
        n = min(self._n_fed, self._history.shape[0])
        pairs = n - 1 - c.time_dist_steps  # transitions with both velocities available
        if pairs < 1:
            return
        v = np.diff(self._history[-n:], axis=0)  # (n - 1, M) velocities, newest last
        k = min(pairs, c.tau_steps)
        recent = v[-k:]  # v_{t-k+1} .. v_t
        delayed = v[-k - c.time_dist_steps: len(v) - c.time_dist_steps]  # dt steps earlier
        # C = sum (M v) v_delayed^T with M = -I.
        self._controller = -(recent.T @ delayed)
        self._bias = self._bias - np.clip(c.bias_rate * self._y, -0.05, 0.05) - 0.001 * self._bias

    def step(self) -> np.ndarray:
        """Excitations for the next control step, shape (M,), float64 in [0, 1]."""
        c = self.config
        rows = np.linalg.norm(self._controller, axis=1, keepdims=True)
        normed = self._controller / (rows + 1e-12)
        q = normed @ self._x
        q = q / (np.linalg.norm(q) + 1e-12)
        self._y = np.tanh(c.kappa * q + self._bias)
        self._steps_taken += 1
        return np.clip(c.gain * 0.5 * (self._y + 1.0), 0.0, 1.0)

    # -- the motor-drive protocol -----------------------------------------------------------
    @property
    def sleep_state(self) -> SleepState:
        return self._state

    @property
    def time_s(self) -> float:
        return self._steps_taken * self.control_dt_s

    @property
    def steps_taken(self) -> int:
        return self._steps_taken

    @property
    def events(self) -> list[TwitchEvent]:
        """DEP has no discrete twitches."""
        return []

    @property
    def controller(self) -> np.ndarray:
        """(M, M) the current DEP matrix C (before normalisation), a copy."""
        return self._controller.copy()

    # -- saved state (checkpoints: numeric arrays only) ----------------------------------------
    def state_dict(self) -> dict[str, Any]:
        # "n_obs" is the key saved checkpoints already hold (the count of feed_lengths calls).
        return {"history": self._history.copy(), "n_obs": self._n_fed, "x": self._x.copy(),
                "controller": self._controller.copy(), "bias": self._bias.copy(), "y": self._y.copy(),
                "steps_taken": self._steps_taken}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        history = np.asarray(state["history"], dtype=float)
        if history.shape != self._history.shape:
            raise ValueError(f"DEP state history has shape {history.shape}, expected {self._history.shape}")
        self._history = history.copy()
        self._n_fed = int(state["n_obs"])
        self._x = np.asarray(state["x"], dtype=float).copy()
        self._controller = np.asarray(state["controller"], dtype=float).copy()
        self._bias = np.asarray(state["bias"], dtype=float).copy()
        self._y = np.asarray(state["y"], dtype=float).copy()
        self._steps_taken = int(state["steps_taken"])


__all__ = ["DEPConfig", "DEPDrive"]
