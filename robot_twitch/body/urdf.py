"""Minimal URDF reader: the kinematic tree that muscles are attached to.

Only what the muscle geometry needs is read: link names, and for every joint its type,
parent and child links, origin transform, axis and limits. Bullet loads the full file for the
dynamics; this reader gives robot_twitch its own forward kinematics, so that muscle lengths
and moment arms can be computed for many limbs at once without querying the simulator.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robot_twitch.errors import BodyFileError

MOVABLE_JOINT_TYPES = ("revolute", "continuous", "prismatic")
SUPPORTED_JOINT_TYPES = (*MOVABLE_JOINT_TYPES, "fixed")


@dataclass(frozen=True)
class UrdfJoint:
    """One URDF joint. Angles in rad, lengths in m."""

    name: str
    joint_type: str
    parent: str
    child: str
    origin_xyz_m: tuple[float, float, float]
    origin_rpy_rad: tuple[float, float, float]
    axis: tuple[float, float, float]
    lower: float
    upper: float

    @property
    def movable(self) -> bool:
        return self.joint_type in MOVABLE_JOINT_TYPES


@dataclass(frozen=True)
class Skeleton:
    """The kinematic tree of a URDF: links, joints in topological order, the root link."""

    path: Path
    name: str
    root_link: str
    link_names: tuple[str, ...]
    joints: tuple[UrdfJoint, ...]  # topological order: every parent before its children

    @property
    def movable_joints(self) -> tuple[UrdfJoint, ...]:
        return tuple(j for j in self.joints if j.movable)

    def parent_joint_of(self, link: str) -> UrdfJoint | None:
        for joint in self.joints:
            if joint.child == link:
                return joint
        return None

    def ancestors(self, link: str) -> list[str]:
        """Links from `link` up to the root, `link` first."""
        chain = [link]
        joint = self.parent_joint_of(link)
        while joint is not None:
            chain.append(joint.parent)
            joint = self.parent_joint_of(joint.parent)
        return chain

    def joints_between(self, link_a: str, link_b: str) -> list[str]:
        """Names of the movable joints on the tree path between two links."""
        up_a, up_b = self.ancestors(link_a), self.ancestors(link_b)
        common = next(link for link in up_a if link in up_b)
        names: list[str] = []
        for chain in (up_a, up_b):
            for link in chain[: chain.index(common)]:
                joint = self.parent_joint_of(link)
                if joint is not None and joint.movable:
                    names.append(joint.name)
        return names

    def link_edges(self) -> tuple[tuple[str, str], ...]:
        """(parent, child) link pairs of the tree."""
        return tuple((j.parent, j.child) for j in self.joints)


def rpy_to_matrix(rpy: tuple[float, float, float]) -> np.ndarray:
    """URDF roll-pitch-yaw (fixed axes X, Y, Z) to a 3x3 rotation matrix."""
    roll, pitch, yaw = rpy
    cr, sr = math.cos(roll), math.sin(roll)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    return np.array(
        [
            [cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr],
            [sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr],
            [-sp, cp * sr, cp * cr],
        ]
    )


def _floats(text: str | None, default: tuple[float, ...], path: Path, key: str) -> tuple[float, ...]:
    if text is None:
        return default
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        raise BodyFileError(path, key, f"{text!r} is not a list of numbers") from None
    if len(values) != len(default):
        raise BodyFileError(path, key, f"{text!r} has {len(values)} numbers, expected {len(default)}")
    return values


def read_urdf(path: Path) -> Skeleton:
    """Parse a URDF file into a Skeleton, validating the tree."""
    if not path.is_file():
        raise BodyFileError(path, None, "URDF file not found")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise BodyFileError(path, None, f"not valid XML ({exc})") from None
    if root.tag != "robot":
        raise BodyFileError(path, None, f"root element is <{root.tag}>, expected <robot>")
    link_names = [link.get("name", "") for link in root.findall("link")]
    if not link_names:
        raise BodyFileError(path, None, "no <link> elements")
    joints: list[UrdfJoint] = []
    for element in root.findall("joint"):
        name = element.get("name", "")
        key = f"joint {name!r}"
        joint_type = element.get("type", "")
        if joint_type not in SUPPORTED_JOINT_TYPES:
            raise BodyFileError(
                path, key, f"type {joint_type!r} is not supported; expected one of {SUPPORTED_JOINT_TYPES}"
            )
        parent_el, child_el = element.find("parent"), element.find("child")
        if parent_el is None or child_el is None:
            raise BodyFileError(path, key, "needs <parent link=...> and <child link=...>")
        parent, child = parent_el.get("link", ""), child_el.get("link", "")
        for link in (parent, child):
            if link not in link_names:
                raise BodyFileError(path, key, f"link {link!r} is not defined; links: {link_names}")
        origin = element.find("origin")
        xyz = _floats(origin.get("xyz") if origin is not None else None, (0.0, 0.0, 0.0), path, key + " origin xyz")
        rpy = _floats(origin.get("rpy") if origin is not None else None, (0.0, 0.0, 0.0), path, key + " origin rpy")
        axis_el = element.find("axis")
        axis = _floats(axis_el.get("xyz") if axis_el is not None else None, (1.0, 0.0, 0.0), path, key + " axis")
        norm = math.sqrt(sum(a * a for a in axis))
        if joint_type != "fixed" and norm < 1e-9:
            raise BodyFileError(path, key + " axis", "axis has zero length")
        axis = tuple(a / norm for a in axis) if norm > 0 else axis
        lower, upper = -math.pi, math.pi
        limit = element.find("limit")
        if joint_type in ("revolute", "prismatic"):
            if limit is None or limit.get("lower") is None or limit.get("upper") is None:
                raise BodyFileError(path, key, "a revolute or prismatic joint needs <limit lower= upper=>")
            lower, upper = float(limit.get("lower")), float(limit.get("upper"))
            if not upper > lower:
                raise BodyFileError(path, key + " limit", f"upper {upper} must exceed lower {lower}")
        joints.append(UrdfJoint(name, joint_type, parent, child, xyz, rpy, axis, lower, upper))  # type: ignore[arg-type]
    children = [j.child for j in joints]
    if len(set(children)) != len(children):
        raise BodyFileError(path, None, "a link has more than one parent joint")
    roots = [link for link in link_names if link not in children]
    if len(roots) != 1:
        raise BodyFileError(path, None, f"expected exactly one root link, found {roots}")
    # Topological (breadth-first) order: every parent joint before its children. Bullet numbers
    # links in its own order, so simulators map joints and links by name, never by position.
    ordered: list[UrdfJoint] = []
    frontier = [roots[0]]
    while frontier:
        link = frontier.pop(0)
        for joint in joints:
            if joint.parent == link:
                ordered.append(joint)
                frontier.append(joint.child)
    return Skeleton(path, root.get("name", path.stem), roots[0], tuple(link_names), tuple(ordered))
