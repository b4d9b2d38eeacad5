"""The whole-body infant, generated for an age: URDF skeleton + muscle YAML.

    python -m robot_twitch.body.infant --age-weeks 13 --out assets/infant

writes `infant.urdf` and `body.yaml` (the shipped built-in `infant` is this command's output).

Body. A supine infant on a crib mattress, trunk fixed (the root), head on a two-joint neck,
two arms (shoulder elevation + abduction, elbow, wrist, hand with thumb, index+middle and
ring+little fingers) and two legs (hip adduction + flexion, knee, ankle): 24 joints, 53
muscles. World frame: x towards the head, y to the infant's right, z up.

Posture. Young infants lie in a flexed posture: arms in "surrender" (upper arm out to the side,
forearm bent towards the head) and legs in "frog" (hips flexed, abducted and externally rotated,
knees bent, the leg lying on its outer side). In those postures elbow, wrist, finger, knee, ankle
and the in-plane hip and shoulder joints move parallel to the mattress, so a twitch of either
muscle of an antagonist pair moves its joint; the joints that lift a segment off the mattress
(neck flexion, shoulder elevation, hip adduction) have one anti-gravity muscle each, and
gravity is their antagonist. The legs are the built-in `leg` (Marques, Bharadwaj & Iida 2012,
2014 layout: monoarticular pairs plus rectus femoris, hamstrings and gastrocnemius, biarticular)
turned into the mattress plane and scaled; the arms add biarticular long heads of biceps and
triceps (shoulder + elbow).

Sizes. Body length, mass and head circumference are the WHO Child Growth Standards medians
(WHO Multicentre Growth Reference Study Group 2006; boys and girls averaged) interpolated at
`age_weeks` (0..104). Segment lengths are fixed fractions of body length, segment masses fixed
fractions of body mass (below, SEGMENTS), rounded from infant anthropometry: lengths after
Snyder et al. (1977, "Anthropometry of infants, children, and youths to age 18 for product
safety design", UM-HSRI-77-17), masses in the ranges Schneider & Zernicke (1992, J Biomech
25:145-148) and Sun & Jensen (1994, J Biomech 27:265-275) report for infants under a year.
Held constant with age, they are approximations: real infants' proportions change (the head's
share falls), which this generator does not model beyond the head circumference.

Muscle forces follow from stability, not anatomy (docs/body-format.md, checklist 3): each
muscle's F_max gives a target angular acceleration about the joint it moves at the initial
posture (ALPHA_RAD_S2, plus what gravity needs for the lifting muscles), from the joint's
effective inertia in Bullet. Light segments (hand, fingers, thumb) carry padded inertias.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robot_twitch.errors import BodyFileError

# WHO Child Growth Standards (2006) medians, boys and girls averaged, at 0, 1, 2, 3, 6, 9, 12, 18
# and 24 months (weeks = months * 52 / 12).
WHO_AGE_WEEKS = np.array([0.0, 4.33, 8.67, 13.0, 26.0, 39.0, 52.0, 78.0, 104.0])
WHO_LENGTH_M = np.array([0.495, 0.542, 0.578, 0.606, 0.667, 0.711, 0.749, 0.815, 0.871])
WHO_MASS_KG = np.array([3.25, 4.35, 5.35, 6.1, 7.6, 8.55, 9.25, 10.55, 11.85])
WHO_HEAD_CIRCUMFERENCE_M = np.array([0.342, 0.369, 0.387, 0.400, 0.428, 0.444, 0.455, 0.468, 0.478])

CRIB_REFERENCE_M = (-0.40, 0.42, -0.285, 0.285)  # crib interior at the reference age, scaled with length
REFERENCE_LENGTH_M = 0.606  # 13 weeks: the age the layout's attachment points are drawn for
DEFAULT_AGE_WEEKS = 13.0

# Segment: (length as a fraction of body length, mass as a fraction of body mass). Trunk: the
# fixed root (massless in the model, like every fixed base here).
SEGMENTS: dict[str, tuple[float, float]] = {
    "trunk": (0.36, 0.48),
    "head": (0.0, 0.20),  # size from the head circumference
    "upper_arm": (0.14, 0.025),
    "forearm": (0.148, 0.016),
    "hand": (0.058, 0.007),  # palm; with fingers and thumb 0.008 of body mass
    "thigh": (0.16, 0.065),
    "shank": (0.16, 0.033),  # as long as the thigh (the leg body's geometry, scaled)
    "foot": (0.14, 0.012),
}
FINGER_MASS_FRACTION = 0.0003  # each of the three digits

ALPHA_RAD_S2 = 150.0  # target single-muscle angular acceleration at the initial posture
DAMPING_TIME_S = 0.1  # passive joint viscosity b = I / 0.1 s: a limb in atonia settles in ~1 s
# Padded inertias [kg m^2] at the reference age (scaled by k^5): the 100 Hz muscle update needs
# them (docs/body-format.md, checklist 3).
PAD_HAND, PAD_DIGIT, PAD_NECK, PAD_GIRDLE = 4e-5, 1e-5, 2e-5, 3e-3

INITIAL_POSTURE = {
    "neck_flexion": 0.0, "neck_rotation": 0.3,
    "shoulder_elevation": -0.03, "shoulder_abduction": 1.0, "elbow": 1.1, "wrist": 0.0,
    "finger_index": 0.5, "finger_little": 0.5, "thumb": 0.3,
    "hip_adduction": 0.0, "hip_flexion": 0.8, "knee": 1.3, "ankle": -0.2,
}
SIDES = {"r": ("right", 1.0), "l": ("left", -1.0)}


@dataclass(frozen=True)
class Anthropometry:
    """Whole-body sizes at one age."""

    age_weeks: float
    length_m: float
    mass_kg: float
    head_circumference_m: float

    @property
    def k(self) -> float:
        """Length scale relative to the reference age (13 weeks)."""
        return self.length_m / REFERENCE_LENGTH_M

    def segment_length_m(self, segment: str) -> float:
        return SEGMENTS[segment][0] * self.length_m

    def segment_mass_kg(self, segment: str) -> float:
        return SEGMENTS[segment][1] * self.mass_kg

    @property
    def head_radius_m(self) -> float:
        return self.head_circumference_m / (2 * math.pi)


def anthropometry(age_weeks: float) -> Anthropometry:
    """WHO medians at `age_weeks` (0..104)."""
    if isinstance(age_weeks, bool) or not isinstance(age_weeks, (int, float)) or not 0 <= age_weeks <= 104:
        raise BodyFileError(None, "age_weeks", f"{age_weeks!r} must be a number of weeks in 0..104 "
                                               "(the WHO growth tables this generator interpolates)")
    at = float(age_weeks)
    return Anthropometry(at, float(np.interp(at, WHO_AGE_WEEKS, WHO_LENGTH_M)),
                         float(np.interp(at, WHO_AGE_WEEKS, WHO_MASS_KG)),
                         float(np.interp(at, WHO_AGE_WEEKS, WHO_HEAD_CIRCUMFERENCE_M)))


# -- URDF --------------------------------------------------------------------------------------------

def _f(values) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def _cylinder_inertia(mass: float, radius: float, length: float, pad: float = 0.0) -> tuple[float, float, float]:
    """(ixx, iyy, izz) of a solid cylinder along x about its centre, each at least `pad`."""
    axial = 0.5 * mass * radius**2
    transverse = mass * (3 * radius**2 + length**2) / 12
    return max(axial, pad), max(transverse, pad), max(transverse, pad)


def _link(name: str, mass: float, com, inertia, shapes: list[tuple[str, str, str]], material: str) -> str:
    """A URDF link; shapes: (geometry xml, origin xyz, origin rpy), each both visual and collision."""
    parts = [f'  <link name="{name}">',
             f'    <inertial><origin xyz="{_f(com)}"/><mass value="{mass:.6g}"/>'
             f'<inertia ixx="{inertia[0]:.6g}" iyy="{inertia[1]:.6g}" izz="{inertia[2]:.6g}" ixy="0" ixz="0" iyz="0"/>'
             '</inertial>']
    for geometry, xyz, rpy in shapes:
        origin = f'<origin xyz="{xyz}" rpy="{rpy}"/>'
        parts.append(f'    <visual>{origin}<geometry>{geometry}</geometry><material name="{material}"/></visual>')
        parts.append(f'    <collision>{origin}<geometry>{geometry}</geometry></collision>')
    parts.append("  </link>")
    return "\n".join(parts)


def _joint(name: str, parent: str, child: str, xyz, axis, lower: float, upper: float) -> str:
    return (f'  <joint name="{name}" type="revolute"><parent link="{parent}"/><child link="{child}"/>'
            f'<origin xyz="{_f(xyz)}"/><axis xyz="{_f(axis)}"/>'
            f'<limit lower="{lower:g}" upper="{upper:g}" effort="100" velocity="20"/></joint>')


def _capsule_along_x(length: float, radius: float, gap: float) -> tuple[str, str, str]:
    """A capsule along the segment (local -x from the joint), clear of both joints by `gap`."""
    core = max(length - 2 * radius - 2 * gap, 0.2 * length)
    return f'<capsule radius="{radius:.6g}" length="{core:.6g}"/>', _f([-length / 2, 0, 0]), "0 1.5708 0"


def infant_urdf(a: Anthropometry) -> str:
    """The URDF text for the anthropometry `a` (joint ranges and frames in docs/body-format.md)."""
    k, mass = a.k, a.mass_kg
    trunk = (a.segment_length_m("trunk"), 0.23 * a.length_m, 0.15 * a.length_m)  # length, width, depth
    r_head = a.head_radius_m
    out = ['<?xml version="1.0"?>',
           f"<!-- Generated by robot_twitch.body.infant for age {a.age_weeks:g} weeks: body length "
           f"{a.length_m:.3f} m, mass {a.mass_kg:.2f} kg, head circumference {a.head_circumference_m:.3f} m "
           "(WHO medians). Do not edit: regenerate (python -m robot_twitch.body.infant). -->",
           '<robot name="infant">',
           '  <material name="skin"><color rgba="0.96 0.80 0.70 1"/></material>',
           '  <material name="onesie"><color rgba="0.70 0.82 0.95 1"/></material>',
           '  <material name="diaper"><color rgba="0.98 0.98 0.96 1"/></material>']
    # Trunk: the fixed root, massless (a fixed base carries no dynamics), its centre 1 cm towards the head.
    out.append(_link("torso", 0.0, (0, 0, 0), (0, 0, 0),
                     [(f'<box size="{_f([trunk[0] - 0.01 * k, trunk[1], trunk[2]])}"/>', _f([0.005 * k, 0, 0]),
                       "0 0 0")], "onesie"))
    neck_at = (trunk[0] / 2 + 0.0 * k, 0.0, 0.02 * k)
    out.append(_link("neck", 0.05 * k**3, (0, 0, 0), (PAD_NECK * k**5,) * 3, [], "skin"))
    head_mass = a.segment_mass_kg("head")
    head_i = 0.4 * head_mass * r_head**2
    head_centre = r_head + 0.01 * k
    out.append(_link("head", head_mass, (head_centre, 0, 0), (head_i,) * 3,
                     [(f'<sphere radius="{r_head:.6g}"/>', _f([head_centre, 0, 0]), "0 0 0")], "skin"))
    out.append(_joint("neck_flexion", "torso", "neck", neck_at, (0, -1, 0), -0.3, 0.9))
    out.append(_joint("neck_rotation", "neck", "head", (0, 0, 0), (-1, 0, 0), -1.1, 1.1))
    ua, fa, palm = a.segment_length_m("upper_arm"), a.segment_length_m("forearm"), a.segment_length_m("hand")
    thigh, foot = a.segment_length_m("thigh"), a.segment_length_m("foot")
    digit_mass = FINGER_MASS_FRACTION * mass
    for p, (_, s) in SIDES.items():
        def y(v: float, s: float = s) -> float:
            return s * v

        # Arm: shoulder elevation (about the trunk's long axis) then abduction (in the mattress plane).
        r_ua, r_fa, r_digit = 0.018 * k, 0.015 * k, 0.0055 * k
        out.append(_link(f"{p}_shoulder", 0.05 * k**3, (0, 0, 0), (PAD_GIRDLE * k**5,) * 3, [], "onesie"))
        m = a.segment_mass_kg("upper_arm")
        out.append(_link(f"{p}_upper_arm", m, (-ua / 2, 0, 0), _cylinder_inertia(m, r_ua, ua),
                         [_capsule_along_x(ua, r_ua, 0.0005 * k)], "onesie"))
        m = a.segment_mass_kg("forearm")
        out.append(_link(f"{p}_forearm", m, (-fa / 2, 0, 0), _cylinder_inertia(m, r_fa, fa),
                         [_capsule_along_x(fa, r_fa, 0.0)], "skin"))
        m = a.segment_mass_kg("hand")
        out.append(_link(f"{p}_hand", m, (-palm / 2, 0, 0), (PAD_HAND * k**5,) * 3,
                         [(f'<box size="{_f([0.03 * k, 0.012 * k, 0.03 * k])}"/>', _f([-0.018 * k, 0, 0]),
                           "0 0 0")], "skin"))
        for digit, z in (("finger_index", 0.0065), ("finger_little", -0.0065)):
            out.append(_link(f"{p}_{digit}", digit_mass, (-0.0125 * k, 0, 0), (PAD_DIGIT * k**5,) * 3,
                             [(f'<capsule radius="{r_digit:.6g}" length="{0.014 * k:.6g}"/>',
                               _f([-0.0125 * k, 0, 0]), "0 1.5708 0")], "skin"))
            out.append(_joint(f"{p}_{digit}", f"{p}_hand", f"{p}_{digit}", (-palm, 0, z * k), (0, 0, -s), -0.3, 1.5))
        # The thumb's centre of mass sits on its joint axis: gravity would otherwise fold this 2 g digit,
        # which stands up from the hand, onto a joint limit against the muscles' passive forces.
        out.append(_link(f"{p}_thumb", digit_mass, (0, 0, 0), (PAD_DIGIT * k**5,) * 3,
                         [(f'<capsule radius="{0.005 * k:.6g}" length="{0.008 * k:.6g}"/>',
                           _f([0, 0, 0.011 * k]), "0 0 0")], "skin"))
        shoulder_at = (0.08 * k, y(0.09 * k), -0.025 * k)
        out.append(_joint(f"{p}_shoulder_elevation", "torso", f"{p}_shoulder", shoulder_at, (s, 0, 0), -0.4, 1.5))
        out.append(_joint(f"{p}_shoulder_abduction", f"{p}_shoulder", f"{p}_upper_arm", (0, 0, 0), (0, 0, -s),
                          0.2, 2.2))
        out.append(_joint(f"{p}_elbow", f"{p}_upper_arm", f"{p}_forearm", (-ua, 0, 0), (0, 0, -s), 0.1, 2.4))
        out.append(_joint(f"{p}_wrist", f"{p}_forearm", f"{p}_hand", (-fa, 0, 0), (0, 0, -s), -0.9, 1.1))
        out.append(_joint(f"{p}_thumb", f"{p}_hand", f"{p}_thumb", (-0.012 * k, 0, 0.015 * k), (-s, 0, 0),
                          -0.3, 1.2))
        # Leg: hip adduction (about the trunk's long axis: lifts the knee off the mattress), then
        # hip flexion, knee and ankle in the mattress plane (the frog posture).
        r_th, r_sh = 0.024 * k, 0.019 * k
        out.append(_link(f"{p}_hip", 0.05 * k**3, (0, 0, 0), (PAD_GIRDLE * k**5,) * 3, [], "diaper"))
        m = a.segment_mass_kg("thigh")
        out.append(_link(f"{p}_thigh", m, (-thigh / 2, 0, 0), _cylinder_inertia(m, r_th, thigh),
                         [_capsule_along_x(thigh, r_th, 0.005 * k)], "diaper"))
        m = a.segment_mass_kg("shank")
        out.append(_link(f"{p}_shank", m, (-thigh / 2, 0, 0), _cylinder_inertia(m, r_sh, thigh),
                         [_capsule_along_x(thigh, r_sh, 0.0)], "skin"))
        m = a.segment_mass_kg("foot")
        fx, fy, fz = 0.025 * k, foot, 0.035 * k  # dorsum-sole, heel-toe (along +-y), width
        inertia = (m * (fy**2 + fz**2) / 12, m * (fx**2 + fz**2) / 12, m * (fx**2 + fy**2) / 12)
        # The foot lies on its outer edge, level with the thigh's underside (the thigh is thicker than
        # the shank), so the foot rests on the mattress.
        centre = (-0.0125 * k, y(fy / 2 - 0.01 * k), -(r_th - fz / 2))
        out.append(_link(f"{p}_foot", m, centre, inertia,
                         [(f'<box size="{_f([fx, fy, fz])}"/>', _f(centre), "0 0 0")], "skin"))
        hip_at = (-0.125 * k, y(0.045 * k), r_th + 0.001 * k - trunk[2] / 2)
        out.append(_joint(f"{p}_hip_adduction", "torso", f"{p}_hip", hip_at, (s, 0, 0), -0.15, 1.0))
        out.append(_joint(f"{p}_hip_flexion", f"{p}_hip", f"{p}_thigh", (0, 0, 0), (0, 0, -s), 0.0, 1.4))
        out.append(_joint(f"{p}_knee", f"{p}_thigh", f"{p}_shank", (-thigh, 0, 0), (0, 0, s), 0.0, 2.0))
        out.append(_joint(f"{p}_ankle", f"{p}_shank", f"{p}_foot", (-thigh, 0, 0), (0, 0, -s), -0.75, 0.35))
    out.append("</robot>")
    return "\n".join(out) + "\n"


# -- muscles -------------------------------------------------------------------------------------------

# (name, region, path [(link, (x, y, z))]) for the right side at the reference age; the left side
# mirrors y. Link names without a side prefix ("torso") are axial.
_NECK = [
    ("neck_flexor", "neck", [("torso", (0.02, 0, 0.045)), ("torso", (0.10, 0, 0.045)), ("neck", (0.03, 0, 0.02))],
     "longus colli / sternocleidomastoid, both sides: lifts the head (gravity opposes)"),
    ("neck_rotator_right", "neck", [("neck", (-0.06, 0.035, 0)), ("head", (0.04, 0, 0.03))],
     "turns the face to the right"),
    ("neck_rotator_left", "neck", [("neck", (-0.06, -0.035, 0)), ("head", (0.04, 0, 0.03))],
     "turns the face to the left"),
]
_S = (0.08, 0.09, -0.025)  # the right shoulder joint on the trunk
_ARM = [
    ("supraspinatus", "shoulder", [("torso", (_S[0], _S[1] - 0.02, _S[2] + 0.045)), ("shoulder", (0, 0.03, 0))],
     "elevates: lifts the arm off the mattress (gravity opposes)"),
    ("deltoid", "shoulder", [("shoulder", (-0.08, -0.03, 0)), ("shoulder", (0.04, 0.01, 0)),
                             ("upper_arm", (-0.02, 0, 0))], "abducts: sweeps the arm out and up along the mattress"),
    ("pectoralis", "shoulder", [("shoulder", (-0.04, -0.09, 0.065)), ("shoulder", (-0.06, -0.02, 0)),
                                ("upper_arm", (-0.02, 0, 0))], "adducts: brings the arm back to the side"),
    ("biceps", "elbow", [("shoulder", (0.04, 0.01, 0)), ("upper_arm", (-0.02, 0.01, 0)),
                         ("forearm", (-0.02, 0.006, 0))], "long head, biarticular: abducts the shoulder, flexes the elbow"),
    ("brachialis", "elbow", [("upper_arm", (-0.01, 0.01, 0)), ("forearm", (-0.02, 0.006, 0))], "elbow flexor"),
    ("triceps_long", "elbow", [("shoulder", (-0.06, -0.02, 0)), ("upper_arm", (-0.03, -0.012, 0)),
                               ("forearm", (0.012, -0.009, 0))],
     "long head, biarticular: adducts the shoulder, extends the elbow (olecranon)"),
    ("triceps_lateral", "elbow", [("upper_arm", (-0.03, -0.012, 0)), ("forearm", (0.012, -0.009, 0))],
     "elbow extensor, inserting on the olecranon"),
    ("wrist_flexor", "wrist", [("forearm", (-0.04, 0.008, 0)), ("forearm", (-0.085, 0.007, 0)),
                               ("hand", (-0.02, 0.006, 0))], "flexor carpi, through a carpal-tunnel via point"),
    ("wrist_extensor", "wrist", [("forearm", (-0.04, -0.008, 0)), ("forearm", (-0.085, -0.007, 0)),
                                 ("hand", (-0.02, -0.006, 0))], "extensor carpi"),
    ("index_flexor", "fingers", [("hand", (-0.01, 0.005, 0.0065)), ("hand", (-0.032, 0.005, 0.0065)),
                                 ("finger_index", (-0.01, 0.003, 0))], "flexes the index+middle finger"),
    ("index_extensor", "fingers", [("hand", (-0.005, -0.005, 0.0065)), ("finger_index", (0.002, -0.0055, 0))],
     "extends it, over the knuckle (extensor hood)"),
    ("little_flexor", "fingers", [("hand", (-0.01, 0.005, -0.0065)), ("hand", (-0.032, 0.005, -0.0065)),
                                  ("finger_little", (-0.01, 0.003, 0))], "flexes the ring+little finger"),
    ("little_extensor", "fingers", [("hand", (-0.005, -0.005, -0.0065)), ("finger_little", (0.002, -0.0055, 0))],
     "extends it"),
    # The thumb is the index finger's layout turned to point along +z (its joint at (-0.012, 0, 0.015)).
    ("thumb_flexor", "fingers", [("hand", (-0.012, 0.005, -0.01)), ("hand", (-0.012, 0.005, 0.012)),
                                 ("thumb", (0, 0.003, 0.01))], "flexor pollicis: brings the thumb over the palm"),
    ("thumb_extensor", "fingers", [("hand", (-0.012, -0.005, -0.015)), ("thumb", (0, -0.0055, -0.002))],
     "extensor pollicis"),
]
_H = (-0.125, 0.045)  # the right hip joint on the trunk (x, y); its height depends on the thigh
# The built-in leg's muscles (adult, segments along -z, anterior +x, 0.40 m thigh) turned into the
# mattress plane: leg (x, y, z) -> infant (z, x, y) (a rotation), scaled by thigh / 0.40.
_LEG = [
    ("iliopsoas", "hip", [("hip", (-0.02, 0.0, 0.15)), ("hip", (0.06, 0.0, 0.02)), ("thigh", (0.02, 0.0, -0.10))],
     "hip flexor, over the pelvic brim"),
    ("gluteus_maximus", "hip", [("hip", (-0.10, 0.0, 0.08)), ("hip", (-0.08, 0.0, -0.06)),
                                ("thigh", (-0.02, 0.0, -0.14))], "hip extensor"),
    ("rectus_femoris", "knee", [("hip", (0.05, 0.0, 0.04)), ("thigh", (0.07, 0.0, -0.36)), ("shank", (0.06, 0.0, 0.03)),
                                ("shank", (0.045, 0.0, -0.08))], "biarticular: hip flexor + knee extensor"),
    ("vasti", "knee", [("thigh", (0.04, 0.0, -0.18)), ("thigh", (0.07, 0.0, -0.36)), ("shank", (0.06, 0.0, 0.03)),
                       ("shank", (0.045, 0.0, -0.08))], "knee extensor, over the patella"),
    ("hamstrings", "hip", [("hip", (-0.07, 0.0, -0.07)), ("shank", (-0.03, 0.0, -0.07))],
     "biarticular: hip extensor + knee flexor"),
    ("biceps_femoris_short", "knee", [("thigh", (-0.03, 0.0, -0.22)), ("shank", (-0.03, 0.0, -0.06))], "knee flexor"),
    ("gastrocnemius", "ankle", [("thigh", (-0.02, 0.0, -0.36)), ("shank", (-0.05, 0.0, -0.12)),
                                ("foot", (-0.05, 0.0, -0.04))], "biarticular: knee flexor + ankle plantarflexor"),
    ("tibialis_anterior", "ankle", [("shank", (0.03, 0.0, -0.15)), ("shank", (0.04, 0.0, -0.37)),
                                    ("foot", (0.10, 0.0, -0.03))], "ankle dorsiflexor"),
    ("soleus", "ankle", [("shank", (-0.04, 0.0, -0.15)), ("foot", (-0.05, 0.0, -0.04))], "ankle plantarflexor"),
]
LEG_REFERENCE_THIGH_M = 0.40


def _leg_point(point, scale: float) -> tuple[float, float, float]:
    x, y, z = point
    return (z * scale, x * scale, y * scale)


def muscle_table(a: Anthropometry) -> list[tuple[str, str, str | None, list[tuple[str, tuple[float, ...]]], str]]:
    """(name, region, side, path [(link, pos)], comment) of every muscle, sides expanded."""
    k = a.k
    leg_scale = a.segment_length_m("thigh") / LEG_REFERENCE_THIGH_M
    thigh_r = 0.024 * k
    trunk_depth = 0.15 * a.length_m
    hip_z = thigh_r + 0.001 * k - trunk_depth / 2
    rows: list = [(n, r, None, [(link, tuple(v * k for v in pos)) for link, pos in path], c) for n, r, path, c in _NECK]
    for p, (side, s) in SIDES.items():
        for name, region, path, comment in _ARM:
            pts = [(link if link == "torso" else f"{p}_{link}", (x * k, s * y * k, z * k)) for link, (x, y, z) in path]
            rows.append((f"{p}_{name}", region, side, pts, comment))
        hip = (_H[0] * k, s * _H[1] * k, hip_z)
        rows.append((f"{p}_adductor", "hip", side,
                     [("torso", (hip[0], hip[1] - s * 0.02 * k, hip[2] + 0.045 * k)), (f"{p}_hip", (0, s * 0.03 * k, 0))],
                     "adductor longus: lifts the knee off the mattress, towards the midline (gravity opposes)"))
        for name, region, path, comment in _LEG:
            pts = []
            for link, pos in path:
                x, y, z = _leg_point(pos, leg_scale)
                pts.append((f"{p}_{link}", (x, s * y, z)))
            rows.append((f"{p}_{name}", region, side, pts, comment))
    return rows


LIFT_JOINTS = ("neck_flexion", "shoulder_elevation", "hip_adduction")  # gravity holds them on the mattress


def _posture(joint_names: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for joint in joint_names:
        base = joint[2:] if joint[:2] in ("r_", "l_") else joint
        out[joint] = INITIAL_POSTURE[base]
    return out


def passive_rest(body_yaml: Path, seconds: float = 5.0) -> dict[str, float]:
    """The initial posture where the muscles' passive forces balance: INITIAL_POSTURE let go for
    `seconds` without gravity or ground, the lifting joints kept at their INITIAL_POSTURE values
    (gravity holds them on the mattress). Starting there, the limbs do not creep over the mattress
    (which friction would turn into wrist and ankle bending) while the body settles."""
    from robot_twitch.body.spec import load_body
    from robot_twitch.sim import SimConfig, Simulation

    body = load_body(body_yaml)
    with Simulation(body, SimConfig(ground="none", gravity_m_s2=0.0)) as sim:
        for _ in range(int(seconds * sim.config.control_hz)):
            state = sim.step(np.zeros(len(body.muscle_names)))
    posture = _posture(body.joint_names)
    for k, joint in enumerate(body.joint_names):
        if not joint.endswith(LIFT_JOINTS):
            posture[joint] = round(float(state.joint_pos_rad[k]), 3)
    return posture


def infant_yaml(a: Anthropometry, forces_n: dict[str, float], damping_nms: dict[str, float],
                joint_names: tuple[str, ...], posture: dict[str, float] | None = None) -> str:
    """The muscle YAML text (forces and damping per joint from `tune`)."""
    lines = [
        f"# Generated by robot_twitch.body.infant for age {a.age_weeks:g} weeks (body length {a.length_m:.3f} m,",
        f"# mass {a.mass_kg:.2f} kg, WHO medians). Do not edit: regenerate with",
        f"#   python -m robot_twitch.body.infant --age-weeks {a.age_weeks:g} --out assets/infant",
        "# The design (posture, layout, sizes, forces) is described in robot_twitch/body/infant.py and",
        "# docs/body-format.md (\"infant\").",
        "name: infant",
        "urdf: infant.urdf",
        "fixed_base: true",
        f"base_position: [0.0, 0.0, {0.1 + 0.075 * a.length_m:.6g}]  # the back on the mattress (top z = 0.1 m)",
        "ground: crib",
        "crib_m: [" + ", ".join(f"{v * a.k:.4g}" for v in CRIB_REFERENCE_M) + "]  # interior: limbs reach the walls",
        "skin: true                      # taxels at the default spacing of each body part (MIMo)",
        "# Passive joint viscosity b = I / 0.1 s [N m s/rad], I the joint's effective inertia at the initial posture.",
        "joint_damping_nms: {" + ", ".join(f"{j}: {damping_nms[j]:.4g}" for j in joint_names) + "}",
        "# Initial posture: where the muscles' passive forces balance (infant.passive_rest).",
        "initial_posture: {" + ", ".join(f"{j}: {v:g}" for j, v in (posture or _posture(joint_names)).items()) + "}",
        "muscles:",
    ]
    for name, region, side, path, comment in muscle_table(a):
        lines.append(f"  - name: {name}  # {comment}")
        lines.append(f"    region: {region}")
        if side:
            lines.append(f"    side: {side}")
        lines.append(f"    max_isometric_force_n: {forces_n[name]:.4g}")
        lines.append("    path:")
        for link, pos in path:
            lines.append(f"      - {{link: {link}, pos: [{_f(pos).replace(' ', ', ')}]}}")
    return "\n".join(lines) + "\n"


def tune(body_yaml: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Forces per muscle and damping per joint for the body at `body_yaml` (written with any forces).

    F_max = (alpha I + |tau_gravity|) / |R| at the initial posture, the smallest over the joints the
    muscle crosses (a biarticular muscle must not overdrive the lighter joint); I = 1 / (M^-1)_jj from Bullet's mass matrix, tau_gravity the gravity torque there
    when the muscle lifts against it.
    """
    from robot_twitch.body.spec import load_body
    from robot_twitch.sim import SimConfig, Simulation

    body = load_body(body_yaml)
    q0 = body.initial_posture()
    arms = body.moment_arms(q0)
    with Simulation(body, SimConfig(ground="none")) as sim:
        c = sim.client
        order = np.argsort(np.argsort(sim.joint_indices))  # body joint -> Bullet DOF slot
        q_bullet = np.zeros_like(q0)
        q_bullet[order] = q0
        mass = np.array(c.calculateMassMatrix(sim.robot_id, q_bullet.tolist()))
        inertia = (1.0 / np.diag(np.linalg.inv(mass)))[order]
        zeros = [0.0] * len(q0)
        gravity = np.array(c.calculateInverseDynamics(sim.robot_id, q_bullet.tolist(), zeros, zeros))[order]
    forces = {}
    for m, name in enumerate(body.muscle_names):
        need = []
        for j in np.flatnonzero(np.abs(arms[m]) > 0.1 * np.abs(arms[m]).max()):
            lifting = arms[m, j] * gravity[j] > 0  # gravity holds the joint where this muscle pulls it
            need.append((ALPHA_RAD_S2 * inertia[j] + (abs(gravity[j]) if lifting else 0.0)) / abs(arms[m, j]))
        forces[name] = float(min(need))  # a biarticular muscle: the force its lighter joint takes
    damping = {joint: float(inertia[k] / DAMPING_TIME_S) for k, joint in enumerate(body.joint_names)}
    return forces, damping


def write_infant(age_weeks: float, out_dir: Path) -> Path:
    """Write infant.urdf and body.yaml for `age_weeks` into out_dir; the body.yaml path."""
    a = anthropometry(age_weeks)
    out_dir.mkdir(parents=True, exist_ok=True)
    urdf = infant_urdf(a)
    names = [row[0] for row in muscle_table(a)]
    with tempfile.TemporaryDirectory(prefix="robot_twitch-infant-") as folder:
        draft = Path(folder)
        (draft / "infant.urdf").write_text(urdf)
        from robot_twitch.body.urdf import read_urdf

        joints = tuple(j.name for j in read_urdf(draft / "infant.urdf").movable_joints)
        (draft / "body.yaml").write_text(infant_yaml(a, dict.fromkeys(names, 1.0), dict.fromkeys(joints, 0.01),
                                                     joints))
        forces, damping = tune(draft / "body.yaml")
        (draft / "body.yaml").write_text(infant_yaml(a, forces, damping, joints))
        posture = passive_rest(draft / "body.yaml")
    (out_dir / "infant.urdf").write_text(urdf)
    path = out_dir / "body.yaml"
    path.write_text(infant_yaml(a, forces, damping, joints, posture))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the whole-body infant (URDF + muscle YAML) for an age.")
    parser.add_argument("--age-weeks", type=float, default=DEFAULT_AGE_WEEKS, help="age in weeks, 0..104")
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    args = parser.parse_args(argv)
    try:
        path = write_infant(args.age_weeks, args.out)
    except BodyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
