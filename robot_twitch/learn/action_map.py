"""Muscle action map: each muscle's effect on each joint, R (M, J) up to a positive scale per row.

Two estimators, both regularised least squares on online running moments:

``method="kinematic"`` (default) - principle of virtual work: the moment arm is R = -dl/dq
    (An, Takahashi, Harrigan & Chao 1984, J Biomech Eng; Delp & Loan 1995), so over one step
    the spindle length change obeys dl_i ~ -sum_j R_ij dq_j. Regressing the change of
    normalised spindle length on the joint-angle change gives -R_ij / l_opt_i: R up to the
    positive per-muscle scale 1/l_opt. Independent of inertia, gravity and contact; it needs
    only that twitches move every joint.
``method="dynamic"`` - twitch-driven system identification: joint acceleration regressed on
    the muscle drive together with nuisance regressors [q, qdot, 1] that absorb the passive,
    gravity and damping terms (Ljung 1999, ch. 7). The drive is the tendon-organ signal F/F_max
    (default) or an activation-filtered command. The coefficient is (M(q)^-1 R^T F_max)^T:
    equal to R up to positive scales only when the inertia matrix M(q) is diagonal; off-diagonal
    inertia leaks each muscle's action onto neighbouring joints.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.signal import lfilter

from robot_twitch.learn.base import (
    RunningMoments,
    TransitionBatch,
    check_layout,
    layout_from_state,
    layout_to_state,
    ridge_regression,
)
from robot_twitch.sensors_layout import SensorLayout

METHODS: tuple[str, ...] = ("kinematic", "dynamic")
DRIVES: tuple[str, ...] = ("tendon_force", "command")


class ActionMapLearner:
    """Online least-squares estimate of the moment-arm matrix R (M, J).

    Args:
        method: "kinematic" (spindle length vs joint angle) or "dynamic" (joint acceleration
            vs muscle drive with [q, qdot, 1] nuisance regressors).
        drive: for "dynamic": "tendon_force" (F/F_max, averaged over the step) or "command"
            (command low-passed with ``activation_tau_s``).
        activation_tau_s: activation time constant assumed for drive="command" [s].
        ridge: Tikhonov term relative to the mean regressor variance.
        decay: per-step forgetting factor in (0, 1] (1 = plain running statistics).
        min_motion: steps whose joint motion is below this fraction of the running RMS motion
            are skipped by the kinematic method (rest frames carry only noise).
        dt_s: control step [s] when batches carry no ``time_s``.
        name: learner name.
    """

    def __init__(
        self,
        method: str = "kinematic",
        drive: str = "tendon_force",
        activation_tau_s: float = 0.02,
        ridge: float = 1e-6,
        decay: float = 1.0,
        min_motion: float = 0.0,
        dt_s: float = 0.01,
        name: str = "action_map",
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        if drive not in DRIVES:
            raise ValueError(f"drive must be one of {DRIVES}, got {drive!r}")
        if ridge < 0 or activation_tau_s < 0 or min_motion < 0 or dt_s <= 0:
            raise ValueError("ridge, activation_tau_s, min_motion must be >= 0 and dt_s > 0")
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        self.name = name
        self.method = method
        self.drive = drive
        self.activation_tau_s = float(activation_tau_s)
        self.ridge = float(ridge)
        self.decay = float(decay)
        self.min_motion = float(min_motion)
        self.dt_s = float(dt_s)
        self._layout: SensorLayout | None = None
        self._moments: RunningMoments | None = None
        self._act: np.ndarray | None = None  # filtered command state (drive="command")

    # -- regressors -------------------------------------------------------------------------
    def _dt(self, batch: TransitionBatch) -> float:
        if batch.time_s is not None and len(batch) > 1:
            return float(np.median(np.diff(batch.time_s)))
        return self.dt_s

    def _n_x(self) -> int:
        assert self._layout is not None
        n_m, n_j = len(self._layout.muscle_names), len(self._layout.joint_names)
        return n_j if self.method == "kinematic" else n_m + 2 * n_j

    def _rows(self, batch: TransitionBatch) -> np.ndarray:
        dt = self._dt(batch)
        if self.method == "kinematic":
            dq = batch.layout.group(batch.delta, "joint_pos")
            dl = batch.layout.group(batch.delta, "spindle_length")
            if self.min_motion > 0 and self._moments is not None and self._moments.weight > 0:
                rms = np.sqrt(np.trace(self._moments.cov[: dq.shape[1], : dq.shape[1]]))
                keep = np.linalg.norm(dq, axis=1) >= self.min_motion * rms
                dq, dl = dq[keep], dl[keep]
            return np.concatenate([dq, dl], axis=1)
        if self.drive == "tendon_force":
            drive = 0.5 * (batch.group("tendon_force") + batch.group("tendon_force", after=True))
        else:
            assert self._act is not None
            alpha = 1.0 if self.activation_tau_s == 0 else 1 - np.exp(-dt / self.activation_tau_s)
            # a_t = (1 - alpha) a_{t-1} + alpha u_t, continuing from the previous batch
            zi = (1.0 - alpha) * self._act[None, :]
            drive, _ = lfilter([alpha], [1.0, alpha - 1.0], batch.command, axis=0, zi=zi)
            self._act = drive[-1].copy()
        q = batch.group("joint_pos")
        qd = batch.group("joint_vel")
        qdd = batch.layout.group(batch.delta, "joint_vel") / dt
        return np.concatenate([drive, q, qd, qdd], axis=1)

    def observe(self, batch: TransitionBatch) -> None:
        self._layout = check_layout(batch, self._layout, self.name)
        n_m, n_j = len(batch.layout.muscle_names), len(batch.layout.joint_names)
        if self._moments is None:
            n_y = n_m if self.method == "kinematic" else n_j
            self._moments = RunningMoments(self._n_x() + n_y, self.decay)
            self._act = np.zeros(n_m)
        rows = self._rows(batch)
        if rows.shape[0]:
            self._moments.update(rows)

    # -- readout ----------------------------------------------------------------------------
    def estimate(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (action_map (M, J), stderr (M, J)); sign convention of R (flexion > 0)."""
        if self._moments is None or self._layout is None or self._moments.count < 2:
            raise ValueError(f"{self.name}: not enough data observed yet")
        n_m = len(self._layout.muscle_names)
        coef, se = ridge_regression(self._moments, self._n_x(), self.ridge)
        if self.method == "kinematic":
            return -coef.T, se.T  # coef (J, M): dl/dq -> R = -dl/dq
        return coef[:n_m], se[:n_m]  # (M, J): qdd per unit drive

    def body_map(self) -> dict[str, np.ndarray]:
        """``action_map`` (M, J) R up to a positive scale per muscle; ``action_map_stderr``
        (M, J) standard errors of its entries."""
        est, se = self.estimate()
        return {"action_map": est, "action_map_stderr": se}

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "method": self.method,
            "drive": self.drive,
            "activation_tau_s": self.activation_tau_s,
            "ridge": self.ridge,
            "decay": self.decay,
            "min_motion": self.min_motion,
            "dt_s": self.dt_s,
            "layout": layout_to_state(self._layout),
            "moments": None if self._moments is None else self._moments.state_dict(),
            "act": None if self._act is None else self._act.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            method=str(state["method"]),
            drive=str(state["drive"]),
            activation_tau_s=float(state["activation_tau_s"]),
            ridge=float(state["ridge"]),
            decay=float(state["decay"]),
            min_motion=float(state["min_motion"]),
            dt_s=float(state["dt_s"]),
            name=str(state["name"]),
        )
        self._layout = layout_from_state(state["layout"])
        m = state["moments"]
        self._moments = None if m is None else RunningMoments.from_state_dict(m)
        act = state["act"]
        self._act = None if act is None else np.array(act, dtype=np.float64)
