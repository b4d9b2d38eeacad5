"""Downstream check: reach target postures with a (learned or true) muscle action map.

A joint-space PD law gives the desired torque direction tau* = K (q* - q) - D qdot; the
excitations solve the bounded least-squares muscle-allocation problem
    min_u ||A^T u - tau*||^2 + reg ||u||^2,  0 <= u <= 1
(static optimisation of muscle redundancy, Crowninshield & Brand 1981, J Biomech 14:793),
with A the action map rescaled so that its largest entry is 1 (a learned map is only known up
to a positive scale per muscle; the feedback loop absorbs the rest).

The plant is abstract: anything with ``reset(rng) -> (q, qdot)`` and ``step(u) -> (q, qdot)``.
``LinearPlant`` is a synthetic one (point-mass joints, tau = R^T (u F_max)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Plant(Protocol):
    """A limb that takes excitations u (M,) and reports joint angles and velocities (J,)."""

    def reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]: ...

    def step(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def allocate_excitations(
    action_map: np.ndarray, torque: np.ndarray, reg: float = 1e-3
) -> np.ndarray:
    """Excitations u (M,) in [0, 1] whose action A^T u best matches ``torque`` (J,).

    Args:
        action_map: (M, J) A.
        torque: (J,) desired action, in units of A.
        reg: ridge on u (discourages co-contraction).
    """
    a = np.asarray(action_map, dtype=np.float64)
    tau = np.asarray(torque, dtype=np.float64)
    if a.ndim != 2 or tau.shape != (a.shape[1],):
        raise ValueError(f"action_map (M, J) and torque (J,) disagree: {a.shape}, {tau.shape}")
    from scipy.optimize import lsq_linear  # ~1 s to import: only runs that score reaching pay it

    n_m = a.shape[0]
    lhs = np.vstack([a.T, np.sqrt(reg) * np.eye(n_m)])
    rhs = np.concatenate([tau, np.zeros(n_m)])
    return lsq_linear(lhs, rhs, bounds=(0.0, 1.0), method="bvls").x


@dataclass
class PostureController:
    """PD posture control through muscle allocation.

    Attributes:
        action_map: (M, J) learned or true action map (R up to positive row scales).
        gain_p: stiffness K [normalised torque / rad].
        gain_d: damping D [normalised torque s / rad].
        reg: ridge on excitations.
    """

    action_map: np.ndarray
    gain_p: float = 4.0
    gain_d: float = 0.4
    reg: float = 1e-3

    def __post_init__(self) -> None:
        a = np.asarray(self.action_map, dtype=np.float64)
        if a.ndim != 2 or not np.all(np.isfinite(a)) or np.abs(a).max() == 0:
            raise ValueError("action_map must be a finite, non-zero (M, J) array")
        self._a = a / np.abs(a).max()

    def __call__(self, q: np.ndarray, qdot: np.ndarray, q_target: np.ndarray) -> np.ndarray:
        tau = self.gain_p * (np.asarray(q_target) - q) - self.gain_d * np.asarray(qdot)
        return allocate_excitations(self._a, tau, self.reg)


@dataclass
class LinearPlant:
    """Point-mass joints: qdd = (R^T (u F_max) - b qdot - k q) / I, semi-implicit Euler.

    Attributes:
        moment_arms_m: (M, J) R.
        max_force_n: F_max per muscle [N].
        inertia_kgm2: joint inertia [kg m^2].
        damping_nms: viscous damping [N m s/rad].
        stiffness_nm: passive stiffness towards 0 [N m/rad].
        dt_s: step [s].
        init_range_rad: reset draws q uniformly in +-init_range_rad.
    """

    moment_arms_m: np.ndarray
    max_force_n: float = 100.0
    inertia_kgm2: float = 0.01
    damping_nms: float = 0.05
    stiffness_nm: float = 0.5
    dt_s: float = 0.01
    init_range_rad: float = 0.5

    def __post_init__(self) -> None:
        self.moment_arms_m = np.asarray(self.moment_arms_m, dtype=np.float64)
        n_j = self.moment_arms_m.shape[1]
        self.q, self.qdot = np.zeros(n_j), np.zeros(n_j)

    def reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n_j = self.moment_arms_m.shape[1]
        self.q = rng.uniform(-self.init_range_rad, self.init_range_rad, n_j)
        self.qdot = np.zeros(n_j)
        return self.q.copy(), self.qdot.copy()

    def step(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
        tau = self.moment_arms_m.T @ (u * self.max_force_n)
        tau = tau - self.damping_nms * self.qdot - self.stiffness_nm * self.q
        self.qdot = self.qdot + self.dt_s * tau / self.inertia_kgm2
        self.q = self.q + self.dt_s * self.qdot
        return self.q.copy(), self.qdot.copy()


Policy = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def reach_success_rate(
    plant: Plant,
    policy: Policy,
    targets_rad: np.ndarray,
    rng: np.random.Generator,
    n_steps: int = 300,
    tol_rad: float = 0.1,
) -> tuple[float, np.ndarray]:
    """Run one reach per target and count final-posture successes.

    Args:
        plant: reset/step limb.
        policy: (q, qdot, q_target) -> u (M,).
        targets_rad: (N, J) target postures.
        rng: draws the initial postures.
        n_steps: steps per reach.
        tol_rad: success when max_j |q_j - q*_j| < tol_rad at the end.

    Returns:
        success_rate in [0, 1] and final errors (N,) [rad].
    """
    targets = np.asarray(targets_rad, dtype=np.float64)
    if targets.ndim != 2:
        raise ValueError(f"targets_rad must be (N, J), got {targets.shape}")
    errors = np.empty(len(targets))
    for k, target in enumerate(targets):
        q, qdot = plant.reset(rng)
        for _ in range(n_steps):
            q, qdot = plant.step(policy(q, qdot, target))
        errors[k] = float(np.max(np.abs(q - target)))
    return float(np.mean(errors < tol_rad)), errors


def random_policy(n_muscles: int, rng: np.random.Generator) -> Policy:
    """Baseline: uniform random excitations, ignoring the state."""

    def policy(q: np.ndarray, qdot: np.ndarray, q_target: np.ndarray) -> np.ndarray:
        return rng.random(n_muscles)

    return policy
