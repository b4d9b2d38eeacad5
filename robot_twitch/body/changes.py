"""The body-change registry: every kind of mid-run body change a config can name (experiment 6).

Each kind is one function ``apply(body, change, force_scale, workdir) -> Body`` that returns the
changed Body (a new object; the old one is untouched) and may scale ``force_scale`` (M,) in
place, the per-muscle force multiplier the simulation applies. ``workdir`` receives any file the
change writes (the grown URDF of scale_segment).

Each kind is registered as a ChangeKind: its apply function and the ``body_changes[]`` keys it
needs (checked when the config is read, and against the body before the run starts).

Adding a kind: write its apply function here with a one-line doc, add one ``_register`` line
(with the keys it needs) and a test; the config's allowed ``body_changes[].kind``, its
validation messages, docs/config.md and ``robot-twitch run --help`` follow from the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from robot_twitch.errors import ConfigError
from robot_twitch.registry import Registry

if TYPE_CHECKING:
    from robot_twitch.body.spec import Body
    from robot_twitch.config import BodyChange

BODY_CHANGE_REGISTRY = Registry("body-change kind")
"""Kind name -> Entry(ChangeKind, None, doc)."""


@dataclass(frozen=True, eq=False)
class ChangeKind:
    """One body-change kind: how it is applied and which ``body_changes[]`` keys it needs.

    Calling it applies the change: ``kind(body, change, force_scale, workdir) -> Body``.
    """

    apply: Callable[[Body, BodyChange, np.ndarray, Path], Body]
    """(body, change, force_scale (M,), workdir) -> the changed Body (force_scale scaled in place)."""
    needs: Mapping[str, str] = field(default_factory=dict)
    """Keys that must be given (not empty, not null) -> what the key names, for the message."""
    positive: tuple[str, ...] = ()
    """Numeric keys that must be > 0."""
    reads: tuple[str, ...] = ()
    """Optional keys the kind reads (their defaults apply when absent); for the docs."""
    check_body: Callable[[Body, BodyChange], None] | None = None
    """A further check against the body before the run (raises ConfigError naming the key)."""

    def __call__(self, body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
        return self.apply(body, change, force_scale, workdir)

    def check(self, change: BodyChange, body: Body | None = None) -> None:
        """Raise ConfigError (key ``body_changes.KEY``) for a needed key that is missing, a positive
        key that is not, and, given the body, a muscle or link the body does not have."""
        for key, what in self.needs.items():
            value = getattr(change, key)
            if value is None or value == "":
                raise ConfigError(None, f"body_changes.{key}",
                                  f"{value!r} is invalid: {change.kind} needs `{key}` ({what})")
        for key in self.positive:
            value = getattr(change, key)
            if not value > 0:
                raise ConfigError(None, f"body_changes.{key}", f"{value!r} is invalid: expected > 0 for {change.kind}")
        if body is None:
            return
        if "muscle" in self.needs:
            _muscle_index(body, change)
        if "link" in self.needs and change.link not in body.link_names:
            raise ConfigError(None, "body_changes.link",
                              f"{change.link!r} is not a link of {body.name}; links: {list(body.link_names)}")
        if self.check_body is not None:
            self.check_body(body, change)

    def keys(self) -> tuple[str, ...]:
        """Every BodyChange key this kind needs or reads."""
        return (*self.needs, *(k for k in (*self.positive, *self.reads) if k not in self.needs))


def _register(name: str, apply: Callable[[Body, BodyChange, np.ndarray, Path], Body], doc: str = "",
              **keys: object) -> None:
    """Register ``apply`` as kind ``name`` (doc: its docstring's first paragraph unless given)."""
    doc = doc or " ".join((apply.__doc__ or "").split("\n\n")[0].split())
    BODY_CHANGE_REGISTRY.add(name, ChangeKind(apply, **keys), doc=doc)  # type: ignore[arg-type]


def apply_change(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """A new Body with ``change`` applied by its registered kind (force_scale (M,) updated in place)."""
    if change.kind not in BODY_CHANGE_REGISTRY:
        raise ConfigError(None, "body_changes.kind", BODY_CHANGE_REGISTRY.unknown(change.kind))
    return BODY_CHANGE_REGISTRY[change.kind].factory(body, change, force_scale, workdir)


def _muscle_index(body: Body, change: BodyChange) -> int:
    """Row of ``change.muscle`` in the body's muscles; a ConfigError naming the choices if absent."""
    if change.muscle not in body.muscle_names:
        raise ConfigError(None, "body_changes.muscle",
                          f"{change.muscle!r} is not a muscle of {body.name}; muscles: {list(body.muscle_names)}")
    return body.muscle_names.index(change.muscle)


def lose_muscle(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """The muscle is removed: no force, no command; its spindle and tendon organ fall silent."""
    force_scale[_muscle_index(body, change)] = 0.0
    return body


def weaken_muscle(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """Scale the muscle's force by `factor`."""
    force_scale[_muscle_index(body, change)] *= change.factor
    return body


def move_attachment(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """Shift path point `point` of the muscle by `offset_m` in its link frame."""
    from robot_twitch.body.kinematics import MusclePathModel

    m = _muscle_index(body, change)
    geometry = body.paths.geometry
    # The muscle's path points, in point order: the ends of the segments it runs along.
    on_path = geometry.segment_muscle[m] > 0
    points = np.flatnonzero(np.isin(np.arange(len(geometry.point_link)),
                                    np.unique(np.concatenate([geometry.segment_start[on_path],
                                                              geometry.segment_end[on_path]]))))
    local = geometry.point_local_m.copy()
    local[points[change.point]] += np.asarray(change.offset_m)
    new_geometry = replace(geometry, point_local_m=local)
    return replace(body, paths=MusclePathModel(body.kinematics, new_geometry))


def scale_segment(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """Grow link `link` by `factor` (lengths x factor, mass x factor^3; robot_twitch.body.growth)."""
    from robot_twitch.body.growth import scale_segment as grow

    return grow(body, change.link, change.factor, workdir)


def tendon_transfer(body: Body, change: BodyChange, force_scale: np.ndarray, workdir: Path) -> Body:
    """Move the muscle's insertion to `insertion_m` (and its last via point to `via_m`) so that its
    moment arm on `joint` changes sign at every posture (checked), and re-tension it."""
    from robot_twitch.body.transfer import tendon_transfer as transfer

    _muscle_index(body, change)
    return transfer(body, change.muscle, change.joint, change.insertion_m or (0.0, 0.0, 0.0), change.via_m)


def _transfer_flips(body: Body, change: BodyChange) -> None:
    """The transfer, tried: its moment arm on `joint` must flip at every posture."""
    tendon_transfer(body, change, np.ones(len(body.muscle_names)), Path("."))


_MUSCLE = {"muscle": "the muscle changed"}
_register("lose_muscle", lose_muscle, needs=_MUSCLE)
_register("weaken_muscle", weaken_muscle, needs=_MUSCLE, positive=("factor",))
_register("move_attachment", move_attachment, needs=_MUSCLE, reads=("point", "offset_m"))
_register("scale_segment", scale_segment, needs={"link": "the link to grow"}, positive=("factor",))
_register("tendon_transfer", tendon_transfer, needs={"joint": "the joint whose action flips",
                                                     "insertion_m": "the new insertion", **_MUSCLE},
          reads=("via_m",), check_body=_transfer_flips,
          doc="Move the muscle's insertion to `insertion_m` (and its last via point to `via_m`) so that its moment "
              "arm on `joint` changes sign at every posture (checked), and re-tension it (robot_twitch.body.transfer).")
