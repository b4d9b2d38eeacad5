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
from numba import njit


class Plant(Protocol):
    """A limb that takes excitations u (M,) and reports joint angles and velocities (J,)."""

    def reset(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]: ...

    def step(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


def box_least_squares(a: np.ndarray, b: np.ndarray, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """argmin_u ||a u - b||^2 subject to lo <= u <= hi, for a with full column rank.

    The bounded-variable least-squares active-set method (Stark & Parker 1995, the method of
    ``scipy.optimize.lsq_linear(method="bvls")``), compiled for the few muscles of a limb:
    scipy's general solver spent ~0.5 ms per call in Python, and importing scipy.optimize ~1 s.
    Start at the lower bounds; free the held variable whose gradient most wants to move inward;
    solve the normal equations on the free variables (the held ones fixed at their bounds); if
    that solution leaves the box, step towards it until the first free variable meets a bound,
    hold that one, and solve again. tests/learn/test_learn_control.py checks it against scipy.

    Args:
        a: (R, N) with rank N, b: (R,).

    Returns:
        u (N,), the unique minimiser.
    """
    a = np.ascontiguousarray(a, dtype=np.float64)
    b = np.ascontiguousarray(b, dtype=np.float64)
    return _bvls(a.T @ a, a.T @ b, float(lo), float(hi))


@njit(cache=True)
def _cholesky_solve(m: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve m x = rhs for a small symmetric positive-definite m."""
    n = m.shape[0]
    low = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            acc = m[i, j]
            for k in range(j):
                acc -= low[i, k] * low[j, k]
            low[i, j] = np.sqrt(acc) if i == j else acc / low[j, j]
    y = np.empty(n)
    for i in range(n):
        acc = rhs[i]
        for k in range(i):
            acc -= low[i, k] * y[k]
        y[i] = acc / low[i, i]
    x = np.empty(n)
    for i in range(n - 1, -1, -1):
        acc = y[i]
        for k in range(i + 1, n):
            acc -= low[k, i] * x[k]
        x[i] = acc / low[i, i]
    return x


@njit(cache=True)
def _bvls(gram: np.ndarray, atb: np.ndarray, lo: float, hi: float) -> np.ndarray:
    n = gram.shape[0]
    u = np.full(n, lo)
    free = np.zeros(n, dtype=np.bool_)
    tol = 1e-12 * max(1.0, np.abs(atb).max())
    for _ in range(10 * n + 10):
        w = atb - gram @ u  # minus half the gradient
        best, k = tol, -1
        for i in range(n):
            if not free[i]:
                want = w[i] if u[i] <= lo else (-w[i] if u[i] >= hi else 0.0)
                if want > best:
                    best, k = want, i
        if k < 0:
            return u
        free[k] = True
        while True:
            idx = np.flatnonzero(free)
            rhs = atb[idx].copy()
            for p in range(len(idx)):
                for q in range(n):
                    if not free[q]:
                        rhs[p] -= gram[idx[p], q] * u[q]
            z = _cholesky_solve(gram[idx][:, idx], rhs)
            j, alpha = -1, 1.0
            for p in range(len(idx)):
                if z[p] <= lo or z[p] >= hi:
                    bound = lo if z[p] <= lo else hi
                    frac = (bound - u[idx[p]]) / (z[p] - u[idx[p]]) if z[p] != u[idx[p]] else 0.0
                    frac = min(max(frac, 0.0), 1.0)
                    if j < 0 or frac < alpha:
                        j, alpha = p, frac
            if j < 0:
                for p in range(len(idx)):
                    u[idx[p]] = z[p]
                break
            # step from u towards z until the first free variable reaches its bound; hold it
            for p in range(len(idx)):
                u[idx[p]] = min(max(u[idx[p]] + alpha * (z[p] - u[idx[p]]), lo), hi)
            u[idx[j]] = lo if z[j] <= lo else hi
            free[idx[j]] = False
            if not free.any():
                break
    return u


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
    n_m = a.shape[0]
    lhs = np.vstack([a.T, np.sqrt(reg) * np.eye(n_m)])
    rhs = np.concatenate([tau, np.zeros(n_m)])
    return box_least_squares(lhs, rhs)


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
