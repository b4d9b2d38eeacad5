"""Scores of a learned action map (M muscles, J joints) against the true moment arms R:
schema.* (the motor map, learned from commands) and proprio.* (the proprioceptive map).
Maps are compared up to a positive scale per muscle and per joint (docs/learners.md)."""

from __future__ import annotations

import numpy as np

from robot_twitch.evaluation.truth import BodyTruth, check_shape
from robot_twitch.learn.base import spearman_rho


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
    a = check_shape("action_map", action_map, r.shape)
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
