"""The simulator's per-step muscle computation, compiled: geometry, Hill force, activation.

Simulation and VectorSimulation call this once per control step. It computes exactly what
MusclePathModel.evaluate_rows (kinematics.py), hill_force_split and activation_step (muscle.py)
compute, which stay the readable reference implementations (and serve calibration and the
public `Body.moment_arms`); tests/test_muscle_kernel.py checks the two against each other.

Why compiled: for one planar arm (2 joints, 6 muscles) the numpy version is ~70 array operations
of 0.3-1 us each, about twice Bullet's own cost per control step; a loop over a few dozen
numbers costs far less than numpy's per-call overhead (docs/benchmarks.md). The kernels loop over
the batch B of limbs, and every limb is computed by the same instructions whatever B is, so N
limbs in one call give bit-identical results to N calls with one limb.

Shapes: B limbs, J movable joints, M muscles, G path segments, P path points.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from robot_twitch.body.kinematics import MusclePathModel
from robot_twitch.body.muscle import (
    _FV_D2,
    _FV_D3,
    ACTIVE_FL_WIDTH,
    PASSIVE_SHAPE,
    PASSIVE_STRAIN_AT_F0,
    HillConstants,
    MuscleParameters,
)

# The curve constants travel as an argument: numba's on-disk cache checks only this file, so
# constants read from muscle.py as globals would stay frozen in a cached kernel after an edit.
_CURVES = np.array([-1.0 / ACTIVE_FL_WIDTH, _FV_D2, _FV_D3, PASSIVE_SHAPE / PASSIVE_STRAIN_AT_F0])


@njit(cache=True, nogil=True)
def _observe_kernel(q, qd, root, activation, damping_nms, frame_parent, frame_q, frame_basis,
                    point_frame, point_h, segment_ends, segment_muscle, crossing, joint_frame,
                    joint_axis, joint_revolute, hill, curves):  # pragma: no cover - compiled
    n_limbs, n_joints = q.shape
    n_points, n_seg = point_h.shape[0], segment_ends.shape[0]
    n_muscles = hill.shape[1]
    neg_inv_width, fv_d2, fv_d3, passive_gain = curves[0], curves[1], curves[2], curves[3]
    lengths = np.zeros((n_limbs, n_muscles))
    arms = np.zeros((n_limbs, n_muscles, n_joints))
    points = np.empty((n_limbs, n_points, 3))
    velocity = np.zeros((n_limbs, n_muscles))
    fiber_norm = np.empty((n_limbs, n_muscles))
    vel_norm = np.empty((n_limbs, n_muscles))
    active_unit = np.empty((n_limbs, n_muscles))
    passive = np.empty((n_limbs, n_muscles))
    force = np.empty((n_limbs, n_muscles))
    damping_torque = np.empty((n_limbs, n_joints))
    frames = np.empty((n_joints + 1, 3, 4))  # world rows x, y, z of every moving frame
    local = np.empty(16)
    twist = np.empty((n_joints, 6))  # (omega, v) per joint, world
    for b in range(n_limbs):
        r = root[b if root.shape[0] > 1 else 0]
        for i in range(3):
            for k in range(4):
                frames[0, i, k] = r[i, k]
        # Moving frame f = 1 + s: T_f = T_parent (C0 + sin q C1 + cos q C2 + q Cp) (kinematics.py).
        for s in range(n_joints):
            angle = q[b, frame_q[s]]
            sn, cs = math.sin(angle), math.cos(angle)
            for k in range(16):
                local[k] = (frame_basis[s, 0, k] + sn * frame_basis[s, 1, k] + cs * frame_basis[s, 2, k]
                            + angle * frame_basis[s, 3, k])
            p = frame_parent[s]
            for i in range(3):
                for k in range(4):
                    frames[s + 1, i, k] = (frames[p, i, 0] * local[k] + frames[p, i, 1] * local[4 + k]
                                           + frames[p, i, 2] * local[8 + k] + frames[p, i, 3] * local[12 + k])
        for n in range(n_points):
            f = point_frame[n]
            for i in range(3):
                points[b, n, i] = (frames[f, i, 0] * point_h[n, 0] + frames[f, i, 1] * point_h[n, 1]
                                   + frames[f, i, 2] * point_h[n, 2] + frames[f, i, 3])
        # Joint twists: revolute (omega, origin x omega), prismatic (0, axis).
        for j in range(n_joints):
            f = joint_frame[j]
            wx = frames[f, 0, 0] * joint_axis[j, 0] + frames[f, 0, 1] * joint_axis[j, 1] + frames[f, 0, 2] * joint_axis[j, 2]
            wy = frames[f, 1, 0] * joint_axis[j, 0] + frames[f, 1, 1] * joint_axis[j, 1] + frames[f, 1, 2] * joint_axis[j, 2]
            wz = frames[f, 2, 0] * joint_axis[j, 0] + frames[f, 2, 1] * joint_axis[j, 1] + frames[f, 2, 2] * joint_axis[j, 2]
            if joint_revolute[j]:
                ox, oy, oz = frames[f, 0, 3], frames[f, 1, 3], frames[f, 2, 3]
                twist[j, 0], twist[j, 1], twist[j, 2] = wx, wy, wz
                twist[j, 3], twist[j, 4], twist[j, 5] = oy * wz - oz * wy, oz * wx - ox * wz, ox * wy - oy * wx
            else:
                twist[j, 0], twist[j, 1], twist[j, 2] = 0.0, 0.0, 0.0
                twist[j, 3], twist[j, 4], twist[j, 5] = wx, wy, wz
        # Segments: length, and dl/dq_j = (a x u, u) . xi_j for the joints between its ends.
        for g in range(n_seg):
            a, e = segment_ends[g, 0], segment_ends[g, 1]
            ax, ay, az = points[b, a, 0], points[b, a, 1], points[b, a, 2]
            dx, dy, dz = points[b, e, 0] - ax, points[b, e, 1] - ay, points[b, e, 2] - az
            seg_len = math.sqrt(dx * dx + dy * dy + dz * dz)
            m = segment_muscle[g]
            lengths[b, m] += seg_len
            inv_len = 1.0 / max(seg_len, 1e-12)
            mx, my, mz = ay * dz - az * dy, az * dx - ax * dz, ax * dy - ay * dx
            for j in range(n_joints):
                c = crossing[g, j]
                if c != 0.0:
                    rate = (mx * twist[j, 0] + my * twist[j, 1] + mz * twist[j, 2]
                            + dx * twist[j, 3] + dy * twist[j, 4] + dz * twist[j, 5])
                    arms[b, m, j] -= rate * inv_len * c
        for j in range(n_joints):
            damping_torque[b, j] = qd[b, j] * -damping_nms[j]
        # Hill-type force split (muscle.hill_force_split): F = a * active_unit + passive.
        for m in range(n_muscles):
            v = 0.0
            for j in range(n_joints):
                v -= arms[b, m, j] * qd[b, j]
            velocity[b, m] = v
            l_norm = max(lengths[b, m] - hill[0, m], 1e-4) * hill[1, m]
            v_norm = min(max(v * hill[2, m], -1.0), 1.0)
            stretch = l_norm - 1.0
            unit = math.exp(stretch * stretch * neg_inv_width) * (
                math.asinh(v_norm * fv_d2 + fv_d3) * hill[5, m] + hill[6, m])
            pas = math.expm1(max(stretch, 0.0) * passive_gain) * hill[3, m] + hill[4, m] * v_norm
            fiber_norm[b, m], vel_norm[b, m] = l_norm, v_norm
            active_unit[b, m], passive[b, m] = unit, pas
            force[b, m] = max(activation[b, m] * unit + pas, 0.0)
    return (lengths, arms, points, velocity, fiber_norm, vel_norm, active_unit, passive, force,
            damping_torque)


@njit(cache=True, nogil=True)
def _drive_kernel(excitation, activation, active_unit, passive, arms, damping_torque,
                  rise_rate, fall_rate):  # pragma: no cover - compiled
    n_limbs, n_muscles, n_joints = arms.shape
    new_activation = np.empty((n_limbs, n_muscles))
    torque = np.empty((n_limbs, n_joints))
    for b in range(n_limbs):
        for j in range(n_joints):
            torque[b, j] = 0.0
        for m in range(n_muscles):
            u, a = excitation[b, m], activation[b, m]
            scale = 0.5 + 1.5 * a
            rate = rise_rate / scale if u > a else fall_rate * scale
            a = u + (a - u) * math.exp(rate)
            new_activation[b, m] = a
            f = max(a * active_unit[b, m] + passive[b, m], 0.0)
            for j in range(n_joints):
                torque[b, j] += f * arms[b, m, j]
        for j in range(n_joints):
            torque[b, j] += damping_torque[b, j]
    return new_activation, torque


class MuscleKernel:
    """The per-step muscle model of one body, for batches of limbs.

    Built from the body's path model and Hill constants; rebuild it when either changes.
    """

    def __init__(self, paths: MusclePathModel, hill: HillConstants, damping_nms: np.ndarray,
                 activation_time_constant_s: float, deactivation_time_constant_s: float,
                 dt_s: float) -> None:
        kin, g = paths.kinematics, paths.geometry
        n_points = len(g.point_link)
        local = np.concatenate([g.point_local_m.reshape(-1, 3), np.ones((n_points, 1))], axis=1)
        self._frame_parent = np.ascontiguousarray(kin._frame_parent, dtype=np.int64)
        self._frame_q = np.ascontiguousarray(kin._frame_q, dtype=np.int64)
        self._frame_basis = np.ascontiguousarray(kin._frame_basis, dtype=float)  # (J, 4, 16)
        self._point_frame = np.ascontiguousarray(kin._link_frame[g.point_link], dtype=np.int64)
        self._point_h = np.ascontiguousarray(  # (P, 4) each point in its moving frame
            (kin._link_offset[g.point_link] @ local[..., None])[..., 0])
        self._segment_ends = np.ascontiguousarray(np.stack([g.segment_start, g.segment_end], axis=1),
                                                  dtype=np.int64)
        segment_muscle = np.asarray(g.segment_muscle)
        if not np.all(segment_muscle.sum(axis=0) == 1):
            raise ValueError("every path segment must belong to exactly one muscle")
        self._segment_muscle = np.ascontiguousarray(segment_muscle.argmax(axis=0), dtype=np.int64)
        self._crossing = np.ascontiguousarray(g.segment_crossing, dtype=float)
        self._joint_frame = np.ascontiguousarray(kin._joint_frame, dtype=np.int64)
        self._joint_axis = np.ascontiguousarray(kin._axis_local, dtype=float).reshape(-1, 3)
        self._joint_revolute = np.ascontiguousarray(kin._movable_revolute, dtype=np.bool_)
        self._hill = np.ascontiguousarray(np.stack([
            hill.tendon_slack_length_m, hill.inv_optimal_fiber_length_per_m, hill.inv_max_velocity_s_per_m,
            hill.passive_scale_n, hill.damping_scale_n, hill.fv_scale_n, hill.fv_offset_n]), dtype=float)
        self._damping_nms = np.ascontiguousarray(damping_nms, dtype=float)
        self._rise_rate = -dt_s / activation_time_constant_s
        self._fall_rate = -dt_s / deactivation_time_constant_s

    @classmethod
    def for_muscles(cls, paths: MusclePathModel, params: MuscleParameters, damping_nms: np.ndarray,
                    dt_s: float) -> MuscleKernel:
        """The kernel for a body's paths and muscle parameters, stepping dt_s per control step."""
        return cls(paths, HillConstants.from_params(params), damping_nms, params.activation_time_constant_s,
                   params.deactivation_time_constant_s, dt_s)

    def observe(self, q: np.ndarray, qd: np.ndarray, root: np.ndarray, activation: np.ndarray) -> tuple:
        """Muscle state at joint positions q and velocities qd (B, J), activation (B, M).

        root: world transform(s) of the root link, (1, 4, 4) shared or (B, 4, 4).
        Returns lengths (B, M) [m], moment arms (B, M, J), path points (B, P, 3) [m],
        velocities (B, M) [m/s], l~ and v~ (B, M), active_unit and passive (B, M) [N]
        (F = a * active_unit + passive, before F >= 0), force (B, M) [N], and the joint
        damping torque -b * qd (B, J) [N m] of the next step. All arrays newly allocated.
        """
        return _observe_kernel(q, qd, root, activation, self._damping_nms, self._frame_parent,
                               self._frame_q, self._frame_basis, self._point_frame, self._point_h,
                               self._segment_ends, self._segment_muscle, self._crossing, self._joint_frame,
                               self._joint_axis, self._joint_revolute, self._hill, _CURVES)

    def drive(self, excitation: np.ndarray, activation: np.ndarray, active_unit: np.ndarray,
              passive: np.ndarray, moment_arms: np.ndarray,
              damping_torque_nm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activation after one control step of excitation (B, M), and joint torques (B, J).

        torque = R^T max(a * active_unit + passive, 0) + damping_torque, with the force split and
        moment arms of the previous observe().
        """
        return _drive_kernel(excitation, activation, active_unit, passive, moment_arms, damping_torque_nm,
                             self._rise_rate, self._fall_rate)
