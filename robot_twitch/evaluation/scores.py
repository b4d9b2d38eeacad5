"""Every score of a learner, a group of learners or a body map dict, by the maps they export."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from robot_twitch.evaluation.action_map import score_action_map
from robot_twitch.evaluation.forward import score_forward
from robot_twitch.evaluation.reflex import score_reflex
from robot_twitch.evaluation.topology import score_topology
from robot_twitch.evaluation.truth import BodyTruth
from robot_twitch.learn.base import Learner, LearnerGroup, TransitionBatch


def score_map(maps: Mapping[str, np.ndarray], truth: BodyTruth) -> dict[str, float]:
    """Every metric whose inputs are present in one body map (keys as the learners emit them,
    optionally prefixed ``"<learner>/"``)."""
    plain: dict[str, np.ndarray] = {}
    for key, val in maps.items():
        short = key.rsplit("/", 1)[-1]
        if short in plain:
            raise ValueError(f"score_map: key {short!r} appears twice; score learners separately")
        plain[short] = np.asarray(val)
    out: dict[str, float] = {}
    if "motor_map" in plain:
        out.update(score_action_map(plain["motor_map"], truth, "schema"))
    if "proprio_map" in plain:
        out.update(score_action_map(plain["proprio_map"], truth, "proprio"))
    if "reflex_spindle_length" in plain:
        out.update(score_reflex(plain["reflex_spindle_length"], plain.get("reflex_tendon_force"), truth,
                                plain.get("reflex_spindle_velocity")))
    if "schema_reflex_spindle" in plain:
        out.update(score_reflex(plain["schema_reflex_spindle"], None, truth, prefix="schema_reflex"))
    out.update(score_topology(plain, truth))
    return out


def score_all(
    learners_or_maps: Learner | LearnerGroup | Iterable[Learner] | Mapping[str, np.ndarray],
    truth: BodyTruth,
    heldout_batch: TransitionBatch | None = None,
    by_learner: bool = False,
) -> dict[str, float]:
    """Score learners (or a body map dict) against the truth.

    Args:
        learners_or_maps: a learner, a LearnerGroup, an iterable of learners, or a mapping of
            map name -> array (e.g. a loaded body_map.npz).
        truth: the simulator's truth.
        heldout_batch: data the forward model never saw; forward.* metrics need it.
        by_learner: name metrics "<metric>/<learner name>". Without it, two learners producing
            the same metric raise ValueError.

    Returns:
        metric name -> float.
    """
    if not isinstance(truth, BodyTruth):
        raise ValueError(f"truth must be a BodyTruth, got {type(truth).__name__}")  # noqa: TRY004
    if isinstance(learners_or_maps, Mapping):
        return score_map(learners_or_maps, truth)
    if isinstance(learners_or_maps, LearnerGroup):
        learners = list(learners_or_maps.learners)
    elif hasattr(learners_or_maps, "observe") and hasattr(learners_or_maps, "body_map"):
        learners = [learners_or_maps]  # type: ignore[list-item]
    else:
        learners = list(learners_or_maps)  # type: ignore[arg-type]
    out: dict[str, float] = {}
    for lr in learners:
        scores = score_map(lr.body_map(), truth)
        if heldout_batch is not None and hasattr(lr, "scores"):
            scores.update(score_forward(lr, heldout_batch))
        for key, val in scores.items():
            name = f"{key}/{lr.name}" if by_learner else key
            if name in out:
                raise ValueError(f"score_all: metric {key!r} produced by more than one learner; "
                                 "pass by_learner=True")
            out[name] = val
    return out
