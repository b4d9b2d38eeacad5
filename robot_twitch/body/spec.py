"""Body files: a URDF skeleton plus a muscle YAML, loaded into a validated Body.

The muscle file format (docs/body-format.md has the full reference)::

    name: planar_arm
    urdf: planar_arm.urdf            # relative to this file
    fixed_base: true                 # optional, default true
    base_position: [0, 0, 0.5]       # optional, metres
    muscles:
      - name: biceps
        region: elbow
        max_isometric_force_n: 200
        optimal_fiber_length_m: 0.12 # optional: auto-calibrated when left out
        tendon_slack_length_m: 0.10  # optional: auto-calibrated when left out
        path:
          - {link: upper_arm, pos: [0.0, 0.02, 0.05]}
          - {link: forearm,   pos: [0.0, 0.02, -0.03]}
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robot_twitch.body.calibrate import calibrate_lengths
from robot_twitch.body.kinematics import Kinematics, MusclePathModel, PathGeometry
from robot_twitch.body.muscle import MuscleParameters
from robot_twitch.body.skin import SkinLayout, SkinSpec, build_layout, empty_layout, parse_skin
from robot_twitch.body.urdf import Skeleton, read_urdf, rpy_to_matrix
from robot_twitch.errors import BodyFileError
from robot_twitch.yaml_file import read_yaml_mapping

BODY_KEYS = {
    "name", "urdf", "fixed_base", "base_position", "base_orientation_rpy", "ground", "self_collision",
    "joint_damping_nms", "initial_posture", "muscles", "skin", "crib_m",
}
MUSCLE_KEYS = {
    "name", "region", "side", "max_isometric_force_n", "optimal_fiber_length_m",
    "tendon_slack_length_m", "max_contraction_velocity_lopt_per_s", "path",
}
GROUNDS = ("none", "plane", "mattress", "crib")
DEFAULT_CRIB_M = (-0.40, 0.42, -0.285, 0.285)  # crib interior [x_min, x_max, y_min, y_max] in m
SIDES = ("left", "right")


@dataclass(frozen=True)
class PathPoint:
    link: str
    pos_m: tuple[float, float, float]


@dataclass(frozen=True)
class MuscleSpec:
    """One muscle as written in the body file (lengths None until calibrated)."""

    name: str
    region: str
    side: str | None
    max_isometric_force_n: float
    optimal_fiber_length_m: float | None
    tendon_slack_length_m: float | None
    max_contraction_velocity_lopt_per_s: float
    path: tuple[PathPoint, ...]


@dataclass(frozen=True)
class BodySpec:
    """The validated content of a muscle YAML file."""

    name: str
    source: Path
    urdf_path: Path
    fixed_base: bool
    base_position_m: tuple[float, float, float]
    base_orientation_rpy_rad: tuple[float, float, float]
    ground: str
    joint_damping_nms: tuple[float, ...]  # (J,) per movable joint, in Kinematics order
    initial_posture_rad: dict[str, float]
    muscles: tuple[MuscleSpec, ...]
    self_collision: bool = True  # whether links of this body can touch each other
    skin: SkinSpec | None = None  # taxel spacing per link; None: no skin
    crib_m: tuple[float, float, float, float] = DEFAULT_CRIB_M  # interior of the 'crib' ground


@dataclass(frozen=True)
class Body:
    """A loaded body: spec, skeleton, geometry and calibrated muscle parameters."""

    spec: BodySpec
    skeleton: Skeleton
    kinematics: Kinematics
    paths: MusclePathModel
    muscle_params: MuscleParameters
    skin: SkinLayout | None = None  # the taxels (robot_twitch.body.skin); None: none

    def __post_init__(self) -> None:
        if self.skin is None:
            object.__setattr__(self, "skin", empty_layout(self.skeleton.link_names))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def muscles(self) -> tuple[MuscleSpec, ...]:
        return self.spec.muscles

    @property
    def muscle_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.spec.muscles)

    @property
    def joint_names(self) -> tuple[str, ...]:
        return self.kinematics.joint_names

    @property
    def link_names(self) -> tuple[str, ...]:
        return self.skeleton.link_names

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m.region for m in self.spec.muscles))

    @property
    def root_rotation(self) -> np.ndarray:
        return rpy_to_matrix(self.spec.base_orientation_rpy_rad)

    @property
    def root_position_m(self) -> np.ndarray:
        return np.asarray(self.spec.base_position_m, dtype=float)

    def initial_posture(self) -> np.ndarray:
        """(J,) initial joint positions: the file's initial_posture, else 0 clipped to range."""
        q = np.clip(0.0, self.kinematics.joint_lower, self.kinematics.joint_upper)
        for name, value in self.spec.initial_posture_rad.items():
            q[self.joint_names.index(name)] = value
        return q

    def moment_arms(self, q: np.ndarray) -> np.ndarray:
        """Ground-truth moment arms R(q) = -dl/dq, shape (M, J) for q (J,) or (B, M, J) for (B, J)."""
        q = np.asarray(q, dtype=float)
        single = q.ndim == 1
        _, arms, _ = self.paths.evaluate(np.atleast_2d(q), self.root_rotation, self.root_position_m)
        return arms[0] if single else arms

    def muscle_lengths(self, q: np.ndarray) -> np.ndarray:
        """Muscle-tendon lengths [m], (M,) for q (J,) or (B, M) for (B, J)."""
        q = np.asarray(q, dtype=float)
        single = q.ndim == 1
        lengths, _, _ = self.paths.evaluate(np.atleast_2d(q), self.root_rotation, self.root_position_m)
        return lengths[0] if single else lengths

    def joint_edges(self) -> tuple[tuple[str, str], ...]:
        """Pairs of movable joints adjacent in the tree (one's child link leads to the other)."""
        edges = []
        movable = {j.name for j in self.skeleton.movable_joints}
        for joint in self.skeleton.movable_joints:
            link = joint.parent
            parent = self.skeleton.parent_joint_of(link)
            while parent is not None and parent.name not in movable:
                parent = self.skeleton.parent_joint_of(parent.parent)
            if parent is not None:
                edges.append((parent.name, joint.name))
        return tuple(edges)


def assets_dir() -> Path:
    """Directory of the built-in bodies: inside the installed package, else the source tree."""
    packaged = Path(__file__).resolve().parent.parent / "assets"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "assets"


def builtin_bodies() -> dict[str, Path]:
    """Built-in body names -> their muscle YAML path."""
    root = assets_dir()
    return {p.parent.name: p for p in sorted(root.glob("*/body.yaml"))}


def resolve_body_path(body: str | Path) -> Path:
    """A built-in name or a path to a body YAML -> the YAML path."""
    builtins = builtin_bodies()
    if isinstance(body, str) and body in builtins:
        return builtins[body]
    path = Path(body)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise BodyFileError(path, None, "body file not found")
        return path
    hint = difflib.get_close_matches(str(body), list(builtins), n=1)
    extra = f"; did you mean {hint[0]!r}?" if hint else ""
    raise BodyFileError(
        None, "body", f"{body!r} is neither a built-in body {sorted(builtins)} nor a YAML file{extra}"
    )


def _number(value: Any, path: Path, key: str, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BodyFileError(path, key, f"{value!r} is not a number")
    if not np.isfinite(value):
        raise BodyFileError(path, key, f"{value!r} must be finite")
    if positive and value <= 0:
        raise BodyFileError(path, key, f"{value!r} must be positive")
    return float(value)


def _vector(value: Any, path: Path, key: str, n: int = 3) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise BodyFileError(path, key, f"{value!r} must be a list of {n} numbers")
    return tuple(_number(v, path, f"{key}[{i}]") for i, v in enumerate(value))


def _unknown_keys(found: dict, allowed: set[str], path: Path, where: str) -> None:
    for key in found:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else f"; expected one of {sorted(allowed)}"
            raise BodyFileError(path, f"{where}{key}", f"unknown key{extra}")


def _crib(value: Any, path: Path) -> tuple[float, float, float, float]:
    crib = _vector(value, path, "crib_m", 4)
    if not (crib[0] < crib[1] and crib[2] < crib[3]):
        raise BodyFileError(path, "crib_m", f"{value!r} must be [x_min, x_max, y_min, y_max] with min < max (metres)")
    return crib  # type: ignore[return-value]


def _joint_damping(value: Any, joint_names: list[str], path: Path) -> tuple[float, ...]:
    """Passive joint viscosity [N m s/rad]: one number for every joint, or {joint: value} with an
    optional `default` for the joints not named."""
    key = "joint_damping_nms"
    if not isinstance(value, dict):
        b = _number(value, path, key)
        if b < 0:
            raise BodyFileError(path, key, f"{value!r} must be >= 0")
        return tuple(b for _ in joint_names)
    default = _number(value.get("default", 0.01), path, f"{key}.default")
    for joint in value:
        if joint != "default" and joint not in joint_names:
            raise BodyFileError(path, f"{key}.{joint}", f"unknown joint; joints: {joint_names}")
    damping = tuple(_number(value.get(j, default), path, f"{key}.{j}") for j in joint_names)
    if min(damping) < 0:
        raise BodyFileError(path, key, f"{value!r}: every value must be >= 0")
    return damping


def _parse_muscle(raw: Any, index: int, path: Path, skeleton: Skeleton) -> MuscleSpec:
    where = f"muscles[{index}]"
    if not isinstance(raw, dict):
        raise BodyFileError(path, where, f"{raw!r} must be a mapping")
    _unknown_keys(raw, MUSCLE_KEYS, path, where + ".")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise BodyFileError(path, f"{where}.name", f"{name!r} must be a non-empty string")
    where = f"muscles[{index}] ({name})"
    region = raw.get("region")
    if not isinstance(region, str) or not region:
        raise BodyFileError(path, f"{where}.region", f"{region!r} must be a non-empty string")
    side = raw.get("side")
    if side is not None and side not in SIDES:
        raise BodyFileError(path, f"{where}.side", f"{side!r} must be one of {SIDES} or left out")
    if "max_isometric_force_n" not in raw:
        raise BodyFileError(path, f"{where}.max_isometric_force_n", "missing (a positive force in N)")
    force = _number(raw["max_isometric_force_n"], path, f"{where}.max_isometric_force_n", positive=True)
    lengths = {}
    for key in ("optimal_fiber_length_m", "tendon_slack_length_m"):
        value = raw.get(key)
        lengths[key] = None if value is None else _number(value, path, f"{where}.{key}", positive=True)
    vmax = _number(raw.get("max_contraction_velocity_lopt_per_s", 10.0), path,
                   f"{where}.max_contraction_velocity_lopt_per_s", positive=True)
    raw_path = raw.get("path")
    if not isinstance(raw_path, list) or len(raw_path) < 2:
        count = len(raw_path) if isinstance(raw_path, list) else raw_path
        raise BodyFileError(path, f"{where}.path", f"has {count!r} points; expected a list of at least 2")
    points = []
    for k, point in enumerate(raw_path):
        key = f"{where}.path[{k}]"
        if not isinstance(point, dict) or set(point) != {"link", "pos"}:
            raise BodyFileError(path, key, f"{point!r} must be a mapping with keys 'link' and 'pos'")
        link = point["link"]
        if link not in skeleton.link_names:
            raise BodyFileError(
                path, f"{key}.link", f"unknown link {link!r}; the URDF has links {list(skeleton.link_names)}"
            )
        points.append(PathPoint(link, _vector(point["pos"], path, f"{key}.pos")))  # type: ignore[arg-type]
    return MuscleSpec(name, region, side, force, lengths["optimal_fiber_length_m"],
                      lengths["tendon_slack_length_m"], vmax, tuple(points))


def read_body_spec(path: Path) -> tuple[BodySpec, Skeleton]:
    """Parse and validate a muscle YAML file and its URDF."""
    if not path.is_file():
        raise BodyFileError(path, None, "body file not found")
    raw = read_yaml_mapping(path, BodyFileError, "a mapping with keys 'name', 'urdf' and 'muscles'")
    _unknown_keys(raw, BODY_KEYS, path, "")
    for key in ("name", "urdf", "muscles"):
        if key not in raw:
            raise BodyFileError(path, key, "missing")
    urdf_path = (path.parent / str(raw["urdf"])).resolve()
    if not urdf_path.is_file():
        raise BodyFileError(path, "urdf", f"{raw['urdf']!r}: URDF file not found at {urdf_path}")
    skeleton = read_urdf(urdf_path)
    if not skeleton.movable_joints:
        raise BodyFileError(urdf_path, None, "the URDF has no movable joint")
    fixed_base = raw.get("fixed_base", True)
    if not isinstance(fixed_base, bool):
        raise BodyFileError(path, "fixed_base", f"{fixed_base!r} must be true or false")
    ground = raw.get("ground", "none")
    if ground not in GROUNDS:
        raise BodyFileError(path, "ground", f"{ground!r} must be one of {GROUNDS}")
    self_collision = raw.get("self_collision", True)
    if not isinstance(self_collision, bool):
        raise BodyFileError(path, "self_collision", f"{self_collision!r} must be true or false")
    if not isinstance(raw["muscles"], list) or not raw["muscles"]:
        raise BodyFileError(path, "muscles", "must be a non-empty list")
    muscles = tuple(_parse_muscle(m, i, path, skeleton) for i, m in enumerate(raw["muscles"]))
    seen: set[str] = set()
    for muscle in muscles:
        if muscle.name in seen:
            raise BodyFileError(path, "muscles", f"duplicate muscle name {muscle.name!r}")
        seen.add(muscle.name)
    joint_names = [j.name for j in skeleton.movable_joints]
    posture = raw.get("initial_posture", {}) or {}
    if not isinstance(posture, dict):
        raise BodyFileError(path, "initial_posture", f"{posture!r} must map joint names to angles")
    for joint, angle in posture.items():
        if joint not in joint_names:
            raise BodyFileError(path, f"initial_posture.{joint}", f"unknown joint; joints: {joint_names}")
        _number(angle, path, f"initial_posture.{joint}")
    spec = BodySpec(
        name=str(raw["name"]),
        source=path.resolve(),
        urdf_path=urdf_path,
        fixed_base=fixed_base,
        base_position_m=_vector(raw.get("base_position", [0, 0, 0]), path, "base_position"),  # type: ignore[arg-type]
        base_orientation_rpy_rad=_vector(raw.get("base_orientation_rpy", [0, 0, 0]), path,
                                         "base_orientation_rpy"),  # type: ignore[arg-type]
        ground=ground,
        joint_damping_nms=_joint_damping(raw.get("joint_damping_nms", 0.01), joint_names, path),
        initial_posture_rad={k: float(v) for k, v in posture.items()},
        muscles=muscles,
        self_collision=self_collision,
        skin=parse_skin(raw.get("skin"), path, skeleton.link_names),
        crib_m=_crib(raw.get("crib_m", list(DEFAULT_CRIB_M)), path),
    )
    return spec, skeleton


def _path_geometry(spec: BodySpec, kinematics: Kinematics) -> PathGeometry:
    links, local, starts, ends, owner = [], [], [], [], []
    for m, muscle in enumerate(spec.muscles):
        first = len(links)
        for point in muscle.path:
            links.append(kinematics.link_index[point.link])
            local.append(point.pos_m)
        for k in range(len(muscle.path) - 1):
            starts.append(first + k)
            ends.append(first + k + 1)
            owner.append(m)
    point_link = np.array(links, dtype=int)
    segment_muscle = np.zeros((len(spec.muscles), len(starts)))
    segment_muscle[owner, np.arange(len(starts))] = 1.0
    descends = kinematics.descends.astype(float)  # (J, L)
    crossing = (descends[:, point_link[ends]] - descends[:, point_link[starts]]).T  # (G, J)
    return PathGeometry(point_link, np.array(local, dtype=float), np.array(starts), np.array(ends),
                        segment_muscle, crossing)


def load_body(body: str | Path) -> Body:
    """Load a built-in body by name, or a body YAML by path, validated and calibrated."""
    path = resolve_body_path(body)
    spec, skeleton = read_body_spec(path)
    kinematics = Kinematics(skeleton)
    paths = MusclePathModel(kinematics, _path_geometry(spec, kinematics))
    params = calibrate_lengths(spec, paths, rpy_to_matrix(spec.base_orientation_rpy_rad),
                               np.asarray(spec.base_position_m, dtype=float))
    skin = build_layout(spec.skin, spec.urdf_path, skeleton.link_names, path)
    return Body(spec, skeleton, kinematics, paths, params, skin)
