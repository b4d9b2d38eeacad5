"""VectorSimulation: N copies of one muscle-driven limb, stepped together.

The same physics as Simulation (robot_twitch.sim), with the muscle model, the muscle-path
geometry and the moment arms evaluated for all N x M muscles in single array operations. Only
the Bullet calls that pybullet offers per body stay per limb: one setJointMotorControlArray, one
getJointStates and one getContactPoints per limb and control step.

Layout: the limbs are split over Bullet worlds of `limbs_per_world` limbs each, on a grid
`spacing_m` apart inside a world, with collisions between limbs filtered out (a collision group per
limb, and the spacing). limbs_per_world=1 gives one client per limb, each world identical to
Simulation's (bit-identical to N separate Simulations); limbs_per_world=N one shared world.
benchmarks/bench_vector.py measures the trade-off (docs/benchmarks.md): a Bullet client costs
~28 MB, and Bullet's cost per limb grows with the number of bodies in one world (raw stepping of 256
planar arms in one world is 2.8x slower than in 256 clients); 8 limbs per world is as fast as one
client per limb at ~1/8 of the memory, hence the default.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pybullet
from pybullet_utils import bullet_client

from robot_twitch.body.kinematics import homogeneous
from robot_twitch.body.muscle import MuscleParameters
from robot_twitch.body.muscle_kernel import MuscleKernel
from robot_twitch.body.skin import SkinReader
from robot_twitch.body.spec import Body
from robot_twitch.sim import (
    BLOWUP_JOINT_SPEED_RAD_S,
    ClosedOnExit,
    LimbHandles,
    SimConfig,
    _with_time_constants,
    bullet_urdf,
    configure_world,
    connect_quietly,
    contain_blowups,
    load_ground,
    load_limb,
    touch_from_contacts,
)

LAYOUTS = {"clients": 1, "world": None}  # named layouts -> limbs_per_world (None: all in one)
DEFAULT_LIMBS_PER_WORLD = 8
_GROUND_GROUP = 1 << 30


class VectorSimulation(ClosedOnExit):
    """N limbs of one body. State arrays are batched: (N, J) joints, (N, M) muscles, (N, L) links.

    Attributes after every reset/step: time_s (N,), joint_pos_rad, joint_vel_rad_s (N, J),
    activation, excitation, length_m, velocity_m_s, fiber_length_norm, fiber_velocity_norm,
    force_n (N, M), moment_arms_m (N, M, J), joint_torque_nm (N, J), touch_n (N, L), skin_n (N, T),
    blown_up (N,) bool, contacts (list of N lists). path_points_m() gives (N, P, 3) in each
    limb's own frame (as Simulation reports them).
    """

    def __init__(self, body: Body, num_limbs: int, config: SimConfig | None = None,
                 limbs_per_world: int | str = DEFAULT_LIMBS_PER_WORLD,
                 spacing_m: float | None = None) -> None:
        if int(num_limbs) != num_limbs or num_limbs < 1:
            raise ValueError(f"num_limbs must be a positive integer, got {num_limbs!r}")
        if isinstance(limbs_per_world, str):
            if limbs_per_world not in LAYOUTS:
                raise ValueError(f"layout {limbs_per_world!r} must be one of {sorted(LAYOUTS)} or an integer")
            limbs_per_world = LAYOUTS[limbs_per_world] or int(num_limbs)
        if int(limbs_per_world) != limbs_per_world or limbs_per_world < 1:
            raise ValueError(f"limbs_per_world must be a positive integer, got {limbs_per_world!r}")
        self.body, self.num_limbs = body, int(num_limbs)
        self.limbs_per_world = min(int(limbs_per_world), self.num_limbs)
        self.config = config or SimConfig()
        self._params: MuscleParameters = _with_time_constants(body.muscle_params, self.config)
        self._excitation_shape = (self.num_limbs, self._params.n_muscles)
        self._dt_s = self.config.control_dt_s
        self.spacing_m = float(spacing_m) if spacing_m is not None else default_spacing_m(body)
        self._clients: list[bullet_client.BulletClient] = []
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        self.reset()

    # -- construction -------------------------------------------------------------------
    def _build(self) -> None:
        n, cfg, per_world = self.num_limbs, self.config, self.limbs_per_world
        ground = cfg.ground_for(self.body)
        side = math.ceil(math.sqrt(per_world))
        slot = np.arange(n) % per_world
        offsets = np.zeros((n, 3))
        offsets[:, 0], offsets[:, 1] = (slot % side) * self.spacing_m, (slot // side) * self.spacing_m
        self.offsets_m = offsets  # (N, 3) where each limb's frame sits in its world
        self.limbs: list[LimbHandles] = []
        self._limb_client: list[bullet_client.BulletClient] = []
        with bullet_urdf(self.body, cfg) as urdf_path:
            for i in range(n):
                if slot[i] == 0:  # a new world
                    c = connect_quietly()
                    self._clients.append(c)
                    configure_world(c, cfg)
                    plane = load_ground(c, "plane") if ground == "plane" else None
                    if plane is not None and per_world > 1:
                        c.setCollisionFilterGroupMask(plane, -1, _GROUND_GROUP, (1 << 30) - 1)
                offset = tuple(float(v) for v in offsets[i])
                mattress = load_ground(c, ground, offset, self.body.spec.crib_m) \
                    if ground in ("mattress", "crib") else None
                limb = load_limb(c, self.body, cfg, offset, urdf_path)
                if per_world > 1:
                    # Limb i collides with itself and the ground only (bit slot mod 30; the grid spacing
                    # keeps limbs that share a bit out of reach of each other).
                    group = 1 << int(slot[i] % 30)
                    for link in [-1, *range(c.getNumJoints(limb.robot_id))]:
                        c.setCollisionFilterGroupMask(limb.robot_id, link, group, group | _GROUND_GROUP)
                    if mattress is not None:
                        for part in [-1, *range(c.getNumJoints(mattress))]:  # the crib's walls too
                            c.setCollisionFilterGroupMask(mattress, part, _GROUND_GROUP, group)
                self.limbs.append(limb)
                self._limb_client.append(c)
        self._steppers = [functools.partial(pybullet.stepSimulation, physicsClientId=cl._client)
                          for cl in self._clients]
        self._set_torques = [limb.set_torques for limb in self.limbs]
        damping_nms = np.asarray(self.body.spec.joint_damping_nms, dtype=float)
        self._kernel = MuscleKernel.for_muscles(self.body.paths, self._params, damping_nms, self._dt_s,
                                                cfg.substeps, cfg.gravity_m_s2)
        self._qd_slot = self._kernel.carry_slices()["qd"]
        self._get_joint_states = [limb.get_joint_states for limb in self.limbs]
        self._get_contacts = [limb.get_contacts for limb in self.limbs]
        self._skin = SkinReader(self.body.skin, self.body.kinematics)
        self._world_contacts = [functools.partial(pybullet.getContactPoints, physicsClientId=cl._client)
                                for cl in self._clients]
        self._world_limbs = [range(w * per_world, min((w + 1) * per_world, n)) for w in range(len(self._clients))]
        self._joint_index_sets = [limb.joint_indices for limb in self.limbs]
        self._n_joints = len(self.body.joint_names)
        if self.body.spec.fixed_base:
            self._roots = homogeneous(self.body.root_rotation, self.offsets_m + self.body.root_position_m)  # (N, 4, 4)
        else:
            self._roots = None

    @property
    def params(self) -> MuscleParameters:
        """The muscle constants (read-only: build a new VectorSimulation to change them)."""
        return self._params

    def _client_of(self, i: int) -> bullet_client.BulletClient:
        return self._limb_client[i]

    # -- state ---------------------------------------------------------------------------
    def reset(self, joint_pos_rad: np.ndarray | None = None, mask: np.ndarray | None = None) -> None:
        """Put the limbs in `mask` (default all) at joint_pos_rad (N, J) or (J,), at rest, muscles off."""
        n, n_joints, n_muscles = self.num_limbs, self._n_joints, self.params.n_muscles
        rows = np.arange(n) if mask is None else np.flatnonzero(np.asarray(mask, dtype=bool))
        q = np.broadcast_to(self.body.initial_posture() if joint_pos_rad is None
                            else np.asarray(joint_pos_rad, dtype=float), (n, n_joints))
        for i in rows:
            c, limb = self._client_of(i), self.limbs[i]
            for k, index in enumerate(limb.joint_indices):
                c.resetJointState(limb.robot_id, index, float(q[i, k]), 0.0)
        if not hasattr(self, "time_s"):
            self.time_s = np.zeros(n)
            self.activation, self.excitation = np.zeros((n, n_muscles)), np.zeros((n, n_muscles))
            self.joint_torque_nm = np.zeros((n, n_joints))
        # New arrays: the previous ones may have been handed out (or be the caller's excitation).
        time_s, activation, excitation, torque = (self.time_s.copy(), self.activation.copy(),
                                                  self.excitation.copy(), self.joint_torque_nm.copy())
        time_s[rows], activation[rows], excitation[rows], torque[rows] = 0.0, 0.0, 0.0, 0.0
        self.time_s = time_s
        self._read_state(activation, excitation, torque)
        # Limbs released at rest accelerate under gravity alone; the others keep their last step's.
        k = self._kernel
        self._carry[rows, k.acceleration_slot] = self._carry[rows, k.rest_acceleration_slot]

    def step(self, excitation: np.ndarray, skip: np.ndarray | None = None) -> None:
        """One control step with excitations u (N, M) in [0, 1].

        Limbs in `skip` (N,) bool are reset by the caller right after (autoreset): they get no torque.
        """
        if not self._clients:
            raise RuntimeError("this VectorSimulation is closed")
        try:
            u = np.ascontiguousarray(np.broadcast_to(excitation, self._excitation_shape), dtype=float)
        except ValueError:
            raise ValueError(f"excitation has shape {np.shape(excitation)}, expected {self._excitation_shape}"
                             " (limbs, muscles) or (muscles,)") from None
        driven = self._kernel.drive(u, self._carry, self._root)  # (N, M + J): activation, torque
        activation, torque = driven[:, :u.shape[1]], driven[:, u.shape[1]:]
        if skip is not None:
            torque[skip] = 0.0
        for set_torques, forces in zip(self._set_torques, torque.tolist(), strict=True):
            set_torques(forces=forces)
        for step in self._steppers:
            step()
        self.time_s = self.time_s + self._dt_s
        self._read_state(activation, u, torque, self._carry[:, self._qd_slot])

    def _read_state(self, activation: np.ndarray, excitation: np.ndarray, torque: np.ndarray,
                    qd_prev: np.ndarray | None = None) -> None:
        """Read every limb's joint state and compute the batched state. qd_prev (N, J): the joint
        velocities before the step just taken (None: no step; the predictor's acceleration is kept)."""
        n, n_joints = self.num_limbs, self._n_joints
        flat = [js[:2] for get in self._get_joint_states for js in get()]
        state = np.array(flat).reshape(n, n_joints, 2)
        q, qd = state[..., 0].copy(), state[..., 1].copy()  # (N, J)
        # The all-clear of joints_calm, on the whole batch at once (numpy pays off at N x J values).
        if math.isfinite(state.sum()) and np.abs(qd).max() < BLOWUP_JOINT_SPEED_RAD_S:
            blown_up = np.zeros(n, dtype=bool)
        else:
            blown_up = contain_blowups(q, qd)
        roots = self._roots if self._roots is not None else self._free_roots()
        # What the next step's drive() reads is kept privately: the public arrays may be handed out.
        self._root = roots
        kept = getattr(self, "_carry", None) if qd_prev is None else None
        muscles, self._carry = self._kernel.state_at(q, qd, qd if qd_prev is None else qd_prev,
                                                     np.asarray(activation, dtype=float),
                                                     np.asarray(torque, dtype=float), roots)
        lengths, arms, points, velocity, fiber_norm, vel_norm, force = self._kernel.state_views(muscles)
        if kept is not None:  # no step taken: keep the acceleration the next step predicts with
            slot = self._kernel.acceleration_slot
            self._carry[:, slot] = kept[:, slot]
        touch = np.zeros((n, len(self.body.link_names)))
        skin = np.zeros((n, self._skin.layout.n_taxels))
        contacts: list[list[tuple[str, str, float]]] = [[] for _ in range(n)]
        names = self.body.link_names
        # One query per world; the per-limb queries run only in worlds that have contacts at all.
        for world_contacts, limbs in zip(self._world_contacts, self._world_limbs, strict=True):
            if not world_contacts():
                continue
            for i in limbs:
                found = self._get_contacts[i]()
                if found:
                    limb = self.limbs[i]
                    touch[i], contacts[i] = touch_from_contacts(found, limb.robot_id, limb.link_slot, names,
                                                                self.config.substeps)
                    if skin.shape[1]:
                        skin[i] = self._skin.read(found, limb.robot_id, limb.link_slot, self.config.substeps,
                                                  q[i], roots[i, :3, :3], roots[i, :3, 3])
        self.joint_pos_rad, self.joint_vel_rad_s, self.blown_up = q, qd, blown_up
        self.activation, self.excitation = np.asarray(activation, dtype=float), np.asarray(excitation, dtype=float)
        self.length_m, self.velocity_m_s, self.moment_arms_m = lengths, velocity, arms
        self.fiber_length_norm, self.fiber_velocity_norm, self.force_n = fiber_norm, vel_norm, force
        self.joint_torque_nm, self.touch_n, self.contacts = torque, touch, contacts
        self.skin_n = skin
        self._points_world = points

    def _free_roots(self) -> np.ndarray:
        """World transforms (N, 4, 4) of free-floating roots (one Bullet query per limb)."""
        rots, poss = [], []
        for i, limb in enumerate(self.limbs):
            c = self._client_of(i)
            com_pos, com_orn = c.getBasePositionAndOrientation(limb.robot_id)
            pos, orn = c.multiplyTransforms(com_pos, com_orn, *limb.inertial_inv)
            rots.append(c.getMatrixFromQuaternion(orn))
            poss.append(pos)
        return homogeneous(np.reshape(rots, (-1, 3, 3)), np.asarray(poss))

    def path_points_m(self) -> np.ndarray:
        """Path points (N, P, 3) of every limb in its own frame (offsets removed)."""
        return self._points_world - self.offsets_m[:, None, :]

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        clients, self._clients = self._clients, []
        for c in clients:
            c.disconnect()

    @property
    def closed(self) -> bool:
        return not self._clients



def default_spacing_m(body: Body) -> float:
    """Grid spacing that keeps limbs (and mattresses) out of each other's reach [m]."""
    reach = sum(float(np.linalg.norm(j.origin_xyz_m)) for j in body.skeleton.joints) + 0.5
    return max(2.0 * reach + 0.5, 2.0)
