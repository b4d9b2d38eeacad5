"""Spinal reflexes read out of the body schema: the spindle of muscle k excites the muscles whose
contraction would shorten it and inhibits those whose contraction would stretch it.

The Hebbian learner (learn/hebbian.py) credits a muscle with everything that follows its
command, including the motion of other segments that the twitch swings by inertia. On the leg a
twitch of iliopsoas flexes the hip and, by inertia, the knee: rectus femoris (a hip flexor and
knee extensor) is stretched, so the correlation rule wires rectus's spindle to *inhibit*
iliopsoas, its synergist at the hip (docs/results.md). The reflex that cancels a stretch is about
what each muscle's contraction does to each spindle once the limb has settled:

    W[i, k] = sum_j P[k, j] A[i, j]     (M motor, M sensor)

with A the motor map (each muscle's action, learned from its own command; learn/motor_map.py,
inertia removed) and P the proprioceptive map (how each spindle's length changes with each joint;
learn/proprio_map.py). Contracting i moves the joints by ~A_i; spindle k shortens by ~P_k . A_i; a
reflex that opposes the stretch of k excites i in proportion (negative feedback, as in Marques,
Imtiaz, Iida & Pfeifer 2013). A muscle never commanded has no row (NaN), like its motor map row.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robot_twitch.learn.base import TransitionBatch
from robot_twitch.learn.motor_map import MotorMapLearner
from robot_twitch.learn.proprio_map import ProprioMapLearner


class SchemaReflexLearner:
    """Reflex weights W (M motor, M sensor) = A P^T from a motor map and a proprioceptive map.

    Args:
        decay: forgetting factor of both maps' statistics.
        name: learner name.
        **motor_map: keyword arguments of the inner MotorMapLearner (activation time constants,
            delay_steps, ...).
    """

    def __init__(self, decay: float = 1.0, name: str = "schema_reflex", **motor_map: Any) -> None:
        self.name = name
        self.decay = float(decay)
        self._motor_kwargs = dict(motor_map)
        self._motor = MotorMapLearner(decay=decay, name=f"{name}.motor", **motor_map)
        self._proprio = ProprioMapLearner(decay=decay, name=f"{name}.proprio")

    def observe(self, batch: TransitionBatch) -> None:
        self._motor.observe(batch)
        self._proprio.observe(batch)

    def body_map(self) -> dict[str, np.ndarray]:
        """``schema_reflex_spindle`` (M motor, M sensor): W = A P^T, rows NaN for muscles never
        commanded."""
        action, _ = self._motor.estimate()
        proprio, _ = self._proprio.estimate()
        return {"schema_reflex_spindle": action @ proprio.T}

    def state_dict(self) -> dict[str, Any]:
        return {"name": self.name, "decay": self.decay, "motor_kwargs": dict(self._motor_kwargs),
                "motor": self._motor.state_dict(), "proprio": self._proprio.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__init__(decay=float(state["decay"]), name=str(state["name"]),  # type: ignore[misc]
                      **dict(state["motor_kwargs"]))
        self._motor.load_state_dict(state["motor"])
        self._proprio.load_state_dict(state["proprio"])
