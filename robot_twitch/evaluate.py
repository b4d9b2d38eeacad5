"""Score learned body maps against the simulator's ground truth, as named float metrics.

Metric names (see docs/learners.md for definitions):
    schema.sign_accuracy, schema.cosine, schema.rank_corr, schema.coverage
                                        (motor map, learned from commands, vs R)
    proprio.sign_accuracy, proprio.cosine, proprio.rank_corr, proprio.coverage
                                        (proprioceptive map, spindle length vs joint angle, vs R)
    schema.lost_residual, proprio.lost_residual   (learned row of a lost muscle / typical intact row)
    reflex.pattern_accuracy, reflex.stretch, reflex.reciprocal_inhibition, reflex.synergist,
    reflex.reverse_myotatic, reflex.specificity, reflex.velocity_*   (Hebbian reflex matrices)
    schema_reflex.*                     (reflex read out of the motor and proprioceptive maps)
    forward.r2, forward.nrmse                                        (held-out forward model)
    topology.f1, topology.link_f1, topology.somatotopy_rho          (topology and somatotopy)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from robot_twitch.learn.base import Learner, LearnerGroup, TransitionBatch, spearman_rho
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


def defined_rows(action_map: np.ndarray) -> np.ndarray:
    """(M,) bool: rows of a learned map that are defined (all entries finite)."""
    return np.all(np.isfinite(np.asarray(action_map, dtype=np.float64)), axis=1)


def balance(x: np.ndarray, iters: int = 100, tol: float = 1e-13) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scale rows and columns of x (n, J) alternately to unit RMS (Sinkhorn & Knopp 1967, on x^2).

    Stops after ``iters`` sweeps, or earlier once a sweep changes no scale by more than ``tol``
    (relative; typically after 15-45 sweeps, which is most of the scoring time saved).

    Returns (balanced, row_scale (n,), col_scale (J,)) with balanced = diag(row) x diag(col). Two
    maps that differ only by positive row and column scales balance to the same matrix (up to
    one scalar) when muscles sharing joints connect all joints; all-zero rows/columns stay zero.
    """
    y = np.array(x, dtype=np.float64)
    row, col = np.ones(y.shape[0]), np.ones(y.shape[1])
    for _ in range(iters):
        r = np.sqrt(np.mean(y**2, axis=1))
        r = np.where(r > 0, 1.0 / np.where(r > 0, r, 1.0), 1.0)
        y *= r[:, None]
        row *= r
        c = np.sqrt(np.mean(y**2, axis=0))
        c = np.where(c > 0, 1.0 / np.where(c > 0, c, 1.0), 1.0)
        y *= c[None, :]
        col *= c
        if max(float(np.abs(r - 1.0).max(initial=0.0)), float(np.abs(c - 1.0).max(initial=0.0))) < tol:
            break
    return y, row, col


def per_joint_scaled(learned: np.ndarray, truth: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The learned map with each column rescaled to the truth's per-joint scale (NaN rows kept).

    A map learned from movement knows each joint only in that joint's own units (the motor map
    is R scaled by 1 / joint viscosity, docs/learners.md), so maps are compared up to a positive
    scale per joint as well as per muscle: both maps are balanced over the defined ``rows``
    (``balance``) and the learned one is given the truth's column scales. If learned = D_m R D_j
    for positive diagonal D_m, D_j, the result is R up to a positive scale per row.
    """
    out = np.array(learned, dtype=np.float64)
    if not rows.any():
        return out
    _, _, col_learned = balance(out[rows])
    _, _, col_truth = balance(np.asarray(truth, dtype=np.float64)[rows])
    return out * (col_learned / col_truth)[None, :]


def score_action_map(action_map: np.ndarray, truth: BodyTruth, prefix: str = "schema") -> dict[str, float]:
    """<prefix>.sign_accuracy, .cosine, .rank_corr, .coverage of a learned (M, J) action map.

    Rows that are not finite (NaN: a muscle the learner knows nothing about) score as wrong: their
    significant entries count against sign_accuracy, their cosine is 0 and they enter rank_corr as
    zeros. coverage is the fraction of muscles with a defined row; when no row is defined every
    metric is NaN (``undefined_reason`` says why).

    sign_accuracy: fraction of significant truth entries (|R_ij| > 5% of the row max) whose sign
    the learned map matches. cosine: mean over muscles of the cosine between learned and true
    rows, after each learned column is scaled to the truth's RMS over the defined rows
    (``per_joint_scaled``: maps are compared up to a positive scale per muscle and per joint).
    rank_corr: Spearman correlation of all entries of the same per-joint-scaled map after each
    row is scaled to unit max-abs.
    """
    r = truth.moment_arms
    a = _check_shape("action_map", action_map, r.shape)
    rows = defined_rows(a)
    keys = ("sign_accuracy", "cosine", "rank_corr", "coverage")
    if not rows.any():
        return {f"{prefix}.{k}": (0.0 if k == "coverage" else float("nan")) for k in keys}
    sig = truth.significant()
    with np.errstate(invalid="ignore"):
        sign_acc = float(np.mean(np.sign(a[sig]) == np.sign(r[sig]))) if sig.any() else float("nan")
    raw_norm = np.linalg.norm(np.where(rows[:, None], a, 0.0), axis=1)  # as learned (lost_residual)
    a = np.where(rows[:, None], per_joint_scaled(a, r, rows), 0.0)
    na, nr = np.linalg.norm(a, axis=1), np.linalg.norm(r, axis=1)
    ok = nr > 0
    cos = np.where(na[ok] > 0, (a[ok] * r[ok]).sum(1) / np.maximum(na[ok] * nr[ok], 1e-300), 0.0)

    def unit_rows(x: np.ndarray) -> np.ndarray:
        m = np.abs(x).max(axis=1, keepdims=True)
        return x / np.where(m > 0, m, 1.0)

    ua, ur = unit_rows(a).ravel(), unit_rows(r).ravel()
    rank = spearman_rho(ua, ur) if np.ptp(ua) > 0 and np.ptp(ur) > 0 else 0.0
    out = {
        f"{prefix}.sign_accuracy": sign_acc,
        f"{prefix}.cosine": float(cos.mean()) if ok.any() else float("nan"),
        f"{prefix}.rank_corr": rank,
        f"{prefix}.coverage": float(rows.mean()),
    }
    if (~ok).any() and ok.any():
        # A lost muscle's truth row is zero: what is left of its learned row, relative to the
        # typical intact row, measures forgetting (0 = forgotten).
        typical = float(np.median(raw_norm[ok]))
        out[f"{prefix}.lost_residual"] = float(raw_norm[~ok].mean() / typical) if typical > 0 else float("nan")
    return out


def undefined_reason(action_map: np.ndarray, prefix: str = "schema") -> str | None:
    """Why a learned map's scores are NaN (no row defined), or None when they are not."""
    if defined_rows(action_map).any():
        return None
    return (f"{prefix}.*: no muscle was ever commanded, so the motor map has no defined row "
            "(a motor map is learned from a muscle's own command and what follows it)")


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

    w = _check_shape("spindle_reflex", spindle_reflex, (n_m, n_m))
    out, checks = spindle_scores(w, "")
    if tendon_reflex is not None:
        t = _check_shape("tendon_reflex", tendon_reflex, (n_m, n_m))
        rev = np.diag(t) < 0
        checks.append(rev)
        out[f"{prefix}.reverse_myotatic"] = _frac(rev)
    out[f"{prefix}.pattern_accuracy"] = _frac(np.concatenate(checks))
    if velocity_reflex is not None:
        v = _check_shape("velocity_reflex", velocity_reflex, (n_m, n_m))
        vel, vchecks = spindle_scores(v, "velocity_")
        out.update(vel)
        out[f"{prefix}.velocity_pattern_accuracy"] = _frac(np.concatenate(vchecks))
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
