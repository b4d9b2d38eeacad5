"""Growth: scale one segment of a body (experiment 6, a body change mid-run).

Scaling link L by a factor s models growth of that segment along all its dimensions: every
position expressed in L's frame (child joint origins, its centre of mass, its geometry origins,
the muscle path points attached to it) and every length of its geometry scale by s; its mass
scales by s^3 and its inertia by s^5 (uniform growth at constant density). Muscle parameters
are not recalibrated: right after the change the fibres work at new lengths, as after a real
change of the body.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

from robot_twitch.body.kinematics import Kinematics, MusclePathModel
from robot_twitch.body.skin import build_layout
from robot_twitch.body.spec import Body
from robot_twitch.body.urdf import read_urdf
from robot_twitch.errors import ConfigError

_LENGTH_ATTRIBUTES = {"box": ("size",), "cylinder": ("radius", "length"), "capsule": ("radius", "length"),
                      "sphere": ("radius",)}


def _scale_xyz(element: ET.Element | None, factor: float) -> None:
    if element is not None and element.get("xyz") is not None:
        values = [float(v) * factor for v in element.get("xyz", "").split()]
        element.set("xyz", " ".join(f"{v:.9g}" for v in values))


def scaled_urdf_text(urdf_path: Path, link: str, factor: float) -> str:
    """The URDF with `link` grown by `factor` (mesh filenames made absolute)."""
    tree = ET.parse(urdf_path)
    root = tree.getroot()
    for mesh in root.iter("mesh"):
        filename = mesh.get("filename", "")
        if filename and "://" not in filename and not Path(filename).is_absolute():
            mesh.set("filename", str((urdf_path.parent / filename).resolve()))
    element = next((e for e in root.findall("link") if e.get("name") == link), None)
    if element is None:
        raise ConfigError(None, "body_changes.link", f"{link!r} is not a link of {urdf_path.name}")
    inertial = element.find("inertial")
    if inertial is not None:
        _scale_xyz(inertial.find("origin"), factor)
        mass = inertial.find("mass")
        if mass is not None:
            mass.set("value", f"{float(mass.get('value', '0')) * factor**3:.9g}")
        inertia = inertial.find("inertia")
        if inertia is not None:
            for key, value in inertia.attrib.items():
                inertia.set(key, f"{float(value) * factor**5:.9g}")
    for part in (*element.findall("visual"), *element.findall("collision")):
        _scale_xyz(part.find("origin"), factor)
        geometry = part.find("geometry")
        for shape in list(geometry) if geometry is not None else []:
            for attribute in _LENGTH_ATTRIBUTES.get(shape.tag, ()):
                if shape.get(attribute) is not None:
                    values = [float(v) * factor for v in shape.get(attribute, "").split()]
                    shape.set(attribute, " ".join(f"{v:.9g}" for v in values))
            if shape.tag == "mesh":
                scale = [float(v) for v in shape.get("scale", "1 1 1").split()]
                shape.set("scale", " ".join(f"{v * factor:.9g}" for v in scale))
    for joint in root.findall("joint"):
        parent = joint.find("parent")
        if parent is not None and parent.get("link") == link:
            _scale_xyz(joint.find("origin"), factor)
    return ET.tostring(root, encoding="unicode")


def scale_segment(body: Body, link: str, factor: float, workdir: Path) -> Body:
    """A new Body whose `link` is grown by `factor`; its URDF is written into `workdir`."""
    if not factor > 0:
        raise ConfigError(None, "body_changes.factor", f"{factor!r} must be positive for scale_segment")
    if link not in body.link_names:
        raise ConfigError(None, "body_changes.link", f"{link!r} is not a link of {body.name}; "
                                                     f"links: {list(body.link_names)}")
    workdir.mkdir(parents=True, exist_ok=True)
    urdf_path = workdir / f"{body.spec.urdf_path.stem}-{link}-x{factor:g}-{len(list(workdir.iterdir()))}.urdf"
    urdf_path.write_text(scaled_urdf_text(body.spec.urdf_path, link, factor))
    skeleton = read_urdf(urdf_path)
    kinematics = Kinematics(skeleton)
    geometry = body.paths.geometry
    local = geometry.point_local_m.copy()
    local[geometry.point_link == kinematics.link_index[link]] *= factor
    paths = MusclePathModel(kinematics, replace(geometry, point_local_m=local))
    skin = build_layout(body.spec.skin, urdf_path, skeleton.link_names)
    return replace(body, spec=replace(body.spec, urdf_path=urdf_path), skeleton=skeleton,
                   kinematics=kinematics, paths=paths, skin=skin)


__all__ = ["scale_segment", "scaled_urdf_text"]
