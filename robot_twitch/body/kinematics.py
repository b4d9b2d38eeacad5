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


def homogeneous(rot: np.ndarray, pos_m: np.ndarray) -> np.ndarray:
    """Homogeneous transform (..., 4, 4) from rotation (..., 3, 3) and translation (..., 3)."""
    rot, pos_m = np.asarray(rot, dtype=float), np.asarray(pos_m, dtype=float)
    shape = np.broadcast_shapes(rot.shape[:-2], pos_m.shape[:-1])
    out = np.zeros((*shape, 4, 4))
    out[..., :3, :3], out[..., :3, 3], out[..., 3, 3] = rot, pos_m, 1.0
    return out


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
        self._build_moving_frames()

    def _build_moving_frames(self) -> None:
        """Fold fixed joints away and order the J + 1 moving frames by tree depth.

        Moving frame 0 is the root link, frame 1 + s the child link of movable joint s (in q
        order after sorting by depth). Every link is a constant offset (4, 4) from one moving
        frame. A joint's local transform premultiplied by its parent's fixed offset is linear in
        (1, sin q, 1 - cos q, q), so in (1, sin q, cos q, q): basis (J, 4, 16). Joints of one depth
        are one batched matmul.
        """
        n_links, n_mov = len(self.link_names), len(self._movable_rows)
        link_frame = np.full(n_links, -1)
        link_offset = np.zeros((n_links, 4, 4))
        link_frame[self.root], link_offset[self.root] = 0, np.eye(4)
        depth = {0: 0}
        entries = []  # (depth, q column, parent frame, basis (4, 4, 4))
        for k in range(len(self._c0)):
            p, c = self._parent[k], self._child[k]
            offset = link_offset[p]
            if self._q_index[k] < 0:
                local = np.eye(4)
                local[:3, :3], local[:3, 3] = self._c0[k], self._t0[k]
                link_frame[c], link_offset[c] = link_frame[p], offset @ local
                continue
            basis = np.zeros((4, 4, 4))
            basis[0, :3, :3], basis[0, :3, 3], basis[0, 3, 3] = self._c0[k], self._t0[k], 1.0
            basis[1, :3, :3], basis[2, :3, :3] = self._c1[k], self._c2[k]
            basis[3, :3, 3] = self._prismatic_dir[k]
            frame = len(depth)
            depth[frame] = depth[int(link_frame[p])] + 1
            entries.append((depth[frame], int(self._q_index[k]), int(link_frame[p]), offset @ basis, frame))
            link_frame[c], link_offset[c] = frame, np.eye(4)
        # Renumber frames so that every depth level is one contiguous block.
        order = sorted(range(n_mov), key=lambda e: entries[e][0])
        renum = {0: 0, **{entries[e][4]: 1 + i for i, e in enumerate(order)}}
        self._link_frame = np.array([renum[int(f)] for f in link_frame])  # (L,)
        self._link_offset = link_offset  # (L, 4, 4)
        self._frame_q = np.array([entries[e][1] for e in order], dtype=int)  # (J,) q column per frame
        # (J,) parent moving frame of moving frame 1 + i (always an earlier frame).
        self._frame_parent = np.array([renum[entries[e][2]] for e in order], dtype=int)
        basis = np.stack([entries[e][3] for e in order]).reshape(n_mov, 4, 16) if n_mov else \
            np.zeros((0, 4, 16))
        # C0 + s C1 + (1 - c) C2 = (C0 + C2) + s C1 - c C2: coefficients (1, sin q, cos q, q).
        basis[:, 0] += basis[:, 2]
        basis[:, 2] *= -1.0
        self._frame_basis = basis
        self._identity_q = bool(np.array_equal(self._frame_q, np.arange(n_mov)))
        self._levels: list[tuple[slice, int | slice | np.ndarray]] = []
        for level in sorted({entries[e][0] for e in order}):
            idx = [i for i, e in enumerate(order) if entries[e][0] == level]
            parents = np.array([renum[entries[order[i]][2]] for i in idx])
            lo, hi = idx[0], idx[-1] + 1
            if np.all(parents == parents[0]):
                parent_sel: int | slice | np.ndarray = slice(int(parents[0]), int(parents[0]) + 1)
            elif np.array_equal(parents, np.arange(parents[0], parents[0] + len(parents))):
                parent_sel = slice(int(parents[0]), int(parents[0]) + len(parents))
            else:
                parent_sel = parents
            self._levels.append((slice(lo, hi), parent_sel))
        # Per movable joint (q order): its moving frame, and its axis in that frame.
        self._joint_frame = np.zeros(n_mov, dtype=int)
        for i, e in enumerate(order):
            self._joint_frame[entries[e][1]] = 1 + i
        self._all_revolute = bool(self._movable_revolute.all())

    def frames(self, q: np.ndarray, root: np.ndarray) -> np.ndarray:
        """Homogeneous world transforms (B, J + 1, 4, 4) of the moving frames.

        q: (B, J) joint positions; root: (4, 4) or (B, 4, 4) world transform of the root link.
        """
        return self.frame_rows(q, root).transpose(0, 2, 1, 3)

    def frame_rows(self, q: np.ndarray, root_rows: np.ndarray) -> np.ndarray:
        """Rows of the moving frames' world transforms, laid out (B, R, J + 1, 4), C-contiguous.

        root_rows: (R, 4) or (B, R, 4), any R rows of the root's (4, 4) transform (e.g. x, y, z,
        x, y); the result holds the same rows of every moving frame, since rows of T_parent
        @ T_local are those rows of T_parent times T_local. (B, R, 4 (J + 1)) is a free reshape.
        """
        batch, n_mov = q.shape[0], len(self._frame_q)
        q_f = q if self._identity_q else q[:, self._frame_q]
        coef = np.empty((batch, n_mov, 1, 4))
        coef[..., 0, 0] = 1.0
        np.sin(q_f, out=coef[..., 0, 1])
        np.cos(q_f, out=coef[..., 0, 2])
        coef[..., 0, 3] = q_f
        local = np.matmul(coef, self._frame_basis).reshape(batch, n_mov, 4, 4)
        buf = np.empty((batch, root_rows.shape[-2], n_mov + 1, 4))
        out = buf.transpose(0, 2, 1, 3)  # (B, J + 1, R, 4) view
        out[:, 0] = root_rows
        for children, parents in self._levels:
            child = slice(children.start + 1, children.stop + 1)
            np.matmul(out[:, parents], local[:, children], out=out[:, child])
        return buf

    @property
    def n_joints(self) -> int:
        return len(self.joint_names)

    def link_frames(
        self, q: np.ndarray, root_rot: np.ndarray, root_pos_m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """World rotation (B, L, 3, 3) and origin (B, L, 3) of every link frame.

        q: (B, J) joint positions; root_rot: (B, 3, 3) or (3, 3); root_pos_m: (B, 3) or (3,).
        """
        links = self.frames(q, homogeneous(root_rot, root_pos_m))[:, self._link_frame] @ self._link_offset
        return links[..., :3, :3], links[..., :3, 3]

    def joint_twists(self, rot: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Unit twists (B, J, 6) = (omega, v) of the movable joints in world coordinates."""
        child_rot = rot[:, self._movable_child]  # (B, J, 3, 3)
        axis_world = (child_rot @ self._axis_local[..., None])[..., 0]  # (B, J, 3)
        origin = pos[:, self._movable_child]
        revolute = self._movable_revolute[:, None]
        omega = np.where(revolute, axis_world, 0.0)
        v = np.where(revolute, cross(origin, axis_world), axis_world)
        return np.concatenate([omega, v], axis=-1)


_SWAP = np.array([3, 4, 5, 0, 1, 2])
_XYZXY = np.array([0, 1, 2, 0, 1])


def root_rows(root: np.ndarray) -> np.ndarray:
    """Rows x, y, z, x, y (..., 5, 4) of homogeneous transforms (..., 4, 4), as evaluate_rows takes."""
    return root[..., _XYZXY, :]


class MusclePathModel:
    """Muscle-tendon lengths l(q) and moment arms R(q) = -dl/dq for a batch of postures.

    evaluate() maps the moving frames to every vector it needs with one matmul: segment start
    points and joint origins, segment deltas (end - start, linear in the frames) and joint axes,
    and the path points; then one cross product gives the segments' Plücker moments and the
    joints' linear twist parts together.
    """

    def __init__(self, kinematics: Kinematics, geometry: PathGeometry) -> None:
        self.kinematics = kinematics
        self.geometry = geometry
        kin, g = kinematics, geometry
        n_frames, n_seg, n_mov = kin.n_joints + 1, len(g.segment_start), kin.n_joints
        n_points = len(g.point_link)
        local = np.concatenate([g.point_local_m.reshape(-1, 3), np.ones((n_points, 1))], axis=1)
        point_h = (kin._link_offset[g.point_link] @ local[..., None])[..., 0]  # (P, 4) in moving frame
        point_frame = kin._link_frame[g.point_link]
        cols = 2 * (n_seg + n_mov) + n_points
        weights = np.zeros((n_frames, 4, cols))
        for k in range(n_seg):
            a, e = g.segment_start[k], g.segment_end[k]
            weights[point_frame[a], :, k] += point_h[a]
            weights[point_frame[e], :, n_seg + n_mov + k] += point_h[e]
            weights[point_frame[a], :, n_seg + n_mov + k] -= point_h[a]
        for j in range(n_mov):
            weights[kin._joint_frame[j], 3, n_seg + j] = 1.0
            weights[kin._joint_frame[j], :3, 2 * n_seg + n_mov + j] = kin._axis_local[j]
        for p in range(n_points):
            weights[point_frame[p], :, 2 * (n_seg + n_mov) + p] = point_h[p]
        self._weights = weights.reshape(n_frames * 4, cols)  # (4 (J + 1), V)
        self._n_seg = n_seg
        self._neg_segment_muscle = -np.asarray(g.segment_muscle, dtype=float)  # (M, G)
        self._segment_muscle_t = np.ascontiguousarray(np.asarray(g.segment_muscle, dtype=float).T)  # (G, M)
        self._crossing = np.asarray(g.segment_crossing, dtype=float)  # (G, J)

    def points_world(self, rot: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """World positions (B, P, 3) of all path points."""
        g = self.geometry
        return pos[:, g.point_link] + (rot[:, g.point_link] @ g.point_local_m[..., None])[..., 0]

    def evaluate(
        self, q: np.ndarray, root_rot: np.ndarray, root_pos_m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lengths (B, M) [m], moment arms (B, M, J) [m or dimensionless], points (B, P, 3) [m]."""
        return self.evaluate_h(q, homogeneous(root_rot, root_pos_m))

    def evaluate_h(self, q: np.ndarray, root: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """evaluate() with the root pose as one homogeneous transform (4, 4) or (B, 4, 4)."""
        return self.evaluate_rows(q, root_rows(root))

    def evaluate_rows(self, q: np.ndarray, root_xyzxy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """evaluate() with the root pose as root_rows(transform): (5, 4) or (B, 5, 4)."""
        kin = self.kinematics
        batch, n_seg, n_mov = q.shape[0], self._n_seg, kin.n_joints
        # Rows x, y, z, x, y of every frame: the cross products below then need only slices.
        rows = kin.frame_rows(q, root_xyzxy)  # (B, 5, J + 1, 4)
        x = rows.reshape(batch, 5, -1) @ self._weights  # (B, 5, V)
        n_sj = n_seg + n_mov
        base = x[:, :, :n_sj]  # segment starts, joint origins
        delta = x[:, :, n_sj:2 * n_sj]  # segment deltas d (not normalised), joint axes omega
        seg_delta = delta[:, :3, :n_seg]
        seg_len = np.sqrt(np.einsum("bkg,bkg->bg", seg_delta, seg_delta))  # (B, G)
        moment = delta[:, 2:5] * base[:, 1:4]
        moment -= delta[:, 1:4] * base[:, 2:5]  # start x d for segments, origin x omega for joints
        plucker = np.concatenate([moment, delta[:, :3]], axis=1)  # (B, 6, G + J)
        if kin._all_revolute:
            twists = plucker[:, _SWAP, n_seg:]  # (omega, origin x omega)
        else:
            rev = kin._movable_revolute
            axis, lin = delta[:, :3, n_seg:], moment[:, :, n_seg:]
            twists = np.concatenate([np.where(rev, axis, 0.0), np.where(rev, lin, axis)], axis=1)
        # dl_g/dq_j = (start x u, u) . xi_j with u = d / |d|: the product with d, divided by |d|.
        rate = plucker[:, :, :n_seg].transpose(0, 2, 1) @ twists  # (B, G, J)
        rate /= np.maximum(seg_len, 1e-12)[:, :, None]
        rate *= self._crossing
        moment_arms = self._neg_segment_muscle @ rate
        lengths = seg_len @ self._segment_muscle_t
        return lengths, moment_arms, x[:, :3, 2 * n_sj:].transpose(0, 2, 1)
