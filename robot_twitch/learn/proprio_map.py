"""Proprioceptive map: which spindle stretches when which joint turns, P (M, J) ~ R / l_opt.

Principle of virtual work: the moment arm is R = -dl/dq (An, Takahashi, Harrigan & Chao 1984,
J Biomech Eng; Delp & Loan 1995), so over one step the spindle length change obeys
dl_i ~ -sum_j R_ij dq_j. Regressing the change of normalised spindle length on the joint-angle
change gives -R_ij / l_opt_i: R up to the positive per-muscle scale 1/l_opt. Independent of
inertia, gravity and contact.

It uses no motor command: any movement teaches it, including a limb moved only from outside
(the ``passive`` drive). It is therefore scored as ``proprio.*``, not as the body schema; the
motor map (learn/motor_map.py), learned from each muscle's own command, is ``schema.*``.
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
    ridge_regression,
)
from robot_twitch.sensors_layout import SensorLayout


class ProprioMapLearner:
    """Online least-squares estimate of R (M, J) from spindle length and joint angle changes.

    Args:
        ridge: Tikhonov term relative to the mean regressor variance.
        decay: per-step forgetting factor in (0, 1] (1 = plain running statistics).
        min_motion: steps whose joint motion is below this fraction of the running RMS motion
            are skipped (readings at rest carry only noise).
        name: learner name.
    """

    def __init__(self, ridge: float = 1e-6, decay: float = 1.0, min_motion: float = 0.0,
                 name: str = "proprio") -> None:
        if ridge < 0 or min_motion < 0:
            raise ValueError("ridge and min_motion must be >= 0")
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        self.name = name
        self.ridge = float(ridge)
        self.decay = float(decay)
        self.min_motion = float(min_motion)
        self._layout: SensorLayout | None = None
        self._moments: RunningMoments | None = None

    def _rows(self, batch: TransitionBatch) -> np.ndarray:
        dq = batch.layout.group(batch.delta, "joint_pos")
        dl = batch.layout.group(batch.delta, "spindle_length")
        if self.min_motion > 0 and self._moments is not None and self._moments.weight > 0:
            rms = np.sqrt(np.trace(self._moments.cov[: dq.shape[1], : dq.shape[1]]))
            keep = np.linalg.norm(dq, axis=1) >= self.min_motion * rms
            dq, dl = dq[keep], dl[keep]
        return np.concatenate([dq, dl], axis=1)

    def observe(self, batch: TransitionBatch) -> None:
        self._layout = check_layout(batch, self._layout, self.name)
        n_m, n_j = len(batch.layout.muscle_names), len(batch.layout.joint_names)
        if self._moments is None:
            self._moments = RunningMoments(n_j + n_m, self.decay)
        rows = self._rows(batch)
        if rows.shape[0]:
            self._moments.update(rows)

    def estimate(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (proprio_map (M, J), stderr (M, J)); sign convention of R (flexion > 0)."""
        if self._moments is None or self._layout is None or self._moments.count < 2:
            raise ValueError(f"{self.name}: not enough data observed yet")
        coef, se = ridge_regression(self._moments, len(self._layout.joint_names), self.ridge)
        return -coef.T, se.T  # coef (J, M): dl/dq -> R = -dl/dq

    def body_map(self) -> dict[str, np.ndarray]:
        """``proprio_map`` (M, J) R up to a positive scale per muscle; ``proprio_map_stderr``
        (M, J) standard errors of its entries."""
        est, se = self.estimate()
        return {"proprio_map": est, "proprio_map_stderr": se}

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ridge": self.ridge,
            "decay": self.decay,
            "min_motion": self.min_motion,
            "layout": layout_to_state(self._layout),
            "moments": None if self._moments is None else self._moments.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__init__(ridge=float(state["ridge"]), decay=float(state["decay"]),  # type: ignore[misc]
                      min_motion=float(state["min_motion"]), name=str(state["name"]))
        self._layout = layout_from_state(state["layout"])
        m = state["moments"]
        self._moments = None if m is None else RunningMoments.from_state_dict(m)
