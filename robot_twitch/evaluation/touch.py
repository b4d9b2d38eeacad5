"""withdrawal.*, reflex.touch_* and skinmap.*: the touch scores, from plain arguments.

The withdrawal reflex test (evaluation/withdrawal.py) at one posture scores the withdrawal
learner's weights, and on the same stimuli its controls: the learner's initial weights (the
untrained level), its shuffled control, the uniform all-muscle reflex and, with the hebbian
learner, its per-link touch reflex; each on skin that bore load and on resting skin (ReflexTest),
with the per-muscle receptive-field match on the first (withdrawal.field_match; the uniform reflex
scores 0, chance, by construction). Given the run's world (ProbeSetup), the same weight matrices are
tested again on (a subset of) the same stimuli in a copy of the world (evaluation/withdrawal_probe.py,
withdrawal.*_probe*; score_probe). The skin map (learn/skinmap.py) is scored with two controls.

Every generator is seeded from (seed, 16, ...): the reflex test's stimuli from the test number
`draw` (a resumed run draws the same), the skin map's shuffled control from (seed, 16, 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_twitch.body.skin import SkinLayout, taxel_parts
from robot_twitch.body.spec import Body
from robot_twitch.evaluation.withdrawal import (
    ReflexTest,
    reflex_errors,
    touch_reflex_weights,
    withdrawal_field,
)
from robot_twitch.evaluation.withdrawal_probe import PROBE_MAX_SITES, ReflexProbe, probe_subset
from robot_twitch.learn.hebbian import HebbianReflexLearner
from robot_twitch.learn.skinmap import SkinMapLearner, neighbour_pairs, skinmap_scores
from robot_twitch.learn.withdrawal import WithdrawalLearner
from robot_twitch.sim import Simulation


def touch_scores(learners: Mapping[str, Any], learner_names: Sequence[str], body: Body, link_names: Sequence[str],
                 q: np.ndarray, load_steps: np.ndarray | None, control_dt_s: float, seed: int,
                 draw: int, probe: ProbeSetup | None = None) -> dict[str, float]:
    """The skin map's scores (score_skinmap), then the withdrawal reflex test's (score_withdrawal).

    learners: the run's learners, indexed by name; learner_names: the names that ran; q: (J,) the
    posture [rad]; load_steps: (T,) int, control steps each taxel bore load (control_dt_s each); link_names: the sensor layout's
    links (the hebbian learner's touch columns); draw: the test number; probe: the run's world for
    the reflex probe in a copy of it (None: no probe metrics)."""
    out = score_skinmap(learners["skinmap"], body.skin, seed) if "skinmap" in learner_names else {}
    if "withdrawal" in learner_names:
        hebbian = learners["hebbian"] if "hebbian" in learner_names else None
        out.update(score_withdrawal(learners["withdrawal"], hebbian, body, link_names, q, load_steps,
                                    control_dt_s, seed, draw, probe))
    return out


@dataclass(frozen=True)
class ProbeSetup:
    """What the reflex probe (evaluation/withdrawal_probe.py) needs of a run: its Simulation (read
    only), which muscles still exist ((M,) bool: force scale > 0) and the stimuli probed per pool."""

    sim: Simulation
    muscle_on: np.ndarray
    max_sites: int = PROBE_MAX_SITES


def score_withdrawal(learner: WithdrawalLearner, hebbian: HebbianReflexLearner | None, body: Body,
                     link_names: Sequence[str], q: np.ndarray, load_steps: np.ndarray, control_dt_s: float,
                     seed: int, draw: int, probe: ProbeSetup | None = None) -> dict[str, float]:
    """withdrawal.* of the withdrawal learner and its controls, reflex.touch_* of the hebbian
    learner's touch columns (None: not scored), and with a probe the *_probe metrics
    (score_probe); {} while the learner has no weights."""
    if learner.weights is None:
        return {}
    test = ReflexTest()
    load_s = load_steps * control_dt_s
    field = withdrawal_field(body, q)  # the truth at this posture, once for every weight matrix
    # the same stimuli for every weight matrix and both tests
    sites = test.draw_sites(field, load_s, np.random.default_rng([seed, 16, draw]))

    def test_run(weights: np.ndarray) -> dict[str, float]:
        return test.score(body, field, sites, weights)

    out = {**test_run(learner.weights), **test.pool_sizes(field, load_s)}
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
    if probe is not None and probe.max_sites > 0:
        # and the Jacobian truth's own excitatory pattern (0 errors on the Jacobian test by
        # construction): how far the free-motion truth carries to skin lying under gravity
        out.update(score_probe(probe, {"": learner.weights, **controls, "jacobian": np.maximum(field, 0.0)},
                               field, sites))
    return out


def score_probe(probe: ProbeSetup, weights: Mapping[str, np.ndarray], field: np.ndarray,
                sites: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The reflex test in a copy of the world (ReflexProbe) on the Jacobian test's stimuli.

    weights: weight matrices (T, M) by suffix ("" the learned ones first, then e.g. "initial",
    "shuffled", "uniform", "jacobian"); field: (T, M) the Jacobian truth; sites: ReflexTest.draw_sites. Probes at most
    probe.max_sites of the loaded and of the resting pool's stimuli (probe_subset) and returns
    withdrawal.error_rate_probe[_<suffix>], withdrawal.error_rate_resting_probe[_<suffix>] (nan for
    an empty pool), withdrawal.probe_agreement (the share of the learned weights' probed loaded
    stimuli on which the Jacobian and the probe give the same verdict; nan without stimuli) and
    _pooled (over every weight matrix's but "jacobian"'s, whose Jacobian verdict is right by
    construction), withdrawal.sites_probed (loaded stimuli probed) and
    withdrawal.probe_rollouts (windows simulated, the baseline included: the probe's cost)."""
    pools = {"withdrawal.error_rate": probe_subset(sites["withdrawal.error_rate"], probe.max_sites),
             "withdrawal.error_rate_resting": probe_subset(sites["withdrawal.error_rate_resting"], probe.max_sites)}
    out: dict[str, float] = {}
    agreements = {}  # per weight matrix: (n,) bool, Jacobian and probe verdicts equal on the loaded stimuli
    with ReflexProbe(probe.sim, probe.muscle_on) as reflex:
        for suffix, w in weights.items():
            for pool, stimulated in pools.items():
                key = f"{pool}_probe" + (f"_{suffix}" if suffix else "")
                errors = reflex.errors(w, stimulated)
                out[key] = float(errors.mean()) if errors.size else float("nan")
                if pool == "withdrawal.error_rate":
                    agreements[suffix] = errors == reflex_errors(w, field, stimulated)
    pooled = np.concatenate([agree for suffix, agree in agreements.items() if suffix != "jacobian"])
    for key, agree in (("withdrawal.probe_agreement", agreements[""]), ("withdrawal.probe_agreement_pooled", pooled)):
        out[key] = float(agree.mean()) if agree.size else float("nan")
    out["withdrawal.sites_probed"] = float(pools["withdrawal.error_rate"].size)
    out["withdrawal.probe_rollouts"] = float(reflex.rollouts)
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
