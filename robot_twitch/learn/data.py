"""A synthetic linear muscle body and twitch drive, for tests, demos and sanity checks.

The body is the linearisation the learners assume, with a known truth: joint torque
tau = R^T (a * F_max), muscle length l = l0 - R q (so R = -dl/dq), first-order activation.
It has no PyBullet dependency. Shapes: T steps, M muscles, J joints, L links (= J + 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robot_twitch.learn.base import TransitionBatch
from robot_twitch.sensors_layout import SensorLayout


def default_moment_arms_m() -> tuple[tuple[str, ...], np.ndarray]:
    """Six muscles on a two-joint planar limb: two mono-articular pairs and one bi-articular pair.

    Returns:
        names: muscle names (M = 6).
        moment_arms_m: (6, 2) R in metres; positive flexes the joint.
    """
    names = (
        "shoulder_flexor",
        "shoulder_extensor",
        "elbow_flexor",
        "elbow_extensor",
        "biarticular_flexor",
        "biarticular_extensor",
    )
    r = np.array(
        [
            [0.030, 0.0],
            [-0.030, 0.0],
            [0.0, 0.020],
            [0.0, -0.020],
            [0.020, 0.015],
            [-0.020, -0.015],
        ]
    )
    return names, r


def chain_moment_arms_m(n_joints: int) -> tuple[tuple[str, ...], np.ndarray]:
    """A chain of n_joints with a flexor/extensor pair per joint and a bi-articular pair per
    neighbouring joint pair. Returns names and R of shape (2 * n_joints + 2 * (n_joints - 1), J)."""
    if n_joints < 1:
        raise ValueError(f"n_joints must be >= 1, got {n_joints}")
    names: list[str] = []
    rows: list[np.ndarray] = []
    for j in range(n_joints):
        for sign, kind in ((1.0, "flexor"), (-1.0, "extensor")):
            row = np.zeros(n_joints)
            row[j] = sign * 0.025
            names.append(f"j{j}_{kind}")
            rows.append(row)
    for j in range(n_joints - 1):
        for sign, kind in ((1.0, "flexor"), (-1.0, "extensor")):
            row = np.zeros(n_joints)
            row[j], row[j + 1] = sign * 0.015, sign * 0.012
            names.append(f"j{j}{j + 1}_bi_{kind}")
            rows.append(row)
    return tuple(names), np.array(rows)


@dataclass
class LinearBody:
    """Point-mass joints driven by linear muscles (semi-implicit Euler).

    Attributes:
        moment_arms_m: (M, J) R [m].
        muscle_names: M names.
        max_force_n: (M,) F_max [N] (scalar broadcast).
        inertia_kgm2: (J, J) symmetric positive-definite inertia matrix (scalar -> diagonal).
        damping_nms: joint viscous damping [N m s/rad].
        stiffness_nm: passive joint stiffness towards q = 0 [N m/rad].
        activation_tau_s: activation time constant [s]; 0 means force follows u at once.
        optimal_length_m: (M,) l_opt [m]; resting length l0 = l_opt.
        max_velocity_lopt_s: v_max [l_opt/s] used to normalise spindle velocity.
        noise_std: standard deviation of additive sensor noise (normalised units).
        dt_s: control step [s].
    """

    moment_arms_m: np.ndarray
    muscle_names: tuple[str, ...]
    max_force_n: np.ndarray | float = 100.0
    inertia_kgm2: np.ndarray | float = 0.01
    damping_nms: float = 0.05
    stiffness_nm: float = 0.5
    activation_tau_s: float = 0.02
    optimal_length_m: np.ndarray | float = 0.1
    max_velocity_lopt_s: float = 10.0
    noise_std: float = 1e-4
    dt_s: float = 0.01
    joint_names: tuple[str, ...] = field(default=())
    layout: SensorLayout = field(init=False)

    def __post_init__(self) -> None:
        r = np.asarray(self.moment_arms_m, dtype=np.float64)
        if r.ndim != 2 or r.shape[0] != len(self.muscle_names):
            raise ValueError(f"moment_arms_m must be (M, J) with M = {len(self.muscle_names)}")
        self.moment_arms_m = r
        n_m, n_j = r.shape
        self.max_force_n = np.broadcast_to(np.asarray(self.max_force_n, float), (n_m,)).copy()
        self.optimal_length_m = np.broadcast_to(
            np.asarray(self.optimal_length_m, float), (n_m,)
        ).copy()
        inertia = np.asarray(self.inertia_kgm2, dtype=np.float64)
        self.inertia_kgm2 = inertia * np.eye(n_j) if inertia.ndim == 0 else inertia
        if self.inertia_kgm2.shape != (n_j, n_j):
            raise ValueError(f"inertia_kgm2 must be scalar or ({n_j}, {n_j})")
        if not self.joint_names:
            self.joint_names = tuple(f"joint{j}" for j in range(n_j))
        links = tuple(f"link{k}" for k in range(n_j + 1))
        self.layout = SensorLayout(self.joint_names, tuple(self.muscle_names), links)

    @property
    def joint_edges(self) -> tuple[tuple[str, str], ...]:
        """Neighbouring joints of the chain (they share a link)."""
        jn = self.joint_names
        return tuple((jn[k], jn[k + 1]) for k in range(len(jn) - 1))

    def rollout(
        self,
        command: np.ndarray,
        rng: np.random.Generator,
        twitch_onset: np.ndarray | None = None,
    ) -> TransitionBatch:
        """Simulate the body from rest under command (T, M) -> TransitionBatch of T steps."""
        u = np.asarray(command, dtype=np.float64)
        n_m, n_j = self.moment_arms_m.shape
        if u.ndim != 2 or u.shape[1] != n_m:
            raise ValueError(f"command must be (T, {n_m}), got {u.shape}")
        n_t = u.shape[0]
        r, fmax, lopt = self.moment_arms_m, self.max_force_n, self.optimal_length_m
        inv_inertia = np.linalg.inv(self.inertia_kgm2)
        tau_s = self.activation_tau_s
        alpha = 1.0 if tau_s <= 0 else 1.0 - np.exp(-self.dt_s / tau_s)
        q, qd, act = np.zeros(n_j), np.zeros(n_j), np.zeros(n_m)
        readings = np.empty((n_t + 1, self.layout.size))
        readings[0] = self._reading(q, qd, act, r, lopt)
        for t in range(n_t):
            act = act + alpha * (u[t] - act)
            tau = r.T @ (act * fmax) - self.damping_nms * qd - self.stiffness_nm * q
            qd = qd + self.dt_s * (inv_inertia @ tau)
            q = q + self.dt_s * qd
            readings[t + 1] = self._reading(q, qd, act, r, lopt)
        noise = self.noise_std * rng.standard_normal(readings.shape)
        noise[:, self.layout.slices["touch"]] = 0.0  # free limb: no contact, no touch noise
        readings += noise
        return TransitionBatch(
            command=u,
            sensors=readings[:-1],
            next_sensors=readings[1:],
            layout=self.layout,
            twitch_onset=twitch_onset,
            time_s=self.dt_s * np.arange(n_t),
        )

    def _reading(
        self, q: np.ndarray, qd: np.ndarray, act: np.ndarray, r: np.ndarray, lopt: np.ndarray
    ) -> np.ndarray:
        length = (lopt - r @ q) / lopt
        velocity = -(r @ qd) / (lopt * self.max_velocity_lopt_s)
        touch = np.zeros(len(self.layout.link_names))
        return np.concatenate([q, qd, length, velocity, act, touch])


def twitch_commands(
    n_steps: int,
    n_muscles: int,
    rng: np.random.Generator,
    *,
    rate_hz: float = 2.0,
    duration_steps: int = 3,
    amplitude: float = 1.0,
    dt_s: float = 0.01,
    simultaneous: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Isolated twitches on a silent background.

    Onsets come as a Poisson process of ``rate_hz`` (whole body); each onset picks
    ``simultaneous`` distinct muscles at random and drives them with a rectangular pulse.

    Returns:
        command: (T, M) excitations in [0, 1].
        onset: (T, M) bool twitch onsets.
    """
    if n_steps < 1 or n_muscles < 1:
        raise ValueError("n_steps and n_muscles must be >= 1")
    if not 1 <= simultaneous <= n_muscles:
        raise ValueError(f"simultaneous must be in [1, {n_muscles}], got {simultaneous}")
    cmd = np.zeros((n_steps, n_muscles))
    onset = np.zeros((n_steps, n_muscles), dtype=bool)
    starts = np.flatnonzero(rng.random(n_steps) < rate_hz * dt_s)
    for t0 in starts:
        muscles = rng.choice(n_muscles, size=simultaneous, replace=False)
        onset[t0, muscles] = True
        cmd[t0 : t0 + duration_steps, muscles] = amplitude
    return np.clip(cmd, 0.0, 1.0), onset


def synthetic_twitch_batch(
    seed: int = 0,
    n_steps: int = 4000,
    body: LinearBody | None = None,
    **twitch_kwargs: float,
) -> tuple[LinearBody, TransitionBatch]:
    """Convenience: the default 6-muscle body under isolated twitches."""
    if body is None:
        names, r = default_moment_arms_m()
        body = LinearBody(r, names)
    rng = np.random.default_rng(seed)
    cmd, onset = twitch_commands(
        n_steps, len(body.muscle_names), rng, dt_s=body.dt_s, **twitch_kwargs  # type: ignore[arg-type]
    )
    return body, body.rollout(cmd, rng, twitch_onset=onset)
