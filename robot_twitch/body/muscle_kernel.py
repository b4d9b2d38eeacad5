"""The simulator's per-step muscle computation, compiled: geometry, Hill force, activation, and
the torque that Bullet holds over one control step.

Simulation and VectorSimulation call two kernels per control step:

- `state_at` after Bullet's step: forward kinematics, path points, lengths, moment arms, fibre
  state and force at the new joint state, the joint-space mass matrix M(q) and gravity torques
  of the skeleton (from the URDF's inertials), and the step's mean joint acceleration.
- `drive` before it: activation integrated at the physics rate (exact exponential pieces of one
  physics substep each), and the constant joint torque to hold over the step, chosen as the mean
  of the muscle torque over the step (docs/muscles.md, "Rates"): the muscle law is evaluated at
  the step's predicted mean joint state, with the predicted motion made consistent with the
  torque itself (one linearly implicit solve of M + dt/2 D, D the muscles' and the joints'
  damping matrix R^T dF/dv R + b). That makes the force-velocity damping act like a trapezoidal
  integrator (stable and second-order) and lets the force-length term follow the motion within
  the step, at one Bullet call per control step.

The geometry and the Hill force compute exactly what MusclePathModel.evaluate_rows
(kinematics.py), hill_force_split and activation_step (muscle.py) compute, which stay the readable
reference implementations (and serve calibration and the public `Body.moment_arms`);
tests/body/test_body_muscle_kernel.py checks the two against each other and the mass matrix against Bullet.

Why compiled: for one planar arm (2 joints, 6 muscles) the numpy version is ~70 array operations
of 0.3-1 us each, about twice Bullet's own cost per control step; a loop over a few dozen
numbers costs far less than numpy's per-call overhead (docs/benchmarks.md). The kernels loop over
the batch B of limbs, and every limb is computed by the same instructions whatever B is, so N
limbs in one call give bit-identical results to N calls with one limb. The body's constants
travel packed in one float and one integer array: every array argument costs ~0.1 us of
dispatch.

Shapes: B limbs, J movable joints, M muscles, G path segments, P path points, K links with mass.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
from numba import njit

from robot_twitch.body.kinematics import Kinematics, MusclePathModel
from robot_twitch.body.muscle import (
    _FV_D2,
    _FV_D3,
    ACTIVE_FL_WIDTH,
    PASSIVE_SHAPE,
    PASSIVE_STRAIN_AT_F0,
    HillConstants,
    MuscleParameters,
)
from robot_twitch.body.weld import link_inertia

# The curve constants travel in the packed constants: numba's on-disk cache checks only this file,
# so constants read from muscle.py as globals would stay frozen in a cached kernel after an edit.
_CURVES = (-1.0 / ACTIVE_FL_WIDTH, _FV_D2, _FV_D3, PASSIVE_SHAPE / PASSIVE_STRAIN_AT_F0)
NEWTON_ITERATIONS = 1  # of the held torque per step (docs/muscles.md: what each adds)


# -- packed constants --------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _unpack(fc, ic):  # pragma: no cover - compiled
    """Views of the packed body constants (layout: MuscleKernel.__init__). All are 1-D slices (free;
    a reshape would cost ~30 ns each): multi-dimensional ones are indexed row-major by hand."""
    n_j, n_m, n_p, n_g, n_k = ic[0], ic[1], ic[2], ic[3], ic[4]
    o = 6
    frame_parent = ic[o:o + n_j]  # (J,)
    o += n_j
    frame_q = ic[o:o + n_j]  # (J,)
    o += n_j
    point_frame = ic[o:o + n_p]  # (P,)
    o += n_p
    segment_start = ic[o:o + n_g]  # (G,)
    o += n_g
    segment_end = ic[o:o + n_g]  # (G,)
    o += n_g
    segment_muscle = ic[o:o + n_g]  # (G,)
    o += n_g
    joint_frame = ic[o:o + n_j]  # (J,)
    o += n_j
    joint_revolute = ic[o:o + n_j]  # (J,)
    o += n_j
    mass_frame = ic[o:o + n_k]  # (K,)
    o += n_k
    moves = ic[o:o + n_j * n_k]  # (J, K)
    f = 0
    frame_basis = fc[f:f + 64 * n_j]  # (J, 4, 16)
    f += 64 * n_j
    point_h = fc[f:f + 4 * n_p]  # (P, 4)
    f += 4 * n_p
    crossing = fc[f:f + n_g * n_j]  # (G, J)
    f += n_g * n_j
    joint_axis = fc[f:f + 3 * n_j]  # (J, 3)
    f += 3 * n_j
    hill = fc[f:f + 7 * n_m]  # (7, M)
    f += 7 * n_m
    damping = fc[f:f + n_j]  # (J,)
    f += n_j
    mass_kg = fc[f:f + n_k]  # (K,)
    f += n_k
    mass_com = fc[f:f + 3 * n_k]  # (K, 3)
    f += 3 * n_k
    mass_inertia = fc[f:f + 9 * n_k]  # (K, 3, 3)
    f += 9 * n_k
    scalars = fc[f:f + 10]  # gravity (3), curves (4), dt, rise and fall rate per activation piece
    return (ic[:6], frame_parent, frame_q, point_frame, segment_start, segment_end, segment_muscle, joint_frame,
            joint_revolute, mass_frame, moves, frame_basis, point_h, crossing, joint_axis, hill, damping,
            mass_kg, mass_com, mass_inertia, scalars)


# -- pieces ------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _geometry(qb, r, k, frames, local, twist, points, lengths, arms):  # pragma: no cover - compiled
    """Moving frames (J+1, 3, 4), joint twists (J, 6), path points (P, 3), lengths (M,) and
    moment arms (M, J) of one limb at joint positions qb (J,), root transform r (4, 4)."""
    (dims, frame_parent, frame_q, point_frame, segment_start, segment_end, segment_muscle, joint_frame,
     joint_revolute, _, _, frame_basis, point_h, crossing, joint_axis, _, _, _, _, _, _) = k
    n_joints, n_points, n_seg = dims[0], dims[2], dims[3]
    for i in range(3):
        for c in range(4):
            frames[0, i, c] = r[i, c]
    # Moving frame f = 1 + s: T_f = T_parent (C0 + sin q C1 + cos q C2 + q Cp) (kinematics.py).
    for s in range(n_joints):
        angle = qb[frame_q[s]]
        sn, cs = math.sin(angle), math.cos(angle)
        for c in range(16):
            base = 64 * s + c  # frame_basis[s, r, c] at base + 16 r
            local[c] = (frame_basis[base] + sn * frame_basis[base + 16] + cs * frame_basis[base + 32]
                        + angle * frame_basis[base + 48])
        p = frame_parent[s]
        for i in range(3):
            for c in range(4):
                frames[s + 1, i, c] = (frames[p, i, 0] * local[c] + frames[p, i, 1] * local[4 + c]
                                       + frames[p, i, 2] * local[8 + c] + frames[p, i, 3] * local[12 + c])
    for n in range(n_points):
        f = point_frame[n]
        for i in range(3):
            points[n, i] = (frames[f, i, 0] * point_h[4 * n] + frames[f, i, 1] * point_h[4 * n + 1]
                            + frames[f, i, 2] * point_h[4 * n + 2] + frames[f, i, 3])
    # Joint twists: revolute (omega, origin x omega), prismatic (0, axis).
    for j in range(n_joints):
        f = joint_frame[j]
        e0, e1, e2 = joint_axis[3 * j], joint_axis[3 * j + 1], joint_axis[3 * j + 2]
        wx = frames[f, 0, 0] * e0 + frames[f, 0, 1] * e1 + frames[f, 0, 2] * e2
        wy = frames[f, 1, 0] * e0 + frames[f, 1, 1] * e1 + frames[f, 1, 2] * e2
        wz = frames[f, 2, 0] * e0 + frames[f, 2, 1] * e1 + frames[f, 2, 2] * e2
        if joint_revolute[j]:
            ox, oy, oz = frames[f, 0, 3], frames[f, 1, 3], frames[f, 2, 3]
            twist[j, 0], twist[j, 1], twist[j, 2] = wx, wy, wz
            twist[j, 3], twist[j, 4], twist[j, 5] = oy * wz - oz * wy, oz * wx - ox * wz, ox * wy - oy * wx
        else:
            twist[j, 0], twist[j, 1], twist[j, 2] = 0.0, 0.0, 0.0
            twist[j, 3], twist[j, 4], twist[j, 5] = wx, wy, wz
    lengths[:] = 0.0
    arms[:] = 0.0
    # Segments: length, and dl/dq_j = (a x u, u) . xi_j for the joints between its ends.
    for g in range(n_seg):
        a, e = segment_start[g], segment_end[g]
        ax, ay, az = points[a, 0], points[a, 1], points[a, 2]
        dx, dy, dz = points[e, 0] - ax, points[e, 1] - ay, points[e, 2] - az
        seg_len = math.sqrt(dx * dx + dy * dy + dz * dz)
        m = segment_muscle[g]
        lengths[m] += seg_len
        inv_len = 1.0 / max(seg_len, 1e-12)
        mx, my, mz = ay * dz - az * dy, az * dx - ax * dz, ax * dy - ay * dx
        for j in range(n_joints):
            c = crossing[g * n_joints + j]
            if c != 0.0:
                rate = (mx * twist[j, 0] + my * twist[j, 1] + mz * twist[j, 2]
                        + dx * twist[j, 3] + dy * twist[j, 4] + dz * twist[j, 5])
                arms[m, j] -= rate * inv_len * c


@njit(cache=True, nogil=True)
def _hill(m, n_m, length, velocity, activation, hill, scalars):  # pragma: no cover - compiled
    """Hill force of muscle m (muscle.hill_force_split): l~, v~, active_unit, passive [N],
    F = max(a active_unit + passive, 0) [N] and dF/dv [N s/m] (lengthening velocity v). hill: the
    (7, M) Hill constants row-major (MuscleKernel.__init__), n_m = M."""
    neg_inv_width, fv_d2, fv_d3, passive_gain = scalars[3], scalars[4], scalars[5], scalars[6]
    l_norm = max(length - hill[0 * n_m + m], 1e-4) * hill[1 * n_m + m]
    v_raw = velocity * hill[2 * n_m + m]
    v_norm = min(max(v_raw, -1.0), 1.0)
    stretch = l_norm - 1.0
    f_length = math.exp(stretch * stretch * neg_inv_width)
    x = v_norm * fv_d2 + fv_d3
    unit = f_length * (math.asinh(x) * hill[5 * n_m + m] + hill[6 * n_m + m])
    passive = math.expm1(max(stretch, 0.0) * passive_gain) * hill[3 * n_m + m] + hill[4 * n_m + m] * v_norm
    force = activation * unit + passive
    slope = 0.0
    if force > 0.0 and -1.0 < v_raw < 1.0:
        slope = (activation * f_length * hill[5 * n_m + m] * fv_d2 / math.sqrt(x * x + 1.0) + hill[4 * n_m + m]) * hill[2 * n_m + m]
    return l_norm, v_norm, unit, passive, max(force, 0.0), slope


@njit(cache=True, nogil=True)
def _mass_gravity(frames, twist, k, mass, gravity_torque):  # pragma: no cover - compiled
    """Joint-space mass matrix (J, J) and gravity torques (J,) [N m] of the skeleton.

    M_jl = sum over links of m Jv_j . Jv_l + omega_j . I_world omega_l, with Jv_j = omega_j x c + v_j
    the velocity of the link's centre of mass c under joint j's unit twist (for the joints the link
    moves with); gravity torque_j = sum of m g . Jv_j. A floating base's own 6 degrees of freedom are
    not included (the joints' mass matrix with the base held).
    """
    (dims, _, _, _, _, _, _, _, _, mass_frame, moves, _, _, _, _, _, _, mass_kg, mass_com, mass_inertia,
     scalars) = k
    n_joints, n_k = dims[0], dims[4]
    gx, gy, gz = scalars[0], scalars[1], scalars[2]
    mass[:] = 0.0
    gravity_torque[:] = 0.0
    buf = np.empty(3 * n_joints + 21)
    jv = buf[:3 * n_joints].reshape((n_joints, 3))
    iw = buf[3 * n_joints:3 * n_joints + 9].reshape((3, 3))
    rot_i = buf[3 * n_joints + 9:3 * n_joints + 18].reshape((3, 3))
    com = buf[3 * n_joints + 18:]
    for c in range(n_k):
        f, m = mass_frame[c], mass_kg[c]
        for i in range(3):
            com[i] = (frames[f, i, 0] * mass_com[3 * c] + frames[f, i, 1] * mass_com[3 * c + 1]
                      + frames[f, i, 2] * mass_com[3 * c + 2] + frames[f, i, 3])
        for i in range(3):  # I_world = R I R^T
            for e in range(3):
                rot_i[i, e] = (frames[f, i, 0] * mass_inertia[9 * c + e] + frames[f, i, 1] * mass_inertia[9 * c + 3 + e]
                               + frames[f, i, 2] * mass_inertia[9 * c + 6 + e])
        for i in range(3):
            for e in range(3):
                iw[i, e] = rot_i[i, 0] * frames[f, e, 0] + rot_i[i, 1] * frames[f, e, 1] + rot_i[i, 2] * frames[f, e, 2]
        for j in range(n_joints):
            if moves[j * n_k + c]:
                w0, w1, w2 = twist[j, 0], twist[j, 1], twist[j, 2]
                jv[j, 0] = w1 * com[2] - w2 * com[1] + twist[j, 3]
                jv[j, 1] = w2 * com[0] - w0 * com[2] + twist[j, 4]
                jv[j, 2] = w0 * com[1] - w1 * com[0] + twist[j, 5]
                gravity_torque[j] += m * (gx * jv[j, 0] + gy * jv[j, 1] + gz * jv[j, 2])
        for j in range(n_joints):
            if not moves[j * n_k + c]:
                continue
            for l in range(j + 1):  # noqa: E741 - the usual index name of a mass matrix
                if not moves[l * n_k + c]:
                    continue
                value = m * (jv[j, 0] * jv[l, 0] + jv[j, 1] * jv[l, 1] + jv[j, 2] * jv[l, 2])
                for i in range(3):
                    value += twist[j, i] * (iw[i, 0] * twist[l, 0] + iw[i, 1] * twist[l, 1] + iw[i, 2] * twist[l, 2])
                mass[j, l] += value
    for j in range(n_joints):
        for l in range(j):  # noqa: E741
            mass[l, j] = mass[j, l]


@njit(cache=True, nogil=True)
def _cholesky_solve(a, rhs, out):  # pragma: no cover - compiled
    """out = a^-1 rhs for a symmetric positive definite (n, n); a is overwritten by its factor."""
    n = rhs.shape[0]
    for j in range(n):
        d = a[j, j]
        for c in range(j):
            d -= a[j, c] * a[j, c]
        d = math.sqrt(max(d, 1e-300))
        a[j, j] = d
        for i in range(j + 1, n):
            s = a[i, j]
            for c in range(j):
                s -= a[i, c] * a[j, c]
            a[i, j] = s / d
    for i in range(n):
        s = rhs[i]
        for c in range(i):
            s -= a[i, c] * out[c]
        out[i] = s / a[i, i]
    for i in range(n - 1, -1, -1):
        s = out[i]
        for c in range(i + 1, n):
            s -= a[c, i] * out[c]
        out[i] = s / a[i, i]


@njit(cache=True, nogil=True)
def _work(n_joints, n_muscles, n_points):  # pragma: no cover - compiled
    """Scratch arrays of one limb's step, carved from one allocation (a small allocation costs more
    than a reshaped slice): frames (J+1, 3, 4), twist (J, 6), points (P, 3), moment arms (M, J), a
    (J, J) matrix, the 16 entries of a local transform, lengths (M,), activation (M,), and six (J,)."""
    n_f, n_t, n_pp, n_a, n_s = 12 * (n_joints + 1), 6 * n_joints, 3 * n_points, n_muscles * n_joints, n_joints * n_joints
    buf = np.empty(n_f + n_t + n_pp + n_a + n_s + 16 + 2 * n_muscles + 6 * n_joints)
    o = 0
    frames = buf[o:o + n_f].reshape((n_joints + 1, 3, 4))
    o += n_f
    twist = buf[o:o + n_t].reshape((n_joints, 6))
    o += n_t
    points = buf[o:o + n_pp].reshape((n_points, 3))
    o += n_pp
    arms = buf[o:o + n_a].reshape((n_muscles, n_joints))
    o += n_a
    matrix = buf[o:o + n_s].reshape((n_joints, n_joints))
    o += n_s
    local = buf[o:o + 16]
    o += 16
    lengths = buf[o:o + n_muscles]
    o += n_muscles
    activation = buf[o:o + n_muscles]
    o += n_muscles
    vectors = buf[o:o + 6 * n_joints]
    return (frames, twist, points, arms, matrix, local, lengths, activation, vectors[:n_joints],
            vectors[n_joints:2 * n_joints], vectors[2 * n_joints:3 * n_joints], vectors[3 * n_joints:4 * n_joints],
            vectors[4 * n_joints:5 * n_joints], vectors[5 * n_joints:])


# -- kernels -----------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _state_kernel(q, qd, qd_prev, activation, torque, root, fc, ic):  # pragma: no cover - compiled
    k = _unpack(fc, ic)
    dims, hill, scalars = k[0], k[15], k[20]
    n_limbs, n_joints = q.shape
    n_points, n_muscles = dims[2], dims[1]
    inv_dt = 1.0 / scalars[7]
    # One row per limb (layout: MuscleKernel.state_views): every returned array costs ~0.3 us to box.
    n_m, n_a = n_muscles, n_muscles * n_joints
    state = np.empty((n_limbs, 5 * n_m + n_a + 3 * n_points))
    carry = np.empty((n_limbs, n_joints * n_joints + 6 * n_joints + n_muscles))  # layout: MuscleKernel
    # frames: world rows x, y, z of every moving frame; twist: (omega, v) per joint, world.
    frames, twist, _, _, factor, local, _, _, gravity_torque, rest_acceleration, _, _, _, _ = _work(
        n_joints, n_muscles, n_points)
    o = n_joints * n_joints
    for b in range(n_limbs):
        row = state[b]
        lengths, velocity, fiber_norm, vel_norm, force = (row[:n_m], row[n_m:2 * n_m], row[2 * n_m:3 * n_m],
                                                          row[3 * n_m:4 * n_m], row[4 * n_m:5 * n_m])
        arms = row[5 * n_m:5 * n_m + n_a].reshape((n_m, n_joints))
        points = row[5 * n_m + n_a:].reshape((n_points, 3))
        _geometry(q[b], root[b if root.shape[0] > 1 else 0], k, frames, local, twist, points, lengths, arms)
        _mass_gravity(frames, twist, k, factor, gravity_torque)
        for j in range(n_joints):
            for c in range(n_joints):
                carry[b, j * n_joints + c] = factor[j, c]
        _cholesky_solve(factor, gravity_torque, rest_acceleration)
        for j in range(n_joints):
            carry[b, o + j] = q[b, j]
            carry[b, o + n_joints + j] = qd[b, j]
            carry[b, o + 2 * n_joints + j] = (qd[b, j] - qd_prev[b, j]) * inv_dt
            carry[b, o + 3 * n_joints + j] = torque[b, j]
            carry[b, o + 4 * n_joints + j] = rest_acceleration[j]
            carry[b, o + 5 * n_joints + j] = gravity_torque[j]
        for m in range(n_muscles):
            carry[b, o + 6 * n_joints + m] = activation[b, m]
            v = 0.0
            for j in range(n_joints):
                v -= arms[m, j] * qd[b, j]
            velocity[m] = v
            l_norm, v_norm, _, _, f, _ = _hill(m, n_muscles, lengths[m], v, activation[b, m], hill, scalars)
            fiber_norm[m], vel_norm[m], force[m] = l_norm, v_norm, f
    return state, carry


@njit(cache=True, nogil=True)
def _drive_kernel(excitation, carry, root, n_newton, fc, ic):  # pragma: no cover - compiled
    k = _unpack(fc, ic)
    dims, hill, damping, scalars = k[0], k[15], k[16], k[20]
    n_joints, n_sub, n_points = dims[0], dims[5], dims[2]
    n_limbs, n_muscles = excitation.shape
    dt, rise_rate, fall_rate = scalars[7], scalars[8], scalars[9]
    o = n_joints * n_joints  # carry: mass (J, J), then q, qd, acceleration, torque, ..., activation
    out = np.empty((n_limbs, n_muscles + n_joints))  # activation, then torque: one array to box
    new_activation, torque = out[:, :n_muscles], out[:, n_muscles:]
    frames, twist, points, arms, system, local, lengths, mean_activation, q_mean, qd_mean, law, delta, step, tau = \
        _work(n_joints, n_muscles, n_points)
    for b in range(n_limbs):
        # Activation (Thelen 2003), exact over each physics substep; its mean over the step.
        for m in range(n_muscles):
            u, a = excitation[b, m], carry[b, o + 6 * n_joints + m]
            if a == u:  # at its target already (e.g. a resting muscle): nothing to integrate
                new_activation[b, m] = mean_activation[m] = a
                continue
            total = 0.0
            for _ in range(n_sub):
                scale = 0.5 + 1.5 * a
                rate = rise_rate / scale if u > a else fall_rate * scale
                decay = math.exp(rate)
                total += u + (a - u) * (decay - 1.0) / rate  # mean of u + (a - u) e^(rate t / h)
                a = u + (a - u) * decay
            new_activation[b, m] = a
            mean_activation[m] = total / n_sub
        # The step's mean joint position if the joints keep the last step's mean acceleration acc:
        # q + dt/2 qd + dt^2/6 acc. The geometry there (lengths, moment arms) is held fixed below.
        for j in range(n_joints):
            q_mean[j] = carry[b, o + j] + dt * (0.5 * carry[b, o + n_joints + j] + dt / 6.0 * carry[b, o + 2 * n_joints + j])
        _geometry(q_mean, root[b if root.shape[0] > 1 else 0], k, frames, local, twist, points, lengths, arms)
        # Newton's method for the held torque tau: with tau = tau_prev + M delta, the joints' mean
        # acceleration over the step becomes acc + delta (the rest of the forces as in the last step),
        # their mean velocity qd + dt/2 (acc + delta), and tau must equal the torque law R^T F - b qd
        # at that velocity: tau_k + M d = law_k - dt/2 D d with D = R^T dF/dv R + diag(b) (>= 0), so
        # (M + dt/2 D) d = law_k - tau_k, delta += d. (The position's share dt^2/6 delta is left out.)
        for j in range(n_joints):
            delta[j] = 0.0
            tau[j] = carry[b, o + 3 * n_joints + j]
        for _ in range(n_newton):
            for j in range(n_joints):
                qd_mean[j] = carry[b, o + n_joints + j] + 0.5 * dt * (carry[b, o + 2 * n_joints + j] + delta[j])
                law[j] = -damping[j] * qd_mean[j] - tau[j]
                for c in range(n_joints):
                    system[j, c] = carry[b, j * n_joints + c]
                system[j, j] += 0.5 * dt * damping[j]
            for m in range(n_muscles):
                v = 0.0
                for j in range(n_joints):
                    v -= arms[m, j] * qd_mean[j]
                _, _, _, _, f, slope = _hill(m, n_muscles, lengths[m], v, mean_activation[m], hill, scalars)
                for j in range(n_joints):
                    law[j] += f * arms[m, j]
                if slope > 0.0:
                    weight = 0.5 * dt * slope
                    for j in range(n_joints):
                        if arms[m, j] != 0.0:
                            for c in range(n_joints):
                                system[j, c] += weight * arms[m, j] * arms[m, c]
            _cholesky_solve(system, law, step)
            for j in range(n_joints):
                delta[j] += step[j]
                for c in range(n_joints):
                    tau[j] += carry[b, j * n_joints + c] * step[c]
        for j in range(n_joints):
            torque[b, j] = tau[j]
    return out


class MuscleKernel:
    """The per-step muscle model of one body, for batches of limbs.

    Built from the body's path model, Hill constants, joint viscosity, and the inertials of the
    URDF its kinematics was read from; rebuild it when any of them changes.
    """

    def __init__(self, paths: MusclePathModel, hill: HillConstants, damping_nms: np.ndarray,
                 activation_time_constant_s: float, deactivation_time_constant_s: float,
                 dt_s: float, substeps: int = 1, gravity_m_s2: float = 9.81) -> None:
        kin, g = paths.kinematics, paths.geometry
        n_points = len(g.point_link)
        local = np.concatenate([g.point_local_m.reshape(-1, 3), np.ones((n_points, 1))], axis=1)
        segment_muscle = np.asarray(g.segment_muscle)
        if not np.all(segment_muscle.sum(axis=0) == 1):
            raise ValueError("every path segment must belong to exactly one muscle")
        if int(substeps) != substeps or substeps < 1:
            raise ValueError(f"substeps must be a positive integer, got {substeps!r}")
        mass_frame, mass_kg, mass_com, mass_inertia, moves = _link_masses(kin, ET.parse(kin.skeleton.path).getroot())
        n_j, n_m, n_g = len(kin.joint_names), hill.max_isometric_force_n.shape[0], segment_muscle.shape[1]
        ints = [np.array([n_j, n_m, n_points, n_g, len(mass_kg), int(substeps)]),
                kin._frame_parent, kin._frame_q, kin._link_frame[g.point_link],
                g.segment_start, g.segment_end, segment_muscle.argmax(axis=0),
                kin._joint_frame, kin._movable_revolute, mass_frame, moves]
        sub_dt = dt_s / substeps
        floats = [kin._frame_basis, (kin._link_offset[g.point_link] @ local[..., None])[..., 0],
                  g.segment_crossing, kin._axis_local.reshape(-1, 3),
                  np.stack([hill.tendon_slack_length_m, hill.inv_optimal_fiber_length_per_m,
                            hill.inv_max_velocity_s_per_m, hill.passive_scale_n, hill.damping_scale_n,
                            hill.fv_scale_n, hill.fv_offset_n]),
                  damping_nms, mass_kg, mass_com, mass_inertia,
                  np.array([0.0, 0.0, -gravity_m_s2, *_CURVES, dt_s, -sub_dt / activation_time_constant_s,
                            -sub_dt / deactivation_time_constant_s])]
        self._ints = np.ascontiguousarray(np.concatenate([np.asarray(a, dtype=np.int64).ravel() for a in ints]))
        self._floats = np.ascontiguousarray(np.concatenate([np.asarray(a, dtype=float).ravel() for a in floats]))
        self.dt_s = float(dt_s)
        self.newton_iterations = NEWTON_ITERATIONS
        self.acceleration_slot = self.carry_slices()["acceleration"]
        self.rest_acceleration_slot = self.carry_slices()["rest_acceleration"]

    @classmethod
    def for_muscles(cls, paths: MusclePathModel, params: MuscleParameters, damping_nms: np.ndarray,
                    dt_s: float, substeps: int = 1, gravity_m_s2: float = 9.81) -> MuscleKernel:
        """The kernel for a body's paths and muscle parameters, stepping dt_s per control step with
        activation integrated in `substeps` pieces."""
        return cls(paths, HillConstants.from_params(params), damping_nms, params.activation_time_constant_s,
                   params.deactivation_time_constant_s, dt_s, substeps, gravity_m_s2)

    def state_at(self, q: np.ndarray, qd: np.ndarray, qd_prev: np.ndarray, activation: np.ndarray,
                 torque: np.ndarray, root: np.ndarray) -> tuple:
        """Muscle and skeleton state at joint positions q and velocities qd (B, J), activation (B, M).

        qd_prev (B, J): the velocities one control step earlier (qd itself where unknown); torque
        (B, J): the torque held over that step; root: world transform(s) of the root link, (1, 4, 4)
        shared or (B, 4, 4).
        Returns the muscle state (B, S), read with `state_views` (lengths, velocities, l~, v~, force,
        moment arms, path points), and the carry (B, C): what the next drive() reads, laid out as in
        `carry_slices` (mass matrix M(q) [kg m^2], q, qd, the step's mean acceleration
        (qd - qd_prev) / dt [rad/s^2], torque, the acceleration under gravity alone M^-1 g, the
        gravity torques g [N m], activation). Both newly allocated.
        """
        return _state_kernel(q, qd, qd_prev, activation, torque, root, self._floats, self._ints)

    def drive(self, excitation: np.ndarray, carry: np.ndarray, root: np.ndarray) -> np.ndarray:
        """(B, M + J): the activation after one control step of excitation (B, M) from the carry's,
        then the joint torque to hold over the step: the step's mean muscle and joint-viscosity
        torque, predicted from the carry (B, C) of the last state_at(). Newly allocated."""
        return _drive_kernel(excitation, carry, root, self.newton_iterations, self._floats, self._ints)

    def state_views(self, state: np.ndarray) -> tuple[np.ndarray, ...]:
        """Views of a state_at() state (B, S) or one row (S,): lengths (B, M) [m], moment arms
        (B, M, J), path points (B, P, 3) [m], velocities (B, M) [m/s], l~, v~ and force (B, M) [N]."""
        n_j, n_m, n_p = int(self._ints[0]), int(self._ints[1]), int(self._ints[2])
        lead, n_a = state.shape[:-1], n_m * n_j
        return (state[..., :n_m], state[..., 5 * n_m:5 * n_m + n_a].reshape(*lead, n_m, n_j),
                state[..., 5 * n_m + n_a:].reshape(*lead, n_p, 3), state[..., n_m:2 * n_m],
                state[..., 2 * n_m:3 * n_m], state[..., 3 * n_m:4 * n_m], state[..., 4 * n_m:5 * n_m])

    def carry_slices(self) -> dict[str, slice]:
        """Where each quantity sits in a carry row: 'mass' (J * J, row-major), 'q', 'qd',
        'acceleration', 'torque', 'rest_acceleration', 'gravity_torque' (J each), 'activation' (M)."""
        n_j, n_m = int(self._ints[0]), int(self._ints[1])
        slices, start = {"mass": slice(0, n_j * n_j)}, n_j * n_j
        for name in ("q", "qd", "acceleration", "torque", "rest_acceleration", "gravity_torque"):
            slices[name], start = slice(start, start + n_j), start + n_j
        slices["activation"] = slice(start, start + n_m)
        return slices


def _link_masses(kin: Kinematics, urdf: ET.Element) -> tuple[np.ndarray, ...]:
    """Every non-root link's inertial (from the URDF's root element) in its moving frame: frame (K,), mass (K,) [kg], centre of
    mass (K, 3) [m] and inertia about it (K, 3, 3) [kg m^2], and which joints move it (J, K).

    A link without an <inertial> gets what Bullet gives it: 1 kg, unit inertia at its origin.
    """
    links = {link.get("name"): link for link in urdf.iter("link")}
    frames, masses, coms, tensors, columns = [], [], [], [], []
    for index, name in enumerate(kin.link_names):
        if index == kin.root or name not in links:
            continue
        element = links[name]
        mass, com, tensor = link_inertia(element) if element.find("inertial") is not None else \
            (1.0, np.zeros(3), np.eye(3))
        if mass <= 0.0:
            continue
        offset = kin._link_offset[index]
        rot = offset[:3, :3]
        frames.append(kin._link_frame[index])
        masses.append(mass)
        coms.append(offset[:3, :3] @ com + offset[:3, 3])
        tensors.append(rot @ tensor @ rot.T)
        columns.append(kin.descends[:, index])
    n_j = len(kin.joint_names)
    return (np.array(frames, dtype=np.int64), np.array(masses, dtype=float), np.reshape(coms, (-1, 3)),
            np.reshape(tensors, (-1, 3, 3)), np.array(columns, dtype=bool).reshape(-1, n_j).T)
