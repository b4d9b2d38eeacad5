"""Scores of learned reflex matrices (sensor of muscle k -> motor of muscle i) against the textbook
relations derived from R: reflex.* (Hebbian reflex map) and schema_reflex.* (the reflex read out of
the body schema)."""

from __future__ import annotations

import numpy as np

from robot_twitch.evaluation.truth import BodyTruth, check_shape


def _pairs(rel: np.ndarray, kind: int) -> np.ndarray:
    """(M, M) bool: ordered pairs (i, k), i != k, with relation ``kind`` (+1 syn, -1 ant, 0 none)."""
    mask = rel == kind
    np.fill_diagonal(mask, False)
    return mask


def reflex_relations(truth: BodyTruth) -> dict[str, np.ndarray]:
    """(M, M) bool masks of the textbook reflex classes (Marques et al. 2013, 2014), rows motor i,
    columns sensor k: ``homonymous`` (i == k), ``antagonist``, ``synergist``, ``unrelated``
    (the two muscles share no joint; pairs with mixed action on shared joints are in no class)."""
    rel = truth.muscle_relations()
    n_m = rel.shape[0]
    sig = truth.significant().astype(int)
    unrelated = (sig @ sig.T) == 0
    np.fill_diagonal(unrelated, False)
    return {"homonymous": np.eye(n_m, dtype=bool), "antagonist": _pairs(rel, -1),
            "synergist": _pairs(rel, 1), "unrelated": unrelated}


def specificity(weights: np.ndarray, related: np.ndarray, unrelated: np.ndarray) -> float:
    """P(|W| of a related pair > |W| of an unrelated pair) over all such couples (ties 1/2):
    0.5 when unrelated weights are as strong as related ones, 1 when all are weaker (the
    area under the ROC curve of |W| separating related from unrelated pairs). NaN without
    unrelated pairs."""
    rel_w, un_w = np.abs(weights[related]), np.abs(weights[unrelated])
    if rel_w.size == 0 or un_w.size == 0:
        return float("nan")
    diff = rel_w[:, None] - un_w[None, :]
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


def _frac(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else float("nan")


def score_reflex(
    spindle_reflex: np.ndarray,
    tendon_reflex: np.ndarray | None,
    truth: BodyTruth,
    velocity_reflex: np.ndarray | None = None,
    prefix: str = "reflex",
) -> dict[str, float]:
    """Fraction of textbook reflex relations a learned sensor-to-motor map reproduces.

    Args:
        spindle_reflex: (M motor, M sensor) W from spindle (length) of muscle k to motor of muscle i.
        tendon_reflex: (M, M) W from tendon organ k to motor i, or None.
        truth: synergist and antagonist pairs are derived from R (``BodyTruth.muscle_relations``).
        velocity_reflex: (M, M) W from the spindle's velocity (Ia dynamic) signal, or None.

    Relations (Marques et al. 2013, 2014): stretch W_ii > 0; reciprocal inhibition W_ik < 0 for
    every ordered antagonist pair (i, k); synergist W_ik > 0 for every ordered synergist pair (a
    stretched spindle excites the muscles whose contraction would shorten it); reverse myotatic
    T_ii < 0. pattern_accuracy pools all of them. specificity: how well |W| separates related
    pairs (homonymous, synergist, antagonist) from unrelated ones (see ``specificity``). The
    velocity signal is scored with the same classes under ``reflex.velocity_*``. ``prefix``
    names the scores (``schema_reflex`` for the reflex read out of the body schema).
    """
    n_m = len(truth.muscle_names)
    classes = reflex_relations(truth)
    related = classes["homonymous"] | classes["synergist"] | classes["antagonist"]

    def spindle_scores(w: np.ndarray, tag: str) -> tuple[dict[str, float], list[np.ndarray]]:
        stretch = np.diag(w) > 0
        recip = w[classes["antagonist"]] < 0
        syn = w[classes["synergist"]] > 0
        return ({f"{prefix}.{tag}stretch": _frac(stretch),
                 f"{prefix}.{tag}reciprocal_inhibition": _frac(recip),
                 f"{prefix}.{tag}synergist": _frac(syn),
                 f"{prefix}.{tag}specificity": specificity(w, related, classes["unrelated"])},
                [stretch, recip, syn])

    w = check_shape("spindle_reflex", spindle_reflex, (n_m, n_m))
    out, checks = spindle_scores(w, "")
    if tendon_reflex is not None:
        t = check_shape("tendon_reflex", tendon_reflex, (n_m, n_m))
        rev = np.diag(t) < 0
        checks.append(rev)
        out[f"{prefix}.reverse_myotatic"] = _frac(rev)
    out[f"{prefix}.pattern_accuracy"] = _frac(np.concatenate(checks))
    if velocity_reflex is not None:
        v = check_shape("velocity_reflex", velocity_reflex, (n_m, n_m))
        vel, vchecks = spindle_scores(v, "velocity_")
        out.update(vel)
        out[f"{prefix}.velocity_pattern_accuracy"] = _frac(np.concatenate(vchecks))
    return out
