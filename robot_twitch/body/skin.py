"""Skin: taxels on the surface of a body's collision shapes, and contact forces spread over them.

Layout. Taxels are placed on the surface of every collision shape of every link (boxes,
cylinders, capsules, spheres; URDF `<collision>` elements) at a spacing chosen per link. A link
without collision shapes has no taxels (nothing can touch it). Mesh shapes get no taxels
(their surface is not sampled). Placement per shape, in the shape's own frame, then moved into
the link frame by the collision `<origin>`:

- box: every face a grid of ceil(side / spacing) cells per side, a taxel at each cell centre;
- sphere: a Fibonacci lattice of round(area / spacing^2) points (near-uniform, no poles);
- cylinder: the side a grid of ceil(2 pi r / s) x ceil(length / s) cells; each cap concentric
  rings of ceil(r / s) rings, round(2 pi rho / s) taxels on the ring of radius rho;
- capsule: the cylinder's side plus two Fibonacci hemispheres.

Each taxel has a position and an outward normal in its link's URDF frame and the area it
covers (the shape's area shared equally).

Spacing defaults by body part, after MIMo's skin (Mattern et al. 2024, "MIMo: A Multi-Modal
Infant Model for Studying Cognitive Development", IEEE TCDS): about 2 mm on the fingers, 7 mm on
the hands, 13 mm on the head, 24 mm on the limbs and 38 mm on the trunk. Feet use the hand
figure. A link's part follows from its name (see `SKIN_PARTS`); the body file can set the
spacing per part or per link (docs/body-format.md, "Skin").

Contact -> taxel rule (`spread_contacts`). Bullet reports contacts as manifolds: up to four
points per pair of touching shapes, chosen to span the contact area. For each manifold on a link
(a link touching one other body or link), the contact patch is the polygon of its points
(a segment or a point for line and point contacts). The manifold's total normal force is
shared by the link's taxels that face the contact (taxel normal within 60 degrees of the
contact normal) and lie within a quarter spacing of the patch (the patch's points jitter by
Bullet's contact tolerance), weighted by a Gaussian of their distance d to the patch,
exp(-d^2 / (2 sigma^2)) with sigma = spacing / 8 (taxels inside the patch have d = 0: uniform
pressure), and normalised so the shares sum to one. So a flat object lights the taxels under
it, and no others when its edges lie at least a quarter spacing from the next taxel row. If no
taxel lies that close (a point or line contact between taxels), the nearest facing taxel takes
the whole force.
The total force is therefore conserved exactly: the sum over a link's taxels equals the normal
force Bullet reports on that link. All contacts of a step are processed together with numpy,
once per step, whatever the number of taxels.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from robot_twitch.body.kinematics import Kinematics
from robot_twitch.body.urdf import rpy_to_matrix
from robot_twitch.errors import BodyFileError

MAX_TAXELS = 20000
"""Most taxels a body may have (about 5x a whole-body infant at the default spacings)."""
MIN_SPACING_M = 1e-4
"""Smallest taxel spacing accepted [m]."""

# Body part -> default spacing [m] (MIMo, Mattern et al. 2024), and the link-name words that
# select it. The first matching part wins; links matching none are limbs.
SKIN_PARTS: dict[str, tuple[float, str]] = {
    "fingers": (0.002, r"finger|thumb|index|middle|ring|little|pinky|fingertip|phalan"),
    "hands": (0.007, r"hand|palm|wrist_link"),
    "feet": (0.007, r"foot|feet|toe|sole"),
    "head": (0.013, r"head|face|skull"),
    "trunk": (0.038, r"torso|trunk|chest|abdomen|belly|pelvis|hips|back|thorax|spine"),
    "limbs": (0.024, r".*"),
}
SKIN_KEYS = {"spacing_m", "max_taxels"}
FACING_COS = 0.5  # a taxel faces a contact if its normal is within 60 degrees of the contact normal
REACH = 0.25  # taxels within REACH * spacing of a contact patch share its force...
SIGMA = 0.125  # ...weighted by a Gaussian of their distance with sigma = SIGMA * spacing


def skin_part(link: str) -> str:
    """The body part ('fingers', 'hands', 'feet', 'head', 'trunk', 'limbs') a link name belongs to."""
    for part, (_, pattern) in SKIN_PARTS.items():
        if re.search(pattern, link, flags=re.IGNORECASE):
            return part
    return "limbs"


def taxel_parts(skin: Any) -> np.ndarray:
    """(T,) str: the body part (`skin_part`) of each taxel of a SkinLayout."""
    return np.array([skin_part(skin.link_names[k]) for k in skin.taxel_link], dtype=str)


@dataclass(frozen=True)
class SkinSpec:
    """The body file's `skin` section: spacing per link [m] (links with shapes only)."""

    spacing_m: dict[str, float]
    max_taxels: int = MAX_TAXELS


@dataclass(frozen=True)
class SkinLayout:
    """Taxels of one body. T taxels, L links (the body's link order); taxels of a link are contiguous.

    taxel_link (T,) int: index into link_names; position_m (T, 3) and normal (T, 3): in the link's
    URDF frame (normal unit, outward); area_m2 (T,); spacing_m (L,): the link's spacing (nan: no
    taxels); link_start, link_stop (L,): taxels of link l are [link_start[l], link_stop[l]).
    """

    link_names: tuple[str, ...]
    taxel_link: np.ndarray
    position_m: np.ndarray
    normal: np.ndarray
    area_m2: np.ndarray
    spacing_m: np.ndarray
    link_start: np.ndarray
    link_stop: np.ndarray

    @property
    def n_taxels(self) -> int:
        return int(self.taxel_link.shape[0])

    def taxels_of(self, link: str) -> slice:
        """The slice of the skin array that holds `link`'s taxels (empty if it has none)."""
        k = self.link_names.index(link)
        return slice(int(self.link_start[k]), int(self.link_stop[k]))

    def channel_names(self) -> list[str]:
        """One label per taxel, '<link>:<k>' with k counted within the link (length T)."""
        return [f"{self.link_names[k]}:{t - self.link_start[k]}" for t, k in enumerate(self.taxel_link)]

    def table(self) -> list[dict[str, Any]]:
        """The layout as rows: taxel, link, position_m, normal, area_m2 (link frame), for saving as JSON."""
        return [{"taxel": t, "link": self.link_names[k], "position_m": self.position_m[t].round(6).tolist(),
                 "normal": self.normal[t].round(6).tolist(), "area_m2": float(self.area_m2[t])}
                for t, k in enumerate(self.taxel_link)]

    def world_positions(self, link_rot: np.ndarray, link_pos_m: np.ndarray) -> np.ndarray:
        """Taxel positions (T, 3) [m] in the world, from link frames rot (L, 3, 3) and origins (L, 3)."""
        rot, pos = link_rot[self.taxel_link], link_pos_m[self.taxel_link]
        return (rot @ self.position_m[..., None])[..., 0] + pos


def empty_layout(link_names: tuple[str, ...]) -> SkinLayout:
    """A body without skin: no taxels."""
    n = len(link_names)
    return SkinLayout(tuple(link_names), np.zeros(0, dtype=int), np.zeros((0, 3)), np.zeros((0, 3)),
                      np.zeros(0), np.full(n, np.nan), np.zeros(n, dtype=int), np.zeros(n, dtype=int))


# -- reading the body file ------------------------------------------------------------------------

def parse_skin(raw: Any, path: Path, link_names: tuple[str, ...]) -> SkinSpec | None:
    """The `skin` section of a body file -> SkinSpec (None: no skin).

    `skin: true` (or `{}`) uses the default spacing of each link's part; `spacing_m` is one number
    for every link, or a mapping whose keys are link names, part names (SKIN_PARTS) or `default`.
    """
    if raw is None or raw is False:
        return None
    if raw is True:
        raw = {}
    if not isinstance(raw, dict):
        raise BodyFileError(path, "skin", f"{raw!r} must be true, false or a mapping with keys {sorted(SKIN_KEYS)}")
    for key in raw:
        if key not in SKIN_KEYS:
            raise BodyFileError(path, f"skin.{key}", f"unknown key; expected one of {sorted(SKIN_KEYS)}")
    max_taxels = raw.get("max_taxels", MAX_TAXELS)
    if isinstance(max_taxels, bool) or not isinstance(max_taxels, int) or not 1 <= max_taxels <= MAX_TAXELS:
        raise BodyFileError(path, "skin.max_taxels", f"{max_taxels!r} must be an integer in 1..{MAX_TAXELS}")
    spacing = raw.get("spacing_m", {})
    table = spacing if isinstance(spacing, dict) else {"default": spacing}
    for key, value in table.items():
        name = f"skin.spacing_m.{key}" if isinstance(spacing, dict) else "skin.spacing_m"
        if key != "default" and key not in SKIN_PARTS and key not in link_names:
            raise BodyFileError(path, name, f"unknown link or part; expected a link {list(link_names)}, "
                                            f"a part {list(SKIN_PARTS)} or 'default'")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or value < MIN_SPACING_M:
            raise BodyFileError(path, name, f"{value!r} must be a distance in metres >= {MIN_SPACING_M} "
                                            "(the spacing between taxels)")
    per_link = {}
    for link in link_names:
        part = skin_part(link)
        value = table.get(link, table.get(part, table.get("default", SKIN_PARTS[part][0])))
        per_link[link] = float(value)
    return SkinSpec(per_link, int(max_taxels))


# -- taxels on shapes ------------------------------------------------------------------------------

def _fibonacci_sphere(n: int, hemisphere: bool = False) -> np.ndarray:
    """n unit vectors (n, 3) spread near-uniformly over the sphere (or the z >= 0 hemisphere)."""
    k = np.arange(n) + 0.5
    z = 1.0 - k / n if hemisphere else 1.0 - 2.0 * k / n
    phi = k * math.pi * (3.0 - math.sqrt(5.0))
    rho = np.sqrt(np.maximum(0.0, 1.0 - z * z))
    return np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)


def _cells(length: float, spacing: float) -> np.ndarray:
    """Cell centres along [-length/2, length/2] for cells at most `spacing` wide."""
    n = max(1, math.ceil(length / spacing - 1e-9))
    return (np.arange(n) + 0.5) * (length / n) - length / 2


def _box(size: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray, float]:
    pos, nrm = [], []
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        cu, cv = np.meshgrid(_cells(size[u], s), _cells(size[v], s), indexing="ij")
        for sign in (1.0, -1.0):
            p = np.zeros((cu.size, 3))
            p[:, u], p[:, v], p[:, axis] = cu.ravel(), cv.ravel(), sign * size[axis] / 2
            n = np.zeros_like(p)
            n[:, axis] = sign
            pos.append(p)
            nrm.append(n)
    area = 2.0 * (size[0] * size[1] + size[1] * size[2] + size[0] * size[2])
    return np.vstack(pos), np.vstack(nrm), area


def _tube(radius: float, length: float, s: float) -> tuple[np.ndarray, np.ndarray]:
    """The side of a cylinder along z."""
    n_around = max(3, math.ceil(2 * math.pi * radius / s - 1e-9))
    theta = (np.arange(n_around) + 0.5) * 2 * math.pi / n_around
    t, z = np.meshgrid(theta, _cells(length, s), indexing="ij")
    normal = np.stack([np.cos(t.ravel()), np.sin(t.ravel()), np.zeros(t.size)], axis=1)
    pos = normal * radius
    pos[:, 2] = z.ravel()
    return pos, normal


def _disk(radius: float, s: float) -> np.ndarray:
    """Points (n, 3) on a disk of `radius` in the z = 0 plane, in rings."""
    rings = max(1, math.ceil(radius / s - 1e-9))
    points = []
    for i in range(rings):
        rho = (i + 0.5) * radius / rings
        n = max(1, round(2 * math.pi * rho / s))
        theta = (np.arange(n) + 0.5 * (i % 2)) * 2 * math.pi / n
        points.append(np.stack([rho * np.cos(theta), rho * np.sin(theta), np.zeros(n)], axis=1))
    return np.vstack(points)


def shape_taxels(geometry: ET.Element, s: float) -> tuple[np.ndarray, np.ndarray, float] | None:
    """Taxel positions (n, 3), normals (n, 3) and total area [m^2] of one URDF <geometry> in its
    own frame at spacing s [m]; None for a mesh or an unknown shape."""
    box, sphere = geometry.find("box"), geometry.find("sphere")
    cylinder, capsule = geometry.find("cylinder"), geometry.find("capsule")
    if box is not None:
        return _box(np.array([float(v) for v in box.get("size", "0 0 0").split()]), s)
    if sphere is not None:
        r = float(sphere.get("radius", 0))
        n = max(1, round(4 * math.pi * r * r / (s * s)))
        normal = _fibonacci_sphere(n)
        return normal * r, normal, 4 * math.pi * r * r
    for element, caps in ((cylinder, "flat"), (capsule, "round")):
        if element is None:
            continue
        r, length = float(element.get("radius", 0)), float(element.get("length", 0))
        side_pos, side_normal = _tube(r, length, s)
        if caps == "flat":
            disk = _disk(r, s)
            top, bottom = disk + [0, 0, length / 2], disk * [1, 1, -1] - [0, 0, length / 2]
            up = np.tile([0.0, 0.0, 1.0], (len(disk), 1))
            pos = np.vstack([side_pos, top, bottom])
            normal = np.vstack([side_normal, up, -up])
            area = 2 * math.pi * r * length + 2 * math.pi * r * r
        else:
            dome = _fibonacci_sphere(max(1, round(2 * math.pi * r * r / (s * s))), hemisphere=True)
            low = dome * [1, 1, -1]
            pos = np.vstack([side_pos, dome * r + [0, 0, length / 2], low * r - [0, 0, length / 2]])
            normal = np.vstack([side_normal, dome, low])
            area = 2 * math.pi * r * length + 4 * math.pi * r * r
        return pos, normal, area
    return None


def _origin(element: ET.Element) -> tuple[np.ndarray, np.ndarray]:
    origin = element.find("origin")
    xyz = [0.0, 0.0, 0.0] if origin is None else [float(v) for v in origin.get("xyz", "0 0 0").split()]
    rpy = (0.0, 0.0, 0.0) if origin is None else tuple(float(v) for v in origin.get("rpy", "0 0 0").split())
    return rpy_to_matrix(rpy), np.array(xyz)  # type: ignore[arg-type]


def build_layout(spec: SkinSpec | None, urdf_path: Path, link_names: tuple[str, ...],
                 body_path: Path | None = None) -> SkinLayout:
    """Taxels of every link's collision shapes at the spacing of `spec`; BodyFileError when there
    would be more than spec.max_taxels."""
    if spec is None:
        return empty_layout(link_names)
    links = {link.get("name"): link for link in ET.parse(urdf_path).getroot().findall("link")}
    pos, nrm, area, owner = [], [], [], []
    start, stop, spacing = np.zeros(len(link_names), int), np.zeros(len(link_names), int), \
        np.full(len(link_names), np.nan)
    count = 0
    for k, name in enumerate(link_names):
        start[k] = count
        s = spec.spacing_m[name]
        for collision in links[name].findall("collision") if name in links else []:
            geometry = collision.find("geometry")
            shaped = None if geometry is None else shape_taxels(geometry, s)
            if shaped is None:
                continue
            p, n, a = shaped
            rot, xyz = _origin(collision)
            pos.append(p @ rot.T + xyz)
            nrm.append(n @ rot.T)
            area.append(np.full(len(p), a / len(p)))
            owner.append(np.full(len(p), k))
            count += len(p)
            spacing[k] = s
            if count > spec.max_taxels:
                raise BodyFileError(body_path or urdf_path, "skin.spacing_m",
                                    f"{s!r} on link {name!r} gives more than {spec.max_taxels} taxels for the body; "
                                    f"expected spacings that give at most {spec.max_taxels} (max_taxels)")
        stop[k] = count
    if not pos:
        return empty_layout(link_names)
    return SkinLayout(tuple(link_names), np.concatenate(owner), np.vstack(pos), np.vstack(nrm),
                      np.concatenate(area), spacing, start, stop)


# -- contacts -> taxels ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactSides:
    """The link side of every contact point of a step (C sides; a self-contact has two).

    link (C,) int: body link index; position_m (C, 3) and normal (C, 3): world frame, normal
    pointing out of the link; force_n (C,); other (C, 2) int: the other body id and link index
    (which, with `link`, names the manifold the point belongs to); manifold (C,) int: the
    manifold's index, 0..G-1 in order of first appearance.
    """

    link: np.ndarray
    position_m: np.ndarray
    normal: np.ndarray
    force_n: np.ndarray
    other: np.ndarray
    manifold: np.ndarray


def contact_sides(points: tuple, robot_id: int, link_slot: dict[int, int], substeps: int) -> ContactSides:
    """ContactSides from getContactPoints(bodyA=robot_id) (force rescaled to newtons as in
    sim.touch_from_contacts)."""
    link, pos, nrm, force, other = [], [], [], [], []
    for p in points:
        slot_a = link_slot.get(p[3])
        if slot_a is None:
            continue
        f = p[9] * substeps
        n_b = p[7]  # contact normal on B, pointing towards A
        link.append(slot_a)
        pos.append(p[5])
        nrm.append((-n_b[0], -n_b[1], -n_b[2]))
        force.append(f)
        other.append((p[2], p[4]))
        if p[2] == robot_id:
            slot_b = link_slot.get(p[4])
            if slot_b is not None:
                link.append(slot_b)
                pos.append(p[6])
                nrm.append(n_b)
                force.append(f)
                other.append((robot_id, p[3]))
    ids: dict[tuple[int, int, int], int] = {}
    manifold = [ids.setdefault((k, b, j), len(ids)) for k, (b, j) in zip(link, other, strict=True)]
    return ContactSides(np.array(link, dtype=np.int64), np.array(pos, dtype=float).reshape(-1, 3),
                        np.array(nrm, dtype=float).reshape(-1, 3), np.array(force, dtype=float),
                        np.array(other, dtype=np.int64).reshape(-1, 2), np.array(manifold, dtype=np.int64))


def spread_contacts(layout: SkinLayout, sides: ContactSides, link_rot: np.ndarray,
                    link_pos_m: np.ndarray) -> np.ndarray:
    """Normal force per taxel (T,) [N] from one step's contacts (rule in the module docstring).

    link_rot (L, 3, 3), link_pos_m (L, 3): world frames of the body's links. Compiled: one pass
    over the manifolds and the taxels of the links they touch.
    """
    if not layout.n_taxels or not len(sides.link):
        return np.zeros(layout.n_taxels)
    return _spread_kernel(layout.position_m, layout.normal, layout.link_start, layout.link_stop, layout.spacing_m,
                          sides.link, sides.position_m, sides.normal, sides.force_n, sides.manifold,
                          np.ascontiguousarray(link_rot, dtype=float), np.ascontiguousarray(link_pos_m, dtype=float),
                          np.array([FACING_COS, REACH, SIGMA]))


def spread_contacts_reference(layout: SkinLayout, sides: ContactSides, link_rot: np.ndarray,
                              link_pos_m: np.ndarray) -> np.ndarray:
    """spread_contacts written with numpy array operations: the reference the kernel is tested against."""
    forces = np.zeros(layout.n_taxels)
    counts = layout.link_stop - layout.link_start
    keep = (counts[sides.link] > 0) & (sides.force_n > 0)
    if not keep.any():
        return forces
    link = sides.link[keep]
    # Contact points and normals into their link's frame: x_local = R^T (x - o).
    rot = link_rot[link]
    local = np.einsum("cji,cj->ci", rot, sides.position_m[keep] - link_pos_m[link])
    normal = np.einsum("cji,cj->ci", rot, sides.normal[keep])
    force = sides.force_n[keep]
    # Manifolds: the points of one link touching one other (body, link).
    _, manifold, n_points = np.unique(sides.manifold[keep], return_inverse=True, return_counts=True)
    manifold = manifold.ravel()
    n_man = len(n_points)
    total = np.bincount(manifold, force, n_man)
    man_link = np.zeros(n_man, dtype=int)
    man_link[manifold] = link
    centre = np.stack([np.bincount(manifold, local[:, i], n_man) for i in range(3)], axis=1) / n_points[:, None]
    n_sum = np.stack([np.bincount(manifold, normal[:, i], n_man) for i in range(3)], axis=1)
    man_normal = n_sum / np.maximum(np.linalg.norm(n_sum, axis=1, keepdims=True), 1e-12)
    # An in-plane basis (e1, e2) per manifold and the polygon of its points, ordered by angle.
    helper = np.where(np.abs(man_normal[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]])
    e1 = np.cross(man_normal, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(man_normal, e1)
    rel = local - centre[manifold]
    uv = np.column_stack([np.einsum("ci,ci->c", rel, e1[manifold]), np.einsum("ci,ci->c", rel, e2[manifold])])
    order = np.lexsort((np.arctan2(uv[:, 1], uv[:, 0]), manifold))
    slot = np.arange(len(order)) - np.repeat(np.cumsum(n_points) - n_points, n_points)
    n_vert = int(n_points.max())
    poly = np.zeros((n_man, n_vert, 2))
    poly[manifold[order], slot] = uv[order]
    # Pad short polygons by repeating their last vertex (zero-length edges constrain nothing).
    last = poly[np.arange(n_man), n_points - 1]
    pad = np.arange(n_vert)[None, :] >= n_points[:, None]
    poly = np.where(pad[..., None], last[:, None, :], poly)
    # Candidate pairs: every manifold with every taxel of its link.
    per_man = counts[man_link]
    pair_man = np.repeat(np.arange(n_man), per_man)
    offsets = np.cumsum(per_man) - per_man
    pair_taxel = np.arange(per_man.sum()) - np.repeat(offsets, per_man) + np.repeat(layout.link_start[man_link],
                                                                                     per_man)
    x = layout.position_m[pair_taxel] - centre[pair_man]
    height = np.einsum("pi,pi->p", x, man_normal[pair_man])
    u = np.column_stack([np.einsum("pi,pi->p", x, e1[pair_man]), np.einsum("pi,pi->p", x, e2[pair_man])])
    a = poly[pair_man]  # (P, V, 2)
    edge = np.roll(a, -1, axis=1) - a
    to_u = u[:, None, :] - a
    length2 = np.einsum("pvi,pvi->pv", edge, edge)
    t = np.clip(np.einsum("pvi,pvi->pv", to_u, edge) / np.maximum(length2, 1e-18), 0.0, 1.0)
    gap = to_u - t[..., None] * edge
    d_edge = np.sqrt(np.einsum("pvi,pvi->pv", gap, gap).min(axis=1))
    cross = edge[..., 0] * to_u[..., 1] - edge[..., 1] * to_u[..., 0]
    inside = (n_points[pair_man] >= 3) & (cross >= -1e-9 * np.sqrt(length2)).all(axis=1)
    d = np.hypot(np.where(inside, 0.0, d_edge), height)
    facing = np.einsum("pi,pi->p", layout.normal[pair_taxel], man_normal[pair_man]) > FACING_COS
    s = layout.spacing_m[man_link][pair_man]
    weight = np.where(facing & (d < REACH * s), np.exp(-0.5 * (d / (SIGMA * s)) ** 2), 0.0)
    weight_sum = np.bincount(pair_man, weight, n_man)
    # Manifolds that reach no taxel: the nearest facing taxel (else the nearest) takes the force.
    empty = weight_sum <= 0
    if empty.any():
        score = d + np.where(facing, 0.0, 1e3)
        best = np.minimum.reduceat(score, offsets)
        first = np.flatnonzero(empty[pair_man] & (score == best[pair_man]))
        chosen = first[np.unique(pair_man[first], return_index=True)[1]]
        weight[chosen] = 1.0
        weight_sum = np.bincount(pair_man, weight, n_man)
    share = weight / weight_sum[pair_man]
    return np.bincount(pair_taxel, share * total[pair_man], layout.n_taxels)


class SkinReader:
    """Per-step skin readout of one body: contact points from Bullet -> force per taxel (T,) [N]."""

    def __init__(self, layout: SkinLayout, kinematics: Kinematics) -> None:
        self.layout = layout
        self._kinematics = kinematics

    def read(self, points: tuple, robot_id: int, link_slot: dict[int, int], substeps: int,
             joint_pos_rad: np.ndarray, root_rot: np.ndarray, root_pos_m: np.ndarray) -> np.ndarray:
        """Force per taxel (T,) [N] for getContactPoints(bodyA=robot_id) at joint positions (J,)
        with the root link's URDF frame at (root_rot (3, 3), root_pos_m (3,))."""
        if not points or not self.layout.n_taxels:
            return np.zeros(self.layout.n_taxels)
        sides = contact_sides(points, robot_id, link_slot, substeps)
        rot, pos = self._kinematics.link_frames(joint_pos_rad[None], root_rot, root_pos_m)
        return spread_contacts(self.layout, sides, rot[0], pos[0])


# Constants travel as an argument (numba's on-disk cache checks only this file's source).
@njit(cache=True, nogil=True)
def _spread_kernel(taxel_pos, taxel_normal, link_start, link_stop, spacing, side_link, side_pos, side_normal,
                   side_force, side_manifold, link_rot, link_pos, constants):  # pragma: no cover - compiled
    facing_cos, reach, sigma_per_spacing = constants[0], constants[1], constants[2]
    forces = np.zeros(taxel_pos.shape[0])
    n_side = side_link.shape[0]
    n_man = 0
    for c in range(n_side):
        n_man = max(n_man, side_manifold[c] + 1)
    total = np.zeros(n_man)
    count = np.zeros(n_man, np.int64)
    man_link = np.full(n_man, -1, np.int64)
    centre = np.zeros((n_man, 3))
    normal = np.zeros((n_man, 3))
    local = np.zeros((n_side, 3))
    for c in range(n_side):
        k = side_link[c]
        if link_stop[k] <= link_start[k] or side_force[c] <= 0.0:
            continue
        g = side_manifold[c]
        for i in range(3):  # x_local = R^T (x - o), n_local = R^T n
            x = 0.0
            n = 0.0
            for j in range(3):
                x += link_rot[k, j, i] * (side_pos[c, j] - link_pos[k, j])
                n += link_rot[k, j, i] * side_normal[c, j]
            local[c, i] = x
            centre[g, i] += x
            normal[g, i] += n
        total[g] += side_force[c]
        count[g] += 1
        man_link[g] = k
    for g in range(n_man):
        if count[g] == 0:
            continue
        k = man_link[g]
        nn = math.sqrt(normal[g, 0] ** 2 + normal[g, 1] ** 2 + normal[g, 2] ** 2)
        nx, ny, nz = normal[g, 0] / max(nn, 1e-12), normal[g, 1] / max(nn, 1e-12), normal[g, 2] / max(nn, 1e-12)
        cx, cy, cz = centre[g, 0] / count[g], centre[g, 1] / count[g], centre[g, 2] / count[g]
        # In-plane basis e1 = n x h, e2 = n x e1.
        hx, hy, hz = (1.0, 0.0, 0.0) if abs(nx) < 0.9 else (0.0, 1.0, 0.0)
        e1x, e1y, e1z = ny * hz - nz * hy, nz * hx - nx * hz, nx * hy - ny * hx
        e1n = math.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
        e1x, e1y, e1z = e1x / e1n, e1y / e1n, e1z / e1n
        e2x, e2y, e2z = ny * e1z - nz * e1y, nz * e1x - nx * e1z, nx * e1y - ny * e1x
        # The manifold's points in the plane, ordered by angle (counter-clockwise).
        m = count[g]
        pu = np.empty(m)
        pv = np.empty(m)
        angle = np.empty(m)
        r = 0
        for c in range(n_side):
            if side_manifold[c] != g or side_force[c] <= 0.0:
                continue
            dx, dy, dz = local[c, 0] - cx, local[c, 1] - cy, local[c, 2] - cz
            pu[r] = dx * e1x + dy * e1y + dz * e1z
            pv[r] = dx * e2x + dy * e2y + dz * e2z
            angle[r] = math.atan2(pv[r], pu[r])
            r += 1
        order = np.argsort(angle, kind="mergesort")
        pu, pv = pu[order], pv[order]
        s = spacing[k]
        sigma = sigma_per_spacing * s
        first, last = link_start[k], link_stop[k]
        weight = np.zeros(last - first)
        weight_sum = 0.0
        best, best_score = -1, 1e300
        for t in range(first, last):
            dx, dy, dz = taxel_pos[t, 0] - cx, taxel_pos[t, 1] - cy, taxel_pos[t, 2] - cz
            height = dx * nx + dy * ny + dz * nz
            u = dx * e1x + dy * e1y + dz * e1z
            v = dx * e2x + dy * e2y + dz * e2z
            inside = m >= 3
            d_edge = 1e300
            for i in range(m):
                j = (i + 1) % m
                ex, ey = pu[j] - pu[i], pv[j] - pv[i]
                wx, wy = u - pu[i], v - pv[i]
                length2 = ex * ex + ey * ey
                tt = 0.0
                if length2 > 1e-18:
                    tt = min(max((wx * ex + wy * ey) / length2, 0.0), 1.0)
                gx, gy = wx - tt * ex, wy - tt * ey
                d_edge = min(d_edge, math.sqrt(gx * gx + gy * gy))
                if ex * wy - ey * wx < -1e-9 * math.sqrt(length2):
                    inside = False
            d_plane = 0.0 if inside else d_edge
            d = math.sqrt(d_plane * d_plane + height * height)
            cos = taxel_normal[t, 0] * nx + taxel_normal[t, 1] * ny + taxel_normal[t, 2] * nz
            facing = cos > facing_cos
            score = d if facing else d + 1e3
            if score < best_score:
                best, best_score = t, score
            if facing and d < reach * s:
                w = math.exp(-0.5 * (d / sigma) ** 2)
                weight[t - first] = w
                weight_sum += w
        if weight_sum > 0.0:
            for t in range(first, last):
                forces[t] += total[g] * weight[t - first] / weight_sum
        else:
            forces[best] += total[g]
    return forces
