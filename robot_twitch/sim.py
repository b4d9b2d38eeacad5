"""Simulation: the one owner of a Bullet client, stepping one muscle-driven limb.

Data flow per control step (dt = 1 / control_hz):
  excitation u (M,) -> activation a (first-order dynamics) -> Hill force F(a, l, v) ->
  joint torques tau = R(q)^T F - b * qdot -> Bullet integrates `substeps` physics steps with
  tau held -> joint state (q, qdot) -> muscle lengths l(q), moment arms R(q), fibre state.

Rates. Bullet integrates at `physics_hz` (default 1000 Hz: stiff contacts of small infant
segments stay stable; MyoSuite's MuJoCo models step at 500 Hz). The excitation is set at
`control_hz` (default 100 Hz, 10 ms) and Bullet is called once per control step, with the torque
held over its substeps (Bullet's numSubSteps), so the Python cost is paid once per control step.
That held torque is the step's mean muscle torque, not its value at the step's start: activation
is integrated at the physics rate, and the muscle law is evaluated at the step's predicted mean
joint state, consistently with the torque's own effect on the motion (one linearly implicit solve;
body/muscle_kernel.py). A twitch then moves the limb as muscles updated at 2 kHz do, within a few
percent of its excursion (docs/muscles.md, benchmarks/bench_twitch.py), and the force-velocity
damping acts like a trapezoidal integrator: stable at any damping.

The muscle computation of a step runs in a compiled kernel (body/muscle_kernel.py); Bullet loads
the URDF reduced without changing its dynamics (body/weld.py): fixed-joint links welded, and no
collision shapes when nothing can touch the limb.
"""

from __future__ import annotations

import contextlib
import functools
import math
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pybullet
import pybullet_data
from pybullet_utils import bullet_client

from robot_twitch._quiet import silenced_fds
from robot_twitch.body.kinematics import homogeneous
from robot_twitch.body.muscle import MuscleParameters
from robot_twitch.body.muscle_kernel import MuscleKernel
from robot_twitch.body.skin import SkinReader
from robot_twitch.body.spec import DEFAULT_CRIB_M, Body
from robot_twitch.body.weld import bullet_urdf_text, read_urdf_tree, self_contact_possible
from robot_twitch.errors import ConfigError

GROUND_CHOICES = ("body", "none", "plane", "mattress", "crib")
BLOWUP_JOINT_SPEED_RAD_S = 1.0e3  # beyond this the integration has diverged


@dataclass(frozen=True)
class SimConfig:
    """Physics settings of one Simulation."""

    physics_hz: float = 1000.0
    """Bullet integration rate [Hz]."""
    control_hz: float = 100.0
    """Muscle/control update rate [Hz]; must divide physics_hz."""
    gravity_m_s2: float = 9.81
    """Magnitude of gravity along -z [m/s^2]; 0 turns gravity off."""
    activation_time_constant_s: float = 0.010
    """Activation time constant tau_act [s] (Thelen 2003: 10 ms)."""
    deactivation_time_constant_s: float = 0.040
    """Deactivation time constant tau_deact [s] (Thelen 2003: 40 ms)."""
    self_collision: bool = True
    """Collide the limb's links with each other (non-adjacent links only), where the body file
    allows it (its `self_collision` key)."""
    ground: str = "body"
    """Surface under the limb: 'body' (the body file's choice), or 'none', 'plane', 'mattress', 'crib'."""
    weld_fixed_links: bool = True
    """Give Bullet each link joined by a fixed joint, that has mass and no collision shapes, welded
    into its parent: the same rigid body (exact composite inertia) with fewer links to integrate
    (planar_arm: ~25 % less Bullet time; robot_twitch.body.weld)."""
    drop_unused_collision_shapes: bool = True
    """Load the limb without collision shapes when nothing can touch it: ground 'none' and no pair
    of its links that Bullet would test for self-contact (planar_arm: ~6 % less Bullet time; the
    dynamics are unchanged, inertia comes from the URDF). Set False to add objects of your own
    to the world for the limb to touch."""

    def __post_init__(self) -> None:
        for name in ("physics_hz", "control_hz", "activation_time_constant_s",
                     "deactivation_time_constant_s"):
            value = getattr(self, name)
            if not value > 0:
                raise ConfigError(None, f"sim.{name}", f"{value!r} must be positive")
        ratio = self.physics_hz / self.control_hz
        if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
            raise ConfigError(None, "sim.control_hz",
                              f"{self.control_hz!r}: physics_hz ({self.physics_hz}) must be an "
                              "integer multiple of control_hz")
        if self.ground not in GROUND_CHOICES:
            raise ConfigError(None, "sim.ground", f"{self.ground!r} is invalid: expected one of {GROUND_CHOICES}")

    def ground_for(self, body: Body) -> str:
        """The surface actually used for this body."""
        return body.spec.ground if self.ground == "body" else self.ground

    @property
    def control_dt_s(self) -> float:
        return 1.0 / self.control_hz

    @property
    def substeps(self) -> int:
        return int(round(self.physics_hz / self.control_hz))


@dataclass
class LimbState:
    """Everything known about the limb after a step. J joints, M muscles, L links."""

    time_s: float
    joint_pos_rad: np.ndarray  # (J,)
    joint_vel_rad_s: np.ndarray  # (J,)
    activation: np.ndarray  # (M,)
    excitation: np.ndarray  # (M,)
    length_m: np.ndarray  # (M,) muscle-tendon length
    velocity_m_s: np.ndarray  # (M,) muscle-tendon lengthening velocity
    moment_arms_m: np.ndarray  # (M, J) R(q) = -dl/dq
    fiber_length_norm: np.ndarray  # (M,)
    fiber_velocity_norm: np.ndarray  # (M,)
    force_n: np.ndarray  # (M,)
    joint_torque_nm: np.ndarray  # (J,) muscle + passive joint torque applied in the last step
    touch_n: np.ndarray  # (L,) normal contact force per link
    path_points_m: np.ndarray  # (P, 3) world positions of the muscle path points
    blown_up: bool = False
    contacts: list[tuple[str, str, float]] = field(default_factory=list)
    skin_n: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) normal force per taxel
    blown_up_reason: str = ""  # the first non-finite or runaway quantity when blown_up


def joints_calm(q_rad: Sequence[float], qd_rad_s: Sequence[float]) -> bool:
    """True when every angle and speed (flat sequences of floats) is finite and every speed is
    below BLOWUP_JOINT_SPEED_RAD_S: no limb can have blown up. The cheap all-clear taken every step
    (Python floats: numpy's per-call overhead on a few numbers costs more than the test); only when
    it fails does ``contain_blowups`` look at the limbs one by one."""
    # Any NaN/inf makes a sum non-finite; with all finite, max() compares every speed.
    return math.isfinite(sum(q_rad)) and math.isfinite(sum(qd_rad_s)) and max(map(abs, qd_rad_s)) < BLOWUP_JOINT_SPEED_RAD_S


def contain_blowups(q_rad: np.ndarray, qd_rad_s: np.ndarray) -> np.ndarray:
    """The blow-up check of single-limb and batched physics: (N,) bool, the limbs (rows of q, qd
    (N, J)) whose angle or speed is not finite or whose speed reaches BLOWUP_JOINT_SPEED_RAD_S.
    Their rows are made safe in place (NaN angles -> 0, speeds -> 0) so that the muscle state can
    still be computed; the run stops (SimulationDiverged) or the env ends their episode."""
    blown = ~(np.isfinite(q_rad).all(axis=1) & np.isfinite(qd_rad_s).all(axis=1)
              & (np.abs(qd_rad_s) < BLOWUP_JOINT_SPEED_RAD_S).all(axis=1))
    q_rad[blown] = np.nan_to_num(q_rad[blown])
    qd_rad_s[blown] = 0.0
    return blown


def blowup_reason(joint_names: tuple[str, ...] | list[str], torque_nm: np.ndarray, q_rad: np.ndarray,
                  qd_rad_s: np.ndarray) -> str:
    """Name the first quantity that went wrong, in causal order: torque, angle, speed."""
    for label, values in (("joint_torque_nm", torque_nm), ("joint_pos_rad", q_rad), ("joint_vel_rad_s", qd_rad_s)):
        bad = np.flatnonzero(~np.isfinite(np.asarray(values, dtype=float)))
        if len(bad):
            return f"{label}[{joint_names[bad[0]]}] = {values[bad[0]]}"
    k = int(np.argmax(np.abs(qd_rad_s)))
    return f"joint_vel_rad_s[{joint_names[k]}] = {qd_rad_s[k]:.3g} beyond {BLOWUP_JOINT_SPEED_RAD_S:g} rad/s"


@dataclass(frozen=True)
class SimSnapshot:
    """What restores a limb's motion exactly in a fresh Simulation of the same body: joint state
    (J,), muscle activation and excitation (M,) and the clock. Plain arrays (copies)."""

    time_s: float
    joint_pos_rad: np.ndarray  # (J,)
    joint_vel_rad_s: np.ndarray  # (J,)
    activation: np.ndarray  # (M,)
    excitation: np.ndarray  # (M,)


def connect_quietly() -> bullet_client.BulletClient:
    """A new DIRECT Bullet client, without the 'argv[0]=' line Bullet's C code prints on connect."""
    with silenced_fds(1):
        return bullet_client.BulletClient(connection_mode=pybullet.DIRECT)


_Owner = TypeVar("_Owner", bound="ClosedOnExit")


class ClosedOnExit:
    """Context-manager and finaliser plumbing for objects that own Bullet clients: `with` and
    garbage collection both call close() (which must be idempotent)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self: _Owner) -> _Owner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class Simulation(ClosedOnExit):
    """One limb in one Bullet world. Owns its Bullet client and always disconnects it.

    Use as a context manager, or call close(); close() is idempotent.
    """

    def __init__(self, body: Body, config: SimConfig | None = None) -> None:
        self._body = body
        self.config = config or SimConfig()
        self._params: MuscleParameters = _with_time_constants(body.muscle_params, self.config)
        self._excitation_shape = (self._params.n_muscles,)
        self._dt_s = self.config.control_dt_s
        self._client: bullet_client.BulletClient | None = connect_quietly()
        try:
            self._build_world()
        except BaseException:
            self.close()
            raise
        self.state = self.reset()

    @property
    def body(self) -> Body:
        return self._body

    @body.setter
    def body(self, body: Body) -> None:
        """Swap the muscle geometry (e.g. a rerouted path); the skeleton in Bullet stays."""
        self._body = body
        self._rebuild_kernel()
        self._recompute_state()

    @property
    def params(self) -> MuscleParameters:
        return self._params

    @params.setter
    def params(self, params: MuscleParameters) -> None:
        """Change muscle constants (e.g. weakened forces); they act from the next step."""
        self._params = params
        self._rebuild_kernel()
        self._recompute_state()

    def _recompute_state(self) -> None:
        """Recompute the current state (and what the next step reads) with the current model."""
        s = self.state
        self.state = self._read_state(s.activation, s.excitation, s.joint_torque_nm)

    def _rebuild_kernel(self) -> None:
        cfg = self.config
        self._kernel = MuscleKernel.for_muscles(self._body.paths, self._params, self._damping_nms, self._dt_s,
                                                cfg.substeps, cfg.gravity_m_s2)
        self._qd_slot, self._torque_slot = self._kernel.carry_slices()["qd"], self._kernel.carry_slices()["torque"]
        self._fixed_root = homogeneous(self._body.root_rotation, self._body.root_position_m)[None] \
            if self._body.spec.fixed_base else None

    # -- construction -------------------------------------------------------------------
    @property
    def client(self) -> bullet_client.BulletClient:
        if self._client is None:
            raise RuntimeError("this Simulation is closed")
        return self._client

    def _build_world(self) -> None:
        c = self.client
        configure_world(c, self.config)
        self.ground_id = load_ground(c, self.config.ground_for(self.body), crib_m=self.body.spec.crib_m)
        with bullet_urdf(self.body, self.config) as urdf_path:
            limb = load_limb(c, self.body, self.config, urdf_path=urdf_path)
        self.robot_id, self.joint_indices, self.link_bullet_index = limb.robot_id, limb.joint_indices, \
            limb.link_bullet_index
        self._inertial_inv, self._link_slot = limb.inertial_inv, limb.link_slot
        # Hot-path Bullet calls bound once (BulletClient.__getattr__ builds a partial per call).
        self._step_bullet = functools.partial(pybullet.stepSimulation, physicsClientId=c._client)
        self._get_joint_states, self._set_torques, self._get_contacts = limb.get_joint_states, \
            limb.set_torques, limb.get_contacts
        self._damping_nms = np.asarray(self.body.spec.joint_damping_nms, dtype=float)
        self._skin = SkinReader(self.body.skin, self.body.kinematics)
        # Loaded without collision shapes (nothing can touch it): no contact query is needed.
        self._can_touch = not (self.config.drop_unused_collision_shapes and touch_free(self.body, self.config))
        self._carry: np.ndarray | None = None
        self._rebuild_kernel()

    # -- state ---------------------------------------------------------------------------
    def reset(self, joint_pos_rad: np.ndarray | None = None,
              joint_vel_rad_s: np.ndarray | None = None) -> LimbState:
        """Put the limb at a posture (default: the body's initial posture) at rest, muscles off."""
        c = self.client
        n_joints = len(self.joint_indices)
        q = self.body.initial_posture() if joint_pos_rad is None else np.asarray(joint_pos_rad, float)
        qd = np.zeros(n_joints) if joint_vel_rad_s is None else np.asarray(joint_vel_rad_s, float)
        if q.shape != (n_joints,) or qd.shape != (n_joints,):
            raise ValueError(f"joint state must have shape ({n_joints},), got {q.shape} and {qd.shape}")
        for k, index in enumerate(self.joint_indices):
            c.resetJointState(self.robot_id, index, float(q[k]), float(qd[k]))
        self.time_s = 0.0
        n_muscles = self.params.n_muscles
        self._carry = None
        self.state = self._read_state(np.zeros(n_muscles), np.zeros(n_muscles), np.zeros(n_joints))
        k = self._kernel  # released at rest: gravity alone acts
        self._carry[:, k.acceleration_slot] = self._carry[:, k.rest_acceleration_slot]
        return self.state

    def snapshot(self) -> SimSnapshot:
        """The current joint and muscle state, as copies (see restore)."""
        s = self.state
        return SimSnapshot(self.time_s, s.joint_pos_rad.copy(), s.joint_vel_rad_s.copy(), s.activation.copy(),
                           s.excitation.copy())

    def restore(self, snapshot: SimSnapshot) -> LimbState:
        """Put the limb at a snapshot's joint, activation and clock state (of this or another
        Simulation of the same body). Bullet's solver caches are not part of it: restoring into a
        freshly built world continues the motion exactly as a world rebuilt at that time does."""
        self.reset(snapshot.joint_pos_rad, snapshot.joint_vel_rad_s)
        self.time_s = float(snapshot.time_s)
        self.state = self._read_state(np.asarray(snapshot.activation, dtype=float),
                                      np.asarray(snapshot.excitation, dtype=float), np.zeros(len(self.joint_indices)))
        return self.state

    def step(self, excitation: np.ndarray, external_torque_nm: np.ndarray | None = None) -> LimbState:
        """Advance one control step with muscle excitations u (M,) in [0, 1].

        external_torque_nm: optional (J,) joint torques applied from outside the limb during this
        step only (e.g. a caregiver moving it), added to the muscle and passive torques.
        """
        if self._client is None:
            raise RuntimeError("this Simulation is closed")
        u = np.asarray(excitation, dtype=float)
        if u.shape != self._excitation_shape or not u.flags.c_contiguous:
            u = self._excitation_row(u)
        carry = self._carry
        if external_torque_nm is not None:
            external = np.asarray(external_torque_nm, dtype=float)
            if external.shape != (len(self.joint_indices),) or not np.all(np.isfinite(external)):
                raise ValueError(f"external_torque_nm must be finite with shape ({len(self.joint_indices)},), "
                                 f"got {external.shape}")
            # The predictor sees the external torque as a change of the applied torque.
            carry = carry.copy()
            carry[:, self._torque_slot] -= external
        driven = self._kernel.drive(u.reshape(1, -1), carry, self._root)[0]  # activation, torque
        m = self._excitation_shape[0]
        torque = driven[m:]
        applied = torque if external_torque_nm is None else torque + external
        self._set_torques(forces=applied.tolist())
        self._step_bullet()
        self.time_s += self._dt_s
        self.state = self._read_state(driven[:m], u, torque, self._carry[:, self._qd_slot], applied)
        return self.state

    def _excitation_row(self, u: np.ndarray) -> np.ndarray:
        """Excitation (M,) contiguous: a scalar is every muscle's; shapes other than (M,) are errors."""
        n_muscles = self._excitation_shape[0]
        if u.ndim == 0:
            return np.full(n_muscles, float(u))
        if u.shape != (n_muscles,):
            raise ValueError(f"excitation has shape {u.shape}, expected ({n_muscles},): one value per muscle")
        return np.ascontiguousarray(u)

    def _root_pose(self) -> tuple[np.ndarray, np.ndarray]:
        if self.body.spec.fixed_base:
            return self.body.root_rotation, self.body.root_position_m
        c = self.client
        com_pos, com_orn = c.getBasePositionAndOrientation(self.robot_id)
        pos, orn = c.multiplyTransforms(com_pos, com_orn, *self._inertial_inv)
        return np.array(c.getMatrixFromQuaternion(orn)).reshape(3, 3), np.array(pos)

    def _read_state(self, activation: np.ndarray, excitation: np.ndarray, torque: np.ndarray,
                    qd_prev: np.ndarray | None = None, applied_torque_nm: np.ndarray | None = None) -> LimbState:
        """Read Bullet's joint state and compute the limb's state. torque (J,): the muscle and joint
        torque of the step just taken; applied_torque_nm (J,): all torque Bullet applied (with an
        external torque; default torque); qd_prev (1, J): the joint velocities before the step (None:
        no step was taken; the mean acceleration that the next step's torque is predicted with is kept)."""
        q_list, qd_list, _, _ = zip(*self._get_joint_states(), strict=True)
        joints = np.array((q_list, qd_list))
        blown_up, reason = False, ""
        if not joints_calm(q_list, qd_list):
            reason = blowup_reason(self.body.joint_names, torque, joints[0], joints[1])
            blown_up = bool(contain_blowups(joints[0:1], joints[1:2])[0])
        root = self._fixed_root if self._fixed_root is not None else homogeneous(*self._root_pose())[None]
        # What the next step's drive() reads is kept privately, in the kernel's carry (a batch of one
        # limb): the state's arrays may be handed out and edited.
        self._root = root
        q, qd = joints[0:1], joints[1:2]
        kept = self._carry if qd_prev is None else None
        applied = torque if applied_torque_nm is None else applied_torque_nm
        muscles, self._carry = self._kernel.state_at(q, qd, qd if qd_prev is None else qd_prev,
                                                     activation.reshape(1, -1), applied.reshape(1, -1), root)
        lengths, arms, points, velocity, fiber_norm, vel_norm, force = self._kernel.state_views(muscles[0])
        if kept is not None:  # no step taken: keep the acceleration the next step predicts with
            slot = self._kernel.acceleration_slot
            self._carry[:, slot] = kept[:, slot]
        if self._can_touch:
            touch, contacts, skin = self._touch(joints[0])
        else:
            touch, contacts, skin = np.zeros(len(self.body.link_names)), [], np.zeros(self._skin.layout.n_taxels)
        return LimbState(self.time_s, joints[0].copy(), joints[1].copy(), np.asarray(activation, dtype=float),
                         np.asarray(excitation, dtype=float), lengths, velocity, arms, fiber_norm, vel_norm, force,
                         torque, touch, points, blown_up, contacts, skin, reason)

    def _touch(self, q: np.ndarray) -> tuple[np.ndarray, list[tuple[str, str, float]], np.ndarray]:
        """Normal contact force per link (L,) and per taxel (T,), from the ground, objects and
        self-contact; the named contacts."""
        points = self._get_contacts()
        if not points:
            return np.zeros(len(self.body.link_names)), [], np.zeros(self._skin.layout.n_taxels)
        touch, contacts = touch_from_contacts(points, self.robot_id, self._link_slot, self.body.link_names,
                                              self.config.substeps)
        skin = self._skin.read(points, self.robot_id, self._link_slot, self.config.substeps, q,
                               *self._root_pose()) if self._skin.layout.n_taxels else np.zeros(0)
        return touch, contacts, skin

    def link_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """World rotation (L, 3, 3) and origin (L, 3) [m] of every link's URDF frame in the current state."""
        rot, pos = self.body.kinematics.link_frames(self.state.joint_pos_rad[None], *self._root_pose())
        return rot[0], pos[0]

    # -- rendering -----------------------------------------------------------------------
    def camera_image(self, width: int, height: int, view: np.ndarray, projection: np.ndarray,
                     renderer: int | None = None) -> np.ndarray:
        """RGB frame (height, width, 3) uint8 from the given view/projection matrices."""
        c = self.client
        renderer = pybullet.ER_TINY_RENDERER if renderer is None else renderer
        _, _, rgba, _, _ = c.getCameraImage(width, height, view.ravel(order="F").tolist(),
                                            projection.ravel(order="F").tolist(), renderer=renderer)
        return np.asarray(rgba, dtype=np.uint8).reshape(height, width, 4)[..., :3].copy()

    # -- lifetime ------------------------------------------------------------------------
    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.disconnect()
            finally:
                self._client = None

    @property
    def closed(self) -> bool:
        return self._client is None



@dataclass
class LimbHandles:
    """One limb loaded into a Bullet world, with its hot-path Bullet calls bound once."""

    robot_id: int
    joint_indices: list[int]  # (J,) Bullet joint index per movable joint, in body.joint_names order
    link_bullet_index: np.ndarray  # (L,) Bullet link index per body link (-1: base; merged: the welded-to link)
    link_slot: dict[int, int]  # Bullet link index -> position in body.link_names
    inertial_inv: tuple  # inverse of the base's inertial frame (Bullet's base pose is the COM's)
    get_joint_states: functools.partial
    set_torques: functools.partial  # (forces=[J floats])
    get_contacts: functools.partial


def configure_world(c: bullet_client.BulletClient, cfg: SimConfig) -> None:
    """Gravity, time step and the numSubSteps scheme of a fresh Bullet world."""
    c.setAdditionalSearchPath(pybullet_data.getDataPath())
    c.setGravity(0.0, 0.0, -cfg.gravity_m_s2)
    c.setPhysicsEngineParameter(
        fixedTimeStep=cfg.control_dt_s, numSubSteps=cfg.substeps, deterministicOverlappingPairs=1
    )


def load_ground(c: bullet_client.BulletClient, ground: str,
                offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0),
                crib_m: tuple[float, float, float, float] = DEFAULT_CRIB_M) -> int | None:
    """Load 'plane', 'mattress' or 'crib' (translated by offset_m) or nothing ('none'); the body id
    or None. crib_m: the crib's interior [x_min, x_max, y_min, y_max] in metres."""
    if ground == "plane":
        return c.loadURDF("plane.urdf")
    if ground == "crib":
        return load_crib(c, crib_m, offset_m)
    if ground == "mattress":
        # A soft crib mattress: 1.2 x 0.8 x 0.1 m, compliant contact (infant lies on it).
        half = [0.6, 0.4, 0.05]
        shape = c.createCollisionShape(pybullet.GEOM_BOX, halfExtents=half)
        visual = c.createVisualShape(pybullet.GEOM_BOX, halfExtents=half, rgbaColor=[0.75, 0.85, 0.95, 1])
        position = [offset_m[0], offset_m[1], offset_m[2] + 0.05]
        mattress = c.createMultiBody(0.0, shape, visual, basePosition=position)
        c.changeDynamics(mattress, -1, lateralFriction=0.8, contactStiffness=3.0e4, contactDamping=3.0e2)
        return mattress
    return None


def load_crib(c: bullet_client.BulletClient, interior_m: tuple[float, float, float, float],
              offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> int:
    """A crib: a soft mattress filling the interior [x_min, x_max, y_min, y_max] (0.1 m thick, top at
    z = 0.1 m, the 'mattress' ground's contact properties) and four rigid walls 0.35 m high around
    it (links 0..3 of the body), which limbs can touch."""
    x0, x1, y0, y1 = interior_m
    ox, oy, oz = offset_m
    half = [(x1 - x0) / 2, (y1 - y0) / 2, 0.05]
    centre = [ox + (x0 + x1) / 2, oy + (y0 + y1) / 2, oz + 0.05]
    mattress = c.createCollisionShape(pybullet.GEOM_BOX, halfExtents=half)
    mattress_look = c.createVisualShape(pybullet.GEOM_BOX, halfExtents=half, rgbaColor=[0.93, 0.9, 0.8, 1])
    t, h = 0.01, 0.175  # wall half thickness and half height (from the mattress bottom)
    walls = [([half[0] + t, 0, h], [t, half[1] + 2 * t, h]), ([-half[0] - t, 0, h], [t, half[1] + 2 * t, h]),
             ([0, half[1] + t, h], [half[0], t, h]), ([0, -half[1] - t, h], [half[0], t, h])]
    shapes = [c.createCollisionShape(pybullet.GEOM_BOX, halfExtents=e) for _, e in walls]
    looks = [c.createVisualShape(pybullet.GEOM_BOX, halfExtents=e, rgbaColor=[0.85, 0.7, 0.5, 1]) for _, e in walls]
    crib = c.createMultiBody(0.0, mattress, mattress_look, basePosition=centre,
                             linkMasses=[0.0] * 4, linkCollisionShapeIndices=shapes, linkVisualShapeIndices=looks,
                             linkPositions=[[p[0], p[1], p[2] - 0.05] for p, _ in walls],
                             linkOrientations=[[0, 0, 0, 1]] * 4, linkInertialFramePositions=[[0, 0, 0]] * 4,
                             linkInertialFrameOrientations=[[0, 0, 0, 1]] * 4, linkParentIndices=[0] * 4,
                             linkJointTypes=[pybullet.JOINT_FIXED] * 4, linkJointAxis=[[0, 0, 1]] * 4)
    c.changeDynamics(crib, -1, lateralFriction=0.5, contactStiffness=3.0e4, contactDamping=3.0e2)
    for wall in range(4):
        c.changeDynamics(crib, wall, lateralFriction=0.5)
    return crib


def touch_free(body: Body, cfg: SimConfig) -> bool:
    """Whether nothing can touch this limb: no ground, and no pair of its links that Bullet would
    test for self-contact (in a vector env other limbs are filtered out)."""
    self_contact = cfg.self_collision and body.spec.self_collision and \
        self_contact_possible(read_urdf_tree(body.spec.urdf_path))
    return cfg.ground_for(body) == "none" and not self_contact


@contextlib.contextmanager
def bullet_urdf(body: Body, cfg: SimConfig) -> Iterator[Path]:
    """The URDF file that Bullet loads for this body: its own, or a temporary copy without
    collision shapes (cfg.drop_unused_collision_shapes, when touch_free) and with fixed-joint
    links welded (cfg.weld_fixed_links): the same dynamics, less work for Bullet (body/weld.py)."""
    drop = cfg.drop_unused_collision_shapes and touch_free(body, cfg)
    text, welded_into = bullet_urdf_text(body.spec.urdf_path, cfg.weld_fixed_links, drop)
    if not (drop or welded_into):
        yield body.spec.urdf_path
        return
    with tempfile.TemporaryDirectory(prefix="robot_twitch-") as folder:
        path = Path(folder) / body.spec.urdf_path.name
        path.write_text(text, encoding="utf-8")
        yield path


def load_limb(c: bullet_client.BulletClient, body: Body, cfg: SimConfig,
              offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0),
              urdf_path: Path | None = None) -> LimbHandles:
    """Load the body's URDF (or urdf_path, e.g. from bullet_urdf) with its root at the
    configured pose translated by offset_m."""
    spec = body.spec
    flags = pybullet.URDF_USE_INERTIA_FROM_FILE
    if cfg.self_collision and spec.self_collision:
        flags |= pybullet.URDF_USE_SELF_COLLISION | pybullet.URDF_USE_SELF_COLLISION_EXCLUDE_PARENT
    robot_id = c.loadURDF(str(urdf_path or spec.urdf_path), useFixedBase=spec.fixed_base, flags=flags)
    # Place the root link's URDF frame (not its centre of mass) at the configured pose.
    inertial_pos, inertial_orn = c.getDynamicsInfo(robot_id, -1)[3:5]
    link_orn = c.getQuaternionFromEuler(spec.base_orientation_rpy_rad)
    base_pos = [p + o for p, o in zip(spec.base_position_m, offset_m, strict=True)]
    com_pos, com_orn = c.multiplyTransforms(base_pos, link_orn, inertial_pos, inertial_orn)
    c.resetBasePositionAndOrientation(robot_id, com_pos, com_orn)
    bullet_index = {c.getBodyInfo(robot_id)[0].decode(): -1}
    joint_index = {}
    for i in range(c.getNumJoints(robot_id)):
        info = c.getJointInfo(robot_id, i)
        joint_index[info[1].decode()] = i
        bullet_index[info[12].decode()] = i
    joint_indices = [joint_index[name] for name in body.joint_names]
    link_slot = {bullet_index[name]: k for k, name in enumerate(body.link_names) if name in bullet_index}
    # A link merged away (welded by a fixed joint) is part of the Bullet link it is welded to.
    welded_to = {j.child: j.parent for j in body.skeleton.joints if not j.movable}
    resolved = []
    for name in body.link_names:
        while name not in bullet_index:
            name = welded_to[name]
        resolved.append(bullet_index[name])
    link_bullet_index = np.array(resolved)
    # Bullet's joint motors hold zero velocity by default: switch them off so that the
    # muscles are the only actuators. Remove Bullet's default link damping as well; the
    # passive joint viscosity is part of the muscle kernel's torque (joint_damping_nms).
    all_joints = list(range(c.getNumJoints(robot_id)))
    c.setJointMotorControlArray(robot_id, all_joints, pybullet.VELOCITY_CONTROL,
                                forces=[0.0] * len(all_joints))
    for i in [-1, *all_joints]:
        c.changeDynamics(robot_id, i, linearDamping=0.0, angularDamping=0.0, jointDamping=0.0,
                         maxJointVelocity=10 * BLOWUP_JOINT_SPEED_RAD_S)
    cid = c._client
    return LimbHandles(
        robot_id, joint_indices, link_bullet_index, link_slot,
        c.invertTransform(inertial_pos, inertial_orn),
        functools.partial(pybullet.getJointStates, robot_id, joint_indices, physicsClientId=cid),
        functools.partial(pybullet.setJointMotorControlArray, robot_id, joint_indices,
                          pybullet.TORQUE_CONTROL, physicsClientId=cid),
        functools.partial(pybullet.getContactPoints, bodyA=robot_id, physicsClientId=cid),
    )


def touch_from_contacts(points: tuple, robot_id: int, link_slot: dict[int, int],
                        names: tuple[str, ...], substeps: int = 1
                        ) -> tuple[np.ndarray, list[tuple[str, str, float]]]:
    """Normal force per link (L,) [N] and named contacts from getContactPoints(bodyA=robot_id).

    With numSubSteps > 1 Bullet reports the normal impulse of the last substep divided by the
    whole control step, i.e. the force divided by `substeps` (a 1 N weight reads 0.1 N with 10
    substeps); multiplying by `substeps` restores newtons.
    """
    touch = np.zeros(len(names))
    if not points:
        return touch, []
    contacts = []
    for point in points:
        slot_a = link_slot.get(point[3])
        force = point[9] * substeps
        if slot_a is None:
            continue
        touch[slot_a] += force
        if point[2] == robot_id:
            slot_b = link_slot.get(point[4])
            if slot_b is not None:
                touch[slot_b] += force
                contacts.append((names[slot_a], names[slot_b], force))
        else:
            contacts.append((names[slot_a], "ground", force))
    return touch, contacts


def _with_time_constants(params: MuscleParameters, config: SimConfig) -> MuscleParameters:
    from dataclasses import replace

    return replace(params, activation_time_constant_s=config.activation_time_constant_s,
                   deactivation_time_constant_s=config.deactivation_time_constant_s)
