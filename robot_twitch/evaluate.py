"""Score learned body maps against the simulator's ground truth, as named float metrics.

Metric names (see docs/learners.md for definitions):
    schema.sign_accuracy, schema.cosine, schema.rank_corr          (action map vs R)
    schema.lost_residual                 (learned row of a lost muscle / typical intact row)
    reflex.pattern_accuracy, reflex.stretch, reflex.reciprocal_inhibition,
    reflex.reverse_myotatic                                          (reflex matrices)
    forward.r2, forward.nrmse                                        (held-out forward model)
    topology.f1, topology.link_f1, topology.somatotopy_rho          (topology and somatotopy)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from robot_twitch.learn.base import Learner, LearnerGroup, TransitionBatch
from robot_twitch.learn.topology import somatotopy_rho, tree_distances

# |R_ij| counts as "not near zero" above this fraction of the muscle's largest |R_i|
NEAR_ZERO_REL: float = 0.05
# muscle-to-joint truth: |R_ij| above this fraction of max_j |R_ij|
TOPOLOGY_REL: float = 0.1


@dataclass(frozen=True)
class BodyTruth:
    """The simulator's truth for one body.

    Attributes:
        muscle_names: M names.
        joint_names: J names.
        moment_arms: (M, J) mean over visited postures, or (T, M, J) (averaged over T) [m].
        joint_edges: pairs of joints adjacent in the kinematic tree (they share a link).
        link_edges: parent-child link pairs of the URDF tree.
    """

    muscle_names: tuple[str, ...]
    joint_names: tuple[str, ...]
    moment_arms: np.ndarray
    joint_edges: tuple[tuple[str, str], ...] = ()
    link_edges: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        r = np.asarray(self.moment_arms, dtype=np.float64)
        n_m, n_j = len(self.muscle_names), len(self.joint_names)
        if r.ndim == 3:
            r = r.mean(axis=0)
        if r.shape != (n_m, n_j):
            raise ValueError(f"BodyTruth.moment_arms must be ({n_m}, {n_j}) or (T, {n_m}, {n_j}),"
                             f" got {np.shape(self.moment_arms)}")
        if not np.all(np.isfinite(r)):
            raise ValueError("BodyTruth.moment_arms contains NaN or inf")
        object.__setattr__(self, "moment_arms", r)
        for a, b in self.joint_edges:
            if a not in self.joint_names or b not in self.joint_names:
                raise ValueError(f"BodyTruth.joint_edges: unknown joint in edge ({a!r}, {b!r})")

    @property
    def joint_distances(self) -> np.ndarray:
        """(J, J) hop distances between joints in the kinematic tree."""
        idx = {n: k for k, n in enumerate(self.joint_names)}
        edges = [(idx[a], idx[b]) for a, b in self.joint_edges]
        return tree_distances(len(self.joint_names), edges)

    def significant(self, rel: float = NEAR_ZERO_REL) -> np.ndarray:
        """(M, J) bool: |R_ij| > rel * max_j |R_ij|."""
        a = np.abs(self.moment_arms)
        row_max = a.max(axis=1, keepdims=True)
        return (a > rel * row_max) & (row_max > 0)

    def muscle_relations(self) -> np.ndarray:
        """(M, M) int: +1 synergists, -1 antagonists, 0 neither/mixed/unrelated (and diagonal).

        Two muscles are antagonists if they act with opposite sign on every joint they share
        (at least one), synergists if with the same sign on every shared joint.
        """
        sig = self.significant()
        sgn = np.sign(self.moment_arms) * sig
        n_m = sgn.shape[0]
        rel = np.zeros((n_m, n_m), dtype=int)
        for i in range(n_m):
            for k in range(n_m):
                if i == k:
                    continue
                shared = sig[i] & sig[k]
                if not shared.any():
                    continue
                prod = sgn[i, shared] * sgn[k, shared]
                if np.all(prod < 0):
                    rel[i, k] = -1
                elif np.all(prod > 0):
                    rel[i, k] = 1
        return rel


# -- individual scores ---------------------------------------------------------------------------
def _check_shape(name: str, arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    return a


def score_action_map(action_map: np.ndarray, truth: BodyTruth) -> dict[str, float]:
    """schema.sign_accuracy, schema.cosine, schema.rank_corr of a learned (M, J) action map.

    sign_accuracy: fraction of significant truth entries (|R_ij| > 5% of the row max) whose
    sign the learned map matches. cosine: mean over muscles of the cosine between learned and
    true rows. rank_corr: Spearman correlation of all entries after scaling each row to unit
    max-abs (the map is defined up to a positive scale per muscle).
    """
    r = truth.moment_arms
    a = _check_shape("action_map", action_map, r.shape)
    sig = truth.significant()
    sign_acc = float(np.mean(np.sign(a[sig]) == np.sign(r[sig]))) if sig.any() else float("nan")
    na, nr = np.linalg.norm(a, axis=1), np.linalg.norm(r, axis=1)
    ok = nr > 0
    cos = np.where(na[ok] > 0, (a[ok] * r[ok]).sum(1) / np.maximum(na[ok] * nr[ok], 1e-300), 0.0)

    def unit_rows(x: np.ndarray) -> np.ndarray:
        m = np.abs(x).max(axis=1, keepdims=True)
        return x / np.where(m > 0, m, 1.0)

    ua, ur = unit_rows(a).ravel(), unit_rows(r).ravel()
    rank = float(spearmanr(ua, ur).statistic) if np.ptp(ua) > 0 and np.ptp(ur) > 0 else 0.0
    out = {
        "schema.sign_accuracy": sign_acc,
        "schema.cosine": float(cos.mean()) if ok.any() else float("nan"),
        "schema.rank_corr": rank,
    }
    if (~ok).any() and ok.any():
        # A lost muscle's truth row is zero: what is left of its learned row, relative to the
        # typical intact row, measures forgetting (0 = forgotten).
        typical = float(np.median(na[ok]))
        out["schema.lost_residual"] = float(na[~ok].mean() / typical) if typical > 0 else float("nan")
    return out


def score_reflex(
    spindle_reflex: np.ndarray, tendon_reflex: np.ndarray | None, truth: BodyTruth
) -> dict[str, float]:
    """Fraction of textbook reflex relations a learned sensor-to-motor map reproduces.

    Args:
        spindle_reflex: (M motor, M sensor) W from spindle of muscle k to motor of muscle i.
        tendon_reflex: (M, M) W from tendon organ k to motor i, or None.
        truth: antagonist pairs are derived from R (``BodyTruth.muscle_relations``).

    Relations: stretch W_ii > 0; reciprocal inhibition W_ik < 0 for every ordered antagonist
    pair (i, k); reverse myotatic T_ii < 0.
    """
    n_m = len(truth.muscle_names)
    w = _check_shape("spindle_reflex", spindle_reflex, (n_m, n_m))
    stretch = np.diag(w) > 0
    anta = truth.muscle_relations() == -1
    recip = w[anta] < 0
    checks = [stretch, recip]
    out = {"reflex.stretch": float(stretch.mean())}
    out["reflex.reciprocal_inhibition"] = float(recip.mean()) if recip.size else float("nan")
    if tendon_reflex is not None:
        t = _check_shape("tendon_reflex", tendon_reflex, (n_m, n_m))
        rev = np.diag(t) < 0
        checks.append(rev)
        out["reflex.reverse_myotatic"] = float(rev.mean())
    allc = np.concatenate(checks)
    out["reflex.pattern_accuracy"] = float(allc.mean())
    return out


def _edge_f1(pred: set[frozenset[int]], true: set[frozenset[int]]) -> float:
    if not pred and not true:
        return 1.0
    tp = len(pred & true)
    if tp == 0:
        return 0.0
    prec, rec = tp / len(pred), tp / len(true)
    return 2 * prec * rec / (prec + rec)


def score_topology(maps: Mapping[str, np.ndarray], truth: BodyTruth) -> dict[str, float]:
    """topology.f1 (muscle_joint vs |R| > 10% of row max), topology.link_f1 (joint_adjacency
    vs truth.joint_edges), topology.somatotopy_rho (som_joint_xy vs tree distances); each only
    when its map is present."""
    out: dict[str, float] = {}
    n_m, n_j = truth.moment_arms.shape
    if "muscle_joint" in maps:
        pred = _check_shape("muscle_joint", maps["muscle_joint"], (n_m, n_j)) > 0.5
        true = truth.significant(TOPOLOGY_REL)
        tp = float((pred & true).sum())
        denom = float(pred.sum() + true.sum())
        out["topology.f1"] = 1.0 if denom == 0 else 2 * tp / denom
    if "joint_adjacency" in maps and truth.joint_edges:
        adj = _check_shape("joint_adjacency", maps["joint_adjacency"], (n_j, n_j)) > 0.5
        idx = {n: k for k, n in enumerate(truth.joint_names)}
        true_e = {frozenset((idx[a], idx[b])) for a, b in truth.joint_edges}
        ii, jj = np.nonzero(np.triu(adj | adj.T, k=1))
        pred_e = {frozenset((int(a), int(b))) for a, b in zip(ii, jj, strict=True)}
        out["topology.link_f1"] = _edge_f1(pred_e, true_e)
    if "som_joint_xy" in maps and truth.joint_edges:
        xy = np.asarray(maps["som_joint_xy"], dtype=np.float64)
        if xy.ndim != 2 or xy.shape[0] != n_j:
            raise ValueError(f"som_joint_xy must be ({n_j}, 2), got {xy.shape}")
        rho = somatotopy_rho(xy, truth.joint_distances)
        if np.isfinite(rho):
            out["topology.somatotopy_rho"] = rho
    return out


def score_forward(model: Any, heldout: TransitionBatch) -> dict[str, float]:
    """forward.r2 and forward.nrmse of a model with ``scores(batch) -> (r2, nrmse)``."""
    if not hasattr(model, "scores"):
        raise ValueError(f"{type(model).__name__} has no scores(batch) method")
    r2, nrmse = model.scores(heldout)
    return {"forward.r2": float(r2), "forward.nrmse": float(nrmse)}


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
    if "action_map" in plain:
        out.update(score_action_map(plain["action_map"], truth))
    if "reflex_spindle_length" in plain:
        out.update(score_reflex(plain["reflex_spindle_length"],
                                plain.get("reflex_tendon_force"), truth))
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
