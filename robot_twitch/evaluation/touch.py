"""withdrawal.*, reflex.touch_* and skinmap.*: the touch scores, from plain arguments.

The withdrawal reflex test (evaluation/withdrawal.py) at one posture scores the withdrawal
learner's weights, and on the same stimuli its controls: the learner's initial weights (the
untrained level), its shuffled control, the uniform all-muscle reflex and, with the hebbian
learner, its per-link touch reflex; each on skin that bore load and on resting skin (ReflexTest),
with the per-muscle receptive-field match on the first (withdrawal.field_match; the uniform reflex
scores 0, chance, by construction). The skin map (learn/skinmap.py) is scored with two controls.

Every generator is seeded from (seed, 16, ...): the reflex test's stimuli from the test number
`draw` (a resumed run draws the same), the skin map's shuffled control from (seed, 16, 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from robot_twitch.body.skin import SkinLayout, taxel_parts
from robot_twitch.body.spec import Body
from robot_twitch.evaluation.withdrawal import ReflexTest, touch_reflex_weights
from robot_twitch.learn.hebbian import HebbianReflexLearner
from robot_twitch.learn.skinmap import SkinMapLearner, neighbour_pairs, skinmap_scores
from robot_twitch.learn.withdrawal import WithdrawalLearner


def touch_scores(learners: Mapping[str, Any], learner_names: Sequence[str], body: Body, link_names: Sequence[str],
                 q: np.ndarray, load_steps: np.ndarray | None, control_dt_s: float, seed: int,
                 draw: int) -> dict[str, float]:
    """The skin map's scores (score_skinmap), then the withdrawal reflex test's (score_withdrawal).

    learners: the run's learners, indexed by name; learner_names: the names that ran; q: (J,) the
    posture [rad]; load_steps: (T,) int, control steps each taxel bore load (control_dt_s each); link_names: the sensor layout's
    links (the hebbian learner's touch columns); draw: the test number."""
    out = score_skinmap(learners["skinmap"], body.skin, seed) if "skinmap" in learner_names else {}
    if "withdrawal" in learner_names:
        hebbian = learners["hebbian"] if "hebbian" in learner_names else None
        out.update(score_withdrawal(learners["withdrawal"], hebbian, body, link_names, q, load_steps,
                                    control_dt_s, seed, draw))
    return out


def score_withdrawal(learner: WithdrawalLearner, hebbian: HebbianReflexLearner | None, body: Body,
                     link_names: Sequence[str], q: np.ndarray, load_steps: np.ndarray, control_dt_s: float,
                     seed: int, draw: int) -> dict[str, float]:
    """withdrawal.* of the withdrawal learner and its controls, reflex.touch_* of the hebbian
    learner's touch columns (None: not scored); {} while the learner has no weights."""
    if learner.weights is None:
        return {}
    test = ReflexTest()
    load_s = load_steps * control_dt_s

    def test_run(weights: np.ndarray) -> dict[str, float]:  # the same stimuli for every weight matrix
        return test.run(body, q, load_s, weights, np.random.default_rng([seed, 16, draw]))

    out = test_run(learner.weights)
    controls = {"initial": learner.initial_weights(), "shuffled": learner.control_weights,
                # every muscle at once: what a reflex with no site-specific structure scores
                "uniform": np.ones_like(learner.weights)}
    for name, weights in controls.items():
        res = test_run(weights)
        out[f"withdrawal.error_rate_{name}"] = res["withdrawal.error_rate"]
        out[f"withdrawal.error_rate_resting_{name}"] = res["withdrawal.error_rate_resting"]
        out[f"withdrawal.field_match_{name}"] = res.get("withdrawal.field_match", float("nan"))
    if hebbian is not None:  # the Hebbian learner's touch columns (per link)
        touch = hebbian.body_map()["hebbian_touch"]
        res = test_run(touch_reflex_weights(touch, link_names, body.skin))
        out["reflex.touch_withdrawal_accuracy"] = 1.0 - res["withdrawal.error_rate"]
        out["reflex.touch_withdrawal_accuracy_resting"] = 1.0 - res["withdrawal.error_rate_resting"]
        out["reflex.touch_field_match"] = res["withdrawal.field_match"]
    return out


def score_skinmap(learner: SkinMapLearner, skin: SkinLayout, seed: int) -> dict[str, float]:
    """skinmap.* of the learned map, and its two controls on the same touched afferents:
    skinmap.adjacency_initial (placed by the initial weights, a map that never saw touch) and
    skinmap.adjacency_shuffled (the learned places with the afferents shuffled over the touched
    skin: the body's neighbourhoods no longer match, generator from (seed, 16, 2)); {} while the
    learner has no weights."""
    if learner.weights is None:
        return {}
    pairs = neighbour_pairs(skin)
    parts = taxel_parts(skin)
    nodes = learner.taxel_nodes()
    out = skinmap_scores(learner.node_xy, nodes, pairs, parts, learner.touched, learner.contacted)
    initial = learner.taxel_nodes(learner.initial_weights(skin.n_taxels))
    out["skinmap.adjacency_initial"] = skinmap_scores(learner.node_xy, initial, pairs, parts,
                                                      learner.touched)["skinmap.adjacency"]
    idx = np.flatnonzero(learner.touched)
    shuffled = nodes.copy()
    shuffled[idx] = nodes[np.random.default_rng([seed, 16, 2]).permutation(idx)]
    out["skinmap.adjacency_shuffled"] = skinmap_scores(learner.node_xy, shuffled, pairs, parts,
                                                       learner.touched)["skinmap.adjacency"]
    return out
