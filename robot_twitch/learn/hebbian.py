"""Sensorimotor correlation learning of a reflex map from spontaneous twitches.

Hebbian covariance rule between each muscle's motor signal and each sensor's response
(Marques, Imtiaz, Iida & Pfeifer 2013, Biol Cybern 107:25-37; Petersson, Waldenstroem,
Fahraeus & Schouenborg 2003, Nature 424:72-75): C_ij = corr(x_i, y_j), accumulated online with
running means, where
- x_i is an eligibility trace of muscle i's command, e_t = exp(-dt/tau) e_{t-1} + u_t, which
  spans the activation delay between a command and its sensory consequence;
- y_j is the sensor's time derivative for position-like groups (joint_pos, spindle_length,
  as in Marques et al. 2013, where it removes the posture confound) and its level after the
  step for rate-like groups (joint_vel, spindle_velocity, tendon_force, touch).

Touch enters as the per-link normal force (the `touch` group, L links). The per-taxel `skin`
group (thousands of channels, in the layout only when a skin learner runs) is left out: a full
covariance over it would cost O(T^2) per step, and per-taxel touch is the job of the withdrawal
and skin-map learners. The touch columns give a withdrawal reflex at link resolution: touch on
link l drives muscle m with weight max(-C[m, l], 0), the muscles whose twitches unloaded the
link (scored against the withdrawal truth: `robot_twitch.evaluation.withdrawal.touch_reflex_weights`).

Readout (see docs/learners.md): the reflex weight from the sensor of muscle k to the motor
neuron of muscle i is W[i, k] = -C[i, k], a negative-feedback reflex that opposes the sensory
consequence of the muscle's own action. Contracting i shortens its own spindle (C_ii < 0 ->
stretch reflex W_ii > 0), lengthens its antagonist k (C_ik > 0 -> reciprocal inhibition
W_ik < 0) and raises its own tendon force (C_ii > 0 -> reverse myotatic W_ii < 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robot_twitch.learn.base import (
    RunningMoments,
    TransitionBatch,
    check_layout,
    layout_from_state,
    layout_to_state,
)
from robot_twitch.learn.filters import first_order_filter
from robot_twitch.sensors_layout import SENSOR_GROUPS, SensorLayout

RATE_GROUPS: tuple[str, ...] = ("joint_pos", "spindle_length")
MUSCLE_GROUPS: tuple[str, ...] = ("spindle_length", "spindle_velocity", "tendon_force")


class HebbianReflexLearner:
    """Online motor-sensor covariance -> reflex matrices per muscle sensor group.

    Args:
        trace_tau_s: time constant of the motor eligibility trace [s]; 0 uses the raw command.
        decay: per-step forgetting factor of the statistics in (0, 1]; 1 = plain running mean.
        dt_s: control step [s], used when batches carry no ``time_s``.
        name: learner name.
    """

    def __init__(
        self,
        trace_tau_s: float = 0.05,
        decay: float = 1.0,
        dt_s: float = 0.01,
        name: str = "hebbian",
    ) -> None:
        if trace_tau_s < 0:
            raise ValueError(f"trace_tau_s must be >= 0, got {trace_tau_s}")
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        if dt_s <= 0:
            raise ValueError(f"dt_s must be > 0, got {dt_s}")
        self.name = name
        self.trace_tau_s = float(trace_tau_s)
        self.decay = float(decay)
        self.dt_s = float(dt_s)
        self._layout: SensorLayout | None = None
        self._moments: RunningMoments | None = None
        self._trace: np.ndarray | None = None

    def reset_trace(self) -> None:
        """Forget the eligibility trace (call between non-contiguous episodes)."""
        if self._trace is not None:
            self._trace[:] = 0.0

    def _motor_signal(self, batch: TransitionBatch) -> np.ndarray:
        u = batch.command
        if self.trace_tau_s == 0:
            return u
        if batch.time_s is not None and len(batch) > 1:
            dt = float(np.median(np.diff(batch.time_s)))
        else:
            dt = self.dt_s
        keep = float(np.exp(-dt / self.trace_tau_s))
        assert self._trace is not None
        # e_t = keep * e_{t-1} + u_t, continuing from the previous batch's last trace
        out = first_order_filter(u, keep, 1.0, self._trace)
        self._trace = out[-1].copy()
        return out

    @staticmethod
    def _n_sensors(layout: SensorLayout) -> int:
        """Sensor channels correlated: all groups but the per-taxel skin (the last group)."""
        return layout.slices["skin"].start if "skin" in layout.slices else layout.size

    def _sensor_signal(self, batch: TransitionBatch) -> np.ndarray:
        y = batch.next_sensors[:, :self._n_sensors(batch.layout)].copy()
        delta = batch.delta
        for g in RATE_GROUPS:
            sl = batch.layout.slices[g]
            y[:, sl] = delta[:, sl]
        return y

    def observe(self, batch: TransitionBatch) -> None:
        self._layout = check_layout(batch, self._layout, self.name)
        n_m, n_s = batch.command.shape[1], self._n_sensors(batch.layout)
        if self._moments is None:
            self._moments = RunningMoments(n_m + n_s, self.decay)
            self._trace = np.zeros(n_m)
        x = self._motor_signal(batch)
        y = self._sensor_signal(batch)
        self._moments.update(np.concatenate([x, y], axis=1))

    def correlation(self) -> np.ndarray:
        """(M, S) Pearson correlation between motor signal i and sensor signal j (S: the layout's
        channels without the skin group)."""
        if self._moments is None or self._layout is None:
            raise ValueError(f"{self.name}: no data observed yet")
        n_m = len(self._layout.muscle_names)
        return self._moments.corr()[:n_m, n_m:]

    def reflex(self, group: str) -> np.ndarray:
        """(M_motor, M_sensor) reflex weights W = -C for a muscle sensor group."""
        if group not in MUSCLE_GROUPS:
            raise ValueError(f"reflex group must be one of {MUSCLE_GROUPS}, got {group!r}")
        assert self._layout is not None
        return -self.correlation()[:, self._layout.slices[group]]

    def body_map(self) -> dict[str, np.ndarray]:
        """Named maps:
        ``hebbian_correlation`` (M, S); ``reflex_<group>`` (M motor, M sensor) for
        spindle_length, spindle_velocity, tendon_force; ``hebbian_joint_vel`` (M, J), the
        twitch-triggered correlation of each muscle with joint velocity (an action-map proxy);
        ``hebbian_touch`` (M, L), the correlation of each muscle with each link's contact force.
        """
        corr = self.correlation()
        assert self._layout is not None
        out = {"hebbian_correlation": corr}
        for g in MUSCLE_GROUPS:
            out[f"reflex_{g}"] = -corr[:, self._layout.slices[g]]
        out["hebbian_joint_vel"] = corr[:, self._layout.slices["joint_vel"]]
        out["hebbian_touch"] = corr[:, self._layout.slices["touch"]]
        return out

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trace_tau_s": self.trace_tau_s,
            "decay": self.decay,
            "dt_s": self.dt_s,
            "layout": layout_to_state(self._layout),
            "moments": None if self._moments is None else self._moments.state_dict(),
            "trace": None if self._trace is None else self._trace.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.name = str(state["name"])
        self.trace_tau_s = float(state["trace_tau_s"])
        self.decay = float(state["decay"])
        self.dt_s = float(state["dt_s"])
        self._layout = layout_from_state(state["layout"])
        moments = state["moments"]
        self._moments = None if moments is None else RunningMoments.from_state_dict(moments)
        trace = state["trace"]
        self._trace = None if trace is None else np.array(trace, dtype=np.float64)


__all__ = ["MUSCLE_GROUPS", "RATE_GROUPS", "SENSOR_GROUPS", "HebbianReflexLearner"]
