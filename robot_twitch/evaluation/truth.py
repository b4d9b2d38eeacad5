"""The simulator's truth for one body, as the scores read it: moment arms R (M, J) averaged over
the visited postures, which muscles act on which joints, and the kinematic tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from robot_twitch.learn.topology import tree_distances

if TYPE_CHECKING:
    from robot_twitch.body.spec import Body

# |R_ij| counts as "not near zero" above this fraction of the muscle's largest |R_i|
NEAR_ZERO_REL: float = 0.05
# muscle-to-joint truth: |R_ij| above this fraction of max_j |R_ij|
TOPOLOGY_REL: float = 0.1


@dataclass(frozen=True)
class BodyTruth:
    """The simulator's truth for one body.

    Attributes:
        muscle_names: M names.
        joint_names: J names.
        moment_arms: (M, J) mean over visited postures, or (T, M, J) (averaged over T) [m].
        joint_edges: pairs of joints adjacent in the kinematic tree (they share a link).
        link_edges: parent-child link pairs of the URDF tree.
    """

    muscle_names: tuple[str, ...]
    joint_names: tuple[str, ...]
    moment_arms: np.ndarray
    joint_edges: tuple[tuple[str, str], ...] = ()
    link_edges: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        r = np.asarray(self.moment_arms, dtype=np.float64)
        n_m, n_j = len(self.muscle_names), len(self.joint_names)
        if r.ndim == 3:
            r = r.mean(axis=0)
        if r.shape != (n_m, n_j):
            raise ValueError(f"BodyTruth.moment_arms must be ({n_m}, {n_j}) or (T, {n_m}, {n_j}),"
                             f" got {np.shape(self.moment_arms)}")
        if not np.all(np.isfinite(r)):
            raise ValueError("BodyTruth.moment_arms contains NaN or inf")
        object.__setattr__(self, "moment_arms", r)
        for a, b in self.joint_edges:
            if a not in self.joint_names or b not in self.joint_names:
                raise ValueError(f"BodyTruth.joint_edges: unknown joint in edge ({a!r}, {b!r})")

    @property
    def joint_distances(self) -> np.ndarray:
        """(J, J) hop distances between joints in the kinematic tree."""
        idx = {n: k for k, n in enumerate(self.joint_names)}
        edges = [(idx[a], idx[b]) for a, b in self.joint_edges]
        return tree_distances(len(self.joint_names), edges)

    def significant(self, rel: float = NEAR_ZERO_REL) -> np.ndarray:
        """(M, J) bool: |R_ij| > rel * max_j |R_ij|."""
        a = np.abs(self.moment_arms)
        row_max = a.max(axis=1, keepdims=True)
        return (a > rel * row_max) & (row_max > 0)

    def muscle_relations(self) -> np.ndarray:
        """(M, M) int: +1 synergists, -1 antagonists, 0 neither/mixed/unrelated (and diagonal).

        Two muscles are antagonists if they act with opposite sign on every joint they share
        (at least one), synergists if with the same sign on every shared joint.
        """
        sig = self.significant()
        sgn = np.sign(self.moment_arms) * sig
        n_m = sgn.shape[0]
        rel = np.zeros((n_m, n_m), dtype=int)
        for i in range(n_m):
            for k in range(n_m):
                if i == k:
                    continue
                shared = sig[i] & sig[k]
                if not shared.any():
                    continue
                prod = sgn[i, shared] * sgn[k, shared]
                if np.all(prod < 0):
                    rel[i, k] = -1
                elif np.all(prod > 0):
                    rel[i, k] = 1
        return rel


def body_truth(body: Body, moment_arms_mean: np.ndarray, force_scale: np.ndarray) -> BodyTruth:
    """Truth for scoring: mean R over visited postures, zero rows for lost muscles."""
    return BodyTruth(body.muscle_names, body.joint_names, moment_arms_mean * (force_scale > 0)[:, None],
                     joint_edges=body.joint_edges(), link_edges=body.skeleton.link_edges())


def check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``arr`` as float64, or ValueError naming ``name`` if its shape is not ``shape``."""
    a = np.asarray(arr, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    return a
