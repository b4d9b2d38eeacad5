"""Weld links joined by fixed joints into their parents: the skeleton that Bullet integrates.

A link attached by a fixed joint (a hand on a forearm, a sensor frame, a fingertip marker) moves
rigidly with its parent, so the two are one rigid body. Bullet's Featherstone solver nevertheless
spends a full link's work on it every substep; folding it into the parent gives the same dynamics
for less work (planar_arm: ~25 % less Bullet time per substep, docs/benchmarks.md).

Bullet's own URDF_MERGE_FIXED_LINKS flag is not used: pybullet 3.2 places the merged centre of
mass as if the parent's inertial frame sat at the link origin (planar_arm's forearm + hand gets its
centre of mass at -1.9 mm instead of -141 mm), which changes the dynamics. Here the composite
inertia is exact: masses add, the centre of mass is the mass-weighted mean, and each part's
inertia tensor is rotated into the common frame and shifted by the parallel-axis theorem.

Only links that Bullet would treat as pure mass are welded: a child with an <inertial> (Bullet
gives a link without one 1 kg and unit inertia, which welding could not reproduce) and no
collision shapes (welding shapes would change which pairs Bullet tests for self-contact and which
link a contact is reported on). When the limb has nothing to touch, its collision shapes are
dropped first (bullet_urdf_text), and then every such link welds.

Only the URDF that Bullet loads changes. The body keeps every link as a frame (robot_twitch's own
kinematics reads the original URDF), so path points, fingertips and link poses are unaffected.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from robot_twitch.body.urdf import rpy_to_matrix


def _origin(element: ET.Element | None) -> np.ndarray:
    """Homogeneous transform (4, 4) of an <origin> element (identity when absent)."""
    transform = np.eye(4)
    if element is not None:
        xyz = [float(v) for v in element.get("xyz", "0 0 0").split()]
        rpy = [float(v) for v in element.get("rpy", "0 0 0").split()]
        transform[:3, :3], transform[:3, 3] = rpy_to_matrix(tuple(rpy)), xyz
    return transform


def matrix_to_rpy(rot: np.ndarray) -> tuple[float, float, float]:
    """Inverse of rpy_to_matrix (URDF roll-pitch-yaw, fixed axes X, Y, Z)."""
    # Yaw from the first column, then pitch and roll with yaw removed: accurate at any pitch,
    # including the gimbal lock at +-90 deg (where yaw = 0 by this choice when R00 = R10 = 0).
    yaw = math.atan2(rot[1, 0], rot[0, 0])
    cy, sy = math.cos(yaw), math.sin(yaw)
    pitch = math.atan2(-rot[2, 0], cy * rot[0, 0] + sy * rot[1, 0])
    roll = math.atan2(sy * rot[0, 2] - cy * rot[1, 2], cy * rot[1, 1] - sy * rot[0, 1])
    return roll, pitch, yaw


def _set_origin(element: ET.Element, transform: np.ndarray) -> None:
    origin = element.find("origin")
    if origin is None:
        origin = ET.Element("origin")
        element.insert(0, origin)
    origin.set("xyz", " ".join(f"{v:.17g}" for v in transform[:3, 3]))
    origin.set("rpy", " ".join(f"{v:.17g}" for v in matrix_to_rpy(transform[:3, :3])))


def link_inertia(link: ET.Element) -> tuple[float, np.ndarray, np.ndarray]:
    """Mass [kg], centre of mass (3,) and inertia tensor about it (3, 3), in the link frame."""
    inertial = link.find("inertial")
    if inertial is None:
        return 0.0, np.zeros(3), np.zeros((3, 3))
    frame = _origin(inertial.find("origin"))
    mass_element, tensor = inertial.find("mass"), inertial.find("inertia")
    mass = float(mass_element.get("value", "0")) if mass_element is not None else 0.0
    values = {k: float(tensor.get(k, "0")) for k in ("ixx", "ixy", "ixz", "iyy", "iyz", "izz")} \
        if tensor is not None else dict.fromkeys(("ixx", "ixy", "ixz", "iyy", "iyz", "izz"), 0.0)
    local = np.array([[values["ixx"], values["ixy"], values["ixz"]],
                      [values["ixy"], values["iyy"], values["iyz"]],
                      [values["ixz"], values["iyz"], values["izz"]]])
    rot = frame[:3, :3]
    return mass, frame[:3, 3].copy(), rot @ local @ rot.T


def _set_inertia(link: ET.Element, mass: float, com: np.ndarray, tensor: np.ndarray) -> None:
    inertial = link.find("inertial")
    if inertial is None:
        inertial = ET.SubElement(link, "inertial")
    for child in list(inertial):
        inertial.remove(child)
    ET.SubElement(inertial, "origin", xyz=" ".join(f"{v:.17g}" for v in com), rpy="0 0 0")
    ET.SubElement(inertial, "mass", value=f"{mass:.17g}")
    ET.SubElement(inertial, "inertia", ixx=f"{tensor[0, 0]:.17g}", ixy=f"{tensor[0, 1]:.17g}",
                  ixz=f"{tensor[0, 2]:.17g}", iyy=f"{tensor[1, 1]:.17g}", iyz=f"{tensor[1, 2]:.17g}",
                  izz=f"{tensor[2, 2]:.17g}")


def composite_inertia(parts: list[tuple[float, np.ndarray, np.ndarray]]) -> tuple[float, np.ndarray, np.ndarray]:
    """Mass, centre of mass (3,) and inertia about it (3, 3) of rigidly joined parts.

    parts: (mass, centre of mass (3,), inertia about that centre (3, 3)), all in one frame.
    Parallel-axis theorem: I = sum_k I_k + m_k (|d_k|^2 E - d_k d_k^T), d_k = c_k - c.
    """
    mass = sum(m for m, _, _ in parts)
    if mass <= 0:
        return 0.0, np.zeros(3), sum((t for _, _, t in parts), np.zeros((3, 3)))
    com = sum((m * c for m, c, _ in parts), np.zeros(3)) / mass
    tensor = np.zeros((3, 3))
    for m, c, t in parts:
        d = c - com
        tensor += t + m * (d @ d * np.eye(3) - np.outer(d, d))
    return mass, com, tensor


def read_urdf_tree(urdf_path: Path) -> ET.Element:
    """The URDF's root element, mesh filenames made absolute (so the text can be written anywhere)."""
    root = ET.parse(urdf_path).getroot()
    for mesh in root.iter("mesh"):
        filename = mesh.get("filename", "")
        if filename and "://" not in filename and not Path(filename).is_absolute():
            mesh.set("filename", str((urdf_path.parent / filename).resolve()))
    return root


def self_contact_possible(root: ET.Element) -> bool:
    """Whether Bullet would test any pair of this skeleton's links for self-collision.

    With URDF_USE_SELF_COLLISION_EXCLUDE_PARENT Bullet tests every pair of links that both have
    collision shapes, except a link and its parent.
    """
    shaped = {link.get("name") for link in root.findall("link") if link.find("collision") is not None}
    parent = {j.find("child").get("link"): j.find("parent").get("link")  # type: ignore[union-attr]
              for j in root.findall("joint")}
    shaped_list = sorted(n for n in shaped if n is not None)
    return any(parent.get(a) != b and parent.get(b) != a
               for i, a in enumerate(shaped_list) for b in shaped_list[i + 1:])


def bullet_urdf_text(urdf_path: Path, weld: bool, drop_collision_shapes: bool) -> tuple[str, dict[str, str]]:
    """The URDF as Bullet should load it, and {welded link: link it now belongs to}.

    drop_collision_shapes: remove every collision shape (for a limb that has nothing to touch;
    inertia comes from the file, so the dynamics are unchanged). weld: then fold the weldable
    fixed-joint children into their parents (see the module docstring).
    """
    root = read_urdf_tree(urdf_path)
    if drop_collision_shapes:
        for link in root.findall("link"):
            for element in link.findall("collision"):
                link.remove(element)
    welded_into = _weld(root) if weld else {}
    return ET.tostring(root, encoding="unicode"), welded_into


def _weld(root: ET.Element) -> dict[str, str]:
    """Fold every fixed-joint child of the URDF tree `root` into its parent, in place."""
    links = {link.get("name"): link for link in root.findall("link")}
    welded_into: dict[str, str] = {}

    def weldable(joint: ET.Element) -> bool:
        child = links[joint.find("child").get("link")]  # type: ignore[union-attr]
        return joint.get("type") == "fixed" and child.find("inertial") is not None \
            and child.find("collision") is None

    # Fold leaves first, so that a chain of fixed joints collapses step by step.
    while True:
        fixed = [j for j in root.findall("joint") if weldable(j)]
        if not fixed:
            break
        parents_of_fixed = {j.find("parent").get("link") for j in fixed}  # type: ignore[union-attr]
        joint = next((j for j in fixed if j.find("child").get("link") not in parents_of_fixed),  # type: ignore[union-attr]
                     fixed[0])
        parent_name = joint.find("parent").get("link")  # type: ignore[union-attr]
        child_name = joint.find("child").get("link")  # type: ignore[union-attr]
        parent, child = links[parent_name], links[child_name]
        to_parent = _origin(joint.find("origin"))  # child frame in the parent frame
        # Geometry: every visual and collision element moves into the parent with its pose composed.
        for tag in ("visual", "collision"):
            for element in child.findall(tag):
                _set_origin(element, to_parent @ _origin(element.find("origin")))
                parent.append(element)
        # Inertia: exact composite of the two rigid bodies, in the parent frame.
        m_c, c_c, t_c = link_inertia(child)
        rot = to_parent[:3, :3]
        child_part = (m_c, to_parent[:3, :3] @ c_c + to_parent[:3, 3], rot @ t_c @ rot.T)
        if m_c > 0 or parent.find("inertial") is not None:
            _set_inertia(parent, *composite_inertia([link_inertia(parent), child_part]))
        # The child's own children now hang from the parent.
        for other in root.findall("joint"):
            if other.find("parent").get("link") == child_name:  # type: ignore[union-attr]
                other.find("parent").set("link", parent_name)  # type: ignore[union-attr]
                _set_origin(other, to_parent @ _origin(other.find("origin")))
        root.remove(joint)
        root.remove(child)
        welded_into[child_name] = parent_name
        for name, target in welded_into.items():
            if target == child_name:
                welded_into[name] = parent_name
    return welded_into


__all__ = ["bullet_urdf_text", "composite_inertia", "link_inertia", "matrix_to_rpy", "read_urdf_tree", "self_contact_possible"]
