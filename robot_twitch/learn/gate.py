"""Reafference gating: learners see sensory feedback minus its predicted self-generated part.

Tiriac & Blumberg (2016, eLife) found that in infant rats the sensory feedback of wake movements
is suppressed before it reaches the brainstem and cortex (a corollary discharge of the motor
command cancels the expected reafference), while the feedback of sleep twitches arrives intact;
Dooley & Blumberg (2018, eLife) showed that this wake-specific gating develops around postnatal
day 12. Tiriac, Del Rio-Bermudez & Blumberg (2014, Curr Biol) had found that twitches, not wake
movements, drive the developing sensorimotor cortex. This module models the gate in the spirit of
von Holst & Mittelstaedt's reafference principle:

* an **efference-copy predictor** learns online, from the raw stream, the linear map from the
  recent motor command to the sensor reading: s_t ~ mean s + G^T (e_t - mean e), where e_t (M K) is
  the command through step t passed through K first-order low-pass filters (``taus_s``, from
  activation-like to movement-like time scales), so that G^T (e_t - mean e) is the part of every
  sensor (angles, velocities, spindles, tendon organs, touch) that the command predicts;
* the **gate** subtracts that prediction from every reading the learners see (the reading before a
  step with the efference copy through the previous step, the reading after it with the copy
  through this step), in the sleep states
  listed by the mode: ``"wake"`` (the biology: a corollary discharge accompanies wake movements
  but not twitches), ``"all"`` (every movement gated, the counterfactual), or ``"none"``.

What it predicts: the gate removes exactly the part of the feedback that the command explains,
so a map that is learned from the covariance of command and consequence (the motor map,
``schema.*``; the Hebbian reflexes, ``reflex.*``) loses its signal wherever the gate acts, while a
map that needs only movement (the proprioceptive map, ``proprio.*``, spindle length against joint
angle) keeps whatever movement the prediction misses. With gating in wake only, twitch-driven
learning is untouched and awake-movement learning of the motor map fails: twitches are then the
only teacher of the motor map, as Tiriac & Blumberg's data suggest for the infant.

The predictor is updated after the gate has used it on a batch (causal), with a forgetting
factor ``decay`` per step; it starts subtracting after ``warmup_steps`` steps of data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from robot_twitch.errors import ConfigError
from robot_twitch.learn.base import RunningMoments, TransitionBatch, ridge_regression
from robot_twitch.learn.filters import first_order_filter

GATE_MODES = ("none", "wake", "all")
_STATE_CODES = {"wake": (0,), "all": (0, 1, 2), "none": ()}


@dataclass(frozen=True)
class GateConfig:
    """Reafference gating (experiment 5; robot_twitch.learn.gate)."""

    mode: Literal["none", "wake", "all"] = "none"
    """none: learners see raw feedback; wake: the reafference predicted from the efference copy is
    removed in wake (corollary discharge accompanies wake movements, not twitches; Tiriac &
    Blumberg 2016); all: it is removed in every state."""
    taus_s: tuple[float, ...] = (0.02, 0.06, 0.2, 0.6, 2.0)
    """Time constants of the low-pass filters that turn the command into the predictor's inputs [s]."""
    decay: float = 0.9999
    """Per-step forgetting factor of the predictor's statistics (memory 1 / (1 - decay) steps)."""
    ridge: float = 1e-6
    """Tikhonov term of the predictor, relative to the mean input variance."""
    warmup_steps: int = 200
    """Steps of data before the predictor's output is subtracted."""

    def __post_init__(self) -> None:
        if self.mode not in GATE_MODES:
            raise ConfigError(None, "learners.gate.mode", f"{self.mode!r} is invalid: expected one of {GATE_MODES}")
        if not self.taus_s or any(not t > 0 for t in self.taus_s):
            raise ConfigError(None, "learners.gate.taus_s", f"{self.taus_s!r} is invalid: expected positive times")
        if not 0.0 < self.decay <= 1.0:
            raise ConfigError(None, "learners.gate.decay", f"{self.decay!r} is invalid: expected a number in (0, 1]")
        if not self.ridge >= 0 or self.warmup_steps < 0:
            raise ConfigError(None, "learners.gate.ridge", "ridge and warmup_steps must be >= 0")


class ReafferenceGate:
    """Efference-copy predictor plus gate; ``apply(batch, state_codes)`` returns the gated batch.

    Shapes: T steps, M muscles, K filters, S sensor channels.
    """

    def __init__(self, config: GateConfig, dt_s: float) -> None:
        self.config = config
        self.dt_s = float(dt_s)
        self._keep = np.exp(-self.dt_s / np.asarray(config.taus_s, dtype=float))  # (K,)
        self._gated_codes = np.array(_STATE_CODES[config.mode], dtype=np.int64)
        self._filters: np.ndarray | None = None  # (K, M) filter states after the last step
        self._moments: RunningMoments | None = None
        self._last_efference: np.ndarray | None = None  # (M K) efference copy after the last step

    def efference(self, command: np.ndarray) -> np.ndarray:
        """(T, M K) the command through the K low-pass filters, continuing the filter states."""
        t, m = command.shape
        if self._filters is None:
            self._filters = np.zeros((len(self._keep), m))
        out = np.empty((t, len(self._keep), m))
        for k, keep in enumerate(self._keep):
            y = first_order_filter(command, keep, 1.0 - keep, self._filters[k])
            out[:, k] = y
            self._filters[k] = y[-1] if t else self._filters[k]
        return out.reshape(t, -1)

    def predicted(self, efference: np.ndarray) -> np.ndarray | None:
        """(T, S) self-generated part of the sensor readings that the efference copy predicts,
        or None before warm-up."""
        mom = self._moments
        if mom is None or mom.count < max(1, self.config.warmup_steps):
            return None
        n_x = efference.shape[1]
        coef, _ = ridge_regression(mom, n_x, self.config.ridge)
        return (efference - mom.mean[:n_x]) @ coef

    def apply(self, batch: TransitionBatch, state_codes: np.ndarray) -> TransitionBatch:
        """The batch the learners see: in gated states, every reading minus its predicted part.

        Args:
            batch: the raw transitions.
            state_codes: (T,) sleep state of each step (0 wake, 1 quiet, 2 active).
        """
        codes = np.asarray(state_codes)
        if codes.shape != (len(batch),):
            raise ValueError(f"state_codes must have shape ({len(batch)},), got {codes.shape}")
        if self._last_efference is None:
            self._last_efference = np.zeros(batch.command.shape[1] * len(self._keep))
        after = self.efference(batch.command)  # efference copy through each step
        before = np.concatenate([self._last_efference[None], after[:-1]])  # ... through the previous
        self._last_efference = after[-1].copy()
        out = batch
        pred_before, pred_after = self.predicted(before), self.predicted(after)
        if pred_before is not None and pred_after is not None and self._gated_codes.size:
            mask = np.isin(codes, self._gated_codes)[:, None]
            out = dataclasses.replace(batch, sensors=batch.sensors - pred_before * mask,
                                      next_sensors=batch.next_sensors - pred_after * mask)
        if self._moments is None:
            self._moments = RunningMoments(after.shape[1] + batch.layout.size, self.config.decay)
        self._moments.update(np.concatenate([after, batch.next_sensors], axis=1))
        return out

    def state_dict(self) -> dict[str, Any]:
        return {"filters": None if self._filters is None else self._filters.copy(),
                "last_efference": None if self._last_efference is None else self._last_efference.copy(),
                "moments": None if self._moments is None else self._moments.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        filters = state["filters"]
        self._filters = None if filters is None else np.array(filters, dtype=float)
        last = state["last_efference"]
        self._last_efference = None if last is None else np.array(last, dtype=float)
        moments = state["moments"]
        self._moments = None if moments is None else RunningMoments.from_state_dict(moments)


__all__ = ["GATE_MODES", "GateConfig", "ReafferenceGate"]
