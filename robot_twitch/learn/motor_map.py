"""Motor map: what each muscle does to the joints, learned from its own command and the sensory
consequence that follows (efference -> reafference).

This is the body schema that movement alone cannot teach: a muscle's row is estimated only from
steps in which that muscle was commanded, so a muscle never commanded has no row (NaN), and a
limb that is only moved from outside (the ``passive`` drive) teaches no motor map at all.

Method: online system identification (Ljung 1999, ch. 7; the "twitch-driven" identification of
Marques, Bharadwaj & Iida 2014 and of Kwiatkowski & Lipson 2019 with the muscle command as input).
The joint acceleration over each control step is regressed on

    a (M)       the command low-passed by first-order activation dynamics (Thelen 2003: 10 ms
                activation, 40 ms deactivation), the efference copy of what the muscles do;
    q, qdot (J) nuisance regressors that absorb the passive dynamics (gravity, passive
                stiffness, joint viscosity; Ljung's "known structure" terms);
    touch (L)   contact forces before and after the step (floor and self-contact), nuisance;

    qddot ~ C^T a + K^T q + D^T qdot + E^T touch + c.

For a limb M(q) qddot + B qdot + G(q) = R^T (F_max a) the response C^T = M^-1 R^T F_max mixes
each muscle's action with the inertia of every segment it accelerates (a shoulder flexor also
swings the forearm back), and D^T = -M^-1 B. The readout removes the inertia:

    A = -C D^-1 = F_max R B^-1     (M, J),

each muscle's moment-arm row with each joint scaled by that joint's viscosity: where the twitch
leaves the limb once the viscous joints have absorbed its impulse. It is R up to a positive scale
per muscle (F_max) and per joint (1 / b_j): the schema metrics compare maps up to these scales
(robot_twitch/evaluation/action_map.py). ``decouple=False`` returns the raw response C.
"""

from __future__ import annotations

from collections import deque
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


def activation_filter(command: np.ndarray, state: np.ndarray, dt_s: float, tau_act_s: float,
                      tau_deact_s: float) -> np.ndarray:
    """First-order activation with separate rise and fall time constants (Thelen 2003).

    Args:
        command: (T, M) excitations.
        state: (M,) activation before the first step; updated in place to the last row.
        dt_s: control step [s].

    Returns:
        (T, M) activation during each step (after the step's update).
    """
    k_up = 1.0 if tau_act_s <= 0 else 1.0 - np.exp(-dt_s / tau_act_s)
    k_down = 1.0 if tau_deact_s <= 0 else 1.0 - np.exp(-dt_s / tau_deact_s)
    out = np.empty_like(command)
    a = state
    for t in range(command.shape[0]):
        u = command[t]
        a += np.where(u > a, k_up, k_down) * (u - a)
        out[t] = a
    return out


class MotorMapLearner:
    """Online estimate of each muscle's action on the joints from its command (see module doc).

    Args:
        activation_time_constant_s: assumed activation time constant [s].
        deactivation_time_constant_s: assumed deactivation time constant [s].
        delay_steps: afferent delay of the sensors in control steps: the command of step t is
            paired with the sensory change of step t + delay_steps.
        decouple: remove the inertial coupling (A = -C D^-1); False returns the response C.
        contact_regressors: add touch before and after each step as nuisance regressors.
        ridge: Tikhonov term relative to the mean regressor variance.
        decay: per-step forgetting factor in (0, 1] (1 = plain running statistics).
        min_commanded_steps: a muscle's row is defined once it was commanded (excitation above
            ``command_threshold``) in at least this many steps; before that it is NaN. With
            ``decay`` < 1 the count fades too, so a muscle no longer commanded (lost, or no
            longer twitching) is eventually forgotten: its row returns to NaN.
        command_threshold: excitation above which a step counts as commanded.
        dt_s: control step [s] when batches carry no ``time_s``.
        name: learner name.
    """

    def __init__(
        self,
        activation_time_constant_s: float = 0.010,
        deactivation_time_constant_s: float = 0.040,
        delay_steps: int = 0,
        decouple: bool = True,
        contact_regressors: bool = True,
        ridge: float = 1e-6,
        decay: float = 1.0,
        min_commanded_steps: int = 3,
        command_threshold: float = 0.01,
        dt_s: float = 0.01,
        name: str = "motor_map",
    ) -> None:
        if activation_time_constant_s < 0 or deactivation_time_constant_s < 0:
            raise ValueError("activation time constants must be >= 0")
        if int(delay_steps) != delay_steps or delay_steps < 0:
            raise ValueError(f"delay_steps must be an integer >= 0, got {delay_steps!r}")
        if ridge < 0 or dt_s <= 0 or command_threshold < 0 or min_commanded_steps < 1:
            raise ValueError("ridge and command_threshold must be >= 0, dt_s > 0, "
                             "min_commanded_steps >= 1")
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"decay must be in (0, 1], got {decay}")
        self.name = name
        self.activation_time_constant_s = float(activation_time_constant_s)
        self.deactivation_time_constant_s = float(deactivation_time_constant_s)
        self.delay_steps = int(delay_steps)
        self.decouple = bool(decouple)
        self.contact_regressors = bool(contact_regressors)
        self.ridge = float(ridge)
        self.decay = float(decay)
        self.min_commanded_steps = int(min_commanded_steps)
        self.command_threshold = float(command_threshold)
        self.dt_s = float(dt_s)
        self._layout: SensorLayout | None = None
        self._moments: RunningMoments | None = None
        self._act: np.ndarray | None = None  # (M,) activation estimate after the last step
        self._pending: deque[np.ndarray] = deque()  # activations waiting for their delayed response
        self._commanded: np.ndarray | None = None  # (M,) steps each muscle was commanded (decayed)

    # -- regressors -------------------------------------------------------------------------
    def _dims(self) -> tuple[int, int, int]:
        assert self._layout is not None
        n_l = len(self._layout.link_names) if self.contact_regressors else 0
        return len(self._layout.muscle_names), len(self._layout.joint_names), n_l

    def _dt(self, batch: TransitionBatch) -> float:
        if batch.time_s is not None and len(batch) > 1:
            return float(np.median(np.diff(batch.time_s)))
        return self.dt_s

    def observe(self, batch: TransitionBatch) -> None:
        self._layout = check_layout(batch, self._layout, self.name)
        n_m, n_j, n_l = self._dims()
        if self._moments is None:
            self._moments = RunningMoments(n_m + 2 * n_j + 2 * n_l + n_j, self.decay)
            self._act = np.zeros(n_m)
            self._commanded = np.zeros(n_m)
        assert self._act is not None and self._commanded is not None
        dt = self._dt(batch)
        act = activation_filter(batch.command, self._act, dt, self.activation_time_constant_s,
                                self.deactivation_time_constant_s)
        commanded = batch.command > self.command_threshold
        if self.decay < 1.0:  # forgotten like the statistics: a muscle not commanded for long fades
            n_t = len(batch)
            w = self.decay ** np.arange(n_t - 1, -1, -1, dtype=np.float64)
            self._commanded = self._commanded * self.decay**n_t + w @ commanded
        else:
            self._commanded = self._commanded + commanded.sum(axis=0)
        if self.delay_steps:
            # the sensors report each step delay_steps later: pair a_t with transition t + d
            self._pending.extend(act)
            n_ready = max(0, len(self._pending) - self.delay_steps)
            n_use = min(n_ready, len(batch))
            if n_use < len(batch):  # the first batches: no activation old enough for their start
                batch = batch.slice(len(batch) - n_use, len(batch))
            act = np.array([self._pending.popleft() for _ in range(n_use)]).reshape(n_use, n_m)
        if len(batch) == 0:
            return
        lay = batch.layout
        q, qd = batch.group("joint_pos"), batch.group("joint_vel")
        qdd = lay.group(batch.delta, "joint_vel") / dt
        parts = [act, q, qd]
        if n_l:
            parts += [batch.group("touch"), batch.group("touch", after=True)]
        self._moments.update(np.concatenate([*parts, qdd], axis=1))

    # -- readout ----------------------------------------------------------------------------
    def commanded_steps(self) -> np.ndarray:
        """(M,) number of observed steps in which each muscle was commanded (with ``decay`` < 1,
        each step's count fades like the statistics do)."""
        if self._commanded is None:
            raise ValueError(f"{self.name}: no data observed yet")
        return self._commanded.copy()

    def estimate(self) -> tuple[np.ndarray, np.ndarray]:
        """(motor_map (M, J) with NaN rows for muscles not yet commanded, response C (M, J))."""
        if self._moments is None or self._layout is None or self._moments.count < 2:
            raise ValueError(f"{self.name}: not enough data observed yet")
        n_m, n_j, n_l = self._dims()
        coef, _ = ridge_regression(self._moments, n_m + 2 * n_j + 2 * n_l, self.ridge)
        response = coef[:n_m].copy()  # (M, J) joint acceleration per unit activation
        action = response
        if self.decouple:
            d = coef[n_m + n_j: n_m + 2 * n_j]  # (J, J): qdd_j += sum_k d[k, j] qd_k
            with np.errstate(all="ignore"):
                try:
                    action = -np.linalg.solve(d.T, response.T).T
                except np.linalg.LinAlgError:
                    action = np.full_like(response, np.nan)
            if not np.all(np.isfinite(action)):
                action = response  # passive dynamics not identified yet: the raw response
        undefined = self.commanded_steps() < self.min_commanded_steps
        action = action.copy()
        action[undefined] = np.nan
        response[undefined] = np.nan
        return action, response

    def body_map(self) -> dict[str, np.ndarray]:
        """``motor_map`` (M, J): each muscle's action, R up to positive scales per muscle and per
        joint, NaN rows for muscles never commanded; ``motor_response`` (M, J): joint
        acceleration per unit activation (the raw response C); ``motor_commanded_steps`` (M,)."""
        action, response = self.estimate()
        return {"motor_map": action, "motor_response": response,
                "motor_commanded_steps": self.commanded_steps()}

    # -- state ------------------------------------------------------------------------------
    _PARAMS = ("activation_time_constant_s", "deactivation_time_constant_s", "delay_steps",
               "decouple", "contact_regressors", "ridge", "decay", "min_commanded_steps",
               "command_threshold", "dt_s", "name")

    def state_dict(self) -> dict[str, Any]:
        return {
            **{p: getattr(self, p) for p in self._PARAMS},
            "layout": layout_to_state(self._layout),
            "moments": None if self._moments is None else self._moments.state_dict(),
            "act": None if self._act is None else self._act.copy(),
            "pending": [a.copy() for a in self._pending],
            "commanded": None if self._commanded is None else self._commanded.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.__init__(**{p: state[p] for p in self._PARAMS})  # type: ignore[misc]
        self._layout = layout_from_state(state["layout"])
        m = state["moments"]
        self._moments = None if m is None else RunningMoments.from_state_dict(m)
        self._act = None if state["act"] is None else np.array(state["act"], dtype=np.float64)
        self._pending = deque(np.array(a, dtype=np.float64) for a in state["pending"])
        c = state["commanded"]
        self._commanded = None if c is None else np.array(c, dtype=np.float64)
