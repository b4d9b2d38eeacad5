"""Batched forward kinematics and muscle-path geometry.

All functions work on a leading batch axis B (many limbs, or many postures of one limb), so
the same code serves one env, a vector of limbs, and the calibration sweep over joint ranges.

Moment arms use screw theory: a joint's twist xi_j = (omega_j, v_j) moves a point p with
velocity omega_j x p + v_j; a straight path segment with unit direction u from point a has
Plücker coordinates (a x u, u). The rate of change of the segment length per unit joint motion
is their reciprocal product, counted only when the joint lies between the segment's two ends.
Summing over a muscle's segments gives dl/dq, and the moment arm R = -dl/dq (Delp & Loan 1995;
Sherman, Seth & Delp 2013, "What is a moment arm?").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robot_twitch.body.urdf import Skeleton, rpy_to_matrix

_X, _Y, _Z = [1, 2, 0], [2, 0, 1], [0, 1, 2]


def cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cross product over the last axis (faster than np.cross for small arrays)."""
    return a[..., _X] * b[..., _Y] - a[..., _Y] * b[..., _X]


def _skew(axis: np.ndarray) -> np.ndarray:
    x, y, z = axis
    return np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])


@dataclass
class PathGeometry:
    """Muscle-path points and segments, indexed once at load.

    P path points in total, G straight segments, M muscles, J movable joints.
    """

    point_link: np.ndarray  # (P,) link index of each point
    point_local_m: np.ndarray  # (P, 3) position in its link frame
    segment_start: np.ndarray  # (G,) point index
    segment_end: np.ndarray  # (G,) point index
    segment_muscle: np.ndarray  # (M, G) 1 where segment belongs to muscle
    segment_crossing: np.ndarray  # (G, J) +1 end moves with joint, -1 start does, 0 neither/both


class Kinematics:
    """Forward kinematics of a Skeleton for a batch of joint configurations.

    q has shape (B, J) over the movable joints in `joint_names` order.
    """

    def __init__(self, skeleton: Skeleton) -> None:
        self.skeleton = skeleton
        self.link_names = skeleton.link_names
        self.link_index = {name: i for i, name in enumerate(self.link_names)}
        movable = skeleton.movable_joints
        self.joint_names = tuple(j.name for j in movable)
        self.joint_lower = np.array([j.lower for j in movable])
        self.joint_upper = np.array([j.upper for j in movable])
        self.root = self.link_index[skeleton.root_link]
        n_all = len(skeleton.joints)
        # Local transform of every joint (movable and fixed) as C0 + s*C1 + (1-c)*C2 (Rodrigues,
        # premultiplied by the origin rotation), and translation t0 + q*axis_rot for prismatic.
        self._c0 = np.zeros((n_all, 3, 3))
        self._c1 = np.zeros((n_all, 3, 3))
        self._c2 = np.zeros((n_all, 3, 3))
        self._t0 = np.zeros((n_all, 3))
        self._prismatic_dir = np.zeros((n_all, 3))
        self._q_index = np.zeros(n_all, dtype=int)  # column of q (movable) or -1
        self._is_revolute = np.zeros(n_all, dtype=bool)
        self._parent = np.zeros(n_all, dtype=int)
        self._child = np.zeros(n_all, dtype=int)
        movable_names = list(self.joint_names)
        for k, joint in enumerate(skeleton.joints):
            rot = rpy_to_matrix(joint.origin_rpy_rad)
            axis = np.asarray(joint.axis, dtype=float)
            skew = _skew(axis)
            self._c0[k] = rot
            self._t0[k] = joint.origin_xyz_m
            self._parent[k] = self.link_index[joint.parent]
            self._child[k] = self.link_index[joint.child]
            if joint.movable:
                self._q_index[k] = movable_names.index(joint.name)
                if joint.joint_type == "prismatic":
                    self._prismatic_dir[k] = rot @ axis
                else:
                    self._is_revolute[k] = True
                    self._c1[k] = rot @ skew
                    self._c2[k] = rot @ skew @ skew
            else:
                self._q_index[k] = -1
        self._movable_rows = np.flatnonzero(self._q_index >= 0)
        self._movable_child = self._child[self._movable_rows]
        self._axis_local = np.array([j.axis for j in movable], dtype=float).reshape(-1, 3)
        self._movable_revolute = self._is_revolute[self._movable_rows]
        # descends[j, l]: link l moves with movable joint j.
        self.descends = np.zeros((len(movable), len(self.link_names)), dtype=bool)
        for jj, joint in enumerate(movable):
            for li, link in enumerate(self.link_names):
                if joint.child in skeleton.ancestors(link):
                    self.descends[jj, li] = True

    @property
    def n_joints(self) -> int:
        return len(self.joint_names)

    def link_frames(
        self, q: np.ndarray, root_rot: np.ndarray, root_pos_m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """World rotation (B, L, 3, 3) and origin (B, L, 3) of every link frame.

        q: (B, J) joint positions; root_rot: (B, 3, 3) or (3, 3); root_pos_m: (B, 3) or (3,).
        """
        batch = q.shape[0]
        n_joints = len(self.joint_names)
        q_mov = q[:, self._q_index[self._movable_rows]]
        sin_q = np.sin(q_mov)[..., None, None]
        vers_q = (1.0 - np.cos(q_mov))[..., None, None]
        mov = self._movable_rows
        local_rot_mov = self._c0[mov] + sin_q * self._c1[mov] + vers_q * self._c2[mov]  # (B, J, 3, 3)
        local_pos_mov = self._t0[mov] + q_mov[..., None] * self._prismatic_dir[mov]  # (B, J, 3)
        rots: list[np.ndarray | None] = [None] * len(self.link_names)
        poss: list[np.ndarray | None] = [None] * len(self.link_names)
        rots[self.root] = np.broadcast_to(root_rot, (batch, 3, 3))
        poss[self.root] = np.broadcast_to(root_pos_m, (batch, 3))
        slot = 0
        for k in range(len(self._c0)):
            parent_rot, parent_pos = rots[self._parent[k]], poss[self._parent[k]]
            if self._q_index[k] >= 0:
                local_rot, local_pos = local_rot_mov[:, slot], local_pos_mov[:, slot]
                slot += 1
                rots[self._child[k]] = parent_rot @ local_rot
                poss[self._child[k]] = parent_pos + (parent_rot @ local_pos[..., None])[..., 0]
            else:
                rots[self._child[k]] = parent_rot @ self._c0[k]
                poss[self._child[k]] = parent_pos + parent_rot @ self._t0[k]
        assert slot == n_joints
        return np.stack(rots, axis=1), np.stack(poss, axis=1)  # type: ignore[arg-type]

    def joint_twists(self, rot: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Unit twists (B, J, 6) = (omega, v) of the movable joints in world coordinates."""
        child_rot = rot[:, self._movable_child]  # (B, J, 3, 3)
        axis_world = (child_rot @ self._axis_local[..., None])[..., 0]  # (B, J, 3)
        origin = pos[:, self._movable_child]
        revolute = self._movable_revolute[:, None]
        omega = np.where(revolute, axis_world, 0.0)
        v = np.where(revolute, cross(origin, axis_world), axis_world)
        return np.concatenate([omega, v], axis=-1)


class MusclePathModel:
    """Muscle-tendon lengths l(q) and moment arms R(q) = -dl/dq for a batch of postures."""

    def __init__(self, kinematics: Kinematics, geometry: PathGeometry) -> None:
        self.kinematics = kinematics
        self.geometry = geometry

    def points_world(self, rot: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """World positions (B, P, 3) of all path points."""
        g = self.geometry
        return pos[:, g.point_link] + (rot[:, g.point_link] @ g.point_local_m[..., None])[..., 0]

    def evaluate(
        self, q: np.ndarray, root_rot: np.ndarray, root_pos_m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lengths (B, M) [m], moment arms (B, M, J) [m or dimensionless], points (B, P, 3) [m]."""
        g = self.geometry
        rot, pos = self.kinematics.link_frames(q, root_rot, root_pos_m)
        points = self.points_world(rot, pos)
        start = points[:, g.segment_start]
        delta = points[:, g.segment_end] - start
        seg_len = np.sqrt(np.einsum("bgk,bgk->bg", delta, delta))
        unit = delta / np.maximum(seg_len, 1e-12)[..., None]
        line = np.concatenate([cross(start, unit), unit], axis=-1)  # (B, G, 6) Plücker
        twists = self.kinematics.joint_twists(rot, pos)  # (B, J, 6)
        rate = (line @ twists.transpose(0, 2, 1)) * g.segment_crossing  # (B, G, J) dl_g/dq_j
        lengths = seg_len @ g.segment_muscle.T
        moment_arms = -(g.segment_muscle @ rate)
        return lengths, moment_arms, points
